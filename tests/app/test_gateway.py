"""The check-in gateway's answers when Temporal cannot decide: the person is told to retry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from learningday.checkins import CheckInSubmission
from learningday.db.models import LearningDay, Person
from learningday.temporal.gateway import BUSY, TemporalCheckInGateway, _next_step
from policies.policy import Policy
from policies.schedule import day_instants
from workflows.learning_day import DayView


class OverloadedHandle:
    async def execute_update(self, *args: Any, **kwargs: Any) -> None:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()


class OverloadedClient:
    """Temporal under the fan-out's load: the update call times out before any outcome."""

    def get_workflow_handle(self, workflow_id: str) -> OverloadedHandle:
        return OverloadedHandle()


async def test_an_update_timeout_asks_the_person_to_send_again_instead_of_failing(session: Session) -> None:
    person = Person(email="ada@example.com", name="Ada", timezone="UTC")
    session.add(person)
    session.flush()
    session.add(LearningDay(person_id=person.id, date=dt.date(2026, 12, 3), workflow_id="learning-day-x"))
    session.commit()

    gateway = TemporalCheckInGateway(OverloadedClient())  # type: ignore[arg-type]
    result = await gateway.submit(CheckInSubmission("ada@example.com", "plan", "Read Raft", "web"))

    assert (result.accepted, result.message) == (False, BUSY)


def test_the_status_names_the_check_in_due_with_its_deadline_until_both_are_written() -> None:
    instants = day_instants(Policy(), "UTC", dt.date(2026, 12, 3))  # plan by 12:00, summary by 20:00
    assert _next_step(DayView(state="planning", instants=instants)) == "Plan due by 12:00 UTC"
    assert _next_step(DayView(state="learning", plan="Raft", instants=instants)) == "Summary due by 20:00 UTC"
    both = DayView(state="summarising", plan="Raft", summary="Read it", instants=instants)
    assert _next_step(both) == "All done: you can still edit until the day closes."
    assert _next_step(DayView(state="completed", plan="Raft", instants=instants)) is None
