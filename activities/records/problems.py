"""Delivery problems: a step outside a day's core that failed for good, recorded once.

A prompt that Slack refuses, a flag email whose address the relay rejects, a channel that does
not exist, a digest that cannot go out: none of these may end a person's day or the weekly
audit. The step records what it tried, for whom, why it failed and what was done instead; the
admins see it on /problems and in `/metrics`. One row per step key, so a retried activity or a
replayed workflow never records the same failure twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio import activity

from learningday import metrics
from learningday.contracts.problems import ProblemReport
from learningday.db.engine import session_scope
from learningday.db.models import AuditEntry, DeliveryProblem

log = logging.getLogger(__name__)
REASON_LIMIT = 1000


def record_problem(session: Session, report: ProblemReport) -> bool:
    """Record `report` in the caller's transaction; False when its key was already recorded."""
    if session.scalar(select(DeliveryProblem.id).where(DeliveryProblem.key == report.key)) is not None:
        return False
    problem = DeliveryProblem(
        key=report.key[:200],
        step=report.step,
        subject_type=report.subject_type,
        subject_id=report.subject_id[:64],
        person_id=report.person_id,
        reason=report.reason[:REASON_LIMIT],
        outcome=report.outcome[:REASON_LIMIT],
        at=report.at or dt.datetime.now(dt.UTC),
    )
    try:
        with session.begin_nested():
            session.add(problem)
            session.add(
                AuditEntry(
                    actor="system",
                    action="delivery_problem",
                    subject_type=report.subject_type,
                    subject_id=report.subject_id[:64],
                    details={"step": report.step, "key": report.key},
                )
            )
    except IntegrityError:
        return False  # recorded concurrently by another attempt
    metrics.delivery_problems.labels(report.step).inc()
    # Ids only: the reason can name an address.
    log.warning("delivery problem: %s %s for %s %s", report.step, report.key, report.subject_type, report.subject_id)
    return True


@activity.defn(name="record_delivery_problem")
def record_delivery_problem(report: ProblemReport) -> None:
    """For workflows: a step failed after its retry budget; record it and let the day go on."""
    with session_scope() as session:
        record_problem(session, report)


def record_problem_now(report: ProblemReport) -> None:
    """For activities outside a transaction of their own."""
    with session_scope() as session:
        record_problem(session, report)
