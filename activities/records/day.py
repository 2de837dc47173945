"""Database activities for one Learning Day: load its context, record state, check-ins and flags.

Every write is an upsert on a natural key (person+date, day+kind, person+kind+date), so an
activity retried after a crash converges on the same rows instead of adding new ones. The
workflow decides; these rows follow: a check-in carries the revision the workflow accepted, and
a second write of a different text under the same revision is refused as two truths, never
"already recorded".
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.records.enforcement import flag_recorded
from learningday import metrics
from learningday.contracts.day import (
    CheckInRecord,
    CheckInSaved,
    DayContext,
    DayKey,
    DayStateChange,
    ExcusedCheckIn,
    FlagRecord,
)
from learningday.contracts.flags import FlagRecorded
from learningday.db.engine import session_scope
from learningday.db.models import (
    Absence,
    AuditEntry,
    CheckIn,
    CheckInKind,
    DayState,
    Flag,
    FlagKind,
    LearningDay,
    Person,
)

log = logging.getLogger(__name__)


def _audit(session: Any, actor: str, action: str, subject: str, subject_id: object, **details: Any) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, subject_type=subject, subject_id=str(subject_id), details=details)
    )


class DayRecords:
    """Activities writing a Learning Day to the database. Stateless apart from its settings."""

    def __init__(self, policy_loader: Any, checkin_url: Any) -> None:
        self._policy_loader = policy_loader
        self._checkin_url = checkin_url

    @activity.defn(name="load_day_context")
    def load_day_context(self, key: DayKey) -> DayContext:
        with session_scope() as session:
            person = session.get(Person, key.person_id)
            if person is None:
                raise ValueError(f"person {key.person_id} does not exist")
            day = session.scalar(
                select(LearningDay).where(LearningDay.person_id == person.id, LearningDay.date == key.date)
            )
            if day is None:
                day = LearningDay(person_id=person.id, date=key.date, workflow_id=key.workflow_id)
                session.add(day)
                session.flush()
                _audit(session, f"workflow:{key.workflow_id}", "day_scheduled", "learning_day", day.id)
                metrics.days_started.inc()
            absence = session.scalar(
                select(Absence).where(
                    Absence.person_id == person.id,
                    Absence.start_date <= key.date,
                    Absence.end_date >= key.date,
                )
            )
            return DayContext(
                learning_day_id=day.id,
                person_id=person.id,
                person_email=person.email,
                person_name=person.name,
                timezone=person.timezone,
                slack_user_id=person.slack_user_id,
                policy=self._policy_loader(),
                recorded_absence=absence.reason if absence else None,
                checkin_url=self._checkin_url(person.id, key.date),
            )

    @activity.defn(name="record_day_state")
    def record_day_state(self, change: DayStateChange) -> None:
        with session_scope() as session:
            day = session.get(LearningDay, change.learning_day_id)
            if day is None:
                raise ValueError(f"learning day {change.learning_day_id} does not exist")
            previous = day.state
            day.state = DayState(change.state)
            if change.skip_reason is not None:
                day.skip_reason = change.skip_reason
            if change.hold_event_id is not None:
                day.hold_event_id = change.hold_event_id
            if change.channel_thread_ts is not None:
                day.channel_thread_ts = change.channel_thread_ts
            if previous != day.state:
                _audit(session, "system", f"day_{day.state.value}", "learning_day", day.id)

    @activity.defn(name="record_check_in")
    def record_check_in(self, record: CheckInRecord) -> CheckInSaved:
        """Write the version of the check-in the workflow accepted; a retry changes nothing."""
        with session_scope() as session:
            kind = CheckInKind(record.kind)
            existing = session.scalar(
                select(CheckIn).where(CheckIn.learning_day_id == record.learning_day_id, CheckIn.kind == kind)
            )
            if existing is not None and existing.revision >= record.revision:
                if existing.revision == record.revision and _same(existing, record):
                    return CheckInSaved(check_in_id=existing.id, edited=record.revision > 1)  # a retry
                raise ApplicationError(
                    f"learning day {record.learning_day_id}: the database holds {kind.value} revision "
                    f"{existing.revision}, the workflow wrote revision {record.revision} with other content",
                    type="TwoTruths",
                    non_retryable=True,
                )
            check_in = existing or CheckIn(learning_day_id=record.learning_day_id, kind=kind, submitted_at=record.at)
            if existing is None:
                session.add(check_in)
            edited = record.revision > 1
            if edited:
                check_in.edited_at = record.at
            check_in.revision = record.revision
            check_in.text = record.text
            check_in.why = record.why
            check_in.category = record.category
            check_in.resources = record.resources
            check_in.source = record.source
            session.flush()
            action = f"{record.kind}_edited" if edited else f"{record.kind}_submitted"
            _audit(session, "system", action, "check_in", check_in.id, source=record.source, revision=record.revision)
            metrics.check_ins.labels(record.kind, str(edited).lower()).inc()
            return CheckInSaved(check_in_id=check_in.id, edited=edited)

    @activity.defn(name="record_flag")
    def record_flag(self, record: FlagRecord) -> FlagRecorded:
        with session_scope() as session:
            flag = session.scalar(
                select(Flag).where(
                    Flag.person_id == record.person_id,
                    Flag.kind == FlagKind(record.kind),
                    Flag.date == record.date,
                )
            )
            if flag is None:
                flag = Flag(
                    person_id=record.person_id,
                    learning_day_id=record.learning_day_id,
                    kind=FlagKind(record.kind),
                    date=record.date,
                    reason=record.reason,
                    evidence=record.evidence,
                    raised_at=record.at,
                )
                session.add(flag)
                session.flush()
                _audit(session, "system", "flag_raised", "flag", flag.id, kind=record.kind)
                metrics.flags.labels(record.kind).inc()
            return flag_recorded(session, flag)

    @activity.defn(name="record_excused_check_in")
    def record_excused_check_in(self, excused: ExcusedCheckIn) -> None:
        with session_scope() as session:
            seen = session.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.action == f"{excused.kind}_excused",
                    AuditEntry.subject_type == "learning_day",
                    AuditEntry.subject_id == str(excused.learning_day_id),
                )
            )
            if seen is None:
                _audit(
                    session,
                    "system",
                    f"{excused.kind}_excused",
                    "learning_day",
                    excused.learning_day_id,
                    reason=excused.reason,
                )


def _same(row: CheckIn, record: CheckInRecord) -> bool:
    return (row.text, row.why, row.category, row.resources, row.source) == (
        record.text,
        record.why,
        record.category,
        record.resources,
        record.source,
    )
