"""Render an email from its templates: `<name>.txt` for the plain part, `<name>.html` for the HTML.

Templates live in `learningday/mail_templates/`; each documents its context keys in its top
comment. HTML is autoescaped (plans and summaries are user text and may contain markup); the text
part is not. A missing context key is an error naming the key, not an empty gap in a manager's
email.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, UndefinedError, select_autoescape

from learningday.contracts.mail import Email

# One cell of a history or digest row: what happened on that day for that person.
MARKS = {"kept": "✓", "missed": "✗", "spillover": "!"}
NO_MARK = "–"  # a day off, a holiday, not a Learning Day, or no data


def render_email(template_name: str, context: dict[str, Any], key: str, to: list[str], subject: str) -> Email:
    """The `Email` for outbox `key`, both parts rendered from `template_name` with `context`."""
    env = _environment()
    try:
        text = env.get_template(f"{template_name}.txt").render(context)
        html = env.get_template(f"{template_name}.html").render(context)
    except UndefinedError as error:
        raise ValueError(
            f"mail template {template_name!r} (learningday/mail_templates/) needs a context key "
            f"that was not given: {error.message}; see the template's top comment for its keys"
        ) from None
    return Email(key=key, to=list(to), subject=subject, text=text, html=html)


@lru_cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("learningday", "mail_templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["localtime"] = localtime
    env.filters["day"] = day
    env.filters["mark"] = mark
    env.filters["money"] = money
    return env


def localtime(value: dt.datetime, tz_name: str) -> str:
    """`value` in the reader's timezone, e.g. "Thu 21 Nov 09:30"; naive datetimes are UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(tz_name)).strftime("%a %d %b %H:%M")


def day(value: dt.date) -> str:
    """A calendar date as people read it in a table header, e.g. "Thu 21 Nov"."""
    return value.strftime("%a %d %b")


def mark(status: str | bool | None) -> str:
    """✓ kept, ✗ missed, ! spillover, – anything else (off, holiday, not yet, unknown)."""
    if status is True:
        return MARKS["kept"]
    if status is False:
        return MARKS["missed"]
    return MARKS.get(str(status), NO_MARK) if status is not None else NO_MARK


def money(amount: Decimal | float | int | str, currency: str) -> str:
    """An amount with its currency, always two decimals: "EUR 42.00"."""
    return f"{currency} {Decimal(str(amount)).quantize(Decimal('0.01'))}"
