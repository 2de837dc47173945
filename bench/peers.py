"""The stand-ins for Slack, Google Calendar and SMTP that the benchmarks run against: the same
peers the tests use (tests/peers/, tests/mail/smtp_peer.py), with a latency per call, and a Slack
peer that tells the simulated learners when a prompt reaches their DM."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.mail.smtp_peer import HOST, CollectingHandler, smtp_server
from tests.peers.google import GooglePeer
from tests.peers.slack import BOT_TOKEN, SlackPeer

CHANNEL = "#learning-day"


class PromptingSlackPeer(SlackPeer):
    """The Slack peer, calling `on_prompt(key)` for each prompt it accepts in a DM."""

    on_prompt: Callable[[str], None] | None = None

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        result = super()._api_chat_postMessage(args)
        key = ((args.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if self.on_prompt is not None and str(result.get("channel", "")).startswith("D") and key.startswith("prompt:"):
            self.on_prompt(key)
        return result


@dataclass
class SlowHandler(CollectingHandler):
    """An SMTP server that takes `latency` seconds to accept each message, like a relay."""

    latency: float = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.latency:
            await asyncio.sleep(self.latency)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Peers:
    slack: PromptingSlackPeer
    google: GooglePeer
    smtp: SlowHandler
    smtp_port: int
    key_file: Path

    def env(self, posts_per_second: float) -> dict[str, str]:
        """Settings pointing the worker's real clients (slack_sdk, googleapiclient, smtplib) here."""
        return {
            "LEARNINGDAY_SLACK_BOT_TOKEN": BOT_TOKEN,
            "LEARNINGDAY_SLACK_API_BASE_URL": self.slack.base_url,
            "LEARNINGDAY_SLACK_CHANNEL": CHANNEL,
            "LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE": str(self.key_file),
            "LEARNINGDAY_GOOGLE_API_ENDPOINT": self.google.url,
            "LEARNINGDAY_SMTP_HOST": HOST,
            "LEARNINGDAY_SMTP_PORT": str(self.smtp_port),
            "LEARNINGDAY_SMTP_TLS": "none",
            "LEARNINGDAY_MAIL_FROM": "Learning Day <learning-day@example.com>",
            "LEARNINGDAY_CHANNEL_POSTS_PER_SECOND": str(posts_per_second),
        }


@contextlib.contextmanager
def running_peers(data_dir: Path, latency: float, channel_limit: float, burst: int = 1) -> Iterator[Peers]:
    """All three peers; Slack enforces `channel_limit` posts/s per channel (after `burst`)."""
    slack = PromptingSlackPeer(messages_per_second=channel_limit, burst=burst, latency=latency)
    handler = SlowHandler(latency=latency)
    with slack, GooglePeer(latency=latency) as google, smtp_server(handler) as port:
        slack.add_channel(CHANNEL)
        key_file = data_dir / "service-account.json"
        google.write_key_file(key_file)
        yield Peers(slack, google, handler, port, key_file)
