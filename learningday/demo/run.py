"""`learningday demo`: a demo organisation, a few weeks of history and the latest Learning Day
played live, end to end (see `story` for why the history)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from pathlib import Path

import typer
from sqlalchemy import select
from temporalio.client import Client

from learningday.db import migrate
from learningday.db.engine import session_scope
from learningday.db.models import Absence, LearningDay, Person
from learningday.demo.story import HISTORY_TIME_SCALE, DemoDates, Learner, demo_dates, play_day
from learningday.launch import claim_ports, run
from learningday.org.importer import import_org
from learningday.policy_source import current_policy
from learningday.settings import Settings

DEMO_ORG = Path(__file__).parent / "org.yaml"
HISTORY_WEEKS = 5
log = logging.getLogger(__name__)


def prepare(settings: Settings, today: dt.date | None = None) -> tuple[list[Learner], DemoDates]:
    """Migrate, import the demo org, pick the dates, record two people's absences."""
    migrate.upgrade(settings.resolved_database_url)
    with session_scope() as session:
        report = import_org(session, DEMO_ORG)
        if getattr(report, "problems", None):
            raise RuntimeError(f"demo org has problems: {report.problems}")
    policy = current_policy()
    with session_scope() as session:
        people = session.execute(
            select(Person.id, Person.email, Person.name)
            .where(Person.email.like("%@example.com"), Person.active.is_(True))
            # People with a manager first: they get the personas that miss, so emails go out.
            .order_by(Person.manager_id.is_(None), Person.id)
        ).all()
        ids = [p.id for p in people]
        taken = set(session.scalars(select(LearningDay.date).where(LearningDay.person_id.in_(ids))))
        dates = demo_dates(policy, today or dt.date.today(), taken, HISTORY_WEEKS)
        # Away, recorded in the service: those days are skipped, not missed.
        last_week = dates.history[-1] if dates.history else None
        for index, date, reason in ((3, dates.live, "Conference"), (5, last_week, "Holiday")):
            if index < len(people) and date is not None:
                session.add(Absence(person_id=people[index].id, start_date=date, end_date=date, reason=reason))
    return [Learner(p.id, p.email, p.name) for p in people], dates


def owner_sign_in() -> str:
    """A sign-in link for the program owner (the demo org's admin), to open the pages with."""
    from learningday.db.models import Role
    from learningday.web.auth import login_url

    with session_scope() as session:
        owner = session.scalar(
            select(Person.id).where(Person.role == Role.admin, Person.active.is_(True)).order_by(Person.id)
        )
    if owner is None:
        return "No admin in the directory: sign in with `learningday auth link EMAIL`."
    return f"Sign in as the program owner (works once, for a limited time): {login_url(owner)}"


async def told_if_it_stops(story: Awaitable[None]) -> None:
    """Play the story; if it fails, say so. The service goes on serving the pages either way, so a
    failure left to the task would stop the printed story without a word."""
    try:
        await story
    except Exception as error:
        typer.echo(f"The demo stopped playing: {error!r}. The pages stay up; Ctrl-C to stop.", err=True)


def run_demo(settings: Settings, time_scale: float) -> None:
    """Ports first (a taken one ends the demo before it writes anything), then the demo org."""
    sock = claim_ports(settings, with_web=True, with_worker=True)
    try:
        people, dates = prepare(settings)
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    policy = current_policy()

    async def story(client: Client) -> None:
        await told_if_it_stops(play(client))

    async def play(client: Client) -> None:
        typer.echo(owner_sign_in())
        for week, date in enumerate(dates.history):
            ended = await play_day(
                client,
                settings.temporal_task_queue,
                policy,
                people,
                date,
                HISTORY_TIME_SCALE,
                week=len(dates.history) - week,
            )
            typer.echo(f"History {date:%a %d %b %Y}: " + ", ".join(f"{n} {how}" for how, n in sorted(ended.items())))
        seconds = 12 * 3600 / time_scale
        typer.echo(
            f"Now live: {len(people)} Learning Days for {dates.live:%A %d %B %Y}, compressed into about "
            f"{seconds:.0f} s. Watch {settings.public_base_url}/ — Ctrl-C to stop."
        )
        ended = await play_day(
            client, settings.temporal_task_queue, policy, people, dates.live, time_scale, week=0, echo=typer.echo
        )
        typer.echo(
            "The demo day is over: "
            + ", ".join(f"{n} {how}" for how, n in sorted(ended.items()))
            + ". See the Me, Team and Program pages, the channel and the outbox."
        )

    run(settings, sock, then=story, log_level="WARNING")  # the story, not the service's log
