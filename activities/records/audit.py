"""The weekly audit's judgement of one person's week, and the activity that raises its flags.

`judge_week` only reads (the database and the calendar events it is given) and returns what the
audit would flag, so `learningday audit run` can show it without sending or writing anything;
`AuditActivities.audit_people_page` raises those findings as flags for a page of people.

What a week is judged for: weekday spillover, always. Used for work is judged at the end of
each Learning Day (activities/records/work_judgement.py); the audit judges it only for days that
were not (days that ran before the day-end judgement existed), so no day is flagged or mailed
twice and none goes unjudged across the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from temporalio import activity

from activities.calendar.port import Calendar
from activities.records.enforcement import check_ins, flag_recorded, learning_days, raise_flag
from activities.records.problems import record_problem_now
from activities.records.work_judgement import judged_day_ids
from learningday.contracts.audit import AuditPage, AuditPageResult
from learningday.contracts.calendar import CalendarEvent, EventQuery
from learningday.contracts.problems import ProblemReport
from learningday.db.engine import session_scope
from learningday.db.models import Absence, Flag, LearningDay, Person
from policies.enforcement import Finding, Interval, away_intervals, summary_followed_plan, was_held
from policies.policy import Policy
from policies.schedule import day_instants
from policies.spillover import absence_interval, local_day, spillover
from policies.used_for_work import used_for_work


@dataclass(frozen=True)
class WeekFinding:
    finding: Finding
    date: dt.date  # the flag's date: its Learning Day (used for work), the week's Monday (spillover)
    learning_day_id: int | None


@dataclass(frozen=True)
class PersonWeek:
    findings: list[WeekFinding] = field(default_factory=list)
    followed: dict[int, bool] = field(default_factory=dict)  # day id -> its summary followed its plan


def week_query(email: str, timezone: str, monday: dt.date) -> EventQuery:
    """The person's local week, Monday 00:00 to the next Monday 00:00."""
    start, _ = local_day(monday, timezone)
    end, _ = local_day(monday + dt.timedelta(days=7), timezone)
    return EventQuery(email, start, end, timezone)


def judge_week(
    session: Session, policy: Policy, person_id: int, timezone: str, monday: dt.date, events: list[CalendarEvent]
) -> PersonWeek:
    """What the audit flags for one person's week starting `monday`; reads, never writes."""
    away: list[Interval] = away_intervals(events)
    for absence in session.scalars(
        select(Absence).where(
            Absence.person_id == person_id,
            Absence.start_date <= monday + dt.timedelta(days=6),
            Absence.end_date >= monday,
        )
    ):
        away.append(absence_interval(absence.start_date, absence.end_date, timezone))
    days = sorted(
        learning_days(session, person_id, monday, monday + dt.timedelta(days=6)).values(), key=lambda d: d.date
    )
    judged = judged_day_ids(session, [d.id for d in days])
    week = PersonWeek()
    texts: list[tuple[str, str]] = []
    for day in days:
        if not was_held(day.state.value):
            continue
        ins = check_ins(session, day.id)
        plan, summary = ins.get("plan"), ins.get("summary")
        texts += [(kind, c.text) for kind, c in (("plan", plan), ("summary", summary)) if c]
        if day.id in judged:
            continue  # judged at the day's end: flagged and mailed then, if at all
        if plan and summary:
            week.followed[day.id] = summary_followed_plan(plan.text, summary.text).followed
        instants = day_instants(policy, timezone, day.date)
        finding = used_for_work(
            policy,
            (instants.day_start, instants.day_end),
            events,
            plan.text if plan else None,
            summary.text if summary else None,
            plan.category if plan else None,
            away,
        )
        if finding:
            week.findings.append(WeekFinding(finding, day.date, day.id))
    finding = spillover(policy, timezone, monday, events, texts, away)
    if finding:
        week.findings.append(WeekFinding(finding, monday, days[0].id if days else None))
    return week


class AuditActivities:
    """Evaluates a page of people for one week (`judge_week`) and raises the flags found.
    Heartbeats after every person, so a retry resumes after the last one done; flags are
    upserts, so redoing one is harmless."""

    def __init__(self, calendar: Calendar, policy_loader: Callable[[], Policy]) -> None:
        self._calendar = calendar
        self._policy_loader = policy_loader

    @activity.defn(name="audit_people_page")
    def audit_people_page(self, page: AuditPage) -> AuditPageResult:
        policy = self._policy_loader()
        after, flag_ids = page.after_person_id, []
        resumed = activity.info().heartbeat_details
        if resumed:
            after, flag_ids = int(resumed[0]), [int(i) for i in resumed[1]]
        with session_scope() as session:
            people = [
                (p.id, p.email, p.timezone)
                for p in session.scalars(
                    select(Person)
                    .where(Person.active.is_(True), Person.id > after)
                    .order_by(Person.id)
                    .limit(page.limit)  # a resumed attempt reads up to `limit` more: fine
                )
            ]
        unaudited: list[int] = []
        for person_id, email, timezone in people:
            events = self._week_events(person_id, email, timezone, page.week_start)
            if events is None:
                unaudited.append(person_id)
            else:
                flag_ids += self._audit_person(policy, person_id, events, timezone, page.week_start)
            after = person_id
            activity.heartbeat(after, flag_ids)
        with session_scope() as session:
            more = session.scalar(select(Person.id).where(Person.active.is_(True), Person.id > after).limit(1))
            flags = [flag_recorded(session, flag) for i in dict.fromkeys(flag_ids) if (flag := session.get(Flag, i))]
        return AuditPageResult(flags, after, len(people), more is None, unaudited, policy)

    def _week_events(self, person_id: int, email: str, timezone: str, monday: dt.date) -> list[CalendarEvent] | None:
        """The person's calendar for the week; None (recorded as a delivery problem) when it
        cannot be read: one person's calendar never stops the audit of everyone else."""
        try:
            return self._calendar.list_events(week_query(email, timezone, monday))
        except SQLAlchemyError:
            raise  # our own database: retried by Temporal
        except Exception as error:  # noqa: BLE001 - the vendor client retried transient errors already
            record_problem_now(
                ProblemReport(
                    key=f"audit:{monday}:{person_id}",
                    step="audit_calendar",
                    subject_type="week",
                    subject_id=str(monday),
                    person_id=person_id,
                    reason=f"{type(error).__name__}: {error}"[:500],
                    outcome="this person's week was not audited for spillover",
                )
            )
            return None

    def _audit_person(
        self, policy: Policy, person_id: int, events: list[CalendarEvent], timezone: str, monday: dt.date
    ) -> list[int]:
        now = dt.datetime.now(dt.UTC)
        with session_scope() as session:
            week = judge_week(session, policy, person_id, timezone, monday, events)
            for day_id, followed in week.followed.items():
                day = session.get(LearningDay, day_id)
                if day is not None:
                    day.followed_plan = followed
            return [raise_flag(session, person_id, f.date, f.finding, f.learning_day_id, now) for f in week.findings]
