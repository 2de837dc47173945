"""Temporal activities over the chat port; the worker picks Slack or the local web page.

Channel posts run on their own task queue, scheduled by one sequencer workflow per channel
(workflows/channel_poster.py), so a channel never receives more than the policy's rate however
many days finish at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat.port import Chat
from activities.chat.slack import SlackDeliveryError
from learningday.contracts.channel import PostOutcome, PostsInTurn, PostsInTurnDone
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

    @activity.defn(name="post_to_channel_in_turn")
    def post_to_channel_in_turn(self, turn: PostsInTurn) -> PostsInTurnDone:
        """Post a channel's queued posts one after another at the channel's rate, in one activity:
        the sequencer spends one activity (and its workflow tasks) on a burst, not one per post.

        Each post starts `seconds_between` after the previous one was answered: Slack received
        that one before it answered, so two posts never arrive closer than the rate allows, however
        the network delays either (Slack's channel limit, and the test peer's, is on arrival).
        Each post is idempotent by its key (the outbox), and the outcomes so far are heartbeated:
        a retry after a crash resumes after the last post it knows was made. A refusal for good
        is that post's outcome and the turn goes on; a refusal for now (Slack down, rate-limited
        past the client's retries) ends the turn early and the sequencer tries the rest later."""
        outcomes = _outcomes_heartbeated()
        answered: float | None = None  # when Slack last answered a post made just now
        for post in turn.posts[len(outcomes) :]:
            if answered is not None:
                time.sleep(max(0.0, answered + turn.seconds_between - time.monotonic()))
            try:
                ref = self._chat.post_to_channel(post)
            except SlackDeliveryError as error:
                if error.retryable:
                    return PostsInTurnDone(outcomes, interrupted=str(error))
                outcomes.append(PostOutcome(post.key, failed=str(error)))
            else:
                outcomes.append(PostOutcome(post.key, ts=ref.ts))
                if not ref.already_sent:  # an earlier attempt's post, found again, used no turn
                    answered = time.monotonic()
            activity.heartbeat(outcomes)
        return PostsInTurnDone(outcomes)


def _outcomes_heartbeated() -> list[PostOutcome]:
    """The outcomes an earlier attempt of this activity heartbeated (none on a first attempt)."""
    details: Any = activity.info().heartbeat_details
    if not details:
        return []
    return [PostOutcome(**item) if isinstance(item, dict) else item for item in details[0]]
