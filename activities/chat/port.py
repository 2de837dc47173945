"""The chat port: prompting a person and posting to the shared channel. The prompt and the post
are the workflows' too, so they are in learningday/contracts/chat.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from learningday.contracts.chat import ChannelPost, MessageRef, Prompt


@dataclass(frozen=True)
class DirectMessage:
    """A plain DM (e.g. a flag to a manager). `key` makes the send idempotent."""

    key: str  # e.g. "flag-dm:<flag id>:<recipient person id>"; the outbox key
    person_email: str
    slack_user_id: str | None
    text: str


class Chat(Protocol):
    def send_prompt(self, prompt: Prompt) -> MessageRef: ...

    def post_to_channel(self, post: ChannelPost) -> MessageRef: ...

    def send_direct_message(self, message: DirectMessage) -> MessageRef: ...
