"""Requests as Slack sends them to us: signed events, interactions and slash commands.

Shared by the Slack front-door tests and the end-to-end Learning Day tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.peers.slack import SlackPeer

SECRET = "test-signing-secret"


def signed(
    body: str | bytes, *, secret: str = SECRET, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    if isinstance(body, bytes):  # Slack signs the bytes it sends, UTF-8 or not
        digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        signature = f"v0={digest}"
    else:
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)  # type: ignore[assignment]
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature, "Content-Type": content_type}


async def send_event(client: httpx.AsyncClient, event: dict[str, Any], event_id: str, **signing: Any) -> httpx.Response:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "TTEAM0001",
            "api_app_id": "A1",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )
    return await client.post(
        "/slack/events", content=body, headers=signed(body, content_type="application/json", **signing)
    )


def dm(user: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "D" + user[1:],
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }


async def interact(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)})
    return await client.post(
        "/slack/interactivity", content=body, headers=signed(body, content_type="application/x-www-form-urlencoded")
    )


async def command(client: httpx.AsyncClient, text: str, user: str, trigger_id: str = "none") -> httpx.Response:
    body = urlencode(
        {
            "command": "/learning",
            "text": text,
            "user_id": user,
            "team_id": "TTEAM0001",
            "channel_id": "D" + user[1:],
            "trigger_id": trigger_id,
            "response_url": "http://127.0.0.1:9/unused",
        }
    )
    return await client.post(
        "/slack/commands", content=body, headers=signed(body, content_type="application/x-www-form-urlencoded")
    )


def button_click(peer: SlackPeer, user: str, kind: str = "plan") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": peer.new_trigger_id(),
        "team": {"id": "TTEAM0001"},
        "channel": {"id": "D" + user[1:]},
        "container": {"type": "message", "channel_id": "D" + user[1:]},
        "actions": [{"type": "button", "action_id": "open_checkin", "value": kind, "block_id": "checkin_actions"}],
    }


def plan_submission(user: str, category: str | None = "papers") -> dict[str, Any]:
    def text(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    values = {
        "what": text("Reimplement the Attention paper"),
        "why": text("We use transformers daily"),
        "category": {"value": {"type": "static_select", "selected_option": {"value": category} if category else None}},
        "resources": text("https://arxiv.org/abs/1706.03762"),
    }
    return {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "TTEAM0001"},
        "view": {"id": "V1", "type": "modal", "callback_id": "checkin_plan", "state": {"values": values}},
    }
