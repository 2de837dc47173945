"""Waiting for an instant of the day in a way that replays the way it ran.

`workflow.now()` is the time of the workflow task being processed. Right after a local activity
that outlived its workflow task (a slow database, a retry), the first run and a later replay can
see different `now()`s: the first run keeps the time of the task that started the activity,
replay the time of the task the activity's result was recorded in. So code that asks "has this
instant passed?" and branches (no timer and act at once, or start a timer) can take one path
when it runs and the other when it is replayed, and the replay fails with a nondeterminism
error: a query on the finished day fails, and a day evicted from the worker's cache cannot
resume. `wait_for_instant` never branches on that question: the wait is always a timer (one of
a millisecond for an instant already past), and the history says when it fired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from temporalio import workflow

PAST_INSTANT_WAIT = 0.001  # seconds: the timer for an instant already past


async def wait_for_instant(condition: Callable[[], bool], instant: dt.datetime) -> bool:
    """Wait until `condition` holds or `instant` comes; True when the condition came first."""
    if condition():
        return True
    remaining = (instant - workflow.now()).total_seconds()
    try:
        await workflow.wait_condition(condition, timeout=max(remaining, PAST_INSTANT_WAIT))
    except TimeoutError:
        return condition()
    return True
