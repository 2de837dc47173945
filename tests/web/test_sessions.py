"""Sessions end when they should: signing out ends the person's sessions on every device, and so
does being deactivated (by an org import or a directory sync); a cross-site form cannot sign
anyone in as someone else."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.engine import session_scope
from learningday.db.models import Person, UsedToken
from learningday.org import import_org
from learningday.tokens import Purpose, sign
from learningday.web.auth import SESSION_COOKIE, login_token
from learningday.web.csrf import FORM_COOKIE
from tests.web.conftest import Org, form_token, sign_in

ORG_HEADER = "email,name,timezone,manager_email,team,slack_id,role,active"


def second_device(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def sign_out(client: TestClient):  # type: ignore[no-untyped-def]
    _, token = form_token(client.get("/me").text)
    return client.post("/auth/logout", data={"csrf_token": token})


def test_signing_out_ends_the_session_even_for_a_copy_of_the_old_cookie(client: TestClient, org: Org) -> None:
    sign_in(client, org.alan)
    old_cookie = client.cookies[SESSION_COOKIE]
    out = sign_out(client)
    assert out.status_code == 303
    client.cookies.set(SESSION_COOKIE, old_cookie)  # kept by a stolen copy, a proxy, a shared machine
    assert client.get("/me").status_code == 303


def test_signing_out_ends_the_persons_sessions_everywhere_and_says_so(
    client: TestClient, app: FastAPI, org: Org
) -> None:
    with second_device(app) as phone:
        sign_in(phone, org.alan)
        sign_in(client, org.alan)
        out = sign_out(client)
        page = client.get(out.headers["location"])
        assert "every" in page.text and "signed out" in page.text.lower()
        assert phone.get("/me").status_code == 303
    sign_in(client, org.alan)  # a new sign-in works again
    assert client.get("/me").status_code == 200


def test_signing_out_leaves_other_peoples_sessions_alone(client: TestClient, app: FastAPI, org: Org) -> None:
    with second_device(app) as other:
        sign_in(other, org.linus)
        sign_in(client, org.alan)
        sign_out(client)
        assert other.get("/me").status_code == 200


def test_a_session_cookie_without_the_persons_session_version_is_refused(client: TestClient, org: Org) -> None:
    """A cookie in the format used before sessions could be ended (or forged with the key)."""
    client.cookies.set(SESSION_COOKIE, sign(Purpose.SESSION, {"p": org.alan.id}))
    assert client.get("/me").status_code == 303
    client.cookies.set(SESSION_COOKIE, sign(Purpose.SESSION, {"p": org.alan.id, "v": 99}))
    assert client.get("/me").status_code == 303


def _import(tmp_path: Path, alan_active: bool) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        f"{ORG_HEADER}\nalan@example.com,Alan Learner,Europe/London,margaret@example.com,Research,,learner,"
        f"{'true' if alan_active else 'false'}\n",
        encoding="utf-8",
    )
    with session_scope() as session:
        report = import_org(session, path)
    assert report.ok, report.problems


def test_deactivating_a_person_ends_their_sessions_and_reactivating_does_not_revive_them(
    client: TestClient, org: Org, tmp_path: Path
) -> None:
    sign_in(client, org.alan)
    _import(tmp_path, alan_active=False)
    assert client.get("/me").status_code == 303  # current_viewer refuses an inactive person
    _import(tmp_path, alan_active=True)
    assert client.get("/me").status_code == 303  # the old session stays ended
    sign_in(client, org.alan)
    assert client.get("/me").status_code == 200


def test_an_inactive_person_is_signed_out_even_when_the_session_version_did_not_move(
    client: TestClient, org: Org, session: Session
) -> None:
    """Deactivated by hand in the database: current_viewer still refuses them."""
    sign_in(client, org.alan)
    session.get(Person, org.alan.id).active = False  # type: ignore[union-attr]
    session.commit()
    assert client.get("/me").status_code == 303


def test_deactivation_bumps_the_session_version_once(
    client: TestClient, org: Org, session: Session, tmp_path: Path
) -> None:
    before = session.get(Person, org.alan.id).session_version  # type: ignore[union-attr]
    _import(tmp_path, alan_active=False)
    _import(tmp_path, alan_active=False)  # unchanged: nothing to end twice
    session.expire_all()
    assert session.get(Person, org.alan.id).session_version == before + 1  # type: ignore[union-attr]


def test_a_cross_site_post_of_an_attackers_sign_in_link_signs_nobody_in(
    client: TestClient, app: FastAPI, org: Org, session: Session
) -> None:
    """Login CSRF: Linus (the attacker) makes a page that posts his own sign-in link from Alan's
    browser. Without the cookie set by opening the link's page, nobody is signed in."""
    token = login_token(org.linus.id)
    with second_device(app) as attacker:
        _, attackers_form_token = form_token(attacker.get(f"/auth/link/{token}").text)
    forged = client.post(f"/auth/link/{token}", data={"next": "/me", "csrf_token": attackers_form_token})
    assert forged.status_code == 403
    assert SESSION_COOKIE not in client.cookies and client.get("/me").status_code == 303
    client.get("/auth/login")  # Alan's browser holds a form cookie of its own: still refused
    assert FORM_COOKIE in client.cookies
    again = client.post(f"/auth/link/{token}", data={"next": "/me", "csrf_token": attackers_form_token})
    assert again.status_code == 403 and SESSION_COOKIE not in client.cookies
    session.expire_all()
    assert session.query(UsedToken).count() == 0  # and the link was not spent
