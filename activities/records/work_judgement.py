"""Recording the day-end judgement of "used for work": the flag when it fired, and that it was made.

A Learning Day judges used-for-work at its end (workflows/day_end.py decides with
policies/used_for_work.py); this writes the decision. The judgement itself is recorded in the
audit log (`work_judged`, one entry per day), whatever its outcome: the weekly audit reads it to
leave those days alone, so a day is judged, flagged and mailed once. A day with no such entry
(one that ran before the day-end judgement existed) is still judged by the weekly audit.

Idempotent: the flag is upserted on (person, kind, date) and the entry written once, so a
retried activity converges on the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.records.enforcement import flag_recorded, raise_flag
from learningday import metrics
from learningday.contracts.flags import FlagRecorded, WorkJudgement
from learningday.db.engine import session_scope
from learningday.db.models import AuditEntry, Flag, FlagKind, LearningDay

JUDGED = "work_judged"


def judged_day_ids(session: Session, day_ids: Iterable[int]) -> set[int]:
    """The Learning Days among `day_ids` whose used-for-work was judged at their end."""
    wanted = [str(i) for i in day_ids]
    if not wanted:
        return set()
    rows = session.scalars(
        select(AuditEntry.subject_id).where(
            AuditEntry.action == JUDGED, AuditEntry.subject_type == "learning_day", AuditEntry.subject_id.in_(wanted)
        )
    )
    return {int(i) for i in rows}


@activity.defn(name="record_work_judgement")
def record_work_judgement(judgement: WorkJudgement) -> FlagRecorded | None:
    """Write the judgement; the flag it raised (with its readers' facts), or None when kept."""
    with session_scope() as session:
        flag_id = None
        if judgement.finding is not None:
            kind = FlagKind(judgement.finding.kind)
            new = (
                session.scalar(
                    select(Flag.id).where(
                        Flag.person_id == judgement.person_id, Flag.kind == kind, Flag.date == judgement.date
                    )
                )
                is None
            )
            flag_id = raise_flag(
                session, judgement.person_id, judgement.date, judgement.finding, judgement.learning_day_id, judgement.at
            )
            if new:
                metrics.flags.labels(kind.value).inc()
        day = session.get(LearningDay, judgement.learning_day_id)
        if day is not None and judgement.followed_plan is not None:
            day.followed_plan = judgement.followed_plan
        if not judged_day_ids(session, [judgement.learning_day_id]):
            session.add(
                AuditEntry(
                    actor="system",
                    action=JUDGED,
                    subject_type="learning_day",
                    subject_id=str(judgement.learning_day_id),
                    details={"flagged": flag_id is not None, "calendar_read": judgement.calendar_read},
                )
            )
        if flag_id is None:
            return None
        flag = session.get(Flag, flag_id)
        assert flag is not None
        return flag_recorded(session, flag)
