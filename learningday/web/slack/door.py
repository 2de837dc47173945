"""The listeners Slack's front door registers on the Bolt app, with what they share injected:
the check-in gateway, the people lookup, the categories, the policy, the claim service and the
Home tab's builder (tests hand in their own)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from learningday.policy_source import current_policy
from learningday.slack_blocks import (
    CLAIM_CALLBACK,
    MODAL_CALLBACK_PREFIX,
    OPEN_CHECKIN_ACTION,
    OPEN_IN_BROWSER_ACTION,
    policy_categories,
)
from learningday.web.claims import claim_form_url
from learningday.web.slack import home
from learningday.web.slack.acks import ACK_BUDGET_SECONDS
from learningday.web.slack.checkins import CheckInListeners, GatewayFactory
from learningday.web.slack.claims import ClaimListener, ClaimSubmitter
from learningday.web.slack.command import LearningCommand
from learningday.web.slack.members import MemberFinder, find_member
from policies.policy import Policy

HomeViewer = Callable[[str], Awaitable[dict[str, Any]]]  # Slack user id -> the Home tab's view


class SlackFrontDoor:
    def __init__(
        self,
        gateway_factory: GatewayFactory,
        find: MemberFinder = find_member,
        categories: Callable[[], dict[str, str]] = policy_categories,
        ack_budget: float = ACK_BUDGET_SECONDS,
        submit_claim: ClaimSubmitter | None = None,
        policy: Callable[[], Policy] = current_policy,
        claim_link: Callable[[int], str] = claim_form_url,
        home: HomeViewer = home.view_for,
    ) -> None:
        self.checkins = CheckInListeners(gateway_factory, find, categories, ack_budget)
        self.command = LearningCommand(gateway_factory, find, categories, policy, ack_budget)
        self.claims = ClaimListener(find, policy, claim_link, submit_claim, ack_budget)
        self._home = home

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.checkins.direct_message)
        app.event("app_home_opened")(self.home_opened)
        app.action(OPEN_CHECKIN_ACTION)(self.checkins.open_checkin)
        app.action(OPEN_IN_BROWSER_ACTION)(self.acknowledge)  # a url button still posts to us
        app.view(re.compile(f"^{MODAL_CALLBACK_PREFIX}(plan|summary)$"))(self.checkins.submit_checkin)
        app.view(CLAIM_CALLBACK)(self.claims.submit_expense)
        app.command("/learning")(self.command.answer)

    async def acknowledge(self, ack: Any) -> None:
        await ack()

    async def home_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """Publish the Home tab, fresh each time it is opened (the event also comes for the
        Messages tab, which is the DM: nothing to publish there)."""
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str):
            return
        await client.views_publish(user_id=user, view=await self._home(user))
