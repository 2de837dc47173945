"""The chat port: prompting a person and posting to the shared channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

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
class DirectMessage:
    """A plain DM (e.g. a flag to a manager). `key` makes the send idempotent."""

    key: str  # e.g. "flag-dm:<flag id>:<recipient person id>"; the outbox key
    person_email: str
    slack_user_id: str | None
    text: str


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str
    already_sent: bool = False


@dataclass(frozen=True)
class PostsInTurn:
    """A channel's next posts, in the order they were shared, started at least
    `seconds_between` apart (the channel's rate)."""

    posts: list[ChannelPost]
    seconds_between: float


@dataclass(frozen=True)
class PostOutcome:
    """One post of a `PostsInTurn`: its `ts`, or why Slack refused it for good."""

    key: str
    ts: str | None = None
    failed: str | None = None


@dataclass(frozen=True)
class PostsInTurnDone:
    """An outcome per post tried, in order. Fewer than the posts when Slack could not take one
    right now (`interrupted` says why): the rest is the sequencer's to try again later."""

    outcomes: list[PostOutcome]
    interrupted: str | None = None


class Chat(Protocol):
    def send_prompt(self, prompt: Prompt) -> MessageRef: ...

    def post_to_channel(self, post: ChannelPost) -> MessageRef: ...

    def send_direct_message(self, message: DirectMessage) -> MessageRef: ...
