"""The chat port over Slack: prompts as DMs with buttons, plans and summaries in the channel.

`chat.postMessage` has no idempotency key, so each message is made idempotent here:
- the outbox row for the key is claimed (committed) before posting and marked `sent` with the
  returned `ts` after; a key already `sent` is never posted again;
- every message carries metadata with its key, so when an earlier attempt may have posted and
  lost the answer (a `pending` row, a dropped connection, a 5xx) we look in the conversation
  for our own message before posting again;
- the client retries 429 (honouring `Retry-After`) for every method, but retries connection
  errors and 5xx only for methods that change nothing: a blind retry of `chat.postMessage`
  is exactly how duplicates happen.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import update

from activities.chat import outbox
from activities.chat.port import DirectMessage
from learningday.contracts.chat import ChannelPost, MessageRef, Prompt
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.slack_blocks import (
    channel_message,
    direct_message,
    message_metadata,
    metadata_key,
    policy_categories,
    prompt_message,
)

LOOKBACK = dt.timedelta(days=1)
CLOCK_SKEW = dt.timedelta(minutes=5)
HISTORY_PAGE = 100
HISTORY_PAGES = 10

log = logging.getLogger(__name__)


class SlackDeliveryError(RuntimeError):
    """Slack did not take the message. `retryable` says whether trying later can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _posts_a_message(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith("chat.postMessage")


class _ReadSafeConnectionRetry(ConnectionErrorRetryHandler):
    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return not _posts_a_message(request) and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class _ReadSafeServerErrorRetry(ServerErrorRetryHandler):
    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return not _posts_a_message(request) and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class _LoggedRateLimitRetry(RateLimitErrorRetryHandler):
    """Slack's own handler, plus a warning the operator sees at INFO (slack_sdk logs at DEBUG)."""

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is not None:
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            retry_after = (response.headers.get("retry-after") or response.headers.get("Retry-After") or ["?"])[0]
            log.warning("slack %s rate-limited (429): retrying after %s s", method, retry_after)
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


def retry_handlers() -> list[RetryHandler]:
    return [
        _LoggedRateLimitRetry(max_retry_count=5),
        _ReadSafeConnectionRetry(max_retry_count=2),
        _ReadSafeServerErrorRetry(max_retry_count=2),
    ]


class ChannelPacer:
    """At most one post per `interval` per channel from this process (Slack: ~1/s/channel).

    The channel sequencer (workflows/channel_poster.py) paces all workers together; this keeps a
    single process from bursting into 429s as well, should a retried post meet the next one."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_turn(self, channel: str) -> None:
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next.get(channel, now))
            self._next[channel] = turn + self._interval
        if turn > now:
            time.sleep(turn - now)


class SlackChat:
    def __init__(
        self,
        token: str,
        base_url: str = "https://slack.com/api/",
        session_factory: outbox.SessionFactory = session_scope,
        *,
        min_post_interval: float = 1.0,
        client: WebClient | None = None,
        channel: str | None = None,
    ) -> None:
        """`channel` (LEARNINGDAY_SLACK_CHANNEL), when given, is where every channel post goes,
        whatever channel the post names (the policy's `channel.name`): the installation's Slack
        channel, possibly an id, set by whoever installs the app, overrides the program's default."""
        self._channel = channel
        self._client = client or WebClient(token=token, base_url=base_url, retry_handlers=retry_handlers())
        self._sessions = session_factory
        self._pacer = ChannelPacer(min_post_interval)
        self._channel_ids: dict[str, str] = {}

    def send_prompt(self, prompt: Prompt) -> MessageRef:
        text, blocks = prompt_message(prompt)
        claimed = outbox.claim(
            self._sessions, key=prompt.key, channel="slack_dm", recipient=prompt.person_email, body=text
        )
        if claimed.state == "sent":
            return MessageRef(claimed.recipient, claimed.external_id or "", already_sent=True)
        user_id = prompt.slack_user_id or self._user_id_for(prompt.person_email)
        return self._deliver_dm(prompt.key, claimed, user_id, text, blocks)

    def send_direct_message(self, message: DirectMessage) -> MessageRef:
        """A plain-text DM, made idempotent exactly like a prompt (outbox claim, metadata key)."""
        text, blocks = direct_message(message.text)
        claimed = outbox.claim(
            self._sessions, key=message.key, channel="slack_dm", recipient=message.person_email, body=text
        )
        if claimed.state == "sent":
            return MessageRef(claimed.recipient, claimed.external_id or "", already_sent=True)
        user_id = message.slack_user_id or self._user_id_for(message.person_email)
        return self._deliver_dm(message.key, claimed, user_id, text, blocks)

    def post_to_channel(self, post: ChannelPost) -> MessageRef:
        label = policy_categories().get(post.category, post.category) if post.category else None
        text, blocks = channel_message(post, label)
        target = self._channel or post.channel
        claimed = outbox.claim(self._sessions, key=post.key, channel="slack_channel", recipient=target, body=text)
        if claimed.state == "sent":
            return MessageRef(claimed.recipient, claimed.external_id or "", already_sent=True)
        channel = self._channel_id(target)
        return self._deliver(post.key, claimed, channel, text, blocks, thread_ts=post.thread_ts)

    # -- posting once ---------------------------------------------------------------------

    def _deliver_dm(
        self, key: str, claimed: outbox.Claim, user_id: str, text: str, blocks: list[dict[str, Any]]
    ) -> MessageRef:
        """Post to the user id: Slack puts it in the app's DM with that person and answers with
        the DM's id. One call per message, so a burst of prompts spends nothing on
        `conversations.open` (Tier 3: about 50 a minute per workspace). Only a retry that must
        read the DM's history to find an earlier attempt opens the conversation for its id."""
        if claimed.state == "retry":
            return self._deliver(key, claimed, self._dm_channel(user_id), text, blocks, thread_ts=None)
        return self._deliver(
            key, claimed, user_id, text, blocks, thread_ts=None, history_channel=lambda: self._dm_channel(user_id)
        )

    def _dm_channel(self, user_id: str) -> str:
        opened = self._call("conversations.open", lambda: self._client.conversations_open(users=user_id))
        return str(opened["channel"]["id"])

    def _deliver(
        self,
        key: str,
        claimed: outbox.Claim,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None,
        history_channel: Callable[[], str] | None = None,
    ) -> MessageRef:
        """Post once. `history_channel` names the conversation whose history shows an earlier
        post when `channel` cannot be read back (a user id stands for the DM it opens)."""
        if claimed.state == "retry":
            # An earlier attempt claimed the key: it may have posted and crashed before recording.
            found = self._find_posted(key, channel, thread_ts, claimed.claimed_at)
            if found:
                outbox.record_sent(self._sessions, key=key, recipient=channel, external_id=found)
                return MessageRef(channel, found, already_sent=True)
        self._pacer.wait_turn(channel)
        try:
            response = self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=message_metadata(key),
                unfurl_links=False,
                unfurl_media=False,
            )
        except (OSError, HTTPException) as error:
            return self._recover(key, claimed, history_channel or (lambda: channel), thread_ts, error)
        except SlackApiError as error:
            if error.response.status_code >= 500:
                return self._recover(key, claimed, history_channel or (lambda: channel), thread_ts, error)
            raise self._rejected("chat.postMessage", error) from error
        outbox.record_sent(self._sessions, key=key, recipient=response["channel"], external_id=response["ts"])
        return MessageRef(response["channel"], response["ts"])

    def _recover(
        self, key: str, claimed: outbox.Claim, conversation: Callable[[], str], thread_ts: str | None, error: Exception
    ) -> MessageRef:
        """The post may or may not have landed: look, record it if it did, else let the caller retry."""
        channel = "the conversation"
        try:
            channel = conversation()
            found = self._find_posted(key, channel, thread_ts, claimed.claimed_at)
        except SlackDeliveryError:
            found = None
        if found:
            outbox.record_sent(self._sessions, key=key, recipient=channel, external_id=found)
            return MessageRef(channel, found)
        raise SlackDeliveryError(
            f"chat.postMessage to {channel} for {key!r} failed ({error!r}); the message was not "
            "found in the channel, so retrying will post it once",
            retryable=True,
        ) from error

    def _find_posted(self, key: str, channel: str, thread_ts: str | None, claimed_at: dt.datetime) -> str | None:
        """The ts of our message carrying `key` in the conversation (or thread), if any."""
        now = dt.datetime.now(dt.UTC)
        oldest = max(now - LOOKBACK, claimed_at - CLOCK_SKEW).timestamp()
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{oldest:.6f}",
                "limit": HISTORY_PAGE,
                "include_all_metadata": True,
                "cursor": cursor,
            }
            if thread_ts:
                page = self._call(
                    "conversations.replies", partial(self._client.conversations_replies, ts=thread_ts, **args)
                )
            else:
                page = self._call("conversations.history", partial(self._client.conversations_history, **args))
            for message in page.get("messages", []):
                if metadata_key(message) == key:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    # -- looking things up ----------------------------------------------------------------

    def _user_id_for(self, email: str) -> str:
        user = self._call("users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email))["user"]
        # Remember it: replies and button clicks arrive with the Slack id only.
        with self._sessions() as session:
            session.execute(
                update(Person)
                .where(Person.email == email, Person.slack_user_id.is_(None))
                .values(slack_user_id=user["id"])
            )
        return str(user["id"])

    def _channel_id(self, channel: str) -> str:
        if not channel.startswith("#"):
            return channel
        if channel not in self._channel_ids:
            cursor: str | None = None
            while True:
                page = self._call(
                    "conversations.list",
                    partial(
                        self._client.conversations_list,
                        types="public_channel,private_channel",
                        exclude_archived=True,
                        limit=200,
                        cursor=cursor,
                    ),
                )
                for found in page.get("channels", []):
                    self._channel_ids["#" + found["name"]] = found["id"]
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if channel in self._channel_ids or not cursor:
                    break
        if channel not in self._channel_ids:
            raise SlackDeliveryError(
                f"Slack channel {channel} not found: create it and invite the app, or set "
                "LEARNINGDAY_SLACK_CHANNEL (it overrides the policy's channel.name) to a channel the app is in",
                retryable=False,
            )
        return self._channel_ids[channel]

    def _call(self, method: str, call: Any) -> Any:
        try:
            return call()
        except SlackApiError as error:
            raise self._rejected(method, error) from error
        except (OSError, HTTPException) as error:
            raise SlackDeliveryError(f"{method} failed: {error!r}", retryable=True) from error

    @staticmethod
    def _rejected(method: str, error: SlackApiError) -> SlackDeliveryError:
        code = error.response.get("error") if hasattr(error.response, "get") else None
        hints = {
            "users_not_found": "no Slack account has this email: set the person's slack_user_id",
            "channel_not_found": "invite the app to the channel or check the channel setting",
            "not_in_channel": "invite the app to the channel",
            "invalid_auth": "check LEARNINGDAY_SLACK_BOT_TOKEN",
            "missing_scope": "add the scope to the Slack app and reinstall it",
        }
        status = error.response.status_code
        return SlackDeliveryError(
            f"Slack refused {method}: {code or status} ({hints.get(str(code), 'see the Slack API docs')})",
            retryable=status == 429 or status >= 500,
        )
