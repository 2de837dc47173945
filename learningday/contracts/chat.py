"""Chat payloads: a prompt to one person and a post to the shared channel, and where it landed.
The port that sends them (Slack or the local chat) is activities/chat/port.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The channel the local chat (activities/chat/local.py) posts to; the web's channel page reads it.
LOCAL_CHANNEL = "local_channel"

PromptKind = Literal["plan", "summary"]


@dataclass(frozen=True)
class Prompt:
    """A DM asking for a plan or summary (or reminding). `key` makes the send idempotent."""

    key: str  # e.g. "prompt:<workflow id>:plan:0"; the outbox key
    person_email: str
    slack_user_id: str | None
    kind: PromptKind
    reminder: bool
    day_label: str  # "Thursday 3 December"
    checkin_url: str  # the web page for this check-in (fallback and "open in browser")
    workflow_id: str


@dataclass(frozen=True)
class ChannelPost:
    """A plan or summary shared in the channel, threaded per person per day."""

    key: str  # "channel:<workflow id>:<kind>"
    channel: str
    person_email: str
    person_name: str
    slack_user_id: str | None
    kind: PromptKind
    text: str
    category: str | None
    thread_ts: str | None  # the plan's ts when posting the summary
    day_label: str | None = None  # "Thursday 3 December", shown in the post's header line
    learning_day_id: int | None = None  # whose day it is, for the record if it cannot be posted
    person_id: int | None = None


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str
    already_sent: bool = False
