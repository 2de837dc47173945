"""The weekly Temporal Schedule that starts everyone's Learning Day ahead of the day."""

from __future__ import annotations

import datetime as dt
import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from learningday.contracts.audit import AuditInput
from policies.policy import Policy
from workflows.weekly_audit import WeeklyAuditWorkflow
from workflows.weekly_kickoff import WeeklyKickoffWorkflow

log = logging.getLogger(__name__)
SCHEDULE_ID = "learning-day-weekly-kickoff"
AUDIT_SCHEDULE_ID = "learning-day-weekly-audit"


def kickoff_weekday(policy: Policy) -> int:
    """Temporal's day of week (Sunday = 0) `start_days_ahead` days before the Learning Day.

    The kickoff fires at 00:00 UTC that day; each person's next Learning Day is then taken in
    their own timezone, so UTC+13 and UTC-10 both get their hold a day or two ahead.
    """
    python_weekday = (policy.learning_weekday_index - policy.program.start_days_ahead) % 7
    return (python_weekday + 1) % 7


def weekly_schedule(policy: Policy, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WeeklyKickoffWorkflow.run,
            id="learning-day-weekly-kickoff-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(kickoff_weekday(policy))],
                    hour=[ScheduleRange(0)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name="UTC",
        ),
        # A kickoff still running when the next fires is left alone; a missed one (server
        # down over the weekend) is caught up within a day.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=dt.timedelta(days=1)),
    )


def audit_schedule(task_queue: str) -> Schedule:
    """Mondays 06:00 UTC: audit last week (spillover; used for work is judged at each day's
    end) and send the digests."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WeeklyAuditWorkflow.run, AuditInput(), id="learning-day-weekly-audit-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(1)],
                    hour=[ScheduleRange(6)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name="UTC",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=dt.timedelta(days=1)),
    )


async def ensure_weekly_schedule(client: Client, policy: Policy, task_queue: str) -> None:
    """Create the Schedules (kickoff, audit), or bring existing ones in line with the policy."""
    for schedule_id, schedule in (
        (SCHEDULE_ID, weekly_schedule(policy, task_queue)),
        (AUDIT_SCHEDULE_ID, audit_schedule(task_queue)),
    ):
        try:
            await client.create_schedule(schedule_id, schedule)
            log.info("schedule %s created", schedule_id)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, schedule: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id).update(replace)
            log.info("schedule %s updated", schedule_id)
