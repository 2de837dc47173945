"""What the Me, Team and person pages show, read straight from the tables, scoped by access.

Each function takes the caller's session and returns plain dataclasses, so the pages only
render and the same numbers can be tested without a browser.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from learningday.db.models import (
    CheckIn,
    ClaimState,
    DayState,
    ExpenseClaim,
    Flag,
    LearningDay,
    Person,
)
from learningday.web.access import Scope, in_scope
from policies.checkins import CLOSED_STATES
from policies.participation import kept_in_a_row, participation_mark

CLOSED = [DayState(state) for state in sorted(CLOSED_STATES)]
ASKING = (DayState.planning, DayState.learning, DayState.summarising)  # the day is on: check in


@dataclass
class DayRow:
    """One Learning Day of one person, with what they wrote and what was flagged."""

    day: LearningDay
    plan: CheckIn | None
    summary: CheckIn | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def mark(self) -> str:
        """kept | missed | skipped | open — the cell of a person's history strip: what the
        record says (`policies.participation.participation_mark` on the unexcused flags)."""
        unexcused = [flag.kind.value for flag in self.flags if flag.excused_at is None]
        return participation_mark(self.day.state.value, unexcused)


def day_rows(
    session: Session, person_ids: list[int], since: dt.date | None = None, limit: int | None = None
) -> list[DayRow]:
    """Learning Days of these people, newest first, with check-ins and flags loaded."""
    query = (
        select(LearningDay)
        .where(LearningDay.person_id.in_(person_ids))
        .options(selectinload(LearningDay.check_ins), selectinload(LearningDay.person))
        .order_by(LearningDay.date.desc(), LearningDay.person_id)
    )
    if since is not None:
        query = query.where(LearningDay.date >= since)
    if limit is not None:
        query = query.limit(limit)
    days = session.scalars(query).all()
    flags: dict[int, list[Flag]] = {}
    if days:
        for flag in session.scalars(select(Flag).where(Flag.learning_day_id.in_([d.id for d in days]))):
            flags.setdefault(flag.learning_day_id or 0, []).append(flag)
    rows = []
    for day in days:
        by_kind = {c.kind.value: c for c in day.check_ins}
        rows.append(DayRow(day, by_kind.get("plan"), by_kind.get("summary"), flags.get(day.id, [])))
    return rows


def streak(rows: list[DayRow]) -> int:
    """Learning Days kept in a row, `rows` newest first (`policies.participation.kept_in_a_row`)."""
    return kept_in_a_row(row.mark for row in rows)


def topics(rows: list[DayRow]) -> list[tuple[str, int]]:
    """Plan categories, most frequent first."""
    return Counter(r.plan.category for r in rows if r.plan and r.plan.category).most_common()


@dataclass
class Budget:
    year: int
    currency: str
    annual: Decimal
    approved: Decimal
    pending: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.annual - self.approved

    @property
    def used_share(self) -> float:
        return float(self.approved / self.annual) if self.annual else 0.0


def claim_amount(claim: ExpenseClaim) -> Decimal:
    """A claim in the policy currency: the converted amount when the claim carries one."""
    base = getattr(claim, "base_amount", None)
    return Decimal(base if base is not None else claim.amount)


def claims_of(session: Session, person_id: int) -> list[ExpenseClaim]:
    return list(
        session.scalars(
            select(ExpenseClaim).where(ExpenseClaim.person_id == person_id).order_by(ExpenseClaim.submitted_at.desc())
        )
    )


def budget_for(claims: list[ExpenseClaim], year: int, annual: Decimal, currency: str) -> Budget:
    this_year = [c for c in claims if c.submitted_at.year == year]
    approved = sum((claim_amount(c) for c in this_year if c.state == ClaimState.approved), Decimal(0))
    pending = sum((claim_amount(c) for c in this_year if c.state == ClaimState.pending), Decimal(0))
    return Budget(year, currency, annual, approved, pending)


def open_day(session: Session, person_id: int, today: dt.date) -> LearningDay | None:
    """The day a check-in form on the Me page is for: one whose workflow is asking for check-ins
    (planning, learning, summarising) whatever its date (a day started ahead, a compressed demo
    day), else one not yet closed by tomorrow, else today's."""
    asking = session.scalar(
        select(LearningDay)
        .where(LearningDay.person_id == person_id, LearningDay.state.in_(ASKING))
        .order_by(LearningDay.date.desc())
    )
    if asking is not None:
        return asking
    running = session.scalar(
        select(LearningDay)
        .where(
            LearningDay.person_id == person_id,
            LearningDay.state.not_in(CLOSED),
            LearningDay.date <= today + dt.timedelta(days=1),
        )
        .order_by(LearningDay.date.desc())
    )
    return running or session.scalar(
        select(LearningDay).where(LearningDay.person_id == person_id, LearningDay.date == today)
    )


def people_in(session: Session, scope: Scope, team: str | None = None, active_only: bool = True) -> list[Person]:
    query = select(Person).where(in_scope(Person.id, scope)).order_by(Person.team, Person.name)
    if active_only:
        query = query.where(Person.active.is_(True))
    if team:
        query = query.where(Person.team == team)
    return list(session.scalars(query))


def teams_in(session: Session, scope: Scope) -> list[str]:
    return [
        t
        for t in session.scalars(
            select(Person.team)
            .where(in_scope(Person.id, scope), Person.team.is_not(None))
            .group_by(Person.team)
            .order_by(Person.team)
        )
        if t
    ]


def week_of(date: dt.date) -> dt.date:
    """The Monday of `date`'s week: the column a day lands in, whatever the program weekday."""
    return date - dt.timedelta(days=date.weekday())


def weeks_ending(today: dt.date, count: int = 8) -> list[dt.date]:
    last = week_of(today)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(count))]


def team_grid(session: Session, people: list[Person], weeks: list[dt.date]) -> dict[int, dict[dt.date, DayRow]]:
    """Each person's days keyed by week, for the weeks shown."""
    rows = day_rows(session, [p.id for p in people], since=weeks[0]) if people else []
    grid: dict[int, dict[dt.date, DayRow]] = {p.id: {} for p in people}
    for row in rows:
        grid[row.day.person_id].setdefault(week_of(row.day.date), row)
    return grid


def open_flags(session: Session, scope: Scope, exclude: int | None = None) -> list[Flag]:
    query = (
        select(Flag)
        .where(in_scope(Flag.person_id, scope), Flag.excused_at.is_(None))
        .options(selectinload(Flag.person))
        .order_by(Flag.date.desc(), Flag.person_id)
    )
    if exclude is not None:
        query = query.where(Flag.person_id != exclude)
    return list(session.scalars(query))


def pending_claims(session: Session, scope: Scope, exclude: int | None = None) -> list[ExpenseClaim]:
    """Pending claims of people in scope (never the viewer's own: no self-approval)."""
    query = (
        select(ExpenseClaim)
        .where(in_scope(ExpenseClaim.person_id, scope), ExpenseClaim.state == ClaimState.pending)
        .options(selectinload(ExpenseClaim.person))
        .order_by(ExpenseClaim.submitted_at)
    )
    if exclude is not None:
        query = query.where(ExpenseClaim.person_id != exclude)
    return list(session.scalars(query))


def count_people(session: Session) -> int:
    return session.scalar(select(func.count(Person.id)).where(Person.active.is_(True))) or 0
