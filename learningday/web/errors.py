"""Error answers a person can read: a browser that reaches a 401, 403, 404, 422 or 500 gets a
small page in the site's layout saying what happened and where to go next, instead of
`{"detail":"Not found."}`.

Everything else keeps the answer it had: a client that does not ask for HTML (`Accept:
application/json`, curl's `*/*`, the tests' client), Slack's endpoints, the probes and
/metrics get FastAPI's JSON (or the plain 500), so nothing that parses errors breaks. A
redirect raised as an HTTPException (the sign-in redirect) stays a redirect. The detail
messages are the same words in both forms: the page shows them as its explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

# Machines' endpoints: they answer machines whatever the Accept header says.
MACHINE_PATHS = ("/slack", "/metrics", "/healthz", "/readyz")

# What a person is told for each status: a heading and what to do about it.
SAYS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The address or the form was not what this page expects."),
    401: ("Sign in first", "This page is for signed-in people."),
    403: ("Not allowed", "You cannot do this here."),
    404: ("Not found", "This page does not exist, or it is not yours to see."),
    405: ("Not found", "This page does not exist, or it is not yours to see."),
    409: ("Not yours to do now", "Nothing was changed."),
    422: ("Not understood", "Part of the address or the form could not be read."),
    500: (
        "Something went wrong",
        "It is not your fault and nothing you did was lost on our side; try again in a minute.",
    ),
    503: ("Not available right now", "A part of the service is not answering; try again in a minute."),
}


def wants_page(request: Request) -> bool:
    """Whether the client is a browser asking for a page (its Accept header names text/html)
    and the path is one people open, not a machine's endpoint."""
    path = request.url.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in MACHINE_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _viewer(request: Request) -> Any:
    """The signed-in person for the page's navigation, or None when that cannot be known (the
    database may be the reason for the error)."""
    from learningday.web.auth import current_viewer

    try:
        return current_viewer(request)
    except Exception:  # noqa: BLE001 - an error page must not fail on its navigation
        return None


def error_page(
    request: Request,
    status: int,
    details: list[str],
    headers: Mapping[str, str] | None = None,
    viewer: Any = None,
) -> Response:
    """The page for `status`, its `details` as the explanation, in the site's layout."""
    from learningday.web.render import render, templates

    title, advice = SAYS.get(status, ("Something went wrong", "Try again, or go back to your page."))
    context = {"status": status, "title": title, "advice": advice, "details": details}
    if viewer is None:  # no session to bind a form to: plain template, no CSRF cookie
        response: Response = templates.TemplateResponse(
            request, "error.html", {"viewer": None, "csrf": "", **context}, status_code=status
        )
    else:
        response = render(request, "error.html", context, viewer, status_code=status)
    for name, value in (headers or {}).items():
        response.headers.setdefault(name, value)
    return response


def _detail_lines(detail: Any) -> list[str]:
    if detail is None or detail == "":
        return []
    return [str(detail)]


def _repeats_heading(detail: Any) -> bool:
    """Starlette's "Not Found" and our "Not found." say what the heading says already."""
    return isinstance(detail, str) and detail.strip(" .").lower() in {"not found", "method not allowed"}


def _validation_lines(exc: RequestValidationError) -> list[str]:
    """Pydantic's errors as "where: what" lines, e.g. "date: Input should be a valid date"."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "form"))
        lines.append(f"{where}: {error.get('msg', 'not valid')}" if where else str(error.get("msg", "not valid")))
    return lines


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code < 400 or not wants_page(request):
        return await http_exception_handler(request, exc)
    details = [] if _repeats_heading(exc.detail) else _detail_lines(exc.detail)
    return error_page(request, exc.status_code, details, exc.headers, _viewer(request))


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not wants_page(request):
        return await request_validation_exception_handler(request, exc)
    return error_page(request, 422, _validation_lines(exc), viewer=_viewer(request))


def internal_error(headers: Mapping[str, str]) -> Any:
    """The last-resort 500. Starlette sends it from its outermost middleware, around the one that
    adds the security headers, so the answer carries `headers` itself. No database, no session:
    whatever failed may fail again."""

    async def handler(request: Request, exc: Exception) -> Response:
        if wants_page(request):
            return error_page(request, 500, [], headers)
        return PlainTextResponse("Internal Server Error", status_code=500, headers=dict(headers))

    return handler


def install(app: FastAPI) -> None:
    """Answer browsers' 4xx with pages (the 500 is installed with the security headers)."""
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
