"""One Jinja2 environment for the web pages, and the context every page shares.

Each page gets the signed-in viewer (for the navigation) and a CSRF token for its forms (see
`csrf`: bound to the viewer, or to the `form_scope` of a page reached by a link), so a template
never has to ask for them and a form never goes out without its token.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.responses import Response

from learningday import labels
from learningday.policy_source import current_policy
from learningday.web import csrf
from learningday.web.access import Viewer

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _money(value: object) -> str:
    try:
        return f"{float(value):,.2f}"  # type: ignore[arg-type]  # any value: what float() refuses is shown as it is
    except (TypeError, ValueError):
        return str(value)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@pass_context
def _category_label(context: Context, key: str | None) -> str:
    """A check-in category's label: from the page's `categories` (pages that label many pass
    them, so the policy is read once), else from the policy in force."""
    categories = context.get("categories")
    if categories is None:
        categories = current_policy().checkins.categories
    return labels.category_label(key, categories)


@pass_context
def _expense_label(context: Context, key: str | None) -> str:
    """An expense category's label: from the page's `expense_labels` (pages that label many pass
    them, so the policy is read once), else from the policy in force."""
    expense_labels = context.get("expense_labels")
    if expense_labels is None:
        expense_labels = current_policy().reimbursement.category_labels
    return labels.expense_label(key, expense_labels)


templates.env.filters["money"] = _money
templates.env.filters["flag_label"] = labels.flag_label
templates.env.filters["category_label"] = _category_label
templates.env.filters["expense_label"] = _expense_label
templates.env.globals["count"] = labels.count
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
    form_scope: str | None = None,
) -> Response:
    scope = form_scope or (csrf.person_scope(viewer.person_id) if viewer else None)
    shared = {"viewer": viewer, "csrf": csrf.form_token(request, scope) if scope else ""}
    response = templates.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)
    return csrf.keep_cookie(request, response)
