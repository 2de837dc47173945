"""What the service knows about one person's own Learning Days, read once for every place that
shows it: the Me page and the Slack Home tab. Both read it here so they cannot disagree about
which day is open, what is due or how long the streak is.

The functions take the caller's session; the objects they return are detached by the caller
(`session.expunge_all()`) with everything a page or a view reads already loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.db.models import CheckIn, ExpenseClaim, LearningDay, Person
from learningday.web import reports
from policies.checkins import check_in_due
from policies.policy import Policy
from policies.schedule import next_learning_day

CheckInKind = Literal["plan", "summary"]


def local_today(person: Person) -> dt.date:
    """Today in the person's own zone: their Learning Day is a date where they are."""
    return dt.datetime.now(ZoneInfo(person.timezone)).date()


@dataclass
class MyDay:
    """One person's day as they see it: the open day (if any) and the next one, their history,
    their claims and budget."""

    person: Person
    today: dt.date
    upcoming: dt.date
    upcoming_day: LearningDay | None
    day: LearningDay | None  # the day a check-in is for now (reports.open_day)
    current: reports.DayRow | None  # `day` with its check-ins
    history: list[reports.DayRow]
    claims: list[ExpenseClaim]
    budget: reports.Budget

    @property
    def streak(self) -> int:
        return reports.streak(self.history)

    @property
    def due(self) -> CheckInKind | None:
        """The check-in to write now: the plan until there is one, then the summary; nothing on
        a day that is over or when both are written (an edit is still possible where the whole
        text is shown: the Me page)."""
        day_open = self.day is not None and self.day.state not in reports.CLOSED
        plan = self.current.plan if self.current else None
        summary = self.current.summary if self.current else None
        return check_in_due(day_open, plan is not None, summary is not None)


def read_my_day(session: Session, person: Person, policy: Policy) -> MyDay:
    today = local_today(person)
    upcoming = next_learning_day(policy, today)
    upcoming_day = session.scalar(
        select(LearningDay).where(LearningDay.person_id == person.id, LearningDay.date == upcoming)
    )
    day = reports.open_day(session, person.id, today)
    history = reports.day_rows(session, [person.id], limit=52)
    claims = reports.claims_of(session, person.id)
    budget = reports.budget_for(claims, today.year, policy.reimbursement.annual_budget, policy.reimbursement.currency)
    current = next((r for r in history if day is not None and r.day.id == day.id), None)
    return MyDay(person, today, upcoming, upcoming_day, day, current, history, claims, budget)


@dataclass
class ReportDay:
    """A direct report's day as their manager sees it at a glance: its state and which
    check-ins are in (the texts stay on the Team page)."""

    person: Person
    day: LearningDay | None
    has_plan: bool
    has_summary: bool


def read_team_today(session: Session, manager: Person) -> list[ReportDay]:
    """Each active direct report's open day (as their own Me page finds it, in their zone), by
    name. Empty for someone who manages nobody."""
    people = session.scalars(
        select(Person).where(Person.manager_id == manager.id, Person.active.is_(True)).order_by(Person.name)
    ).all()
    days = {p.id: reports.open_day(session, p.id, local_today(p)) for p in people}
    day_ids = [d.id for d in days.values() if d is not None]
    kinds: set[tuple[int, str]] = set()
    if day_ids:
        for check_in in session.scalars(select(CheckIn).where(CheckIn.learning_day_id.in_(day_ids))):
            kinds.add((check_in.learning_day_id, check_in.kind.value))
    rows = []
    for person in people:
        day = days[person.id]
        rows.append(
            ReportDay(
                person,
                day,
                day is not None and (day.id, "plan") in kinds,
                day is not None and (day.id, "summary") in kinds,
            )
        )
    return rows
