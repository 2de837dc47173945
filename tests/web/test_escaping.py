"""What people type is shown, never run: markup in a name or a plan is escaped on every page, and
SQL in a search is a search."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.db.models import Person
from tests.web.conftest import THURSDAY, Org, add_day, sign_in

SCRIPT = "<script>alert(document.domain)</script>"
SQL = "Robert'); DROP TABLE people;--"


def test_markup_in_a_name_and_a_plan_is_escaped_on_every_page_that_shows_them(
    client: TestClient, org: Org, session: Session
) -> None:
    org.alan.name = f"Alan {SCRIPT}"
    add_day(session, org.alan, THURSDAY, plan=f"Read {SCRIPT} carefully", summary="Done")
    session.commit()
    sign_in(client, org.ada)  # an admin sees every page below

    for path in (
        "/",
        f"/?date={THURSDAY.isoformat()}",
        "/team",
        f"/people/{org.alan.id}",
        "/archive?q=Read",
        "/program",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert SCRIPT not in page.text, path
    shown = client.get(f"/people/{org.alan.id}").text
    assert "&lt;script&gt;alert(document.domain)&lt;/script&gt;" in shown


def test_sql_in_a_search_is_searched_for_not_run(client: TestClient, org: Org, session: Session) -> None:
    people = session.scalar(select(func.count()).select_from(Person))
    sign_in(client, org.ada)

    page = client.get("/archive", params={"q": SQL})

    assert page.status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Person)) == people
