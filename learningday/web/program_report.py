"""The program's numbers: participation, plan and summary rates, topics, flags and spend.

Every figure is a `Table` (title, columns, rows) so the page draws its charts from the same
rows the CSV export writes: what a chart shows is exactly what the file holds. All of them take
the viewer's scope, a date range and an optional team.

Participation is the share of Learning Days held that were kept: `kept / days`, where a day
counts as its record says (`policies.participation.participation_mark`: its unexcused flags),
exactly as the Team page and the flag emails count it, and is held once it is kept or missed. A
missed plan or summary, or a day used for work, is a day held and not kept, so it lowers the
rate; a holiday, an absence, an excused check-in or a day still running changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.db.models import (
    CheckIn,
    ClaimState,
    ExpenseClaim,
    Flag,
    FlagKind,
    LearningDay,
    Person,
)
from learningday.web.access import Scope, in_scope
from learningday.web.reports import claim_amount, week_of
from policies.participation import participation_mark
from policies.policy import Policy


@dataclass(frozen=True)
class ProgramFilter:
    start: dt.date
    end: dt.date
    team: str | None = None

    @classmethod
    def default(cls, today: dt.date, weeks: int = 12) -> ProgramFilter:
        return cls(week_of(today) - dt.timedelta(weeks=weeks - 1), today)


@dataclass
class Table:
    name: str  # the CSV's name: /program/<name>.csv
    title: str
    columns: list[str]
    rows: list[list[object]]

    def column(self, name: str) -> list[object]:
        """One column's values, by name: charts read columns by what they are, not by position."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


TABLES = ("participation", "teams", "categories", "flags", "claims", "budget")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class _Day:
    """One Learning Day as the program counts it: its mark (`participation_mark`) and check-ins."""

    date: dt.date
    team: str
    mark: str  # kept | missed | skipped | open
    plan: bool
    summary: bool

    @property
    def held(self) -> bool:
        """Kept or missed: a day that counts, in every rate."""
        return self.mark in ("kept", "missed")


def _days(session: Session, scope: Scope, f: ProgramFilter) -> list[_Day]:
    query = (
        select(LearningDay.id, LearningDay.date, LearningDay.state, Person.team)
        .join(Person, Person.id == LearningDay.person_id)
        .where(in_scope(LearningDay.person_id, scope), LearningDay.date >= f.start, LearningDay.date <= f.end)
    )
    if f.team:
        query = query.where(Person.team == f.team)
    days = session.execute(query).all()
    kinds: dict[int, set[str]] = defaultdict(set)
    unexcused: dict[int, list[str]] = defaultdict(list)
    ids = [d.id for d in days]
    for chunk in range(0, len(ids), 500):
        some = ids[chunk : chunk + 500]
        for day_id, kind in session.execute(
            select(CheckIn.learning_day_id, CheckIn.kind).where(CheckIn.learning_day_id.in_(some))
        ):
            kinds[day_id].add(kind.value)
        for flagged_day, flag_kind in session.execute(
            select(Flag.learning_day_id, Flag.kind).where(Flag.learning_day_id.in_(some), Flag.excused_at.is_(None))
        ):
            unexcused[flagged_day or 0].append(flag_kind.value)
    result = []
    for d in days:
        plan, summary = "plan" in kinds[d.id], "summary" in kinds[d.id]
        result.append(
            _Day(d.date, d.team or "(no team)", participation_mark(d.state.value, unexcused[d.id]), plan, summary)
        )
    return result


def _rates_row(key: object, days: list[_Day]) -> list[object]:
    held = [d for d in days if d.held]
    kept = sum(d.mark == "kept" for d in held)
    plans = sum(d.plan for d in held)
    summaries = sum(d.summary for d in held)
    return [
        key,
        len(held),
        kept,
        plans,
        summaries,
        _rate(kept, len(held)),
        _rate(plans, len(held)),
        _rate(summaries, len(held)),
    ]


# days: Learning Days held (kept or missed); participation_rate: kept / days (see the top).
RATE_COLUMNS = ["days", "kept", "plans", "summaries", "participation_rate", "plan_rate", "summary_rate"]


def participation(days: list[_Day]) -> Table:
    """Rates per week, and how many of the week's days are still `running` (open): a week with
    one is not over, so its rates are not yet the week's (the chart leaves it out and says so)."""
    by_week: dict[dt.date, list[_Day]] = defaultdict(list)
    for day in days:
        by_week[week_of(day.date)].append(day)
    rows = [
        [*_rates_row(week.isoformat(), by_week[week]), sum(d.mark == "open" for d in by_week[week])]
        for week in sorted(by_week)
    ]
    return Table("participation", "Participation per week", ["week", *RATE_COLUMNS, "running"], rows)


def teams(days: list[_Day]) -> Table:
    by_team: dict[str, list[_Day]] = defaultdict(list)
    for day in days:
        by_team[day.team].append(day)
    rows = [_rates_row(team, by_team[team]) for team in sorted(by_team)]
    return Table("teams", "Participation per team", ["team", *RATE_COLUMNS], rows)


def categories(session: Session, scope: Scope, f: ProgramFilter, labels: dict[str, str]) -> Table:
    query = (
        select(CheckIn.category)
        .join(LearningDay, LearningDay.id == CheckIn.learning_day_id)
        .join(Person, Person.id == LearningDay.person_id)
        .where(
            in_scope(LearningDay.person_id, scope),
            CheckIn.kind == "plan",
            LearningDay.date >= f.start,
            LearningDay.date <= f.end,
        )
    )
    if f.team:
        query = query.where(Person.team == f.team)
    counts = Counter(category or "(none)" for category in session.scalars(query))
    rows: list[list[object]] = [[key, labels.get(key, key), n] for key, n in counts.most_common()]
    return Table("categories", "What people learned (plan categories)", ["category", "label", "plans"], rows)


def flags(session: Session, scope: Scope, f: ProgramFilter) -> Table:
    query = (
        select(Flag.kind, Flag.excused_at)
        .join(Person, Person.id == Flag.person_id)
        .where(in_scope(Flag.person_id, scope), Flag.date >= f.start, Flag.date <= f.end)
    )
    if f.team:
        query = query.where(Person.team == f.team)
    raised: Counter[str] = Counter()
    excused: Counter[str] = Counter()
    for kind, excused_at in session.execute(query):
        raised[kind.value] += 1
        excused[kind.value] += excused_at is not None
    rows: list[list[object]] = [
        [kind.value, raised[kind.value], excused[kind.value], raised[kind.value] - excused[kind.value]]
        for kind in FlagKind
    ]
    return Table("flags", "Flags by kind", ["kind", "raised", "excused", "open"], rows)


def _claims(session: Session, scope: Scope, f: ProgramFilter) -> list[ExpenseClaim]:
    start = dt.datetime.combine(f.start, dt.time(), dt.UTC)
    end = dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time(), dt.UTC)
    query = (
        select(ExpenseClaim)
        .join(Person, Person.id == ExpenseClaim.person_id)
        .where(
            in_scope(ExpenseClaim.person_id, scope), ExpenseClaim.submitted_at >= start, ExpenseClaim.submitted_at < end
        )
    )
    if f.team:
        query = query.where(Person.team == f.team)
    return list(session.scalars(query))


def claims(claim_rows: list[ExpenseClaim], currency: str) -> Table:
    by_category: dict[str, list[ExpenseClaim]] = defaultdict(list)
    for claim in claim_rows:
        by_category[claim.category].append(claim)
    rows: list[list[object]] = []
    for category in sorted(by_category):
        group = by_category[category]
        approved = [c for c in group if c.state == ClaimState.approved]
        pending = [c for c in group if c.state == ClaimState.pending]
        rows.append(
            [
                category,
                len(group),
                len(approved),
                len(pending),
                sum(c.state == ClaimState.rejected for c in group),
                sum((claim_amount(c) for c in approved), Decimal(0)),
                sum((claim_amount(c) for c in pending), Decimal(0)),
            ]
        )
    columns = ["category", "claims", "approved", "pending", "rejected", f"approved_{currency}", f"pending_{currency}"]
    return Table("claims", "Claims by category", columns, rows)


def budget(session: Session, scope: Scope, f: ProgramFilter, claim_rows: list[ExpenseClaim], policy: Policy) -> Table:
    """Spend against budget per team: each person's annual budget, prorated to the date range."""
    query = select(Person.id, Person.team).where(in_scope(Person.id, scope), Person.active.is_(True))
    if f.team:
        query = query.where(Person.team == f.team)
    team_of = {pid: team or "(no team)" for pid, team in session.execute(query)}
    days = (f.end - f.start).days + 1
    share = Decimal(days) / Decimal(365) if days < 365 else Decimal(1)
    each = policy.reimbursement.annual_budget * share
    spent: Counter[str] = Counter()
    for claim in claim_rows:
        if claim.state == ClaimState.approved and claim.person_id in team_of:
            spent[team_of[claim.person_id]] += claim_amount(claim)  # type: ignore[assignment]  # a Counter sums Decimals too
    people = Counter(team_of.values())
    rows: list[list[object]] = []
    for team in sorted(people):
        total = (each * people[team]).quantize(Decimal("0.01"))
        used = Decimal(spent[team]).quantize(Decimal("0.01"))
        rows.append([team, people[team], total, used, _rate(int(used * 100), int(total * 100))])
    currency = policy.reimbursement.currency
    return Table(
        "budget",
        "Spend against budget (prorated to the range)",
        ["team", "people", f"budget_{currency}", f"approved_{currency}", "used_share"],
        rows,
    )


def program_tables(session: Session, scope: Scope, f: ProgramFilter, policy: Policy) -> dict[str, Table]:
    days = _days(session, scope, f)
    claim_rows = _claims(session, scope, f)
    return {
        "participation": participation(days),
        "teams": teams(days),
        "categories": categories(session, scope, f, policy.checkins.categories),
        "flags": flags(session, scope, f),
        "claims": claims(claim_rows, policy.reimbursement.currency),
        "budget": budget(session, scope, f, claim_rows, policy),
    }
