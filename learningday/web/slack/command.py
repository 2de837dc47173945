"""The `/learning` command: `plan` and `summary` open the check-in modal, `claim` the claim
modal, `status` and `skip <reason>` answer in place, `help` (or nothing) lists the verbs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from learningday.checkins import CheckInResult, DayStatus
from learningday.slack_blocks import checkin_modal
from learningday.web.slack.acks import within
from learningday.web.slack.checkins import GatewayFactory
from learningday.web.slack.claims import claim_form
from learningday.web.slack.members import UNKNOWN_USER, MemberFinder
from policies.policy import Policy

HELP = (
    "*/learning plan* — write today's plan\n"
    "*/learning summary* — write today's summary\n"
    "*/learning status* — where your Learning Day stands\n"
    "*/learning skip <reason>* — skip this Learning Day (holiday, sick…)\n"
    "*/learning claim* — claim a learning expense (book, course…)\n"
    "Or just reply to my DM: your first reply is your plan, the next one your summary."
)


class LearningCommand:
    def __init__(
        self,
        gateway: GatewayFactory,
        find: MemberFinder,
        categories: Callable[[], dict[str, str]],
        policy: Callable[[], Policy],
        ack_budget: float,
    ) -> None:
        self._gateway = gateway
        self._find = find
        self._categories = categories
        self._policy = policy
        self._ack_budget = ack_budget

    async def answer(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        verb, _, rest = (body.get("text") or "").strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb in ("", "help"):
            await ack(HELP)
            return
        if verb not in ("plan", "summary", "status", "skip", "claim"):
            await ack(f"I don't know `{verb}`. Here is what I can do:\n{HELP}")
            return
        member = await self._find(body["user_id"])
        if member is None:
            await ack(UNKNOWN_USER)
            return
        if verb == "claim":
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=claim_form(self._policy()))
            return
        if verb in ("plan", "summary"):
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=checkin_modal(verb, self._categories()))  # type: ignore[arg-type]  # verb is "plan" or "summary" here
            return
        if verb == "skip" and not rest:
            await ack("Tell me why, e.g. `/learning skip on holiday`.")
            return
        gateway = self._gateway()
        trigger = body.get("trigger_id")
        work = (
            gateway.status(member.email)
            if verb == "status"
            else gateway.skip(member.email, rest, key=f"slack-command:{trigger}" if trigger else None)
        )
        task: asyncio.Future[DayStatus | CheckInResult] = asyncio.ensure_future(work)
        answer = await within(task, self._ack_budget)
        if answer is None:
            await ack("Working on it…")
            await respond(describe(await task))
            return
        await ack(describe(answer))


def describe(answer: DayStatus | CheckInResult) -> str:
    """An answer in the command's reply: the check-in's message, or where the day stands."""
    if isinstance(answer, CheckInResult):
        return answer.message
    if answer.date is None or answer.state == "none":
        return "No Learning Day is scheduled for you right now."
    lines = [f"Your Learning Day on {answer.date:%A} {answer.date.day} {answer.date:%B}: *{answer.state}*."]
    lines.append(f"Plan: {answer.plan}" if answer.plan else "Plan: not written yet.")
    if answer.summary:
        lines.append(f"Summary: {answer.summary}")
    if answer.next_step:
        lines.append(answer.next_step)
    return "\n".join(lines)
