"""The sign-in pages: ask for a link, use a link, sign out (and OIDC's routes, see oidc.py)."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from starlette.responses import Response

from activities.mail.port import Email
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.settings import get_settings
from learningday.web.access import Viewer
from learningday.web.auth import (
    LinkRefused,
    _safe_next,
    auth_mode,
    current_viewer,
    end_session,
    login_url,
    read_login_token,
    redeem_login_token,
    require_csrf,
    signed_in,
    start_session,
)
from learningday.web.render import render

router = APIRouter(prefix="/auth")
log = logging.getLogger(__name__)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_viewer(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"mode": auth_mode(), "next": _safe_next(next), "sent": False})


@router.post("/login")
def send_login_link(request: Request, email: str = Form(...), next: str = Form("/me")) -> Response:
    """Email a sign-in link. The answer is the same whether or not the address is known."""
    if auth_mode() != "link":
        return render(request, "login.html", {"mode": auth_mode(), "next": "/me", "sent": False}, status_code=404)
    with session_scope() as session:
        person = session.scalar(
            select(Person).where(func.lower(Person.email) == email.strip().lower(), Person.active.is_(True))
        )
        person_id = person.id if person else None
        address = person.email if person else None
    if person_id is not None and address is not None:
        _send_link(person_id, address, _safe_next(next))
        log.info("sign-in link sent to person %d", person_id)
    return render(request, "login.html", {"mode": "link", "next": _safe_next(next), "sent": True})


def _send_link(person_id: int, address: str, target: str) -> None:
    from urllib.parse import quote

    from activities.mail.factory import mailer_from_settings

    url = f"{login_url(person_id)}?next={quote(target, safe='')}"
    minutes = get_settings().login_link_max_age_minutes
    text = f"Sign in to Learning Day:\n\n{url}\n\nThe link works once, for {minutes} minutes."
    html = (
        f'<p><a href="{url}">Sign in to Learning Day</a></p>'
        f"<p>The link works once, for {minutes} minutes. If you did not ask for it, ignore this email.</p>"
    )
    email = Email(key=f"login:{secrets.token_urlsafe(12)}", to=[address], subject="Your Learning Day sign-in link", text=text, html=html)
    mailer_from_settings(get_settings()).send(email)


@router.get("/link/{token}")
def confirm_link(request: Request, token: str, next: str | None = None) -> Response:
    """A page with a button: mail scanners that open links sign nobody in and spend nothing."""
    try:
        person_id, _ = read_login_token(token)
    except LinkRefused as refused:
        return render(request, "signin_link.html", {"error": str(refused)}, status_code=400)
    with session_scope() as session:
        person = session.get(Person, person_id)
        name = person.name if person and person.active else None
    if name is None:
        return render(request, "signin_link.html", {"error": "This sign-in link is not valid."}, status_code=400)
    return render(request, "signin_link.html", {"token": token, "name": name, "next": _safe_next(next)})


@router.post("/link/{token}")
def use_link(request: Request, token: str, next: str = Form("/me")) -> Response:
    try:
        with session_scope() as session:
            person_id = redeem_login_token(session, token).id
    except LinkRefused as refused:
        return render(request, "signin_link.html", {"error": str(refused)}, status_code=400)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(response, person_id)
    log.info("person %d signed in with a link", person_id)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewer = Depends(signed_in)) -> Response:
    await require_csrf(request, viewer)
    response = RedirectResponse("/auth/login", status_code=303)
    end_session(response)
    return response
