"""The weekly audit on the real Temporal dev server, mailing through the Gmail API (the real
googleapiclient against the local Google peer): used for work, spillover, digest, once each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.mail.gmail import GmailMailer
from learningday.contracts.audit import AuditInput, AuditResult
from learningday.contracts.calendar import CalendarEvent
from learningday.db.models import Absence, CheckIn, CheckInKind, DayState, Flag, LearningDay
from tests.enforcement.conftest import MONDAY, THURSDAY, Org, Workers
from tests.peers.google import GooglePeer
from workflows.weekly_audit import WeeklyAuditWorkflow

SENDER = "learning-day@example.com"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def peer() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer
        assert peer.schema_errors == []


@pytest.fixture
def gmail(peer: GooglePeer, tmp_path: Path) -> GmailMailer:
    key = tmp_path / "sa.json"
    peer.write_key_file(key)
    return GmailMailer(SENDER, key, api_endpoint=peer.url, num_retries=1, timeout=5)


def at(day: dt.date, hh: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh), BERLIN).astimezone(dt.UTC)


def ada_had_a_busy_week(session: Session, org: Org, w: Workers) -> None:
    day = LearningDay(person_id=org.ada.id, date=THURSDAY, state=DayState.completed)
    session.add(day)
    session.flush()
    now = dt.datetime.now(dt.UTC)
    session.add_all(
        [
            CheckIn(
                learning_day_id=day.id,
                kind=CheckInKind.plan,
                text="Raft paper, then implement leader election",
                submitted_at=now,
            ),
            CheckIn(
                learning_day_id=day.id,
                kind=CheckInKind.summary,
                text="Mostly the Jira ticket for the release",
                submitted_at=now,
            ),
        ]
    )
    session.commit()
    w.calendar.events["ada@example.com"] = [
        CalendarEvent(
            "m1", "Sprint planning", at(THURSDAY, 10), at(THURSDAY, 12), response_status="accepted", attendee_count=6
        ),
        CalendarEvent(
            "s1",
            "Self-study: Rust",
            at(MONDAY + dt.timedelta(days=1), 9),
            at(MONDAY + dt.timedelta(days=1), 13),
            attendee_count=1,
            organizer_self=True,
        ),
    ]


async def run_audit(w: Workers, run_id: str) -> AuditResult:
    return await w.env.client.execute_workflow(
        WeeklyAuditWorkflow.run,
        AuditInput(week_start=MONDAY, page_size=2),  # four people: two pages, continued as new
        id=f"audit-{run_id}-{w.settings.temporal_task_queue}",
        task_queue=w.settings.temporal_task_queue,
    )


async def test_the_audit_flags_work_and_spillover_and_sends_each_email_once(
    workers: Workers, org: Org, session: Session, gmail: GmailMailer, peer: GooglePeer
) -> None:
    ada_had_a_busy_week(session, org, workers)
    async with workers.running(gmail):
        result = await run_audit(workers, "1")
        again = await run_audit(workers, "2")  # a re-run raises and sends nothing new

    assert (result.flags, result.digests) == (2, 2)  # digests: Maria (Ada, Bob) and Grace (Maria)
    assert again.flags == 2
    flags = {f.kind.value: f for f in session.scalars(select(Flag).where(Flag.person_id == org.ada.id))}
    assert set(flags) == {"used_for_work", "spillover"}
    work = flags["used_for_work"]
    assert work.date == THURSDAY
    assert "120 minutes of meetings" in work.reason and "the summary reads as project work" in work.reason
    assert "Work words in the summary: jira, ticket, release" in work.evidence["facts"]
    assert flags["spillover"].date == MONDAY
    assert session.scalar(select(LearningDay.followed_plan).where(LearningDay.person_id == org.ada.id)) is False

    by_subject: dict[str, list[str]] = {}
    for mail in peer.mail:
        by_subject.setdefault(mail.message["Subject"].strip(), []).append(mail.message["To"])
    assert sorted(by_subject["Ada Lovelace: Learning Day used for work (Thu 03 Dec)"]) == [
        "ada@example.com",
        "maria@example.com",
    ]
    # The spillover flag is stored on the week's Monday; its subject names the day it spilled onto.
    assert sorted(by_subject["Ada Lovelace: Learning spilled into other weekdays (Tue 01 Dec)"]) == [
        "ada@example.com",
        "maria@example.com",
    ]
    digest_to_maria = next(
        m.message for m in peer.mail if m.message["To"] == "maria@example.com" and "digest" in m.message["Subject"]
    )
    assert digest_to_maria["Subject"] == "Learning Day digest, week of 30 Nov: 2 flags"
    text = digest_to_maria.get_body(preferencelist=("plain",)).get_content()
    html = digest_to_maria.get_body(preferencelist=("html",)).get_content()
    assert "Ada Lovelace" in text and "Bob Noyce" in text
    assert "Raft paper, then implement leader election" in html  # the topic
    assert "!" in text.split("Ada Lovelace")[1].splitlines()[0]  # Tuesday's spillover cell
    flag_mail = next(
        m.message
        for m in peer.mail
        if m.message["To"] == "maria@example.com" and "used for work" in m.message["Subject"]
    )
    flag_text = flag_mail.get_body(preferencelist=("plain",)).get_content()
    assert "Sprint planning" in flag_text and "Thu 03 Dec 09:00-11:00" in flag_text  # London time
    assert "Summary followed the plan: no" in flag_text
    assert len(peer.mail) == 6  # 2 flags × 2 recipients + 2 digests, nothing from the re-run


async def test_the_audit_judges_only_days_that_took_place(
    workers: Workers, org: Org, session: Session, gmail: GmailMailer, peer: GooglePeer
) -> None:
    # Ada's Thursday was held; Bob's was skipped (an exception recorded): the same meetings and
    # the same words are used for work on Ada's day and nothing on Bob's.
    ada_had_a_busy_week(session, org, workers)
    bobs = LearningDay(person_id=org.bob.id, date=THURSDAY, state=DayState.skipped)
    session.add(bobs)
    session.flush()
    session.add(
        CheckIn(
            learning_day_id=bobs.id,
            kind=CheckInKind.plan,
            text="The Jira ticket for the release",
            submitted_at=dt.datetime.now(dt.UTC),
        )
    )
    session.commit()
    workers.calendar.events["bob@example.com"] = [
        CalendarEvent(
            "m2", "Sprint planning", at(THURSDAY, 10), at(THURSDAY, 12), response_status="accepted", attendee_count=6
        )
    ]
    async with workers.running(gmail):
        await run_audit(workers, "held")

    kinds = session.scalars(select(Flag.kind).where(Flag.person_id == org.ada.id)).all()
    assert sorted(k.value for k in kinds) == ["spillover", "used_for_work"]
    assert session.scalars(select(Flag).where(Flag.person_id == org.bob.id)).all() == []


async def test_learning_blocks_in_an_absence_recorded_in_the_service_are_not_spillover(
    workers: Workers, org: Org, session: Session, gmail: GmailMailer, peer: GooglePeer
) -> None:
    # Ada's Tuesday block is spillover (as above); Bob has the same block on his Tuesday, but an
    # absence recorded for that day makes it time away, not learning leaking into the week.
    ada_had_a_busy_week(session, org, workers)
    tuesday = MONDAY + dt.timedelta(days=1)
    session.add(Absence(person_id=org.bob.id, start_date=tuesday, end_date=tuesday, reason="Conference"))
    session.commit()
    los_angeles = ZoneInfo("America/Los_Angeles")
    workers.calendar.events["bob@example.com"] = [
        CalendarEvent(
            "s2",
            "Self-study: Rust",
            dt.datetime.combine(tuesday, dt.time(9), los_angeles).astimezone(dt.UTC),
            dt.datetime.combine(tuesday, dt.time(13), los_angeles).astimezone(dt.UTC),
            attendee_count=1,
            organizer_self=True,
        )
    ]
    async with workers.running(gmail):
        await run_audit(workers, "absence")

    assert session.scalar(select(Flag.id).where(Flag.person_id == org.ada.id, Flag.kind == "spillover")) is not None
    assert session.scalars(select(Flag).where(Flag.person_id == org.bob.id)).all() == []
