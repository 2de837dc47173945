"""The weekly audit's payloads: its input and result, and its pages of people and of digests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from learningday.contracts.flags import FlagRecorded
from policies.policy import Policy


def audit_workflow_id(monday: dt.date) -> str:
    """The id of an on-demand audit of the week starting `monday`: one run per week, so a second
    `learningday audit run --send` finds the first instead of starting another."""
    return f"learning-day-weekly-audit-{monday.isoformat()}"


@dataclass(frozen=True)
class AuditInput:
    week_start: dt.date | None = None  # the Monday audited; default: last week
    phase: str = "people"  # people | digests
    after_id: int = 0  # cursor: last person (people) or manager (digests) done
    page_size: int = 200
    flags: int = 0  # running totals, carried across continue-as-new
    digests: int = 0


@dataclass(frozen=True)
class AuditResult:
    week_start: dt.date
    flags: int
    digests: int


@dataclass(frozen=True)
class AuditPage:
    week_start: dt.date  # the Monday of the week audited
    after_person_id: int = 0
    limit: int = 200


@dataclass(frozen=True)
class AuditPageResult:
    flags: list[FlagRecorded] = field(default_factory=list)
    last_person_id: int = 0
    people: int = 0
    done: bool = True
    unaudited_person_ids: list[int] = field(default_factory=list)  # their calendar could not be read
    policy: Policy | None = None  # the policy the page was audited under (for the flags' recipients)


@dataclass(frozen=True)
class DigestPage:
    week_start: dt.date  # the Monday of the week reported
    after_manager_id: int = 0
    limit: int = 200


@dataclass(frozen=True)
class DigestPageResult:
    manager_ids: list[int] = field(default_factory=list)
    last_manager_id: int = 0
    done: bool = True
