"""Security headers on every response the app sends: pages, JSON, the ICS feed, CSV, redirects,
errors, /metrics and static files.

The pages need nothing from anywhere else: no script at all, styles from /static/app.css only
(no <style> block, no style="…" attribute: a class in that file instead), images from this origin
or inline `data:`, forms posting back here, and no other site may frame them. The one frame is
the outbox's view of an email, served from this origin with a policy of its own (see
`EMAIL_FRAME_HEADERS`).

A route that needs something else (the approval page's `no-referrer` and `no-store`, the framed
email) sets the header itself; the middleware fills in only what a response does not set.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learningday.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",  # scripts, fonts, connections, objects…: none; no page has any
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-src 'self'",  # the outbox's framed email
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

# The outbox shows an email's HTML in a frame. Not as `srcdoc`: a srcdoc document inherits the
# page's policy, which would strip the email's inline styles (mail clients need them). Served
# from its own URL, the email gets its own policy: inline styles and inline images and nothing
# else, no script, no form, opaque origin (`sandbox`, even when opened outside the frame), and
# only this origin may frame it.
EMAIL_FRAME_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # it may hold someone's sign-in link
}

HSTS = "max-age=31536000"  # one year; subdomains are not ours to decide


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers every response carries unless its route set its own."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers without frame-ancestors
        # Same-origin requests keep the full URL (and the Origin header that comes with it);
        # other sites see only the origin, never a path with a token in it.
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if settings.public_base_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    """ASGI middleware adding `headers` to each HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    response_headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the headers to every response of `app`, the last-resort 500 included."""
    headers = security_headers(settings)
    app.add_middleware(SecurityHeaders, headers=headers)

    # An unhandled exception's 500 is sent by Starlette's outermost middleware, around ours:
    # the handler gives that answer the headers itself (a page for browsers, plain text else).
    from learningday.web.errors import internal_error

    app.add_exception_handler(Exception, internal_error(headers))
