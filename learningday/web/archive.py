"""The archive: search every plan and summary — who learned what — by words, category and team.

Plans and summaries are shared in the channel "to motivate others", so by default everyone
signed in searches all of them (`LEARNINGDAY_ARCHIVE_VISIBILITY=company`); with `scope`, the
archive follows the same rule as every other record. Search is case-insensitive `LIKE` on each
word (all words must match), which behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import CheckIn, CheckInKind, LearningDay, Person
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from learningday.web.access import (
    ALL,
    Scope,
    Viewer,
    can_see,
    in_scope,
    visible_person_ids,
)
from learningday.web.auth import signed_in
from learningday.web.bounds import PageNumber
from learningday.web.render import render, templates
from learningday.web.reports import teams_in

router = APIRouter()
PAGE = 50
MAX_WORDS = 8


@dataclass
class Hit:
    check_in: CheckIn
    date: dt.date
    person_id: int
    name: str
    team: str | None
    linked: bool  # the viewer may open the person's page


def words_of(query: str | None) -> list[str]:
    return [w.lower() for w in (query or "").split()][:MAX_WORDS]


def _like(word: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"


def _matches(word: str) -> ColumnElement[bool]:
    pattern = _like(word)
    columns = [CheckIn.text, CheckIn.why, CheckIn.resources, CheckIn.category, Person.name]
    return or_(*(func.lower(func.coalesce(c, "")).like(pattern, escape="\\") for c in columns))


def search(
    session: Session,
    scope: Scope,
    query: str | None,
    *,
    category: str | None = None,
    team: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = PAGE,
) -> tuple[list[Hit], int]:
    """Matching check-ins, newest first, and how many match in all."""
    conditions = [in_scope(LearningDay.person_id, scope), *(_matches(w) for w in words_of(query))]
    if category:
        conditions.append(CheckIn.category == category)
    if team:
        conditions.append(Person.team == team)
    if kind in ("plan", "summary"):
        conditions.append(CheckIn.kind == CheckInKind(kind))
    base = (
        select(CheckIn, LearningDay.date, Person.id, Person.name, Person.team)
        .join(LearningDay, LearningDay.id == CheckIn.learning_day_id)
        .join(Person, Person.id == LearningDay.person_id)
        .where(and_(*conditions))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(LearningDay.date.desc(), Person.name, CheckIn.kind).offset(offset).limit(limit)
    ).all()
    return [Hit(c, d, pid, name, t, False) for c, d, pid, name, t in rows], total


def highlight(text: str | None, words: list[str]) -> Markup:
    """`text`, escaped, with each searched word wrapped in <mark>."""
    safe = str(escape(text or ""))
    if not words:
        return Markup(safe)
    pattern = re.compile("|".join(re.escape(str(escape(w))) for w in words), re.IGNORECASE)
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", safe))


templates.env.filters["highlight"] = highlight


@router.get("/archive")
def archive_page(
    request: Request,
    q: str | None = None,
    category: str | None = None,
    team: str | None = None,
    kind: str | None = None,
    page: PageNumber = 1,
    viewer: Viewer = Depends(signed_in),
) -> Response:
    page = max(1, page)
    with session_scope() as session:
        visible = visible_person_ids(session, viewer)
        searchable = ALL if get_settings().archive_visibility == "company" else visible
        hits, total = search(
            session,
            searchable,
            q,
            category=category or None,
            team=team or None,
            kind=kind or None,
            offset=(page - 1) * PAGE,
        )
        for hit in hits:
            hit.linked = can_see(visible, hit.person_id)
        teams = teams_in(session, searchable)
        session.expunge_all()
    context = {
        "hits": hits,
        "total": total,
        "q": q or "",
        "words": words_of(q),
        "category": category or "",
        "team": team or "",
        "kind": kind or "",
        "teams": teams,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
        "categories": current_policy().checkins.categories,
    }
    return render(request, "archive.html", context, viewer)
