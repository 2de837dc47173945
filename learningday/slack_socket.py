"""Socket Mode: the same Bolt app as the HTTP endpoints, over a WebSocket Slack opens to us.

For installs that cannot expose a public URL to Slack. Set LEARNINGDAY_SLACK_APP_TOKEN (an
`xapp-` token with `connections:write`); requests then need no signing secret, since they arrive
on a connection we opened with our own token.
"""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from learningday.settings import Settings
from learningday.web.slack import GatewayFactory, SlackFrontDoor, build_bolt_app


def build_socket_mode_handler(
    gateway_factory: GatewayFactory, settings: Settings, *, front_door: SlackFrontDoor | None = None
) -> AsyncSocketModeHandler:
    if settings.slack_app_token is None:
        raise ValueError("LEARNINGDAY_SLACK_APP_TOKEN is not set: Socket Mode needs an app-level xapp- token")
    app = build_bolt_app(gateway_factory, settings, socket_mode=True, front_door=front_door)
    return AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())


async def run_socket_mode(gateway_factory: GatewayFactory, settings: Settings, stop: asyncio.Event) -> None:
    """Connected until `stop` is set; then the connection is closed cleanly."""
    handler = build_socket_mode_handler(gateway_factory, settings)
    await handler.connect_async()
    try:
        await stop.wait()
    finally:
        await handler.close_async()
