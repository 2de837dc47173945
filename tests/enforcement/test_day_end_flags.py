"""The day's end, through a real SMTP server: used for work is judged that evening (not on
Monday), and a manager hears of one person's day once, however many flags it raised. Each test
failed before the change (see its comment).

The days run uncompressed on the time-skipping test server, on the next working Thursday of its
clock: a check-in is sent a minute after its prompt, at that minute of the day (`run_day`).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle

from learningday.contracts.audit import AuditInput
from learningday.contracts.calendar import CalendarEvent, EventQuery
from learningday.contracts.day import CheckInUpdate, DayView, LearningDayInput, SkipRequest, workflow_id_for
from learningday.db.models import (
    AuditEntry,
    DayState,
    DeliveryProblem,
    Flag,
    FlagKind,
    LearningDay,
    OutboxMessage,
    Person,
)
from policies.policy import Policy
from tests.enforcement.conftest import CalendarWithEvents, Org, Smtp, Workers, next_thursday, smtp_mailer
from tests.enforcement.test_flag_emails import parts
from tests.workflows.clock import advance_to
from tests.workflows.test_learning_day import compact_policy, prompted
from workflows.learning_day import LearningDayWorkflow
from workflows.weekly_audit import WeeklyAuditWorkflow

BERLIN = ZoneInfo("Europe/Berlin")  # Ada's zone; the compact day is 09:00-10:00 there


@pytest.fixture
def workers(skipping_workers: Workers) -> Workers:
    """Every day in this module runs on the time-skipping test server."""
    return skipping_workers


def day_label(date: dt.date) -> str:
    """How an email's subject names a day: "Thu 07 Jan"."""
    return f"{date:%a %d %b}"


def meetings_count_after(minutes: int) -> Policy:
    """The compact day (an hour long) with a meeting allowance it can exceed."""
    policy = compact_policy()
    return policy.model_copy(
        update={"used_for_work": policy.used_for_work.model_copy(update={"meeting_allowance_minutes": minutes})}
    )


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), BERLIN).astimezone(dt.UTC)


def sprint_planning(day: dt.date) -> CalendarEvent:
    return CalendarEvent(
        "m1", "Sprint planning", at(day, 9), at(day, 9, 45), response_status="accepted", attendee_count=6
    )


async def start(w: Workers, person: Person, date: dt.date) -> WorkflowHandle:
    return await w.env.client.start_workflow(
        LearningDayWorkflow.run,
        LearningDayInput(person_id=person.id, date=date),
        id=workflow_id_for(person.id, date),
        task_queue=w.settings.temporal_task_queue,
    )


async def run_day(
    w: Workers, person: Person, date: dt.date, plan: str | None = None, summary: str | None = None
) -> DayView:
    """The day to its end; the plan sent at 09:01 and the summary at 09:31, a minute after their prompts."""
    handle = await start(w, person, date)
    for kind, text, at_minute in (("plan", plan, 1), ("summary", summary, 31)):
        if text is not None:
            await advance_to(w.env, at(date, 9, at_minute))
            await prompted(handle, f"{kind}:prompt:0")
            await handle.execute_update(
                LearningDayWorkflow.submit_check_in, CheckInUpdate(kind=kind, text=text, source="web")
            )
    return await handle.result()


def subjects(smtp: Smtp, address: str) -> list[str]:
    return [r.message["Subject"].strip() for r in smtp.to(address)]


async def test_two_missed_check_ins_of_one_day_reach_the_manager_in_one_email(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    # Before: Maria got two emails, "No plan posted" at the plan's cutoff and "No summary posted" at the summary's.
    workers.policy = compact_policy()
    date = await next_thursday(workers)
    async with workers.running(smtp_mailer(smtp)):
        view = await run_day(workers, org.ada, date)

    assert view.flags == ["missed_plan", "missed_summary"]
    subject = f"Ada Lovelace: No plan posted, No summary posted ({day_label(date)})"
    assert subjects(smtp, "maria@example.com") == [subject]
    assert subjects(smtp, "ada@example.com") == [subject]
    text, html = parts(smtp.to("maria@example.com")[0].message)
    for part in (text, html):
        assert "No plan by the deadline plus grace" in part and "No summary by the deadline plus grace" in part
    for flag in session.scalars(select(Flag)):
        cutoff = dt.datetime.fromisoformat(flag.evidence["cutoff"]).astimezone(ZoneInfo("Europe/London"))
        assert f"Deadline plus grace: {cutoff:%a %d %b %H:%M} (Europe/London)" in text  # each flag's evidence
    assert len(re.findall(r"http://[^/]+/excuse/\S+", text)) == 2 and html.count("Excuse this flag") == 2
    ada_text, _ = parts(smtp.to("ada@example.com")[0].message)
    assert "/excuse/" not in ada_text
    keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == {
        f"day-flags:{org.ada.id}:{date}:{org.maria.id}",
        f"day-flags:{org.ada.id}:{date}:{org.ada.id}",
    }


async def test_a_day_used_for_work_is_flagged_at_its_end_with_its_evidence(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    # Before: the day ended with no flag; the manager heard only from the next Monday's audit.
    workers.policy = meetings_count_after(15)
    date = await next_thursday(workers)
    workers.calendar.events["ada@example.com"] = [sprint_planning(date)]
    async with workers.running(smtp_mailer(smtp)):
        view = await run_day(
            workers,
            org.ada,
            date,
            plan="Raft paper, then implement leader election",
            summary="Mostly the jira ticket for the release",
        )

    assert view.state == "completed" and view.flags == ["used_for_work"]
    flag = session.scalars(select(Flag)).one()
    assert (flag.kind, flag.date) == (FlagKind.used_for_work, date)
    assert "45 minutes of meetings" in flag.reason and "the summary reads as project work" in flag.reason
    assert flag.evidence["facts"] == [
        "Meeting accepted: Sprint planning (6 attendees)",
        "Work words in the summary: jira, ticket, release",
    ]
    assert [e["title"] for e in flag.evidence["events"]] == ["Sprint planning"]
    [mail] = smtp.to("maria@example.com")
    assert mail.message["Subject"].strip() == f"Ada Lovelace: Learning Day used for work ({day_label(date)})"
    text, _ = parts(mail.message)
    assert f"{day_label(date)} 08:00-08:45  Sprint planning" in text  # the meeting, in Maria's London time
    assert "Summary followed the plan: no" in text
    day = session.scalars(select(LearningDay)).one()
    assert day.followed_plan is False
    judged = session.scalars(select(AuditEntry).where(AuditEntry.action == "work_judged")).one()
    assert (judged.subject_id, judged.details) == (str(day.id), {"flagged": True, "calendar_read": True})


class CalendarDownAfterTheMorning(CalendarWithEvents):
    """Answers the morning's out-of-office check, then fails every read (after the vendor
    client's own retries)."""

    reads: int = 0

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        self.reads += 1
        if self.reads > 1:
            raise RuntimeError("calendar.events.list: 503 after 5 retries")
        return super().list_events(query)


async def test_a_calendar_unreadable_at_the_days_end_is_a_problem_and_the_day_completes(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    # Before: no day-end read at all, so nothing recorded (and no used-for-work judgement).
    workers.policy = compact_policy()
    workers.calendar = CalendarDownAfterTheMorning()
    date = await next_thursday(workers)
    async with workers.running(smtp_mailer(smtp)):
        view = await run_day(
            workers,
            org.ada,
            date,
            plan="Category theory, chapter 1",
            summary="A hotfix for the billing service",
        )

    assert view.state == "completed" and view.problems == ["calendar:day-end"]
    problem = session.scalars(select(DeliveryProblem)).one()
    assert (problem.step, problem.reason) == ("day_end_calendar", "calendar.events.list: 503 after 5 retries")
    assert problem.outcome == "used for work was judged on the plan and summary only: meetings were not counted"
    assert view.flags == ["used_for_work"]  # the words still count
    flag = session.scalars(select(Flag)).one()
    assert flag.evidence == {"facts": ["Work words in the summary: hotfix"], "events": []}
    assert subjects(smtp, "maria@example.com") == [f"Ada Lovelace: Learning Day used for work ({day_label(date)})"]


async def test_the_weekly_audit_judges_spillover_only_for_a_day_judged_at_its_end(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    # Before: the day raised nothing and Monday's audit raised both flags (2 instead of 1).
    workers.policy = meetings_count_after(15)
    date = await next_thursday(workers)
    tuesday = date - dt.timedelta(days=2)
    workers.calendar.events["ada@example.com"] = [
        sprint_planning(date),
        CalendarEvent("s1", "Self-study: Rust", at(tuesday, 9), at(tuesday, 13), attendee_count=1, organizer_self=True),
    ]
    async with workers.running(smtp_mailer(smtp)):
        view = await run_day(workers, org.ada, date, plan="Raft paper", summary="Raft paper, the log part")
        assert view.flags == ["used_for_work"]
        used_for_work = f"Ada Lovelace: Learning Day used for work ({day_label(date)})"
        assert subjects(smtp, "maria@example.com") == [used_for_work]
        result = await workers.env.client.execute_workflow(
            WeeklyAuditWorkflow.run,
            AuditInput(week_start=date - dt.timedelta(days=3)),
            id=f"audit-day-end-{workers.settings.temporal_task_queue}",
            task_queue=workers.settings.temporal_task_queue,
        )

    assert result.flags == 1  # spillover; the day's used for work was judged and mailed that evening
    kinds = sorted(f.kind.value for f in session.scalars(select(Flag)))
    assert kinds == ["spillover", "used_for_work"]
    to_maria = subjects(smtp, "maria@example.com")
    assert to_maria[:2] == [
        used_for_work,
        f"Ada Lovelace: Learning spilled into other weekdays ({day_label(tuesday)})",
    ]
    assert len(to_maria) == 3 and to_maria[2].startswith("Learning Day digest")


async def test_the_third_miss_in_a_row_escalates_the_days_one_email(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    # Before: Grace got two escalation emails about the one day.
    workers.policy = compact_policy()
    date = await next_thursday(workers)
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
        await run_day(workers, org.ada, date)

    assert subjects(smtp, "grace@example.com") == [
        f"Escalated: Ada Lovelace: No plan posted, No summary posted ({day_label(date)}), 3 in a row"
    ]
    text, _ = parts(smtp.to("grace@example.com")[0].message)
    assert "3 missed Learning Days in a row: you receive it as the manager's manager" in text
    assert len(smtp.to("maria@example.com")) == 1 and len(smtp.to("ada@example.com")) == 1


async def test_a_day_skipped_after_a_missed_plan_still_tells_of_the_miss_once(
    workers: Workers, org: Org, smtp: Smtp, session: Session
) -> None:
    workers.policy = compact_policy()
    date = await next_thursday(workers)
    async with workers.running(smtp_mailer(smtp)):
        handle = await start(workers, org.ada, date)
        await advance_to(workers.env, at(date, 9, 31))
        await prompted(handle, "summary:prompt:0")  # the plan's cutoff has passed: flagged, not yet told
        assert smtp.to("maria@example.com") == []
        await handle.execute_update(LearningDayWorkflow.skip, SkipRequest(reason="Called away to a customer site"))
        view: DayView = await handle.result()

    assert (view.state, view.flags) == ("skipped", ["missed_plan"])
    assert subjects(smtp, "maria@example.com") == [f"Ada Lovelace: No plan posted ({day_label(date)})"]
    assert not session.scalars(
        select(AuditEntry).where(AuditEntry.action == "work_judged")
    ).all()  # a skipped day is not judged
