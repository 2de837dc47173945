"""Who reads a day's flags, who reads them as a manager, and who may excuse one."""

from __future__ import annotations

from policies.enforcement import FlagReader, day_flag_recipients, may_excuse, reads_as_manager
from policies.policy import Policy

POLICY = Policy()  # the skip level from 3 misses in a row; the person is told too
ADA, MARIA, GRACE = 3, 2, 1  # Ada's manager is Maria, whose manager is Grace


def test_a_day_escalates_when_any_of_its_flags_counted_enough_misses_in_a_row() -> None:
    # The missed plan was the 2nd miss in a row; the missed summary, counted later, the 3rd.
    assert day_flag_recipients(POLICY, [2, 3], ADA, MARIA, GRACE) == [
        FlagReader(MARIA, "manager"),
        FlagReader(GRACE, "manager_of_manager"),
        FlagReader(ADA, "person"),
    ]
    assert day_flag_recipients(POLICY, [1, 2], ADA, MARIA, GRACE) == [
        FlagReader(MARIA, "manager"),
        FlagReader(ADA, "person"),
    ]
    assert day_flag_recipients(POLICY, [5], ADA, None, None) == []  # nobody manages Ada


def test_the_managers_read_a_flag_as_managers_and_the_person_for_information() -> None:
    assert reads_as_manager("manager") and reads_as_manager("manager_of_manager")
    assert not reads_as_manager("person")


def test_the_manager_and_the_managers_manager_may_excuse_and_nobody_else() -> None:
    assert may_excuse(MARIA, MARIA, GRACE) and may_excuse(GRACE, MARIA, GRACE)
    assert not may_excuse(ADA, MARIA, GRACE)  # not one's own flag
    assert not may_excuse(GRACE, MARIA, None)  # Grace no longer manages Maria
    assert not may_excuse(MARIA, None, None)
