"""`learningday audit run --week YYYY-MM-DD`: the weekly audit of one week, shown or run.

By default a dry run: what the audit would flag (spillover, with its evidence) and which
digests would go, sending and writing nothing. `--send` runs the real WeeklyAuditWorkflow
through Temporal under an id made from the week, so a second `--send` for the same week finds
the first run and starts nothing (and every email is keyed besides: none goes twice).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from learningday.cli.errors import OperatorError
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from policies.spillover import audit_week_problem, week_start

app = typer.Typer(no_args_is_help=True, help="The weekly audit: spillover and the managers' digests.")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_week(text: str) -> dt.date:
    """The date `--week` names; a refusal naming the option and the reason otherwise."""
    if not DATE.fullmatch(text):
        raise OperatorError(f"--week {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-09")
    year, month, day = (int(part) for part in text.split("-"))
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise OperatorError(f"--week {text!r} is not a date: {error}") from None


def _today() -> dt.date:
    """Today where it is earliest among the active people: a week has ended once it has for all."""
    now = dt.datetime.now(dt.UTC)
    with session_scope() as session:
        zones = set(session.scalars(select(Person.timezone).where(Person.active.is_(True))))
    return min((now.astimezone(ZoneInfo(zone)).date() for zone in zones), default=now.date())


@app.command()
def run(
    week: str = typer.Option(
        ..., "--week", help="A day of the week to audit, YYYY-MM-DD: any day means its Monday-to-Sunday week."
    ),
    send: bool = typer.Option(
        False, "--send", help="Run the real audit through Temporal: raise the flags and send the emails."
    ),
) -> None:
    """Show what the weekly audit would flag for a week that has ended, and which digests would
    go (a dry run: nothing is sent or written); with --send, run it."""
    date = parse_week(week)
    monday = week_start(date)
    problem = audit_week_problem(monday, _today())
    if problem:
        raise OperatorError(f"--week {week}: {problem}")
    if date != monday:
        typer.echo(f"{date:%Y-%m-%d} is a {date:%A}: auditing its week, which starts on Monday {monday:%Y-%m-%d}.")
    if send:
        _send(monday)
        return
    from learningday.audit_preview import describe, preview_week
    from learningday.temporal.worker import calendar_from_settings

    preview = preview_week(calendar_from_settings(get_settings()), current_policy(), monday)
    typer.echo(f"Weekly audit of the week of {monday:%a %d %b %Y}, dry run: nothing is sent or written.")
    for line in describe(preview):
        typer.echo(line)
    typer.echo(f"To raise these flags and send the emails: learningday audit run --week {monday:%Y-%m-%d} --send")


def _send(monday: dt.date) -> None:
    from learningday.contracts.audit import AuditInput, AuditResult, audit_workflow_id
    from learningday.temporal.client import connect, workers_poll
    from workflows.weekly_audit import WeeklyAuditWorkflow

    settings, workflow_id = get_settings(), audit_workflow_id(monday)
    queue = settings.temporal_task_queue

    async def go() -> AuditResult | WorkflowExecutionStatus | None:
        client = await connect(settings)
        try:
            handle = await client.start_workflow(
                WeeklyAuditWorkflow.run,
                AuditInput(week_start=monday),
                id=workflow_id,
                task_queue=queue,
                # A run that failed or was terminated may be run again; one that finished may not.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            return (await client.get_workflow_handle(workflow_id).describe()).status
        if not await workers_poll(client, queue):
            return None
        typer.echo(
            f"Auditing the week of {monday:%a %d %b %Y} (workflow {workflow_id}); Ctrl-C stops waiting, not the audit."
        )
        return await handle.result()

    try:
        outcome = asyncio.run(go())
    except KeyboardInterrupt:
        typer.echo(f"Stopped waiting; the audit goes on (workflow {workflow_id}).")
        return
    if isinstance(outcome, WorkflowExecutionStatus):
        state = "is running now" if outcome == WorkflowExecutionStatus.RUNNING else "was already run"
        typer.echo(
            f"The audit of the week of {monday:%a %d %b %Y} {state} (workflow {workflow_id}): "
            "nothing was started or sent again."
        )
        return
    if outcome is None:
        typer.echo(
            f"No worker polls the task queue {queue!r}: the audit of the week of {monday:%a %d %b %Y} waits in "
            f"Temporal (workflow {workflow_id}) and runs once `learningday serve` or `learningday worker` is running."
        )
        return
    typer.echo(
        f"Done: {outcome.flags} flag{'' if outcome.flags == 1 else 's'} raised or found again, "
        f"digests for {outcome.digests} manager{'' if outcome.digests == 1 else 's'}; "
        "an email already sent is never sent again."
    )
