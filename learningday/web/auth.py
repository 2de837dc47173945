"""Sign-in: who is looking at a page, and the session and CSRF tokens that say so.

Three modes, chosen by `LEARNINGDAY_AUTH_MODE`:

- `link` (the embedded default): a signed, expiring, single-use link, sent by email from the
  sign-in page or printed by `learningday auth link EMAIL`. Opening it shows a button (mail
  scanners open links; a GET signs nobody in); pressing it sets the session cookie.
- `header`: an auth proxy in front (oauth2-proxy, Identity-Aware Proxy) has checked the person
  and sends their email in `LEARNINGDAY_AUTH_HEADER_NAME`. The header is trusted in this mode
  only; in the others it is ignored, so a client cannot sign itself in by sending it.
- `oidc`: the company's identity provider (see `oidc.py`), which then sets the same cookie.

The session is a signed cookie (HttpOnly, SameSite=Lax, Secure behind https) holding only the
person id; every request re-reads the person, so a deactivated person is signed out at once.
Every form POST made on the strength of that cookie carries a signed CSRF token.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import Person, UsedToken
from learningday.settings import Settings, get_settings
from learningday.web.access import Viewer, viewer_for

SESSION_COOKIE = "learningday_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MODES = ("link", "header", "oidc")


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=f"learningday.{salt}")


def auth_mode(settings: Settings | None = None) -> str:
    mode = (settings or get_settings()).auth_mode.strip().lower()
    if mode not in MODES:
        raise ValueError(f"LEARNINGDAY_AUTH_MODE={mode!r} is not one of {', '.join(MODES)}")
    return mode


# --- sign-in links ------------------------------------------------------------------------


def login_token(person_id: int) -> str:
    """A signed token for one sign-in; the nonce makes it single-use (see `redeem_login_token`)."""
    return str(_serializer("login").dumps({"p": person_id, "n": secrets.token_urlsafe(12)}))


def login_url(person_id: int) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/auth/link/{login_token(person_id)}"


class LinkRefused(Exception):
    """Why a sign-in link does not sign anyone in, in words for the person holding it."""


def read_login_token(token: str) -> tuple[int, str]:
    """The person id and nonce in a valid, unexpired token; LinkRefused otherwise."""
    max_age = get_settings().login_link_max_age_minutes * 60
    try:
        data = _serializer("login").loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkRefused("This sign-in link has expired. Ask for a new one.") from None
    except BadSignature:
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
            session.add(UsedToken(token_id=f"login:{nonce}", used_at=dt.datetime.now(dt.timezone.utc)))
    except IntegrityError:
        raise LinkRefused("This sign-in link has already been used. Ask for a new one.") from None
    return person


# --- the session cookie -------------------------------------------------------------------


def start_session(response: Response, person_id: int) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        _serializer("session").dumps({"p": person_id}),
        max_age=settings.session_max_age_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def _session_person_id(request: Request) -> int | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer("session").loads(cookie, max_age=get_settings().session_max_age_hours * 3600)
    except BadSignature:
        return None
    person_id = data.get("p") if isinstance(data, dict) else None
    return person_id if isinstance(person_id, int) else None


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in person, or None. Header mode trusts the proxy's header and nothing else."""
    settings = get_settings()
    with session_scope() as session:
        if auth_mode(settings) == "header":
            email = (request.headers.get(settings.auth_header_name) or "").strip().lower()
            # oauth2-proxy may send "accounts.google.com:ada@example.com" (IAP's format).
            email = email.rsplit(":", 1)[-1]
            person = (
                session.scalar(select(Person).where(func.lower(Person.email) == email)) if email else None
            )
        else:
            person_id = _session_person_id(request)
            person = session.get(Person, person_id) if person_id is not None else None
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


def csrf_token(viewer: Viewer) -> str:
    """A token for the viewer's forms: signed, tied to the person, valid for a session's length."""
    return str(_serializer("csrf").dumps(viewer.person_id))


async def require_csrf(request: Request, viewer: Viewer) -> None:
    """Refuse (403) a POST whose form or header lacks this viewer's CSRF token."""
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        value: Any = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    try:
        valid = token is not None and _serializer("csrf").loads(
            token, max_age=get_settings().session_max_age_hours * 3600
        ) == viewer.person_id
    except BadSignature:
        valid = False
    if not valid:
        raise HTTPException(
            status_code=403, detail="This form has expired or did not come from this site. Reload the page and try again."
        )
