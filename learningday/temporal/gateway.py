"""The check-in gateway over Temporal: an answer from Slack or the web becomes an update on
the person's running Learning Day workflow, whose reply (accepted, edited, refused) is shown.

The submission's idempotency key is the update id (and travels in the update, which the
workflow remembers): Temporal answers a second update with the same id with the first one's
outcome, so a Slack retry or a double-submitted form landing on any replica changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from learningday.checkins import CheckInResult, CheckInSubmission, DayStatus
from learningday.contracts.day import CheckInAccepted, CheckInUpdate, DayView, SkipRequest
from learningday.db.engine import session_scope
from learningday.db.models import DayState, LearningDay, Person
from policies.checkins import CLOSED_STATES, check_in_due
from workflows.learning_day import LearningDayWorkflow

_CLOSED = [DayState(state) for state in sorted(CLOSED_STATES)]
NO_DAY = "No Learning Day is running for you right now."
BUSY = "The service is busy and has not saved this yet: please send it again in a minute."


def find_day(person_email: str, date: dt.date | None) -> LearningDay | None:
    """The day an answer is meant for: the given date, else the earliest one still open."""
    with session_scope() as session:
        query = (
            select(LearningDay)
            .join(Person, LearningDay.person_id == Person.id)
            .where(Person.email == person_email.lower(), LearningDay.workflow_id.is_not(None))
        )
        if date is not None:
            return session.scalar(query.where(LearningDay.date == date))
        open_day = session.scalar(query.where(LearningDay.state.not_in(_CLOSED)).order_by(LearningDay.date))
        return open_day or session.scalar(query.order_by(LearningDay.date.desc()))


def _failure_message(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    while getattr(cause, "cause", None) is not None and not getattr(cause, "message", ""):
        cause = cause.cause  # type: ignore[attr-defined]  # the loop's condition found a `cause` on it
    return getattr(cause, "message", None) or str(error)


class TemporalCheckInGateway:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def submit(self, submission: CheckInSubmission) -> CheckInResult:
        day = await asyncio.to_thread(find_day, submission.person_email, submission.date)
        if day is None or day.workflow_id is None:
            return CheckInResult(accepted=False, message=NO_DAY)
        handle = self._client.get_workflow_handle(day.workflow_id)
        try:
            accepted: CheckInAccepted = await handle.execute_update(
                LearningDayWorkflow.submit_check_in,
                CheckInUpdate(
                    kind=submission.kind,
                    text=submission.text,
                    source=submission.source,
                    why=submission.why,
                    category=submission.category,
                    resources=submission.resources,
                    key=submission.key,
                ),
                id=_update_id("checkin", submission.key),
            )
        except WorkflowUpdateFailedError as error:
            return CheckInResult(accepted=False, message=_failure_message(error))
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            # Temporal is overloaded (seen in the fan-out benchmark): nothing was decided.
            return CheckInResult(accepted=False, message=BUSY)
        except RPCError:
            return CheckInResult(accepted=False, message="This Learning Day has ended.")
        noun = accepted.kind.capitalize()
        message = f"{noun} updated." if accepted.edited else f"{noun} saved."
        if accepted.late:
            message += " It came after the deadline, within the grace period."
        return CheckInResult(accepted=True, message=message, edited=accepted.edited, kind=accepted.kind)

    async def status(self, person_email: str) -> DayStatus:
        day = await asyncio.to_thread(find_day, person_email, None)
        if day is None or day.workflow_id is None:
            return DayStatus(person_email=person_email, date=None, state="none")
        try:
            view: DayView = await self._client.get_workflow_handle(day.workflow_id).query(LearningDayWorkflow.status)
        except RPCError:
            return DayStatus(person_email=person_email, date=day.date, state=day.state.value)
        return DayStatus(
            person_email=person_email,
            date=day.date,
            state=view.state,
            plan=view.plan,
            summary=view.summary,
            next_step=_next_step(view),
        )

    async def skip(self, person_email: str, reason: str, key: str | None = None) -> CheckInResult:
        day = await asyncio.to_thread(find_day, person_email, None)
        if day is None or day.workflow_id is None or day.state in _CLOSED:
            return CheckInResult(accepted=False, message=NO_DAY)
        try:
            recorded = await self._client.get_workflow_handle(day.workflow_id).execute_update(
                LearningDayWorkflow.skip, SkipRequest(reason=reason, key=key), id=_update_id("skip", key)
            )
        except WorkflowUpdateFailedError as error:
            return CheckInResult(accepted=False, message=_failure_message(error))
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            return CheckInResult(accepted=False, message=BUSY)
        except RPCError:
            return CheckInResult(accepted=False, message="This Learning Day has ended.")
        return CheckInResult(accepted=True, message=f"Learning Day on {day.date} skipped: {recorded}")


def _update_id(kind: str, key: str | None) -> str | None:
    """The update id for a keyed request (None: Temporal makes a random one)."""
    return f"{kind}:{key}" if key else None


def _next_step(view: DayView) -> str | None:
    if view.state in ("skipped", "completed", "cancelled") or view.instants is None:
        return None
    due = check_in_due(True, view.plan is not None, view.summary is not None)
    if due == "plan":
        return f"Plan due by {view.instants.plan_deadline:%H:%M} UTC"
    if due == "summary":
        return f"Summary due by {view.instants.summary_deadline:%H:%M} UTC"
    return "All done: you can still edit until the day closes."
