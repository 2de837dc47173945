"""`learningday org …`: the people directory."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.orm import aliased

from learningday.db.engine import get_engine, session_scope
from learningday.db.migrate import DatabaseNotMigrated, require_migrated
from learningday.db.models import Person
from learningday.org.importer import import_org

app = typer.Typer(no_args_is_help=True, help="People, managers and teams.")


def _require_database() -> None:
    """Stop with the command to run, not a traceback about a missing table."""
    try:
        require_migrated(get_engine())
    except DatabaseNotMigrated as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A .csv, .yaml or .yml file listing people."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count, write nothing."),
    deactivate_missing: bool = typer.Option(
        False, "--deactivate-missing", help="Deactivate people in the database but not in FILE."
    ),
) -> None:
    """Create or update people from FILE, matched by email. Any problem means nothing is written."""
    _require_database()
    with session_scope() as session:
        report = import_org(session, file, dry_run, deactivate_missing=deactivate_missing)
        if not report.ok:
            session.rollback()
    if not report.ok:
        for problem in report.problems:
            typer.echo(str(problem), err=True)
        count = len(report.problems)
        typer.echo(f"{count} problem{'s' if count != 1 else ''}; nothing was imported.", err=True)
        raise typer.Exit(1)
    typer.echo(report.summary())


@app.command("sync")
def sync(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the changes, write nothing."),
    deactivate_missing: bool = typer.Option(
        False, "--deactivate-missing", help="Deactivate people no longer active in the directory."
    ),
) -> None:
    """Create or update people from Google Workspace (and their Slack ids), with the same checks as import."""
    from learningday.org.sync import directory_service, list_users, slack_lookup, sync_org
    from learningday.settings import get_settings

    _require_database()
    from googleapiclient.errors import HttpError

    settings = get_settings()
    try:
        users, skipped = list_users(directory_service(settings), settings)
    except ValueError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except HttpError as error:
        typer.echo(
            f"Error: the Google directory refused ({error.status_code}: {error.reason}); check that "
            "LEARNINGDAY_GOOGLE_ADMIN_SUBJECT is a Workspace admin and that the service account's "
            "domain-wide delegation grants admin.directory.user.readonly",
            err=True,
        )
        raise typer.Exit(1) from None
    with session_scope() as session:
        report = sync_org(
            session,
            users,
            slack_lookup(settings),
            dry_run=dry_run,
            deactivate_missing=deactivate_missing,
            skipped=skipped,
        )
        if not report.ok:
            session.rollback()
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not report.ok:
        for problem in report.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(report.problems)} problem(s); nothing was changed.", err=True)
        raise typer.Exit(1)
    for line in report.describe():
        typer.echo(line)
    typer.echo(report.summary())


@app.command("list")
def list_(
    team: str | None = typer.Option(None, "--team", help="Only people in this team."),
    include_inactive: bool = typer.Option(False, "--include-inactive", help="Show inactive people too."),
) -> None:
    """Show the directory: who, which team and timezone, and who they report to."""
    _require_database()
    manager = aliased(Person)
    query = (
        select(Person, manager.email)
        .outerjoin(manager, Person.manager_id == manager.id)
        .order_by(Person.team, Person.email)
    )
    if team is not None:
        query = query.where(Person.team == team)
    if not include_inactive:
        query = query.where(Person.active.is_(True))
    with session_scope() as session:
        rows = [
            [
                person.email,
                person.name,
                person.team or "",
                person.timezone,
                manager_email or "",
                person.role.value,
            ]
            + (["yes" if person.active else "no"] if include_inactive else [])
            for person, manager_email in session.execute(query)
        ]
    if not rows:
        where = f" in team {team!r}" if team is not None else ""
        typer.echo(f"No people{where}. Import a directory with `learningday org import FILE`.")
        return
    header = ["EMAIL", "NAME", "TEAM", "TIMEZONE", "MANAGER", "ROLE"] + (["ACTIVE"] if include_inactive else [])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
