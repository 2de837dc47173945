"""LEARNINGDAY_SLACK_CHANNEL, when set, is where the worker's Slack posts go, whatever the
policy's `channel.name`; unset, the policy decides. (The setting names the installation's Slack
channel, e.g. an id; the policy names the program's channel.)"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from learningday.contracts.chat import ChannelPost
from learningday.settings import Settings
from learningday.temporal.worker import ports_from_settings
from tests.peers.slack import BOT_TOKEN, SlackPeer, slack_peer  # noqa: F401

POST = ChannelPost(
    key="channel:day-ada-2026-12-03:plan",
    channel="#learning-day",
    person_email="ada@example.com",
    person_name="Ada Lovelace",
    slack_user_id=None,
    kind="plan",
    text="Read the Raft paper",
    category=None,
    thread_ts=None,
    day_label="Thursday 3 December",
)


@pytest.mark.parametrize(("setting", "lands_in"), [("#announcements", "#announcements"), (None, "#learning-day")])
def test_the_slack_channel_setting_overrides_the_policy_channel(
    setting: str | None,
    lands_in: str,
    slack_peer: SlackPeer,
    engine: Engine,  # noqa: F811
) -> None:
    for channel in ("#learning-day", "#announcements"):
        slack_peer.add_channel(channel)
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_base_url=slack_peer.base_url, slack_channel=setting)

    ports_from_settings(settings).chat.post_to_channel(POST)

    assert [m.text for m in slack_peer.channel_messages(lands_in)] != []
    other = "#learning-day" if lands_in == "#announcements" else "#announcements"
    assert slack_peer.channel_messages(other) == []
