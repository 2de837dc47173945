"""Sign-in: who is looking at a page, and the session and CSRF tokens that say so.

Three modes, chosen by `LEARNINGDAY_AUTH_MODE`:

- `link` (the embedded default): a signed, expiring, single-use link, sent by email from the
  sign-in page or printed by `learningday auth link EMAIL`. Opening it shows a button (mail
  scanners open links; a GET signs nobody in); pressing it sets the session cookie.
- `header`: an auth proxy in front (oauth2-proxy, Identity-Aware Proxy) has checked the person
  and sends their email in `LEARNINGDAY_AUTH_HEADER_NAME`. The header is trusted in this mode
  only; in the others it is ignored, so a client cannot sign itself in by sending it.
- `oidc`: the company's identity provider (see `oidc.py`), which then sets the same cookie.

The session is a signed cookie (HttpOnly, SameSite=Lax, Secure behind https) holding the person
id and their session version; every request re-reads the person, so a deactivated person is
signed out at once, and a cookie whose version is not the person's current one is refused:
signing out (or being deactivated) bumps the version and so ends every session of that person,
on every device, copies of the cookie included. Every form POST carries a CSRF token (`csrf`).
Tokens are signed and read by `learningday.tokens`.
"""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import Depends, HTTPException, Request
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import Person, UsedToken
from learningday.settings import Settings, get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign
from learningday.web import csrf
from learningday.web.access import Viewer, viewer_for

SESSION_COOKIE = "learningday_session"
MODES = ("link", "header", "oidc")


def auth_mode(settings: Settings | None = None) -> str:
    mode = (settings or get_settings()).auth_mode.strip().lower()
    if mode not in MODES:
        raise ValueError(f"LEARNINGDAY_AUTH_MODE={mode!r} is not one of {', '.join(MODES)}")
    return mode


# --- sign-in links ------------------------------------------------------------------------


def login_token(person_id: int) -> str:
    """A signed token for one sign-in; the nonce makes it single-use (see `redeem_login_token`)."""
    return sign(Purpose.LOGIN_LINK, {"p": person_id, "n": secrets.token_urlsafe(12)})


def login_url(person_id: int) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/auth/link/{login_token(person_id)}"


class LinkRefused(Exception):
    """Why a sign-in link does not sign anyone in, in words for the person holding it."""


def read_login_token(token: str) -> tuple[int, str]:
    """The person id and nonce in a valid, unexpired token; LinkRefused otherwise."""
    try:
        data = read(Purpose.LOGIN_LINK, token)
    except TokenRefused as refused:
        if refused.expired:
            raise LinkRefused("This sign-in link has expired. Ask for a new one.") from None
        raise LinkRefused("This sign-in link is not valid. Ask for a new one.") from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or not isinstance(data.get("n"), str):
        raise LinkRefused("This sign-in link is not valid. Ask for a new one.")
    return data["p"], data["n"]


def redeem_login_token(session: Session, token: str) -> Person:
    """Spend a sign-in link: the person it signs in. A second use is refused (UsedToken's key)."""
    person_id, nonce = read_login_token(token)
    person = session.get(Person, person_id)
    if person is None or not person.active:
        raise LinkRefused("This sign-in link is not valid. Ask for a new one.")
    try:
        with session.begin_nested():
            session.add(UsedToken(token_id=f"login:{nonce}", used_at=dt.datetime.now(dt.UTC)))
    except IntegrityError:
        raise LinkRefused("This sign-in link has already been used. Ask for a new one.") from None
    return person


# --- the session cookie -------------------------------------------------------------------


def start_session(response: Response, person_id: int) -> None:
    """Set the session cookie for the person's current session version."""
    settings = get_settings()
    with session_scope() as session:
        version = session.scalar(select(Person.session_version).where(Person.id == person_id))
    response.set_cookie(
        SESSION_COOKIE,
        sign(Purpose.SESSION, {"p": person_id, "v": version}),
        max_age=settings.session_max_age_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def end_sessions_everywhere(session: Session, person_id: int) -> None:
    """End every session of the person, on every device: their cookies' version is now stale."""
    session.execute(update(Person).where(Person.id == person_id).values(session_version=Person.session_version + 1))


def _session_cookie(request: Request) -> tuple[int, int] | None:
    """The (person id, session version) of a valid session cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = read(Purpose.SESSION, cookie)
    except TokenRefused:
        return None
    if not isinstance(data, dict):
        return None
    person_id, version = data.get("p"), data.get("v")
    if type(person_id) is not int or type(version) is not int:
        return None  # a cookie from before sessions had versions: sign in again
    return person_id, version


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in person, or None. Header mode trusts the proxy's header and nothing else."""
    settings = get_settings()
    with session_scope() as session:
        if auth_mode(settings) == "header":
            email = (request.headers.get(settings.auth_header_name) or "").strip().lower()
            # oauth2-proxy may send "accounts.google.com:ada@example.com" (IAP's format).
            email = email.rsplit(":", 1)[-1]
            person = session.scalar(select(Person).where(func.lower(Person.email) == email)) if email else None
        else:
            cookie = _session_cookie(request)
            person = None
            if cookie is not None:
                person_id, version = cookie
                person = session.get(Person, person_id)
                if person is not None and person.session_version != version:
                    person = None  # signed out, or deactivated, since this cookie was made
        if person is None or not person.active:
            return None
        return viewer_for(session, person)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or an absolute URL."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/me"


def signed_in(request: Request) -> Viewer:
    """Dependency for every page: the viewer, or a redirect to the sign-in page."""
    viewer = current_viewer(request)
    if viewer is None:
        if auth_mode() == "header":
            raise HTTPException(status_code=401, detail="Sign in through the company's sign-in proxy.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(status_code=303, headers={"Location": f"/auth/login?next={_quote(target)}"})
    return viewer


def signed_in_admin(viewer: Viewer = Depends(signed_in)) -> Viewer:
    """Dependency for admin-only pages; anyone else gets the 404 a missing page would give."""
    if not viewer.is_admin:
        raise HTTPException(status_code=404)
    return viewer


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


# --- CSRF ---------------------------------------------------------------------------------


async def viewer_form_ok(request: Request, viewer: Viewer) -> bool:
    """Whether a signed-in POST carries the form cookie and a token made for this viewer (see
    `csrf`); the route answers `csrf.refused_page` when not."""
    return await csrf.posted_form_ok(request, csrf.person_scope(viewer.person_id))
