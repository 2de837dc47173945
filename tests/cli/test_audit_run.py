"""`learningday audit run --week`: a dry run shows each person's would-be flags with their evidence
and the digests, and writes nothing; `--send` runs the real weekly audit once per week; a date
that is not a Monday means its week; a week not over, or a date that is not one, is refused in
one line."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from learningday.cli import app
from learningday.contracts.audit import audit_workflow_id
from learningday.contracts.calendar import CalendarEvent, hold_event_id
from learningday.db.models import (
    AuditEntry,
    CalendarHold,
    CheckIn,
    CheckInKind,
    DayState,
    DeliveryProblem,
    Flag,
    FlagKind,
    LearningDay,
    OutboxMessage,
)
from learningday.settings import get_settings
from learningday.temporal.devserver import free_port
from policies.spillover import week_start
from tests.enforcement.conftest import Org, Smtp, Workers, org, smtp, smtp_mailer, workers  # noqa: F401 - fixtures

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")
# Weeks that have ended whatever day the suite runs; one per test that sends (audit ids are per week).
MONDAY = week_start(dt.date.today()) - dt.timedelta(weeks=3)
SENT_MONDAY = MONDAY - dt.timedelta(weeks=1)


def at(day: dt.date, hh: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh), BERLIN).astimezone(dt.UTC)


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def held_day(session: Session, person_id: int, date: dt.date, summary: str, judged_at_its_end: bool) -> None:
    day = LearningDay(person_id=person_id, date=date, state=DayState.completed)
    session.add(day)
    session.flush()
    now = dt.datetime.now(dt.UTC)
    session.add_all(
        [
            CheckIn(learning_day_id=day.id, kind=CheckInKind.plan, text="Raft paper", submitted_at=now),
            CheckIn(learning_day_id=day.id, kind=CheckInKind.summary, text=summary, submitted_at=now),
        ]
    )
    if judged_at_its_end:  # as the day's end records it: the judgement, and the flag it raised
        session.add(
            AuditEntry(
                actor="system",
                action="work_judged",
                subject_type="learning_day",
                subject_id=str(day.id),
                details={"flagged": True, "calendar_read": True},
            )
        )
        session.add(
            Flag(
                person_id=person_id,
                learning_day_id=day.id,
                kind=FlagKind.used_for_work,
                date=date,
                reason="Learning Day used for work: the summary reads as project work.",
                raised_at=now,
            )
        )


@pytest.fixture
def week_of_ada_and_bob(org: Org, session: Session) -> Org:  # noqa: F811 - fixture
    """Ada kept a Learning Day hold on Tuesday too (spillover) and her Thursday, run before the
    day-end judgement, reads as project work; Bob's Thursday reads as work as well, but was
    judged (and mailed) at its end."""
    tuesday, thursday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=3)
    session.add(
        CalendarHold(
            event_id=hold_event_id(org.ada.email, tuesday),
            person_id=org.ada.id,
            date=tuesday,
            title="Learning Day",
            starts_at=at(tuesday, 9),
            ends_at=at(tuesday, 13),
            status="confirmed",
            sequence=0,
        )
    )
    held_day(session, org.ada.id, thursday, "A hotfix for the billing service", judged_at_its_end=False)
    held_day(session, org.bob.id, thursday, "The jira ticket", judged_at_its_end=True)
    session.commit()
    return org


def rows(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Flag, OutboxMessage, AuditEntry, DeliveryProblem)
    }


def test_a_dry_run_shows_each_persons_flags_with_evidence_and_the_digests_and_writes_nothing(
    week_of_ada_and_bob: Org, session: Session, fresh_settings: pytest.MonkeyPatch
) -> None:
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")  # a dry run needs no Temporal
    fresh_settings.delenv("LEARNINGDAY_POLICY_FILE", raising=False)
    before = rows(session)
    thursday = MONDAY + dt.timedelta(days=3)

    result = runner.invoke(app, ["audit", "run", "--week", thursday.isoformat()])

    assert result.exit_code == 0, result.output
    assert lines(result.output) == [
        f"{thursday} is a Thursday: auditing its week, which starts on Monday {MONDAY}.",
        f"Weekly audit of the week of {MONDAY:%a %d %b %Y}, dry run: nothing is sent or written.",
        "Grace Hopper <grace@example.com>: nothing to flag",
        "Maria Agnesi <maria@example.com>: nothing to flag",
        "Ada Lovelace <ada@example.com>: would flag",
        f"  Learning Day used for work ({thursday:%a %d %b}): email to maria@example.com (manager), ada@example.com (person)",
        "    Learning Day used for work: the summary reads as project work.",
        "    - Work words in the summary: hotfix",
        f"  Learning spilled into other weekdays ({MONDAY + dt.timedelta(days=1):%a %d %b}): "
        "email to maria@example.com (manager), ada@example.com (person)",
        "    Weekday spillover: 240 minutes of learning on other weekdays (allowance 120 a week).",
        "    - Learning Day hold on Tuesday: Learning Day",
        "Bob Noyce <bob@example.com>: nothing to flag",  # judged at his day's end: not again
        "Digests that would go (2):",
        "  Grace Hopper <grace@example.com>: 0 flags",
        "  Maria Agnesi <maria@example.com>: 3 flags",  # Bob's, raised at his day's end, and Ada's two
        f"To raise these flags and send the emails: learningday audit run --week {MONDAY} --send",
    ]
    assert rows(session) == before


def test_a_monday_is_its_own_week(week_of_ada_and_bob: Org, fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.delenv("LEARNINGDAY_POLICY_FILE", raising=False)
    result = runner.invoke(app, ["audit", "run", "--week", MONDAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert (
        lines(result.output)[0]
        == f"Weekly audit of the week of {MONDAY:%a %d %b %Y}, dry run: nothing is sent or written."
    )


@pytest.mark.parametrize(
    ("week", "says"),
    [
        ("2026-02-30", "Error: --week '2026-02-30' is not a date: day is out of range for month"),
        ("2026-13-01", "Error: --week '2026-13-01' is not a date: month must be in 1..12"),
        ("next monday", "Error: --week 'next monday' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-09"),
        ("20261109", "Error: --week '20261109' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-09"),
    ],
)
def test_a_malformed_week_names_the_option_and_the_reason(week: str, says: str, session: Session) -> None:
    result = runner.invoke(app, ["audit", "run", "--week", week])
    assert result.exit_code == 1
    assert lines(result.output) == [says]


def test_a_future_week_and_the_current_one_are_refused(session: Session) -> None:
    today = dt.date.today()
    future = week_start(today) + dt.timedelta(weeks=2, days=2)
    result = runner.invoke(app, ["audit", "run", "--week", future.isoformat(), "--send"])
    assert result.exit_code == 1
    [line] = lines(result.output)
    assert line.startswith(
        f"Error: --week {future}: the week of {week_start(future):%a %d %b %Y} is in the future (today is "
    )
    current = week_start(today)
    result = runner.invoke(app, ["audit", "run", "--week", current.isoformat()])
    assert result.exit_code == 1
    assert lines(result.output) == [
        f"Error: --week {current}: the week of {current:%a %d %b %Y} has not ended yet "
        f"(it ends on Sunday {current + dt.timedelta(days=6)})"
    ]


async def test_send_runs_the_weeks_audit_once_however_often_it_is_asked(
    workers: Workers,
    org: Org,
    smtp: Smtp,
    session: Session,
    fresh_settings: pytest.MonkeyPatch,  # noqa: F811 - fixtures
) -> None:
    tuesday = SENT_MONDAY + dt.timedelta(days=1)
    workers.calendar.events["ada@example.com"] = [
        CalendarEvent("s1", "Self-study: Rust", at(tuesday, 9), at(tuesday, 13), attendee_count=1, organizer_self=True),
    ]
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", workers.env.client.service_client.config.target_host)
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_TASK_QUEUE", workers.settings.temporal_task_queue)
    get_settings.cache_clear()
    send = ["audit", "run", "--week", SENT_MONDAY.isoformat(), "--send"]
    async with workers.running(smtp_mailer(smtp)):
        first = await asyncio.to_thread(runner.invoke, app, send)
        emailed = sorted((r.rcpt_tos[0], r.message["Subject"].strip()) for r in smtp.handler.received)
        second = await asyncio.to_thread(runner.invoke, app, send)

    assert first.exit_code == 0, first.output
    workflow_id = audit_workflow_id(SENT_MONDAY)
    assert lines(first.output) == [
        f"Auditing the week of {SENT_MONDAY:%a %d %b %Y} (workflow {workflow_id}); Ctrl-C stops waiting, not the audit.",
        "Done: 1 flag raised or found again, digests for 2 managers; an email already sent is never sent again.",
    ]
    spilled = f"Ada Lovelace: Learning spilled into other weekdays ({tuesday:%a %d %b})"
    assert [subject for _, subject in emailed].count(spilled) == 2  # Maria and Ada
    assert len(emailed) == 4  # and the digests to Maria and Grace
    assert second.exit_code == 0, second.output
    assert lines(second.output) == [
        f"The audit of the week of {SENT_MONDAY:%a %d %b %Y} was already run (workflow {workflow_id}): "
        "nothing was started or sent again."
    ]
    assert len(smtp.handler.received) == 4


async def test_send_with_no_worker_running_says_so_and_returns_instead_of_waiting_forever(
    temporal_env: WorkflowEnvironment,
    engine: object,
    fresh_settings: pytest.MonkeyPatch,  # noqa: F811 - fixtures
) -> None:
    """A newcomer who runs `--send` before `learningday serve` gets an answer, not a silent wait:
    the audit stays queued in Temporal and runs once a worker polls its task queue."""
    monday = SENT_MONDAY - dt.timedelta(weeks=1)
    queue = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    fresh_settings.setenv("LEARNINGDAY_TEMPORAL_TASK_QUEUE", queue)
    get_settings.cache_clear()

    sent = await asyncio.wait_for(
        asyncio.to_thread(runner.invoke, app, ["audit", "run", "--week", monday.isoformat(), "--send"]), 30
    )

    assert sent.exit_code == 0, sent.output
    workflow_id = audit_workflow_id(monday)
    assert lines(sent.output)[-1] == (
        f"No worker polls the task queue {queue!r}: the audit of the week of {monday:%a %d %b %Y} waits in "
        f"Temporal (workflow {workflow_id}) and runs once `learningday serve` or `learningday worker` is running."
    )
    described = await temporal_env.client.get_workflow_handle(workflow_id).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING and described.task_queue == queue
    await temporal_env.client.get_workflow_handle(workflow_id).terminate("test over")
