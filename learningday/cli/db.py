"""`learningday db …`: schema migrations."""

from __future__ import annotations

import typer

from learningday.db import migrate
from learningday.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    url = get_settings().resolved_database_url
    migrate.upgrade(url, revision)
    typer.echo(f"Database at revision {migrate.head_revision(url) if revision == 'head' else revision}.")


@app.command()
def downgrade(revision: str) -> None:
    """Migrate the database back to REVISION (`base` empties it)."""
    migrate.downgrade(get_settings().resolved_database_url, revision)
    typer.echo(f"Database at revision {revision}.")
