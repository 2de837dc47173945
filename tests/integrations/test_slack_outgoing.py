"""SlackChat and LocalChat: the real slack_sdk WebClient against the local Slack peer."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.chat.local import LocalChat
from activities.chat.port import DirectMessage
from activities.chat.slack import SlackChat, SlackDeliveryError
from learningday.contracts.chat import ChannelPost, Prompt
from learningday.db.models import OutboxMessage, OutboxStatus, Person
from tests.peers.slack import BOT_TOKEN, SlackPeer, running_slack_peer, slack_peer  # noqa: F401

EMAIL = "ada@example.com"


def a_prompt(key: str = "prompt:day-ada-2026-12-03:plan:0", **changes: object) -> Prompt:
    prompt = Prompt(
        key=key,
        person_email=EMAIL,
        slack_user_id=None,
        kind="plan",
        reminder=False,
        day_label="Thursday 3 December",
        checkin_url="http://127.0.0.1:8000/checkin/abc",
        workflow_id="day-ada-2026-12-03",
    )
    return dataclasses.replace(prompt, **changes)  # type: ignore[arg-type]


def a_post(key: str, text: str = "Read the Attention paper", **changes: object) -> ChannelPost:
    post = ChannelPost(
        key=key,
        channel="#learning-day",
        person_email=EMAIL,
        person_name="Ada Lovelace",
        slack_user_id=None,
        kind="plan",
        text=text,
        category="papers",
        thread_ts=None,
        day_label="Thursday 3 December",
    )
    return dataclasses.replace(post, **changes)  # type: ignore[arg-type]


@pytest.fixture
def ada(session: Session) -> Person:
    person = Person(email=EMAIL, name="Ada Lovelace", timezone="Europe/London")
    session.add(person)
    session.commit()
    return person


@pytest.fixture
def chat(slack_peer: SlackPeer, engine: Engine) -> SlackChat:
    slack_peer.add_user(EMAIL, "UADA00001")
    slack_peer.add_channel("#learning-day")
    return SlackChat(token=BOT_TOKEN, base_url=slack_peer.base_url, min_post_interval=0.0)


def outbox_row(session: Session, key: str) -> OutboxMessage:
    session.expire_all()
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
    return row


def test_prompt_arrives_as_a_dm_with_the_question_and_buttons(
    chat: SlackChat, slack_peer: SlackPeer, session: Session, ada: Person
) -> None:
    ref = chat.send_prompt(a_prompt())

    [message] = slack_peer.channel_messages("DADA00001")
    assert ref.channel == "DADA00001" and ref.ts == message.ts and not ref.already_sent
    assert "What will you learn today, and why?" in message.blocks[0]["text"]["text"]  # type: ignore[index]
    buttons = message.blocks[1]["elements"]  # type: ignore[index]
    assert [(b["text"]["text"], b.get("action_id"), b.get("value"), b.get("url")) for b in buttons] == [
        ("Write my plan", "open_checkin", "plan", None),
        ("Open in browser", "open_in_browser", None, "http://127.0.0.1:8000/checkin/abc"),
    ]
    assert message.metadata == {
        "event_type": "learningday_message",
        "event_payload": {"key": "prompt:day-ada-2026-12-03:plan:0"},
    }
    row = outbox_row(session, a_prompt().key)
    assert (row.status, row.channel, row.external_id) == (OutboxStatus.sent, "slack_dm", message.ts)
    session.refresh(ada)
    assert ada.slack_user_id == "UADA00001"  # looked up by email once, remembered for replies


def test_reminder_says_it_is_a_reminder_for_the_summary(chat: SlackChat, slack_peer: SlackPeer) -> None:
    chat.send_prompt(a_prompt("prompt:d:summary:1", kind="summary", reminder=True, slack_user_id="UADA00001"))

    [message] = slack_peer.channel_messages("DADA00001")
    assert message.text is not None and message.text.startswith("Reminder: what did you learn today?")
    assert message.blocks[1]["elements"][0]["text"]["text"] == "Write my summary"  # type: ignore[index]
    assert not slack_peer.calls_to("users.lookupByEmail")  # the id was given


def test_a_prompt_to_a_known_slack_id_is_one_chat_post_message_and_no_conversations_open(
    chat: SlackChat, slack_peer: SlackPeer, session: Session
) -> None:
    """At nine o'clock thousands of prompts go out at once; `conversations.open` is rate-limited
    per workspace (Tier 3, ~50 a minute), so a prompt posts to the user id and Slack opens the DM."""
    chat.send_prompt(a_prompt("prompt:d:plan:0", slack_user_id="UADA00001"))
    chat.send_direct_message(
        DirectMessage(key="dm:d:1", person_email="ada@example.com", slack_user_id="UADA00001", text="Your plan is late")
    )

    assert [call.method for call in slack_peer.calls] == ["chat.postMessage", "chat.postMessage"]
    assert len(slack_peer.channel_messages("DADA00001")) == 2
    assert outbox_row(session, "prompt:d:plan:0").recipient == "DADA00001"  # the DM, as Slack answered


def test_retrying_the_same_prompt_posts_once(chat: SlackChat, slack_peer: SlackPeer) -> None:
    first = chat.send_prompt(a_prompt())
    second = chat.send_prompt(a_prompt())

    assert len(slack_peer.channel_messages("DADA00001")) == 1
    assert second.already_sent and (second.channel, second.ts) == (first.channel, first.ts)


def test_response_lost_after_posting_is_recovered_from_the_conversation(
    chat: SlackChat, slack_peer: SlackPeer, session: Session
) -> None:
    slack_peer.fail_next("chat.postMessage", "drop_after_store")

    ref = chat.send_prompt(a_prompt())

    [message] = slack_peer.channel_messages("DADA00001")
    assert ref.ts == message.ts
    assert outbox_row(session, a_prompt().key).external_id == message.ts
    assert len(slack_peer.calls_to("chat.postMessage")) == 1  # never blindly re-posted


def test_crash_between_post_and_record_is_found_by_metadata_on_retry(
    chat: SlackChat, slack_peer: SlackPeer, session: Session
) -> None:
    slack_peer.fail_next("chat.postMessage", "drop_after_store")
    slack_peer.fail_next("conversations.history", "server_error", times=10)
    with pytest.raises(SlackDeliveryError) as failure:
        chat.send_prompt(a_prompt())
    assert failure.value.retryable
    assert outbox_row(session, a_prompt().key).status == OutboxStatus.pending
    slack_peer.clear_faults()

    ref = chat.send_prompt(a_prompt())  # the activity's retry

    [message] = slack_peer.channel_messages("DADA00001")
    assert ref.already_sent and ref.ts == message.ts
    assert len(slack_peer.calls_to("chat.postMessage")) == 1
    history = slack_peer.calls_to("conversations.history")[-1]
    assert history.args["include_all_metadata"] in ("1", 1, True)
    assert outbox_row(session, a_prompt().key).status == OutboxStatus.sent


def test_rate_limited_post_waits_for_retry_after_and_posts_once(
    chat: SlackChat, slack_peer: SlackPeer, caplog: pytest.LogCaptureFixture
) -> None:
    slack_peer.fail_next("chat.postMessage", "rate_limited")

    with caplog.at_level(logging.INFO, logger="activities.chat.slack"):
        chat.send_prompt(a_prompt())

    refused, accepted = slack_peer.calls_to("chat.postMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0  # Retry-After: 1 honoured
    assert len(slack_peer.channel_messages("DADA00001")) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["slack chat.postMessage rate-limited (429): retrying after 1 s"]  # seen at INFO


def test_thirty_channel_posts_arrive_in_order_once_within_the_rate_limit(engine: Engine) -> None:
    rate, burst = 10.0, 3
    with running_slack_peer(messages_per_second=rate, burst=burst) as peer:
        channel = peer.add_channel("#learning-day")
        chat = SlackChat(token=BOT_TOKEN, base_url=peer.base_url, min_post_interval=1 / rate)
        posts = [a_post(f"channel:day-{i}:plan", text=f"plan number {i}") for i in range(30)]

        for post in posts:
            chat.post_to_channel(post)
        again = [chat.post_to_channel(post) for post in posts]

        messages = peer.channel_messages(channel)
        assert [m.metadata["event_payload"]["key"] for m in messages] == [p.key for p in posts]  # type: ignore[index]
        assert all(ref.already_sent for ref in again)
        assert peer.rate_limited == []  # paced, not pushed back
        arrivals = [m.arrived_at for m in messages]
        for i in range(len(arrivals)):
            for j in range(i + 1, len(arrivals)):
                assert j - i + 1 <= burst + rate * (arrivals[j] - arrivals[i]) + 1e-6


def test_summary_is_threaded_under_the_plan_with_header_and_category(chat: SlackChat, slack_peer: SlackPeer) -> None:
    plan = chat.post_to_channel(a_post("channel:d:plan"))
    chat.post_to_channel(
        a_post("channel:d:summary", text="Reimplemented it", kind="summary", category=None, thread_ts=plan.ts)
    )

    first, second = slack_peer.channel_messages("#learning-day")
    assert first.blocks[0]["text"]["text"] == "*Ada Lovelace*'s plan for Thursday 3 December"  # type: ignore[index]
    assert first.blocks[-1]["elements"][0]["text"] == "Category: Reading or reimplementing papers"  # type: ignore[index]
    assert second.thread_ts == plan.ts
    assert second.blocks[0]["text"]["text"].startswith("*Ada Lovelace*'s summary")  # type: ignore[index]


def test_lost_response_in_a_thread_is_found_among_the_replies(chat: SlackChat, slack_peer: SlackPeer) -> None:
    plan = chat.post_to_channel(a_post("channel:d:plan"))
    slack_peer.fail_next("chat.postMessage", "drop_after_store")

    chat.post_to_channel(a_post("channel:d:summary", kind="summary", thread_ts=plan.ts))

    assert len(slack_peer.channel_messages("#learning-day")) == 2
    assert slack_peer.calls_to("conversations.replies")


def test_very_long_text_stays_within_block_kit_limits(chat: SlackChat, slack_peer: SlackPeer) -> None:
    text = ("A paragraph about transformers and attention. " * 80 + "\n\n") * 60  # ~220,000 chars

    chat.post_to_channel(a_post("channel:d:plan", text=text))

    [message] = slack_peer.channel_messages("#learning-day")  # the peer refuses oversize blocks
    assert message.blocks is not None and len(message.blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if b["type"] == "section")
    assert "the full text is on the web page" in message.blocks[-2]["text"]["text"]
    assert message.text is not None and len(message.text) <= 300


def test_mentions_in_a_plan_cannot_ping_the_channel(chat: SlackChat, slack_peer: SlackPeer) -> None:
    chat.post_to_channel(a_post("channel:d:plan", text="<!channel> read <https://evil|this> & more"))

    [message] = slack_peer.channel_messages("#learning-day")
    assert message.blocks[1]["text"]["text"] == "&lt;!channel&gt; read &lt;https://evil|this&gt; &amp; more"  # type: ignore[index]


# What a learner may type to ping everyone, impersonate a mention or disguise a link, as Slack
# reads it in a message's text (the notification) and in mrkdwn blocks alike.
HOSTILE = "<!channel> <!here> <!everyone> <@U0EVIL01> <#C0EVIL01> <!subteam^S0EVIL01> <https://evil.example|your payslip> <mailto:x@evil.example|HR>"
LIVE = re.compile(r"<[^>]*>")


def texts_of(message: object) -> list[str]:
    """The notification text and every text in the blocks: all that Slack parses for markup."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({"text": message.text, "blocks": message.blocks})  # type: ignore[attr-defined]
    return found


def no_live_markup(message: object) -> list[str]:
    return [t for t in texts_of(message) if LIVE.search(t)]


def test_a_plan_and_a_name_reach_the_channel_with_no_live_mention_or_link(
    chat: SlackChat, slack_peer: SlackPeer
) -> None:
    chat.post_to_channel(
        a_post(
            "channel:d:plan", text=f"{HOSTILE} & more", person_name="Mallory <!here>", day_label="Thursday <!channel>"
        )
    )
    chat.post_to_channel(a_post("channel:d:long", text=HOSTILE * 20, kind="summary"))

    plan, long = slack_peer.channel_messages("#learning-day")
    assert no_live_markup(plan) == [] and no_live_markup(long) == []
    assert plan.text is not None and plan.text.startswith(
        "Mallory &lt;!here&gt;'s plan: &lt;!channel&gt; &lt;!here&gt;"
    )
    assert long.text is not None and len(long.text) <= 300 and re.search(r"&[a-z]*…$", long.text) is None


def test_a_prompt_carries_no_live_markup_in_its_text_or_blocks(chat: SlackChat, slack_peer: SlackPeer) -> None:
    chat.send_prompt(a_prompt(day_label=f"Thursday {HOSTILE}"))

    [message] = slack_peer.channel_messages("DADA00001")
    assert no_live_markup(message) == []


def test_a_direct_message_is_plain_text_with_no_live_markup(chat: SlackChat, slack_peer: SlackPeer) -> None:
    chat.send_direct_message(
        DirectMessage(
            key="flag-dm:1:2",
            person_email=EMAIL,
            slack_user_id="UADA00001",
            text=f"Mallory {HOSTILE}: no plan (Thu 03 Dec).\nIf there was a good reason, excuse it: https://ld.example/excuse/t0k",
        )
    )

    [message] = slack_peer.channel_messages("DADA00001")
    assert no_live_markup(message) == []
    assert message.text is not None and "https://ld.example/excuse/t0k" in message.text  # the link still reads


def test_unknown_channel_is_refused_with_what_to_do(chat: SlackChat) -> None:
    with pytest.raises(SlackDeliveryError, match="#nowhere not found: create it and invite the app") as failure:
        chat.post_to_channel(a_post("channel:d:plan", channel="#nowhere"))
    assert not failure.value.retryable


def test_unknown_email_is_refused_with_what_to_do(chat: SlackChat) -> None:
    with pytest.raises(SlackDeliveryError, match="users_not_found.*slack_user_id"):
        chat.send_prompt(a_prompt(person_email="nobody@example.com"))


@pytest.fixture
def local_chat(engine: Engine) -> Iterator[LocalChat]:
    yield LocalChat()


def test_local_chat_records_prompts_and_posts_once_for_the_web_pages(local_chat: LocalChat, session: Session) -> None:
    first = local_chat.send_prompt(a_prompt())
    again = local_chat.send_prompt(a_prompt())
    post = local_chat.post_to_channel(a_post("channel:d:plan"))

    assert (first.channel, again.already_sent, again.ts) == ("local_dm", True, first.ts)
    dm = outbox_row(session, a_prompt().key)
    assert (dm.channel, dm.recipient, dm.status) == ("local_dm", EMAIL, OutboxStatus.sent)
    assert "http://127.0.0.1:8000/checkin/abc" in dm.body
    shared = outbox_row(session, "channel:d:plan")
    assert (shared.channel, shared.external_id) == ("local_channel", post.ts)
    assert shared.body.startswith("Ada Lovelace's plan for Thursday 3 December\n\nRead the Attention paper")
    assert session.query(OutboxMessage).count() == 2
