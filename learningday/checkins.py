"""The check-in gateway: how answers from Slack or the web reach a person's Learning Day.

Front doors (Slack events, modals, slash commands, the web form) call this port; the worker
wiring implements it over Temporal (an update on the day's workflow), tests with a fake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

CheckInKind = Literal["plan", "summary", "next"]  # next: a plain reply, whichever is open now
Source = Literal["slack_modal", "slack_dm", "slack_command", "web"]


@dataclass(frozen=True)
class CheckInSubmission:
    person_email: str
    kind: CheckInKind
    text: str
    source: Source
    why: str | None = None
    category: str | None = None
    resources: str | None = None
    date: dt.date | None = None  # None: the person's current or most recent Learning Day
    # The front door's idempotency key (Slack `event_id` / `view.id`, a form nonce): a
    # redelivery of the same request, on any replica, answers like the first and saves nothing new.
    key: str | None = None


@dataclass(frozen=True)
class CheckInResult:
    accepted: bool
    message: str  # shown to the person: "Plan saved", "No Learning Day is running for you"…
    edited: bool = False
    kind: str | None = None  # which check-in it was saved as (a plain reply: plan or summary)


@dataclass(frozen=True)
class DayStatus:
    person_email: str
    date: dt.date | None
    state: str  # scheduled | held | planning | … | skipped | none
    plan: str | None = None
    summary: str | None = None
    next_step: str | None = None  # "Summary due by 20:00"


class CheckInGateway(Protocol):
    async def submit(self, submission: CheckInSubmission) -> CheckInResult: ...

    async def status(self, person_email: str) -> DayStatus: ...

    async def skip(self, person_email: str, reason: str, key: str | None = None) -> CheckInResult: ...
