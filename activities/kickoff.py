"""Starting each active person's Learning Day workflow: the side effect behind the Schedule.

Starting workflows from an activity (not as child workflows) keeps the kickoff's history small
whatever the company's size; the workflow id makes every start idempotent, so a retried or
overlapping kickoff finds the day already running and moves on. Each day is started by the
workflow's registered name and input (learningday.contracts.day): an activity never imports a
workflow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from learningday.contracts.day import LEARNING_DAY_WORKFLOW, LearningDayInput, workflow_id_for
from learningday.contracts.kickoff import KickoffRequest, KickoffResult
from learningday.db.engine import session_scope
from learningday.db.models import Person
from policies.policy import Policy
from policies.schedule import next_learning_day

log = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class Participant:
    person_id: int
    timezone: str


def participants_after(after_id: int, only: list[int] | None, limit: int) -> list[Participant]:
    with session_scope() as session:
        query = select(Person.id, Person.timezone).where(Person.active.is_(True), Person.id > after_id)
        if only is not None:
            query = query.where(Person.id.in_(only))
        rows = session.execute(query.order_by(Person.id).limit(limit)).all()
    return [Participant(person_id=r.id, timezone=r.timezone) for r in rows]


def learning_date_for(policy: Policy, participant: Participant, request: KickoffRequest) -> dt.date:
    if request.date is not None:
        return request.date
    local_today = request.reference.astimezone(ZoneInfo(participant.timezone)).date()
    return next_learning_day(policy, local_today)


class Kickoff:
    def __init__(self, client: Client, task_queue: str, policy_loader: Callable[[], Policy]) -> None:
        self._client = client
        self._task_queue = task_queue
        self._policy_loader = policy_loader

    async def start_day(self, person_id: int, date: dt.date, time_scale: float) -> bool:
        """Start one Learning Day; False when that person's day was already started."""
        try:
            await self._client.start_workflow(
                LEARNING_DAY_WORKFLOW,
                LearningDayInput(person_id=person_id, date=date, time_scale=time_scale),
                id=workflow_id_for(person_id, date),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            return True
        except WorkflowAlreadyStartedError:
            return False

    @activity.defn(name="start_learning_days")
    async def start_learning_days(self, request: KickoffRequest) -> KickoffResult:
        policy: Policy = self._policy_loader()
        details = activity.info().heartbeat_details
        after_id, started, existing = details[0] if details else (0, 0, 0)
        while True:
            batch = await asyncio.to_thread(participants_after, after_id, request.only_person_ids, BATCH)
            if not batch:
                break
            outcomes = await asyncio.gather(
                *(self.start_day(p.person_id, learning_date_for(policy, p, request), request.time_scale) for p in batch)
            )
            started += sum(outcomes)
            existing += len(outcomes) - sum(outcomes)
            after_id = batch[-1].person_id
            activity.heartbeat((after_id, started, existing))
        log.info("kickoff: %d days started, %d already running", started, existing)
        return KickoffResult(started=started, already_running=existing)
