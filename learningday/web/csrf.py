"""One CSRF scheme for every form we serve: a double submit bound to the page.

The GET that renders a form makes sure the browser holds a random value in the `learningday_form`
cookie (HttpOnly, SameSite=Strict, the whole site) and puts in the form a token signed for
`Purpose.FORM` that carries a keyed digest of that value and of the page's scope: the signed-in
person for pages behind the session, the link itself for pages reached by a signed link (a
check-in, an excuse, an approval, a claim form, a sign-in link), "login" for the sign-in form.

A POST is accepted only with both, matching: a form posted from another site arrives without the
cookie (SameSite=Strict), and that site can neither read the cookie nor mint a token for it; a
token lifted from one page (an attacker's own sign-in link page, say) fits neither another
browser's cookie nor another page. A refusal is a 403 page that says to reload the form.

The cookie is kept once set, so every open tab's form stays good; it lives as long as the
browser session, and a token as long as `Purpose.FORM` allows.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, keyed_digest, read, sign

FORM_COOKIE = "learningday_form"
FIELDS = ("csrf_token", "csrf")  # the name the signed-in forms use, and the link pages'
HEADER = "X-CSRF-Token"
LOGIN_SCOPE = "login"
_SOUND_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
R = TypeVar("R", bound=Response)


def person_scope(person_id: int) -> str:
    return f"person:{person_id}"


def link_scope(kind: str, token: str) -> str:
    """The scope of a page reached by a signed link: its forms are good for that link only."""
    return f"{kind}:{token}"


def _https() -> bool:
    return get_settings().public_base_url.startswith("https://")


def cookie_name() -> str:
    """Behind https the cookie is `__Host-` prefixed: Secure, this host only, no Domain, so a
    neighbouring subdomain cannot plant a value of its own (cookie tossing)."""
    return f"__Host-{FORM_COOKIE}" if _https() else FORM_COOKIE


def _browser_key(request: Request) -> str:
    """The browser's form cookie, or a new one (kept in request.state for `keep_cookie`)."""
    known = getattr(request.state, "form_key", None)
    if known:
        return str(known)
    cookie = request.cookies.get(cookie_name(), "")
    key = cookie if _SOUND_KEY.fullmatch(cookie) else secrets.token_urlsafe(32)
    request.state.form_key = key
    return key


def _token(key: str, scope: str) -> str:
    return sign(Purpose.FORM, [keyed_digest("form-cookie", key)[:32], keyed_digest("form-scope", scope)[:32]])


def form_token(request: Request, scope: str) -> str:
    """The token for a form of the page `scope` that this request renders; call `keep_cookie`
    on the response that carries it."""
    return _token(_browser_key(request), scope)


def keep_cookie(request: Request, response: R) -> R:
    """Set the form cookie on `response` when this request made a new one."""
    key = getattr(request.state, "form_key", None)
    if key and request.cookies.get(cookie_name()) != key:
        response.set_cookie(cookie_name(), key, httponly=True, samesite="strict", path="/", secure=_https())
    return response


def form_ok(request: Request, scope: str, submitted: str | None) -> bool:
    """Whether a POST carries this browser's cookie and a token made from it for `scope`."""
    cookie = request.cookies.get(cookie_name(), "")
    if not submitted or not _SOUND_KEY.fullmatch(cookie):
        return False
    try:
        payload = read(Purpose.FORM, submitted)
    except TokenRefused:
        return False
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        return False
    cookie_ok = hmac.compare_digest(payload[0], keyed_digest("form-cookie", cookie)[:32])
    scope_ok = hmac.compare_digest(payload[1], keyed_digest("form-scope", scope)[:32])
    return cookie_ok and scope_ok


async def submitted_token(request: Request) -> str | None:
    """The token a POST carries: the X-CSRF-Token header, else the form's field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    form = await request.form()
    for field in FIELDS:
        value = form.get(field)
        if isinstance(value, str) and value:
            return value
    return None


async def posted_form_ok(request: Request, scope: str) -> bool:
    """`form_ok` for a POST whose token the route does not take as a parameter."""
    return form_ok(request, scope, await submitted_token(request))


REFUSED = "This form has expired or did not come from this site. Reload the page and send it again."


def refused_page(request: Request, again: str) -> HTMLResponse:
    """The answer to a refused form: 403, what happened, and the page to reload."""
    from learningday.web.render import templates  # render imports this module

    return templates.TemplateResponse(
        request, "form_refused.html", {"viewer": None, "message": REFUSED, "again": again}, status_code=403
    )
