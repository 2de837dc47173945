"""A workflow that asks `policies.holidays` for a holiday, to prove it runs in the sandbox.

`policies.holidays` is deliberately imported *without* passing it through, so the sandbox
re-imports it with its restrictions (no `open`, no `gettext`) in force.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

from policies.holidays import company_holiday

with workflow.unsafe.imports_passed_through():
    from policies.policy import Policy


@workflow.defn
class HolidayLookup:
    @workflow.run
    async def run(self, policy_json: str, date: str) -> str | None:
        return company_holiday(Policy.model_validate_json(policy_json), dt.date.fromisoformat(date))
