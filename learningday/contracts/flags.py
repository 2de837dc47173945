"""Flags between the workflows and their activities: a flag recorded, the day-end judgement,
and who to tell about a flag (the emails and DMs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from policies.enforcement import Finding, FlagReader


@dataclass(frozen=True)
class FlagRecorded:
    """A flag's id and what deciding its recipients needs (`policies.enforcement.flag_recipients`)."""

    flag_id: int
    person_id: int
    missed_in_a_row: int
    manager_id: int | None
    managers_manager_id: int | None


@dataclass(frozen=True)
class WorkJudgement:
    """What the workflow decided at the day's end, to be written as it is."""

    person_id: int
    learning_day_id: int
    date: dt.date
    at: dt.datetime
    finding: Finding | None = None  # None: the day was kept
    followed_plan: bool | None = None  # None: no plan or no summary to compare
    calendar_read: bool = True  # False: judged on the plan and summary only


@dataclass(frozen=True)
class FlagNotice:
    flag_id: int
    # Who to tell, as the workflow decided with policies.enforcement.flag_recipients.
    readers: list[FlagReader] = field(default_factory=list)


@dataclass(frozen=True)
class FlagNotified:
    recipient_ids: list[int] = field(default_factory=list)  # who the email went (or had gone) to
    levels: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nobody was mailed (excused, no manager)
    undelivered_ids: list[int] = field(default_factory=list)  # refused for good: a delivery problem


@dataclass(frozen=True)
class DayFlagsNotice:
    """One person's flags of one day, and who to tell (decided by the workflow with
    policies.enforcement.flag_recipients)."""

    person_id: int
    learning_day_id: int
    date: dt.date
    flag_ids: list[int]
    readers: list[FlagReader] = field(default_factory=list)
