"""No page reads the database on the web server's event loop.

The web process also answers Slack, which waits 3 seconds for an acknowledgement: one slow query
on the loop would hold every other request, Slack's included, behind it. Routes that read the
database are plain functions (FastAPI runs them in its thread pool) or hand the read to a thread.
A SQLAlchemy hook records every statement run on a thread with a running event loop; each route
is then visited, and the check-in forms are posted the way a browser posts them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from learningday.db.models import DayState
from learningday.links.checkin import checkin_url
from tests.web.conftest import THURSDAY, FakeGateway, Org, add_day, form_token, sign_in
from tests.web.every_page import Site, build_site
from tests.web.test_security_headers import every_route, requests_for


@pytest.fixture
def site(session: Session, org: Org, app: FastAPI) -> Site:
    return build_site(session, org, app)


@pytest.fixture
def on_the_loop(engine: Engine) -> Iterator[list[str]]:
    """The statements run while an event loop was running on the same thread."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: where database reads belong
        seen.append(statement.split("\n")[0][:80])

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_the_hook_sees_a_read_made_on_a_loop(engine: Engine, on_the_loop: list[str]) -> None:
    """The negative control: the hook does record a read made from a coroutine."""

    async def read_on_the_loop() -> None:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    asyncio.run(read_on_the_loop())
    assert on_the_loop == ["SELECT 1"]


def test_no_route_reads_the_database_on_the_event_loop(
    app: FastAPI, client: TestClient, site: Site, org: Org, on_the_loop: list[str]
) -> None:
    admin = sign_in(client, org.ada)
    requests = [request for route in every_route(app) for request in requests_for(route, site)]
    offenders: dict[str, list[str]] = {}
    for method, path in sorted(requests, key=lambda request: request[0] != "GET"):
        on_the_loop.clear()
        admin.request(method, path)
        if on_the_loop:
            offenders[f"{method} {path}"] = list(on_the_loop)
    assert offenders == {}


def test_posting_the_signed_in_forms_reads_nothing_on_the_event_loop(
    client: TestClient, org: Org, session: Session, gateway: FakeGateway, on_the_loop: list[str]
) -> None:
    add_day(session, org.ada, THURSDAY, state=DayState.planning)
    session.commit()
    me = sign_in(client, org.ada)
    link = "/checkin/" + checkin_url(org.ada.id, THURSDAY).rsplit("/", 1)[1]
    posts = {
        "/me/checkin/plan": ("/me", {"date": THURSDAY.isoformat()}),
        f"{link}/plan": (link, {}),
        "/auth/logout": ("/me", {}),  # last: it signs out everywhere
    }
    offenders: dict[str, list[str]] = {}
    for path, (page, extra) in posts.items():
        field, token = form_token(me.get(page).text)
        on_the_loop.clear()
        answer = me.post(path, data={"text": "SAT solvers", "category": "fundamentals", field: token, **extra})
        assert answer.status_code in (200, 303), (path, answer.status_code)
        offenders[path] = list(on_the_loop)
    assert offenders == {path: [] for path in posts}
    assert len(gateway.submissions) == 2
    assert me.get("/me").status_code == 303  # signed out: the logout was made
