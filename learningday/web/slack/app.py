"""The Bolt app both front doors run: HTTP (signed requests, `http.py`) or Socket Mode
(learningday/slack_socket.py)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from learningday.settings import Settings
from learningday.web.slack.checkins import GatewayFactory
from learningday.web.slack.claims import TemporalClaimSubmitter
from learningday.web.slack.door import SlackFrontDoor


def build_bolt_app(
    gateway_factory: GatewayFactory,
    settings: Settings,
    *,
    socket_mode: bool = False,
    front_door: SlackFrontDoor | None = None,
) -> AsyncApp:
    if settings.slack_bot_token is None:
        raise ValueError("LEARNINGDAY_SLACK_BOT_TOKEN is not set: Slack's endpoints need the bot token")
    if not socket_mode and settings.slack_signing_secret is None:
        raise ValueError(
            "LEARNINGDAY_SLACK_SIGNING_SECRET is not set: without it forged Slack requests cannot be "
            "told apart (or set LEARNINGDAY_SLACK_APP_TOKEN to use Socket Mode)"
        )
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    (front_door or SlackFrontDoor(gateway_factory, submit_claim=TemporalClaimSubmitter(settings))).register(app)
    return app
