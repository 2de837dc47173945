"""A delivery problem: a side step that failed for good, as the workflow or activity reports it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ProblemReport:
    key: str  # the failed step's idempotency key, e.g. "prompt:<workflow id>:plan:0"
    step: str  # prompt | prompt_email | flag_email | flag_dm | channel_post | digest | claim_email | …
    subject_type: str  # learning_day | flag | expense_claim | week | channel
    subject_id: str
    reason: str
    outcome: str  # what happened instead, in words: "emailed the check-in link instead"
    person_id: int | None = None
    at: dt.datetime | None = None
