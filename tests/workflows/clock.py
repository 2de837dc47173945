"""A real, uncompressed Learning Day on the time-skipping test server, acted on at exact instants.

The test server has one clock. It runs at wall speed until a test moves it: `advance_to` skips
it to an instant of the day (the timers before it fire in order), and awaiting a workflow's
result skips through whatever is left. A test therefore submits its plan at 09:01 Berlin, the
policy's own time, instead of "within the few seconds a compressed day leaves after the
prompt": nothing a test checks depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from policies.holidays import company_holiday
from policies.policy import Policy

THURSDAY = 3  # dt.date.weekday()


def berlin(date: dt.date, hour: int, minute: int) -> dt.datetime:
    """A wall-clock time in Berlin on `date`, in UTC."""
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=ZoneInfo("Europe/Berlin")).astimezone(dt.UTC)


def thursday_ahead(now: dt.datetime, policy: Policy) -> dt.date:
    """The first Thursday at least two days after `now` that is no company holiday: a day the
    kickoff has started ahead, still to come on the server's clock, whatever the date today."""
    date = now.date() + dt.timedelta(days=2)
    date += dt.timedelta(days=(THURSDAY - date.weekday()) % 7)
    while company_holiday(policy, date):
        date += dt.timedelta(days=7)
    return date


async def advance_to(env: WorkflowEnvironment, moment: dt.datetime) -> None:
    """Skip the server's clock to `moment`, which must still be to come."""
    remaining = (moment - await env.get_current_time()).total_seconds()
    assert remaining > 0, f"{moment:%Y-%m-%d %H:%M} UTC has already passed on the test server's clock"
    await env.sleep(remaining)
