"""`learningday demo`: a demo organisation and one compressed Learning Day, end to end."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import typer
from sqlalchemy import select
from temporalio.client import Client

from activities.kickoff import Kickoff
from learningday.db import migrate
from learningday.db.engine import session_scope
from learningday.db.models import Absence, LearningDay, Person
from learningday.demo.actors import act
from learningday.org.importer import import_org
from learningday.policy_source import current_policy
from learningday.launch import claim_ports, run
from learningday.settings import Settings
from learningday.temporal.gateway import TemporalCheckInGateway
from policies.holidays import company_holiday
from policies.policy import Policy
from policies.schedule import next_learning_day

DEMO_ORG = Path(__file__).parent / "org.yaml"
log = logging.getLogger(__name__)


def demo_date(policy: Policy, today: dt.date, taken: set[dt.date]) -> dt.date:
    """The first Learning Day from today that is no holiday and has not been demoed yet."""
    date = next_learning_day(policy, today)
    while company_holiday(policy, date) or date in taken:
        date = next_learning_day(policy, date + dt.timedelta(days=1))
    return date


def prepare(settings: Settings) -> tuple[list[tuple[int, str]], dt.date]:
    """Migrate, import the demo org, pick the date, record one person's exception."""
    migrate.upgrade(settings.resolved_database_url)
    with session_scope() as session:
        report = import_org(session, DEMO_ORG)
        if getattr(report, "problems", None):
            raise RuntimeError(f"demo org has problems: {report.problems}")
    policy = current_policy()
    with session_scope() as session:
        people = session.execute(
            select(Person.id, Person.email)
            .where(Person.email.like("%@example.com"), Person.active.is_(True))
            # People with a manager first: they get the personas that miss, so emails go out.
            .order_by(Person.manager_id.is_(None), Person.id)
        ).all()
        ids = [p.id for p in people]
        taken = set(session.scalars(select(LearningDay.date).where(LearningDay.person_id.in_(ids))))
        date = demo_date(policy, dt.date.today(), taken)
        # One person is away that day: recorded in the service, so the day is skipped, not missed.
        away = people[3].id if len(people) > 3 else None
        if away is not None:
            session.add(Absence(person_id=away, start_date=date, end_date=date, reason="Conference"))
    return [(p.id, p.email) for p in people], date


def owner_sign_in() -> str:
    """A sign-in link for the program owner (the demo org's admin), to open the pages with."""
    from learningday.db.models import Role
    from learningday.web.auth import login_url

    with session_scope() as session:
        owner = session.scalar(select(Person.id).where(Person.role == Role.admin, Person.active.is_(True)).order_by(Person.id))
    if owner is None:
        return "No admin in the directory: sign in with `learningday auth link EMAIL`."
    return f"Sign in as the program owner (works once, for a limited time): {login_url(owner)}"


def run_demo(settings: Settings, time_scale: float) -> None:
    """Ports first (a taken one ends the demo before it writes anything), then the demo org."""
    sock = claim_ports(settings, with_web=True, with_worker=True)
    try:
        people, date = prepare(settings)
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    policy = current_policy()

    async def day(client: Client) -> None:
        kickoff = Kickoff(client, settings.temporal_task_queue, lambda: policy)
        await asyncio.gather(*(kickoff.start_day(pid, date, time_scale) for pid, _ in people))
        seconds = 12 * 3600 / time_scale
        typer.echo(
            f"Started {len(people)} compressed Learning Days for {date:%A %d %B %Y} "
            f"(about {seconds:.0f} s). Watch {settings.public_base_url}/ — Ctrl-C to stop."
        )
        typer.echo(owner_sign_in())
        gateway = TemporalCheckInGateway(client)
        await asyncio.gather(*(act(client, gateway, i, pid, email, date) for i, (pid, email) in enumerate(people)))
        typer.echo("The demo day is over: see the days, the channel and the outbox in the web pages.")

    run(settings, sock, then=day, log_level="WARNING")  # the story, not the service's log
