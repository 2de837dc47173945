"""Database side of enforcement: a person's recent record, raising flags idempotently, and the
facts a flag email or a weekly digest is made of.

Plain functions over a session (no Temporal here): the mail activities, the day-end judgement
and the weekly audit (activities/records/audit.py) call them. Flags are upserted on their
natural key (person, kind, date), so an audit page evaluated twice raises each flag once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.contracts.flags import FlagRecorded
from learningday.db.models import AuditEntry, CheckIn, Flag, FlagKind, LearningDay, Person
from learningday.labels import FLAG_LABELS
from policies.enforcement import Finding, consecutive_misses, history_mark
from policies.enforcement import day_status as rules_day_status

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


def learning_days(session: Session, person_id: int, since: dt.date, until: dt.date) -> dict[dt.date, LearningDay]:
    """A person's Learning Day rows from `since` to `until` (inclusive), by date."""
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
    days = learning_days(session, person_id, since, upto)
    flags = _flags(session, person_id, since, upto + dt.timedelta(days=6))
    history = []
    for back in range(weeks - 1, -1, -1):
        date = upto - dt.timedelta(days=7 * back)
        on_day = [f for f in flags if f.date == date]
        monday = date - dt.timedelta(days=date.weekday())
        spillover = any(
            f.kind == FlagKind.spillover and monday <= f.date < monday + dt.timedelta(days=7) for f in flags
        )
        history.append({"date": date, "status": history_mark(day_status(days.get(date), on_day), spillover)})
    return history


def missed_in_a_row(session: Session, person_id: int, upto: dt.date, lookback: int = 26) -> int:
    """How many held Learning Days in a row, ending at `upto`, were missed (skipped days neither
    count nor break the run). Used for escalation; a day counts as the record says
    (`policies.enforcement.day_status`), as in the flag emails, the digest and the pages."""
    since = upto - dt.timedelta(weeks=lookback)
    days = sorted(learning_days(session, person_id, since, upto).values(), key=lambda d: d.date)
    kinds: dict[dt.date, list[str]] = {}
    for flag in _flags(session, person_id, since, upto):
        kinds.setdefault(flag.date, []).append(flag.kind.value)
    return consecutive_misses([rules_day_status(day.state.value, kinds.get(day.date, [])) for day in days])


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
    flag = session.scalar(select(Flag).where(Flag.person_id == person_id, Flag.kind == kind, Flag.date == date))
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
                actor="system",
                action="flag_raised",
                subject_type="flag",
                subject_id=str(flag.id),
                details={"kind": finding.kind},
            )
        )
    return flag.id
