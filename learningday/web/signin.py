"""The sign-in pages: ask for a link, use a link, sign out (and OIDC's routes, see oidc.py).

Every form here carries the CSRF token of `csrf` (the sign-in form, the sign-in link's button,
sign out): a page on another site can neither spam someone's inbox through us nor sign a victim
in as the attacker by posting the attacker's own link. Sign-in mail is rate limited
(`sign_in_limits`); over a limit the page answers exactly as usual and nothing is sent.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from learningday.contracts.mail import Email, Mailer
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.settings import get_settings
from learningday.web import csrf
from learningday.web.access import Viewer
from learningday.web.auth import (
    LinkRefused,
    _safe_next,
    auth_mode,
    current_viewer,
    end_session,
    end_sessions_everywhere,
    login_url,
    read_login_token,
    redeem_login_token,
    signed_in,
    start_session,
    viewer_form_ok,
)
from learningday.web.render import render
from learningday.web.sign_in_limits import record_sign_in_request

router = APIRouter(prefix="/auth")
log = logging.getLogger(__name__)


@router.get("/login")
def login_page(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    if current_viewer(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    context = {"mode": auth_mode(), "next": _safe_next(next), "sent": False, "signed_out": signed_out}
    return render(request, "login.html", context, form_scope=csrf.LOGIN_SCOPE)


@router.post("/login")
def send_login_link(
    request: Request, email: str = Form(...), next: str = Form("/me"), csrf_token: str = Form("")
) -> Response:
    """Email a sign-in link. The answer is the same whether or not the address is known, and
    whether or not a rate limit held the link back."""
    if auth_mode() != "link":
        return render(request, "login.html", {"mode": auth_mode(), "next": "/me", "sent": False}, status_code=404)
    if not csrf.form_ok(request, csrf.LOGIN_SCOPE, csrf_token):
        return csrf.refused_page(request, "/auth/login")
    request_id, over_limit = record_sign_in_request(email, request.client.host if request.client else "unknown")
    with session_scope() as session:
        person = session.scalar(
            select(Person).where(func.lower(Person.email) == email.strip().lower(), Person.active.is_(True))
        )
        person_id = person.id if person else None
        address = person.email if person else None
    if over_limit is not None:
        log.warning(
            "sign-in link not sent: %s limit reached (sign-in request %d, person %s)",
            over_limit,
            request_id,
            person_id if person_id is not None else "unknown",
        )
    elif person_id is not None and address is not None:
        _send_link(request.app.state.mailer_for(get_settings()), person_id, address, _safe_next(next))
        log.info("sign-in link sent to person %d", person_id)
    context = {"mode": "link", "next": _safe_next(next), "sent": True}
    return render(request, "login.html", context, form_scope=csrf.LOGIN_SCOPE)


def _send_link(mailer: Mailer, person_id: int, address: str, target: str) -> None:
    from urllib.parse import quote

    url = f"{login_url(person_id)}?next={quote(target, safe='')}"
    minutes = get_settings().login_link_max_age_minutes
    text = f"Sign in to Learning Day:\n\n{url}\n\nThe link works once, for {minutes} minutes."
    html = (
        f'<p><a href="{url}">Sign in to Learning Day</a></p>'
        f"<p>The link works once, for {minutes} minutes. If you did not ask for it, ignore this email.</p>"
    )
    email = Email(
        key=f"login:{secrets.token_urlsafe(12)}",
        to=[address],
        subject="Your Learning Day sign-in link",
        text=text,
        html=html,
    )
    mailer.send(email)


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
    context = {"token": token, "name": name, "next": _safe_next(next)}
    return render(request, "signin_link.html", context, form_scope=csrf.link_scope("login-link", token))


@router.post("/link/{token}")
def use_link(request: Request, token: str, next: str = Form("/me"), csrf_token: str = Form("")) -> Response:
    """Sign in, only from the link's own page: the cookie its GET set must come with the POST, so
    a cross-site form posting an attacker's link signs nobody in (login CSRF)."""
    try:
        read_login_token(token)
    except LinkRefused as refused:
        return render(request, "signin_link.html", {"error": str(refused)}, status_code=400)
    if not csrf.form_ok(request, csrf.link_scope("login-link", token), csrf_token):
        return csrf.refused_page(request, request.url.path)
    try:
        with session_scope() as session:
            person_id = redeem_login_token(session, token).id
    except LinkRefused as refused:
        return render(request, "signin_link.html", {"error": str(refused)}, status_code=400)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(response, person_id)
    log.info("person %d signed in with a link", person_id)
    return response


def _sign_out_everywhere(person_id: int) -> None:
    with session_scope() as session:
        end_sessions_everywhere(session, person_id)


@router.post("/logout")
async def logout(request: Request, viewer: Viewer = Depends(signed_in)) -> Response:
    """Sign out here and on every other device (the person's session version moves on)."""
    if not await viewer_form_ok(request, viewer):
        return csrf.refused_page(request, "/me")
    await run_in_threadpool(_sign_out_everywhere, viewer.person_id)  # off the loop Slack's acks share
    response = RedirectResponse("/auth/login?signed_out=1", status_code=303)
    end_session(response)
    log.info("person %d signed out everywhere", viewer.person_id)
    return response
