"""Temporal activities over the chat port; the worker picks Slack or the local web page.

Channel posts run on their own task queue, rate-limited by the server across all workers, so
a channel never receives more than the policy's rate however many days finish at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat.port import Chat
from activities.chat.slack import SlackDeliveryError
from learningday.contracts.chat import ChannelPost, MessageRef, Prompt

T = TypeVar("T")


def _delivering(send: Callable[[], T]) -> T:
    """A refusal that waiting cannot fix (channel not found, bad token) fails the activity
    for good instead of retrying for hours; everything else is retried by Temporal."""
    try:
        return send()
    except SlackDeliveryError as error:
        if error.retryable:
            raise
        raise ApplicationError(str(error), type="SlackDeliveryError", non_retryable=True) from error


class ChatActivities:
    def __init__(self, chat: Chat) -> None:
        self._chat = chat

    @activity.defn(name="send_prompt")
    def send_prompt(self, prompt: Prompt) -> MessageRef:
        return _delivering(lambda: self._chat.send_prompt(prompt))

    @activity.defn(name="post_to_channel")
    def post_to_channel(self, post: ChannelPost) -> MessageRef:
        return _delivering(lambda: self._chat.post_to_channel(post))
