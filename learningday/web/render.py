"""One Jinja2 environment for the web pages, and the context every page shares.

Each page gets the signed-in viewer (for the navigation) and a CSRF token for its forms, so a
template never has to ask for them and a form never goes out without its token.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from learningday.web.access import Viewer

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _money(value: object) -> str:
    try:
        return f"{float(value):,.2f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


templates.env.filters["money"] = _money
templates.env.filters["percent"] = _percent
# A fresh nonce per rendered form: the submission's idempotency key (a double click or a
# browser's retry of the same form saves it once, and answers like the first).
templates.env.globals["form_nonce"] = lambda: secrets.token_urlsafe(16)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    viewer: Viewer | None = None,
    status_code: int = 200,
) -> Response:
    from learningday.web.auth import csrf_token  # auth renders pages too

    shared = {"viewer": viewer, "csrf": csrf_token(viewer) if viewer else ""}
    return templates.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)
