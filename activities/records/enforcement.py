"""Database side of enforcement: a person's recent record, raising audit flags idempotently,
and the facts a flag email or a weekly digest is made of.

Plain functions over a session (no Temporal here): the mail activities and the weekly audit
activity call them. Flags are upserted on their natural key (person, kind, date), so an audit
page evaluated twice raises each flag once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from temporalio import activity

from activities.calendar.port import Calendar, CalendarEvent, EventQuery
from activities.records.problems import ProblemReport, record_problem_now
from learningday.db.engine import session_scope
from learningday.db.models import Absence, AuditEntry, CheckIn, DayState, Flag, FlagKind, LearningDay, Person
from learningday.labels import FLAG_LABELS
from policies.enforcement import Finding, consecutive_misses, summary_followed_plan
from policies.enforcement import day_status as rules_day_status
from policies.policy import Policy
from policies.schedule import day_instants
from policies.spillover import local_day, spillover
from policies.used_for_work import used_for_work

MISSED = (FlagKind.missed_plan, FlagKind.missed_summary)
LABELS = FLAG_LABELS  # the words for each kind; see learningday.labels


def _flags(session: Session, person_id: int, since: dt.date, until: dt.date) -> list[Flag]:
    return list(
        session.scalars(
            select(Flag).where(
                Flag.person_id == person_id,
                Flag.date >= since,
                Flag.date <= until,
                Flag.excused_at.is_(None),
            )
        )
    )


def _days(session: Session, person_id: int, since: dt.date, until: dt.date) -> dict[dt.date, LearningDay]:
    rows = session.scalars(
        select(LearningDay).where(
            LearningDay.person_id == person_id, LearningDay.date >= since, LearningDay.date <= until
        )
    )
    return {day.date: day for day in rows}


def day_status(day: LearningDay | None, flags: Sequence[Flag]) -> str | None:
    """The rule `policies.enforcement.day_status` on rows (excused flags left out by the caller)."""
    return rules_day_status(day.state.value if day is not None else None, [f.kind.value for f in flags])


def weekly_history(session: Session, person_id: int, upto: dt.date, weeks: int = 8) -> list[dict[str, Any]]:
    """The last `weeks` Learning Days up to `upto` (oldest first) as {date, status} for the
    flag email: a spillover week shows "!" unless the day itself was missed."""
    since = upto - dt.timedelta(days=7 * (weeks - 1) + 6)
    days = _days(session, person_id, since, upto)
    flags = _flags(session, person_id, since, upto + dt.timedelta(days=6))
    history = []
    for back in range(weeks - 1, -1, -1):
        date = upto - dt.timedelta(days=7 * back)
        on_day = [f for f in flags if f.date == date]
        status = day_status(days.get(date), on_day)
        monday = date - dt.timedelta(days=date.weekday())
        if status != "missed" and any(
            f.kind == FlagKind.spillover and monday <= f.date < monday + dt.timedelta(days=7) for f in flags
        ):
            status = "spillover"
        history.append({"date": date, "status": status})
    return history


def missed_in_a_row(session: Session, person_id: int, upto: dt.date, lookback: int = 26) -> int:
    """How many held Learning Days in a row, ending at `upto`, had a missed check-in (skipped
    days neither count nor break the run). Used for escalation."""
    since = upto - dt.timedelta(weeks=lookback)
    days = sorted(_days(session, person_id, since, upto).values(), key=lambda d: d.date)
    missed_dates = {f.date for f in _flags(session, person_id, since, upto) if f.kind in MISSED}
    statuses: list[str | None] = []
    for day in days:
        if day.date in missed_dates:
            statuses.append("missed")
        elif day.state == DayState.completed:
            statuses.append("kept")
        else:
            statuses.append(None)
    return consecutive_misses(statuses)


@dataclass(frozen=True)
class FlagRecorded:
    """A flag's id and what deciding its recipients needs (`policies.enforcement.flag_recipients`)."""

    flag_id: int
    person_id: int
    missed_in_a_row: int
    manager_id: int | None
    managers_manager_id: int | None


def flag_recorded(session: Session, flag: Flag) -> FlagRecorded:
    person = session.get(Person, flag.person_id)
    manager = person.manager if person is not None else None
    return FlagRecorded(
        flag_id=flag.id,
        person_id=flag.person_id,
        missed_in_a_row=missed_in_a_row(session, flag.person_id, flag.date),
        manager_id=manager.id if manager else None,
        managers_manager_id=manager.manager_id if manager else None,
    )


def check_ins(session: Session, learning_day_id: int | None) -> dict[str, CheckIn]:
    if learning_day_id is None:
        return {}
    rows = session.scalars(select(CheckIn).where(CheckIn.learning_day_id == learning_day_id))
    return {c.kind.value: c for c in rows}


def raise_flag(
    session: Session,
    person_id: int,
    date: dt.date,
    finding: Finding,
    learning_day_id: int | None,
    at: dt.datetime,
) -> int:
    """Upsert the flag for `finding` on (person, kind, date) and return its id. An existing flag
    keeps its first reason and evidence: the manager was told about that one."""
    kind = FlagKind(finding.kind)
    flag = session.scalar(
        select(Flag).where(Flag.person_id == person_id, Flag.kind == kind, Flag.date == date)
    )
    if flag is None:
        flag = Flag(
            person_id=person_id,
            learning_day_id=learning_day_id,
            kind=kind,
            date=date,
            reason=finding.reason,
            evidence={"facts": list(finding.evidence), "events": list(finding.events)},
            raised_at=at,
        )
        session.add(flag)
        session.flush()
        session.add(
            AuditEntry(
                actor="system", action="flag_raised", subject_type="flag",
                subject_id=str(flag.id), details={"kind": finding.kind},
            )
        )  # fmt: skip
    return flag.id


def evidence_lines(flag: Flag, timezone: str) -> list[str]:
    """The flag's evidence as sentences, times in the reader's `timezone`."""
    from learningday.mail_render import localtime

    evidence = flag.evidence or {}
    lines = list(evidence.get("facts", []))
    if "cutoff" in evidence:
        cutoff = dt.datetime.fromisoformat(evidence["cutoff"])
        lines.append(f"Deadline plus grace: {localtime(cutoff, timezone)} ({timezone})")
    prompts = evidence.get("prompts")
    if prompts is not None:
        lines.append(f"Prompts and reminders sent: {len(prompts)}")
    return lines


def evidence_events(flag: Flag) -> list[dict[str, Any]]:
    """The calendar events stored with the flag, as {title, start, end} aware datetimes."""
    return [
        {
            "title": e.get("title", ""),
            "start": dt.datetime.fromisoformat(e["start"]),
            "end": dt.datetime.fromisoformat(e["end"]),
        }
        for e in (flag.evidence or {}).get("events", [])
    ]


# --- the weekly audit ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    week_start: dt.date  # the Monday of the week audited
    after_person_id: int = 0
    limit: int = 200


@dataclass(frozen=True)
class AuditPageResult:
    flags: list[FlagRecorded] = field(default_factory=list)
    last_person_id: int = 0
    people: int = 0
    done: bool = True
    unaudited_person_ids: list[int] = field(default_factory=list)  # their calendar could not be read
    policy: Policy | None = None  # the policy the page was audited under (for the flags' recipients)


class AuditActivities:
    """Evaluates a page of people for one week: used for work on the Learning Day, weekday
    spillover, and whether each summary followed its plan. Heartbeats after every person, so a
    retry resumes after the last one done; flags are upserts, so redoing one is harmless."""

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
            more = session.scalar(
                select(Person.id).where(Person.active.is_(True), Person.id > after).limit(1)
            )
            flags = [flag_recorded(session, flag) for i in dict.fromkeys(flag_ids) if (flag := session.get(Flag, i))]
        return AuditPageResult(flags, after, len(people), more is None, unaudited, policy)

    def _week_events(self, person_id: int, email: str, timezone: str, monday: dt.date) -> list[CalendarEvent] | None:
        """The person's calendar for the week; None (recorded as a delivery problem) when it
        cannot be read: one person's calendar never stops the audit of everyone else."""
        start, _ = local_day(monday, timezone)
        end, _ = local_day(monday + dt.timedelta(days=7), timezone)
        try:
            return self._calendar.list_events(EventQuery(email, start, end, timezone))
        except SQLAlchemyError:
            raise  # our own database: retried by Temporal
        except Exception as error:  # noqa: BLE001 - the vendor client retried transient errors already
            record_problem_now(ProblemReport(
                key=f"audit:{monday}:{person_id}", step="audit_calendar", subject_type="week",
                subject_id=str(monday), person_id=person_id, reason=f"{type(error).__name__}: {error}"[:500],
                outcome="this person's week was not audited for spillover or used-for-work",
            ))  # fmt: skip
            return None

    def _audit_person(self, policy: Policy, person_id: int, events: list[CalendarEvent], timezone: str, monday: dt.date) -> list[int]:
        away = [(e.starts_at, e.ends_at) for e in events if e.event_type == "outOfOffice"]
        now = dt.datetime.now(dt.UTC)
        raised: list[int] = []
        with session_scope() as session:
            for absence in session.scalars(
                select(Absence).where(
                    Absence.person_id == person_id,
                    Absence.start_date <= monday + dt.timedelta(days=6),
                    Absence.end_date >= monday,
                )
            ):
                away.append((local_day(absence.start_date, timezone)[0], local_day(absence.end_date, timezone)[1]))
            days = sorted(_days(session, person_id, monday, monday + dt.timedelta(days=6)).values(), key=lambda d: d.date)
            texts: list[tuple[str, str]] = []
            for day in days:
                if day.state in (DayState.skipped, DayState.cancelled, DayState.scheduled):
                    continue
                ins = check_ins(session, day.id)
                plan, summary = ins.get("plan"), ins.get("summary")
                texts += [(kind, c.text) for kind, c in (("plan", plan), ("summary", summary)) if c]
                if plan and summary:
                    day.followed_plan = summary_followed_plan(plan.text, summary.text).followed
                instants = day_instants(policy, timezone, day.date)
                finding = used_for_work(
                    policy, (instants.day_start, instants.day_end), events,
                    plan.text if plan else None, summary.text if summary else None,
                    plan.category if plan else None, away,
                )  # fmt: skip
                if finding:
                    raised.append(raise_flag(session, person_id, day.date, finding, day.id, now))
            finding = spillover(policy, timezone, monday, events, texts, away)
            if finding:
                raised.append(raise_flag(session, person_id, monday, finding, days[0].id if days else None, now))
        return raised

