"""The chat port without Slack: prompts and channel posts land in the outbox table, where the
web pages show them (the person's check-in page, /channel). Same keys, same idempotency as
Slack: a retried activity finds its row and sends nothing new."""

from __future__ import annotations

import time

from activities.chat import outbox
from activities.chat.port import DirectMessage
from learningday.contracts.chat import LOCAL_CHANNEL, ChannelPost, MessageRef, Prompt
from learningday.db.engine import session_scope
from learningday.slack_blocks import QUESTIONS, policy_categories

LOCAL_DM = "local_dm"


class LocalChat:
    def __init__(self, session_factory: outbox.SessionFactory = session_scope) -> None:
        self._sessions = session_factory

    def send_prompt(self, prompt: Prompt) -> MessageRef:
        question = QUESTIONS[prompt.kind]
        lead = f"Reminder: {question}" if prompt.reminder else question
        body = f"{lead}\nYour Learning Day, {prompt.day_label}.\nWrite it here: {prompt.checkin_url}"
        subject = f"{prompt.kind.capitalize()} {'reminder' if prompt.reminder else 'prompt'}"
        return self._record(prompt.key, LOCAL_DM, prompt.person_email, body, subject)

    def send_direct_message(self, message: DirectMessage) -> MessageRef:
        return self._record(message.key, LOCAL_DM, message.person_email, message.text, "Direct message")

    def post_to_channel(self, post: ChannelPost) -> MessageRef:
        header = f"{post.person_name}'s {post.kind}"
        if post.day_label:
            header += f" for {post.day_label}"
        body = f"{header}\n\n{post.text}"
        if post.category:
            body += f"\n\nCategory: {policy_categories().get(post.category, post.category)}"
        return self._record(post.key, LOCAL_CHANNEL, post.channel, body, header)

    def _record(self, key: str, channel: str, recipient: str, body: str, subject: str) -> MessageRef:
        claimed = outbox.claim(
            self._sessions, key=key, channel=channel, recipient=recipient, body=body, subject=subject
        )
        if claimed.state == "sent":
            return MessageRef(channel, claimed.external_id or "", already_sent=True)
        ts = f"{time.time():.6f}"  # shaped like a Slack ts so callers can thread on it alike
        outbox.record_sent(self._sessions, key=key, recipient=recipient, external_id=ts)
        return MessageRef(channel, ts)
