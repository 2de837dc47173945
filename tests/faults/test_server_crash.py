"""The Temporal dev server killed outright (SIGKILL) in the middle of four Learning Days, kept
down past the moments their timers were due, then started again on the same database file.

Workers (with the real Google and Slack adapters against the peers) stay up through the
outage, as they would on another machine. Every day must finish as if nothing had happened:
the timers that fell due during the outage fire, and no hold, DM, channel post or email is
repeated.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from learningday.contracts.calendar import hold_event_id
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.models import Flag, OutboxMessage, Person
from learningday.settings import Settings
from learningday.temporal.devserver import DevServer, free_port
from tests.integrations.test_day_end_to_end import (  # noqa: F401 - fixtures
    THURSDAY,
    google_peer,
    keyed,
    run_stack,
    settings,
    slack_peer,
)
from tests.peers.google import GooglePeer
from tests.peers.slack import SlackPeer
from tests.waiting import eventually
from tests.workflows.test_learning_day import compact_policy, plan, summary
from workflows.learning_day import LearningDayWorkflow

SCALE = 100.0  # one policy minute = 0.6 s: plan cutoff at ~15 s, summary prompt at ~18 s
NAMES = ["ada", "bob", "cyd", "dee"]


def add_people(session: Session, slack: SlackPeer) -> list[Person]:
    manager = Person(email="mia@example.com", name="Mia", timezone="Europe/Berlin")
    session.add(manager)
    session.flush()
    people = []
    for n, name in enumerate(NAMES):
        email = f"{name}@example.com"
        slack_id = f"U{name.upper()}0000{n}"
        slack.add_user(email, slack_id)
        people.append(
            Person(
                email=email, name=name.title(), timezone="Europe/Berlin", slack_user_id=slack_id, manager_id=manager.id
            )
        )
    session.add_all(people)
    session.commit()
    return people


async def wait_for_dm(slack: SlackPeer, person: Person, key: str, timeout: float = 60) -> None:
    async def sent() -> bool:
        return key in keyed(slack.channel_messages(person.slack_user_id or ""))

    await eventually(sent, timeout=timeout, what=f"DM {key}")


async def connect(address: str) -> Client:
    """The port opens a moment before the frontend answers: retry until it does."""
    found: list[Client] = []

    async def connected() -> bool:
        try:
            found.append(await Client.connect(address, data_converter=pydantic_data_converter))
        except RuntimeError:
            return False
        return True

    await eventually(connected, timeout=30, what=f"the Temporal frontend on {address}")
    return found[0]


async def sleep_until(moment: dt.datetime) -> None:
    """The outage lasts until this instant: the point is that timers fall due while it lasts."""
    await asyncio.sleep(max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds()))


@pytest.mark.slow
async def test_a_server_killed_mid_day_resumes_every_day_fires_its_timers_and_repeats_nothing(
    tmp_path: Path, settings: Settings, google_peer: GooglePeer, slack_peer: SlackPeer, session: Session
) -> None:
    ada, bob, cyd, dee = people = add_people(session, slack_peer)
    server = DevServer(db_file=tmp_path / "temporal.db", port=free_port(), ui_port=None)
    server.start()
    try:
        client = await connect(server.address)
        env = WorkflowEnvironment.from_client(client)
        async with run_stack(env, settings, google_peer, slack_peer, compact_policy(), []):
            handles = {
                p.email: await client.start_workflow(
                    LearningDayWorkflow.run,
                    LearningDayInput(person_id=p.id, date=THURSDAY, time_scale=SCALE),
                    id=workflow_id_for(p.id, THURSDAY),
                    task_queue=settings.temporal_task_queue,
                )
                for p in people
            }
            for p in people:
                await wait_for_dm(slack_peer, p, f"prompt:{handles[p.email].id}:plan:0")
            for p in (ada, bob, cyd):  # dee never writes a plan
                await handles[p.email].execute_update(LearningDayWorkflow.submit_check_in, plan(f"{p.name}'s topic"))

            async def plans_posted() -> bool:
                return len(keyed(slack_peer.channel_messages("#learning-day"))) == 3

            await eventually(plans_posted, timeout=60, what="three plans in the channel")
            view: DayView = await handles[dee.email].query(LearningDayWorkflow.status)
            assert view.instants is not None and view.prompts_sent == ["plan:prompt:0"]

            server.kill()
            # Down past dee's reminder and plan cutoff: both timers fall due with no server.
            await sleep_until(view.instants.plan_cutoff + dt.timedelta(seconds=1))
            assert dt.datetime.now(dt.UTC) > view.instants.plan_reminders[0]
            server.start()

            for p in people:
                await wait_for_dm(slack_peer, p, f"prompt:{handles[p.email].id}:summary:0")
            for p in (ada, bob):  # cyd never writes a summary
                await handles[p.email].execute_update(LearningDayWorkflow.submit_check_in, summary(f"{p.name} learned"))
            views = {e: await asyncio.wait_for(h.result(), timeout=120) for e, h in handles.items()}

    finally:
        server.stop()

    assert {e: (v.state, v.flags) for e, v in views.items()} == {
        "ada@example.com": ("completed", []),
        "bob@example.com": ("completed", []),
        "cyd@example.com": ("completed", ["missed_summary"]),
        "dee@example.com": ("completed", ["missed_plan", "missed_summary"]),
    }
    assert "plan:reminder:1" in views[dee.email].prompts_sent  # due during the outage, fired after
    for p in people:
        wf = handles[p.email].id
        events = google_peer.events(p.email)
        assert [e["id"] for e in events] == [hold_event_id(p.email, THURSDAY)]
        dms = set(keyed(slack_peer.channel_messages(p.slack_user_id or "")))  # keyed() fails on a repeat
        assert {f"prompt:{wf}:plan:0", f"prompt:{wf}:summary:0"} <= dms
    posts = keyed(slack_peer.channel_messages("#learning-day"))
    assert len(posts) == 3 + 2  # three plans, two summaries, each once
    session.expire_all()
    flags = session.scalars(select(Flag.kind)).all()
    assert sorted(k.value for k in flags) == ["missed_plan", "missed_summary", "missed_summary"]
    sent = session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(sent) == len(set(sent))  # every DM, post and email recorded once
    flagged = {f.person_id for f in session.scalars(select(Flag)).all()}
    manager_id = ada.manager_id
    # One email per flagged day and recipient (the manager and the person), whatever its flags.
    assert sorted(k for k in sent if k.startswith("day-flags:")) == sorted(
        f"day-flags:{p}:{THURSDAY}:{who}" for p in flagged for who in (manager_id, p)
    )
