"""Flags as Slack DMs to the manager (`escalation.manager_slack_dm`): the real slack_sdk client
against the local Slack peer, and a whole missed day on the real Temporal dev server."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.chat.flag_dm import FlagDmActivities
from activities.chat.slack import SlackChat
from learningday.contracts.day import LearningDayInput, workflow_id_for
from learningday.contracts.flags import DayFlagsNotice, FlagNotice
from learningday.db.models import Flag, FlagKind, Person
from policies.enforcement import FlagReader
from policies.policy import Policy
from tests.peers.slack import BOT_TOKEN, SlackPeer, running_slack_peer, slack_peer  # noqa: F401
from tests.workflows.conftest import Harness, harness  # noqa: F401
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow

THURSDAY = dt.date(2026, 12, 3)


def dm_policy(on: bool) -> Policy:
    return Policy.model_validate({"escalation": {"manager_slack_dm": on}})


@pytest.fixture
def flag(session: Session) -> Flag:
    maria = Person(email="maria@example.com", name="Maria Agnesi", timezone="Europe/London")
    session.add(maria)
    session.flush()
    ada = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/Berlin", manager_id=maria.id)
    session.add(ada)
    session.flush()
    flag = Flag(
        person_id=ada.id,
        kind=FlagKind.missed_summary,
        date=THURSDAY,
        reason="No summary by the deadline plus grace (17:05 UTC).",
        raised_at=dt.datetime(2026, 12, 3, 17, 5),
    )
    session.add(flag)
    session.commit()
    return flag


def readers(flag: Flag) -> list[FlagReader]:
    """Who the workflow tells (policies.enforcement.flag_recipients): the manager, and the person."""
    return [FlagReader(flag.person.manager_id, "manager"), FlagReader(flag.person_id, "person")]  # type: ignore[arg-type]


@pytest.fixture
def chat(slack_peer: SlackPeer, engine: Engine) -> SlackChat:
    slack_peer.add_user("maria@example.com", "UMARIA001")
    slack_peer.add_user("ada@example.com", "UADA00001")
    return SlackChat(token=BOT_TOKEN, base_url=slack_peer.base_url, min_post_interval=0.0)


def test_the_manager_gets_one_dm_per_flag_however_often_the_activity_runs(
    chat: SlackChat, slack_peer: SlackPeer, flag: Flag
) -> None:
    activities = FlagDmActivities(chat, lambda: dm_policy(True))

    notice = FlagNotice(flag_id=flag.id, readers=readers(flag))
    first = activities.dm_managers_about_flag(notice)
    retried = activities.dm_managers_about_flag(notice)

    assert (first, retried) == (1, 0)
    [message] = slack_peer.channel_messages(slack_peer.dm_channel("UMARIA001"))
    assert "Ada Lovelace" in message.text and "No summary by the deadline plus grace" in message.text
    assert "/excuse/" in message.text
    assert message.metadata["event_payload"]["key"] == f"flag-dm:{flag.id}:{flag.person.manager_id}"  # type: ignore[index]
    assert slack_peer.channel_messages(slack_peer.dm_channel("UADA00001")) == []  # managers only


def test_the_days_flags_go_to_the_manager_in_one_dm_however_often_the_activity_runs(
    chat: SlackChat, slack_peer: SlackPeer, flag: Flag
) -> None:
    activities = FlagDmActivities(chat, lambda: dm_policy(True))

    notice = DayFlagsNotice(
        person_id=flag.person_id, learning_day_id=0, date=THURSDAY, flag_ids=[flag.id], readers=readers(flag)
    )
    first = activities.dm_managers_about_day_flags(notice)
    retried = activities.dm_managers_about_day_flags(notice)

    assert (first, retried) == (1, 0)
    [message] = slack_peer.channel_messages(slack_peer.dm_channel("UMARIA001"))
    assert message.text.startswith("Ada Lovelace: No summary posted (Thu 03 Dec).")
    assert "No summary by the deadline plus grace" in message.text and "/excuse/" in message.text
    manager = flag.person.manager_id
    assert message.metadata["event_payload"]["key"] == f"day-flags-dm:{flag.person_id}:{THURSDAY}:{manager}"  # type: ignore[index]
    assert slack_peer.channel_messages(slack_peer.dm_channel("UADA00001")) == []  # managers only


def test_nothing_is_sent_when_the_option_is_off(chat: SlackChat, slack_peer: SlackPeer, flag: Flag) -> None:
    activities = FlagDmActivities(chat, lambda: dm_policy(False))

    assert activities.dm_managers_about_flag(FlagNotice(flag_id=flag.id, readers=readers(flag))) == 0
    assert slack_peer.calls_to("chat.postMessage") == []


async def test_a_missed_day_dms_the_manager_once_with_both_flags(harness: Harness, session: Session) -> None:
    maria = Person(email="maria@example.com", name="Maria Agnesi", timezone="Europe/London")
    session.add(maria)
    session.flush()
    ada = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/Berlin", manager_id=maria.id)
    session.add(ada)
    session.commit()
    policy = compact_policy()
    policy = policy.model_copy(update={"escalation": policy.escalation.model_copy(update={"manager_slack_dm": True})})
    harness.policy = policy

    view = await harness.client.execute_workflow(  # nobody answers: both check-ins are missed
        LearningDayWorkflow.run,
        LearningDayInput(person_id=ada.id, date=THURSDAY, time_scale=300.0),
        id=workflow_id_for(ada.id, THURSDAY),
        task_queue=harness.settings.temporal_task_queue,
    )

    assert sorted(view.flags) == ["missed_plan", "missed_summary"]
    # One DM per manager per person per day, sent with the day's one email (before: one per flag).
    [(key, dm)] = harness.chat.direct.items()
    assert key == f"day-flags-dm:{ada.id}:{THURSDAY}:{maria.id}" and dm.person_email == "maria@example.com"
    assert dm.text.startswith("Ada Lovelace: No plan posted, No summary posted (Thu 03 Dec).")
    flag_ids = sorted(session.scalars(select(Flag.id).where(Flag.person_id == ada.id)))
    assert dm.text.count("/excuse/") == len(flag_ids) == 2
