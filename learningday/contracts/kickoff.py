"""The weekly kickoff's request and result: which Learning Days to start, and how many did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class KickoffRequest:
    reference: dt.datetime  # the Schedule's fire time: each person's next Learning Day after it
    time_scale: float = 1.0
    only_person_ids: list[int] | None = None
    date: dt.date | None = None  # force this date instead of each person's next Learning Day


@dataclass(frozen=True)
class KickoffResult:
    started: int
    already_running: int
