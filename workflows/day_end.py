"""The end of a Learning Day: used for work judged, then the day's flags told at once.

Used for work is judged here, once the summary's cutoff has passed, and no longer by Monday's
weekly audit: by then the day's meetings and its final summary are known, so the manager hears
that evening rather than on the following Monday. The calendar is read for that day only (one
cheap read per person per day); spillover, which needs the whole week, stays weekly.

The day's flags (no plan, no summary, used for work) are told together, after the day's last
judgement: one email per reader per person per day, and one Slack DM per manager when the
policy asks for DMs, instead of one per flag as each was raised. Why at the end rather than at
once: a manager got two emails when someone missed both check-ins of one day, and the third
flag of the day only exists at its end anyway. The cost is that a missed plan reaches the
manager at the summary's cutoff instead of the plan's, hours later the same day; meanwhile the
person is the one reminded, which is what the day's prompts are for.

A calendar that cannot be read never fails the day: it is recorded as a problem, and the day is
judged on its plan and summary alone (the meetings are not counted).

Workflow code: deterministic, no I/O but through activities.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.calendar.activities import CalendarActivities
    from learningday.contracts.calendar import CalendarEvent, EventQuery
    from learningday.contracts.day import DayContext
    from learningday.contracts.flags import DayFlagsNotice, FlagRecorded, WorkJudgement
    from policies.checkins import OutOfOffice
    from policies.enforcement import away_intervals, day_flag_recipients, summary_followed_plan
    from policies.schedule import DayInstants
    from policies.used_for_work import used_for_work
    from workflows.failures import reason_of

READ_TIMEOUT = dt.timedelta(seconds=60)
# The vendor client retries 429/5xx itself and the activity then gives up for good; this bounds
# only retries of our own database (the local calendar).
READ_BUDGET = dt.timedelta(minutes=30)
RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


async def read_day_calendar(ctx: DayContext, day: DayInstants) -> tuple[list[CalendarEvent], str | None]:
    """The person's events over the day's hold; `([], why)` when the calendar cannot be read."""
    query = EventQuery(
        person_email=ctx.person_email, starts_at=day.day_start, ends_at=day.day_end, timezone=ctx.timezone
    )
    try:
        found = await workflow.execute_activity_method(
            CalendarActivities.read_day_events,
            query,
            start_to_close_timeout=READ_TIMEOUT,
            schedule_to_close_timeout=READ_BUDGET,
            retry_policy=RETRY,
        )
    except ActivityError as error:
        return [], reason_of(error)
    return found.events, None


def judge(
    ctx: DayContext,
    date: dt.date,
    day: DayInstants,
    events: list[CalendarEvent],
    plan: str | None,
    summary: str | None,
    plan_category: str | None,
    away: list[OutOfOffice],
    calendar_read: bool,
) -> WorkJudgement:
    """The day's used-for-work judgement (policies/used_for_work.py), on the check-ins this
    workflow accepted: they are the truth the database follows."""
    absent = [(a.starts_at, a.ends_at) for a in away]
    absent += away_intervals(events)
    finding = used_for_work(ctx.policy, (day.day_start, day.day_end), events, plan, summary, plan_category, absent)
    return WorkJudgement(
        person_id=ctx.person_id,
        learning_day_id=ctx.learning_day_id,
        date=date,
        at=workflow.now(),
        finding=finding,
        followed_plan=summary_followed_plan(plan, summary).followed if plan and summary else None,
        calendar_read=calendar_read,
    )


def day_flags_notice(ctx: DayContext, date: dt.date, flags: list[FlagRecorded]) -> DayFlagsNotice:
    """Who hears of the day's flags (`day_flag_recipients`): the managers as the last flag found them."""
    latest = flags[-1]
    runs = [f.missed_in_a_row for f in flags]
    readers = day_flag_recipients(ctx.policy, runs, ctx.person_id, latest.manager_id, latest.managers_manager_id)
    return DayFlagsNotice(
        person_id=ctx.person_id,
        learning_day_id=ctx.learning_day_id,
        date=date,
        flag_ids=[f.flag_id for f in flags],
        readers=readers,
    )
