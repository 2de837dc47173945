"""The states a day is over in (`policies.checkins.CLOSED_STATES`, asked by the workflow, the
gateway, the pages and the CLI) are states the database keeps: a typo there would make every
closed-day query silently match nothing."""

from __future__ import annotations

from learningday.db.models import DayState
from policies.checkins import CLOSED_STATES


def test_every_closed_state_is_a_day_state_and_a_running_one_is_not() -> None:
    assert CLOSED_STATES <= {state.value for state in DayState}
    assert {"planning", "learning", "summarising"}.isdisjoint(CLOSED_STATES)
