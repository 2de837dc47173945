"""Check-ins over Slack: a plain DM to the app, and the check-in modal (opened by the prompt's
button; submitted through the same gateway as the web form).

Slack redelivers what it thinks we missed, and a second replica shares no memory with the first,
so every check-in carries Slack's own idempotency key into the workflow (the event's `event_id`
for a DM, the modal's `view.id` for a form): a redelivery is answered like the first and saves
nothing new. A plain DM does not say whether it is the plan or the summary: the workflow decides
(the plan while it is missing and open, else the summary), so a retried plan never becomes the
summary.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from learningday.checkins import CheckInGateway, CheckInSubmission
from learningday.slack_blocks import MODAL_CALLBACK_PREFIX, checkin_modal, modal_values, unescape
from learningday.web.slack.acks import within
from learningday.web.slack.members import UNKNOWN_USER, MemberFinder

GatewayFactory = Callable[[], CheckInGateway]
ANSWERED_EVENTS = 1000


class CheckInListeners:
    """The DM listener, the check-in button and the modal's submission."""

    def __init__(
        self,
        gateway: GatewayFactory,
        find: MemberFinder,
        categories: Callable[[], dict[str, str]],
        ack_budget: float,
    ) -> None:
        self._gateway = gateway
        self._find = find
        self._categories = categories
        self._ack_budget = ack_budget
        self._answered: OrderedDict[str, None] = OrderedDict()

    async def direct_message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, files and bots (ourselves included) are not check-ins
        key = body.get("event_id") or event.get("client_msg_id")
        if self._recently_answered(key):
            return  # this replica answered it already: spare the person a second reply
        member = await self._find(event["user"])
        if member is None:
            await client.chat_postMessage(channel=event["channel"], text=UNKNOWN_USER)
            return
        result = await self._gateway().submit(
            CheckInSubmission(
                person_email=member.email,
                kind="next",
                text=unescape(event.get("text") or "").strip(),
                source="slack_dm",
                key=f"slack-event:{key}" if key else None,
            )
        )
        await client.chat_postMessage(channel=event["channel"], text=result.message)

    async def open_checkin(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        kind = (body.get("actions") or [{}])[0].get("value")
        if kind not in ("plan", "summary"):
            return
        if await self._find(user) is None:
            await _tell_privately(client, body, user, UNKNOWN_USER)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=checkin_modal(kind, self._categories()))

    async def submit_checkin(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        member = await self._find(user)
        if member is None:
            await ack(response_action="errors", errors={"what": UNKNOWN_USER})
            return
        kind = view["callback_id"][len(MODAL_CALLBACK_PREFIX) :]
        values = modal_values(view)
        if not values.get("what"):
            await ack(response_action="errors", errors={"what": "Please write a few words."})
            return
        task = asyncio.ensure_future(
            self._gateway().submit(
                CheckInSubmission(
                    person_email=member.email,
                    kind=kind,
                    text=values["what"] or "",
                    source="slack_modal",
                    why=values.get("why"),
                    category=values.get("category"),
                    resources=values.get("resources"),
                    key=f"slack-view:{view['id']}" if view.get("id") else None,
                )
            )
        )
        result = await within(task, self._ack_budget)
        if result is not None and not result.accepted:
            await ack(response_action="errors", errors={block_for(result.message, kind): result.message})
            return
        await ack()  # closes the modal; a slow gateway answers by DM when it is done
        result = result or await task
        await client.chat_postMessage(channel=user, text=result.message)

    def _recently_answered(self, event_id: str | None) -> bool:
        """Whether this process has already handled `event_id`. Only a courtesy (no second reply
        in the DM): the event's key in the workflow is what makes a redelivery a no-op, on any
        replica."""
        if not event_id:
            return False
        if event_id in self._answered:
            return True
        self._answered[event_id] = None
        while len(self._answered) > ANSWERED_EVENTS:
            self._answered.popitem(last=False)
        return False


def block_for(message: str, kind: str) -> str:
    """Which field of the form a refusal is about, so Slack shows it under that field."""
    lowered = message.lower()
    if "category" in lowered:
        return "category"
    if kind == "plan" and "why" in lowered:
        return "why"
    return "what"


async def _tell_privately(client: AsyncWebClient, body: dict[str, Any], user: str, text: str) -> None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        await client.chat_postMessage(channel=user, text=text)
