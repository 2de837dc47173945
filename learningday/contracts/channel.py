"""The channel sequencer's payloads: its input, the posts queued to it, and its answer to the day."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from learningday.contracts.chat import ChannelPost

# The name the channel sequencer is registered and started under (workflows/channel_poster.py).
CHANNEL_POSTER_WORKFLOW = "ChannelPosterWorkflow"


def poster_workflow_id(channel: str, task_queue: str) -> str:
    """One sequencer per channel (per deployment's task queue); the id names no channel."""
    return "channel-poster-" + hashlib.sha256(f"{task_queue}\n{channel}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class QueuedPost:
    post: ChannelPost
    reply_to_workflow_id: str


@dataclass(frozen=True)
class ChannelPosted:
    """Sent back to the Learning Day that asked for the post: its `ts`, or why it failed."""

    kind: str
    ts: str | None
    failed: str | None = None


@dataclass
class ChannelPosterInput:
    channel: str
    posts_per_second: float = 1.0
    task_queue: str = ""  # where post_to_channel runs; empty: this workflow's own queue
    pending: list[QueuedPost] = field(default_factory=list)  # carried over continue-as-new
    recent_keys: list[str] = field(default_factory=list)
    last_post_at: dt.datetime | None = None


@dataclass(frozen=True)
class EnqueueRequest:
    post: ChannelPost
    reply_to_workflow_id: str


@dataclass(frozen=True)
class PostsInTurn:
    """A channel's next posts, in the order they were shared, for one activity to post one after
    another, each `seconds_between` after Slack answered the previous one (the channel's rate)."""

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
