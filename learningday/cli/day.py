"""`learningday day start`: start Learning Days now, optionally compressed in time."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select

from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from learningday.temporal.client import connect
from policies.schedule import start_date_problem

if TYPE_CHECKING:
    from activities.kickoff import Participant

app = typer.Typer(no_args_is_help=True, help="Learning Days.")


def _participants(emails: list[str], everyone: bool) -> list[Participant]:
    from activities.kickoff import Participant

    with session_scope() as session:
        query = select(Person.id, Person.timezone, Person.email).where(Person.active.is_(True))
        if not everyone:
            query = query.where(Person.email.in_([e.lower() for e in emails]))
        rows = session.execute(query.order_by(Person.id)).all()
    missing = {e.lower() for e in emails} - {r.email for r in rows}
    if missing:
        raise typer.BadParameter(f"no active person with email {', '.join(sorted(missing))}", param_hint="--person")
    return [Participant(person_id=r.id, timezone=r.timezone) for r in rows]


@app.command()
def start(
    person: list[str] = typer.Option([], "--person", "-p", help="Email of a person (repeatable)."),
    everyone: bool = typer.Option(False, "--all", help="Every active person."),
    date: dt.date | None = typer.Option(None, formats=["%Y-%m-%d"], help="Default: each person's next Learning Day."),
    time_scale: float = typer.Option(1.0, min=1.0, help="Run the day this many times faster (720: a day in a minute)."),
    force: bool = typer.Option(False, "--force", help="Start a --date in the past or on another weekday anyway."),
) -> None:
    """Start Learning Days on the running service (needs `learningday serve`)."""
    if not person and not everyone:
        raise typer.BadParameter("name at least one --person, or --all")
    # Here, not at the top: the kickoff imports the workflows, and every command (`--help` too)
    # would pay for that before it could answer (the taken-port test allows 5 s).
    from activities.kickoff import Kickoff, learning_date_for
    from learningday.contracts.kickoff import KickoffRequest

    participants = _participants(person, everyone)
    settings = get_settings()
    request = KickoffRequest(
        reference=dt.datetime.now(dt.UTC),
        time_scale=time_scale,
        date=date.date() if isinstance(date, dt.datetime) else date,
    )
    policy = current_policy()
    if request.date is not None and not force:
        # Today as the furthest-ahead participant sees it: past there means past for someone.
        today = max(
            (request.reference.astimezone(ZoneInfo(p.timezone)).date() for p in participants),
            default=request.reference.date(),
        )
        problem = start_date_problem(policy, request.date, today)
        if problem:
            raise typer.BadParameter(f"{problem}. Pass --force to start it anyway.", param_hint="--date")

    async def go() -> tuple[int, int]:
        client = await connect(settings)
        kickoff = Kickoff(client, settings.temporal_task_queue, lambda: policy)
        outcomes = await asyncio.gather(
            *(kickoff.start_day(p.person_id, learning_date_for(policy, p, request), time_scale) for p in participants)
        )
        return sum(outcomes), len(outcomes) - sum(outcomes)

    started, existing = asyncio.run(go())
    typer.echo(f"Started {started} Learning Day(s); {existing} already running or done.")


@app.command()
def refresh() -> None:
    """After editing the policy file: every open Learning Day re-reads it, moving its calendar
    hold in place and the prompts and deadlines still to come."""
    from learningday.db.models import DayState, LearningDay
    from policies.checkins import CLOSED_STATES
    from workflows.learning_day import LearningDayWorkflow

    closed = [DayState(state) for state in sorted(CLOSED_STATES)]
    with session_scope() as session:
        # `workflow_id` is nullable, but the query keeps only the days that have one.
        ids = cast(
            list[str],
            session.scalars(
                select(LearningDay.workflow_id).where(
                    LearningDay.state.not_in(closed), LearningDay.workflow_id.is_not(None)
                )
            ).all(),
        )

    async def go() -> int:
        client = await connect(get_settings())
        outcomes = await asyncio.gather(
            *(client.get_workflow_handle(i).signal(LearningDayWorkflow.policy_changed) for i in ids),
            return_exceptions=True,
        )
        return sum(1 for o in outcomes if not isinstance(o, BaseException))

    told = asyncio.run(go())
    typer.echo(f"{told} open Learning Day(s) re-read the policy; {len(ids) - told} had already ended.")
