"""Flag emails from a real Learning Day through a real SMTP server: who gets them, what they
say, escalation, and exactly once across a worker restart.

The days run uncompressed on the time-skipping test server, on the next working Thursday of its
clock; the plan is sent at 09:01, a minute after its prompt, and nobody sends a summary. The
worker restart runs on the real dev server.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle

from learningday.contracts.day import CheckInUpdate, LearningDayInput, workflow_id_for
from learningday.db.models import DayState, Flag, FlagKind, LearningDay, OutboxMessage
from tests.enforcement.conftest import THURSDAY, CrashAfterFirstSend, Org, Smtp, Workers, next_thursday, smtp_mailer
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow


async def ada_on_the_compact_day(w: Workers) -> dt.date:
    w.policy = compact_policy()
    return await next_thursday(w)


async def run_day_without_summary(w: Workers, org: Org, date: dt.date) -> WorkflowHandle:
    """Ada's compact day (09:00-10:00 Berlin) with a plan at 09:01 and no summary."""
    handle = await w.env.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=org.ada.id, date=date),
        id=workflow_id_for(org.ada.id, date),
        task_queue=w.settings.temporal_task_queue,
    )
    await advance_to(w.env, berlin(date, 9, 1))

    async def prompted() -> bool:
        return "plan:prompt:0" in (await handle.query(LearningDayWorkflow.status)).prompts_sent

    await eventually(prompted, what="plan prompt")
    await handle.execute_update(
        LearningDayWorkflow.submit_check_in,
        CheckInUpdate(kind="plan", text="Read the Raft paper; why: our storage layer", source="web"),
    )
    return handle


def parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


async def test_a_missed_summary_is_emailed_to_the_manager_and_the_person_with_context(
    skipping_workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    workers = skipping_workers
    date = await ada_on_the_compact_day(workers)
    async with workers.running(smtp_mailer(smtp)):
        handle = await run_day_without_summary(workers, org, date)
        view = await handle.result()
    assert view.flags == ["missed_summary"]
    flag = session.scalars(select(Flag)).one()

    [to_maria] = smtp.to("maria@example.com")
    [to_ada] = smtp.to("ada@example.com")
    assert len(smtp.handler.received) == 2
    message = to_maria.message
    assert message["Subject"].strip() == f"Ada Lovelace: No summary posted ({date:%a %d %b})"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    for part in (text, html):
        assert "Hello Maria Agnesi" in part
        assert "No summary by the deadline plus grace" in part
        assert "Read the Raft paper" in part  # the plan is evidence
        assert "Europe/London" in part  # times in the manager's timezone
    cutoff = dt.datetime.fromisoformat(flag.evidence["cutoff"]).astimezone(ZoneInfo("Europe/London"))
    assert f"Deadline plus grace: {cutoff:%a %d %b %H:%M} (Europe/London)" in text
    assert re.search(r"http://[^/]+/excuse/\S+", text)
    assert "Excuse this flag" in html
    text_ada, _ = parts(to_ada.message)
    assert "Hello Ada Lovelace" in text_ada and "/excuse/" not in text_ada
    keys = set(session.scalars(select(OutboxMessage.idempotency_key)))  # one email per reader for the day
    assert keys >= {
        f"day-flags:{org.ada.id}:{date}:{org.maria.id}",
        f"day-flags:{org.ada.id}:{date}:{org.ada.id}",
    }


async def test_the_third_miss_in_a_row_also_goes_to_the_managers_manager(
    skipping_workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    workers = skipping_workers
    date = await ada_on_the_compact_day(workers)
    for weeks_ago in (2, 1):
        earlier = date - dt.timedelta(weeks=weeks_ago)
        day = LearningDay(person_id=org.ada.id, date=earlier, state=DayState.learning)
        session.add(day)
        session.flush()
        session.add(
            Flag(
                person_id=org.ada.id,
                learning_day_id=day.id,
                kind=FlagKind.missed_summary,
                date=earlier,
                reason="No summary",
                evidence={},
                raised_at=dt.datetime.now(dt.UTC),
            )
        )
    session.commit()

    async with workers.running(smtp_mailer(smtp)):
        await (await run_day_without_summary(workers, org, date)).result()

    [to_grace] = smtp.to("grace@example.com")
    assert (
        to_grace.message["Subject"].strip()
        == f"Escalated: Ada Lovelace: No summary posted ({date:%a %d %b}), 3 in a row"
    )
    text, html = parts(to_grace.message)
    assert "3 missed Learning Days in a row: you receive it as the manager's manager" in text
    assert "America/New_York" in html
    assert "✗ ✗ ✗" in text  # the last three weeks of the record
    assert len(smtp.to("maria@example.com")) == 1 and len(smtp.to("ada@example.com")) == 1


async def test_a_worker_dying_mid_send_never_sends_twice(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    """On the real dev server, which hands a dead worker's cached workflow to the next worker (the
    test server never does), with a compressed day nobody answers: nothing to send in time."""
    workers.policy = compact_policy()
    crashing = CrashAfterFirstSend(smtp_mailer(smtp))
    async with workers.running(crashing):
        handle = await workers.env.client.start_workflow(
            LearningDayWorkflow.run,
            LearningDayInput(person_id=org.ada.id, date=THURSDAY, time_scale=600),
            id=workflow_id_for(org.ada.id, THURSDAY) + "-" + workers.settings.temporal_task_queue,
            task_queue=workers.settings.temporal_task_queue,
        )

        async def one_sent() -> bool:
            return crashing.sent_one.is_set()

        await eventually(one_sent, what="the first flag email to go out")
        crashing.release.set()  # the stalled activity now fails; the worker shuts down
    assert len(smtp.handler.received) == 1

    async with workers.running(smtp_mailer(smtp)):  # a fresh worker takes over the retry
        view = await handle.result()

    assert view.flags == ["missed_plan", "missed_summary"]  # told together: one email per reader
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == ["ada@example.com", "maria@example.com"]
    ids = [r.message["Message-ID"] for r in smtp.handler.received]
    assert len(set(ids)) == 2
    assert session.query(OutboxMessage).filter(OutboxMessage.idempotency_key.like("day-flags:%")).count() == 2
