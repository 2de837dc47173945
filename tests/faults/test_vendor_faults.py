"""A Learning Day through every outside system misbehaving at once, over the real adapters.

Google answers 403 rateLimitExceeded, 429 and 503; Slack answers 429 with Retry-After, a 500,
and once stores a message but drops the connection before answering; the SMTP relay is down
when the manager's email is due and comes back on the same port later. The day must end as it
would have without any of it — one hold, one DM per prompt, one channel post per check-in,
one email per flagged day and recipient — and the operator must see the retries in the logs, without
personal data or secrets in any record.

The day runs at the compact policy's real times on the time-skipping server: the plan goes in
once its prompt is out at 09:01 Berlin, and the clock moves to 09:56 for the flag email; the
vendors' own retries (Google's backoff, Slack's Retry-After, the relay outage) take real time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from learningday.contracts.calendar import hold_event_id
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.models import Flag, OutboxMessage, Person
from learningday.settings import Settings
from tests.faults.relay import PASSWORD, USERNAME, RestartableRelay
from tests.integrations.test_day_end_to_end import (  # noqa: F401 - fixtures
    ADA_SLACK,
    google_peer,
    keyed,
    run_stack,
    settings,
    slack_peer,
)
from tests.mail.smtp_peer import HOST
from tests.peers.google import GooglePeer
from tests.peers.slack import BOT_TOKEN, SlackPeer
from tests.peers.slack_requests import SECRET
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.test_learning_day import compact_policy, plan
from workflows.learning_day import LearningDayWorkflow


@pytest.fixture
def relay() -> Iterator[RestartableRelay]:
    relay = RestartableRelay()
    relay.start()
    yield relay
    relay.stop()


@pytest.fixture
def mail_settings(settings: Settings, relay: RestartableRelay) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": HOST,
            "smtp_port": relay.port,
            "smtp_tls": "none",
            "smtp_username": USERNAME,
            "smtp_password": SecretStr(PASSWORD),
        }
    )


@pytest.fixture
def ada_and_her_manager(session: Session) -> tuple[Person, Person]:
    mia = Person(email="mia@example.com", name="Mia Manager", timezone="Europe/Berlin")
    session.add(mia)
    session.flush()
    ada = Person(
        email="ada@example.com",
        name="Ada Lovelace",
        timezone="Europe/Berlin",
        slack_user_id=ADA_SLACK,
        manager_id=mia.id,
    )
    session.add(ada)
    session.commit()
    return ada, mia


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() + (caplog.handler.format(r) if r.exc_info else "") for r in caplog.records]


async def test_rate_limits_server_errors_and_a_relay_outage_lose_nothing_and_double_nothing(
    skipping_env: WorkflowEnvironment,
    mail_settings: Settings,
    google_peer: GooglePeer,
    slack_peer: SlackPeer,
    relay: RestartableRelay,
    ada_and_her_manager: tuple[Person, Person],
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ada, mia = ada_and_her_manager
    google_peer.fail_next(1, status=403)  # rateLimitExceeded
    google_peer.fail_next(1, status=429)
    google_peer.fail_next(1, status=503)
    slack_peer.fail_next("chat.postMessage", "rate_limited", times=3)
    slack_peer.fail_next("chat.postMessage", "server_error")
    slack_peer.fail_next("chat.postMessage", "drop_after_store")
    relay.stop()  # down until the flag email has been refused at least once

    date = thursday_ahead(await skipping_env.get_current_time(), compact_policy())
    async with run_stack(skipping_env, mail_settings, google_peer, slack_peer, compact_policy(), []) as stack:
        handle = await stack.client.start_workflow(
            LearningDayWorkflow.run,
            LearningDayInput(person_id=ada.id, date=date),
            id=workflow_id_for(ada.id, date),
            task_queue=mail_settings.temporal_task_queue,
        )
        wf = handle.id
        await advance_to(skipping_env, berlin(date, 9, 1))

        async def prompted() -> bool:
            return f"prompt:{wf}:plan:0" in keyed(slack_peer.channel_messages(ADA_SLACK))

        await eventually(prompted, timeout=60, what="the plan prompt")
        await handle.execute_update(LearningDayWorkflow.submit_check_in, plan("Raft, then leader election"))
        # No summary: the day flags it at the cutoff, and the day's flag email meets a dead relay.
        await advance_to(skipping_env, berlin(date, 9, 56))

        async def refused() -> bool:
            return any("unreachable while sending email day-flags:" in m for m in messages(caplog))

        await eventually(refused, timeout=120, what="the flag email refused by the stopped relay")
        relay.start()
        view: DayView = await handle.result()

    # Nothing lost.
    assert (view.state, view.flags) == ("completed", ["missed_summary"])
    # Nothing doubled.
    assert [e["id"] for e in google_peer.events(ada.email)] == [hold_event_id(ada.email, date)]
    dms = keyed(slack_peer.channel_messages(ADA_SLACK))  # keyed() fails on a repeated key
    assert {f"prompt:{wf}:plan:0", f"prompt:{wf}:summary:0"} <= set(dms)
    assert set(keyed(slack_peer.channel_messages("#learning-day"))) == {f"channel:{wf}:plan"}
    assert sorted(relay.recipients_of()) == [ada.email, mia.email]  # one email each
    session.expire_all()
    session.scalars(select(Flag)).one()
    sent = session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(sent) == len(set(sent))
    day = f"day-flags:{ada.id}:{date}"
    assert sorted(k for k in sent if k.startswith("day-flags:")) == sorted([f"{day}:{mia.id}", f"{day}:{ada.id}"])
    # Every fault was met (the peers' knobs are used up) and retried.
    assert len(slack_peer.rate_limited) == 3
    assert [r.status for r in google_peer.api_requests() if r.status and r.status >= 400][:3] == [403, 429, 503]

    # The operator sees each kind of retry in the logs.
    logged = messages(caplog)
    google_retries = [m for m in logged if m.startswith("Sleeping") and "before retry" in m]
    assert len(google_retries) >= 3
    slack_waits = [r for r in caplog.records if "rate-limited (429)" in r.getMessage()]
    assert slack_waits and all(r.levelno == logging.WARNING for r in slack_waits)
    assert any("SlackDeliveryError" in m or "internal_error" in m for m in logged)
    assert any("unreachable while sending email" in m and "will retry" in m for m in logged)
    for retry in google_retries + [m for m in logged if "will retry" in m]:
        assert "@example.com" not in retry and "Lovelace" not in retry
    # …and no secret, at any level, in any record.
    for secret in (BOT_TOKEN, SECRET, PASSWORD, "test-secret-key"):
        assert not [m for m in logged if secret in m], f"a log record carries a secret ({secret[:4]}…)"
