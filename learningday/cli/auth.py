"""`learningday auth …`: sign-in links for the web pages (the embedded default's sign-in)."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from learningday.db.engine import get_engine, session_scope
from learningday.db.migrate import DatabaseNotMigrated, require_migrated
from learningday.db.models import Person

app = typer.Typer(no_args_is_help=True, help="Sign-in to the web pages.")


@app.command("link")
def link(email: str = typer.Argument(..., help="The person's email, as in the directory.")) -> None:
    """Print a signed sign-in link for EMAIL: it works once, for LEARNINGDAY_LOGIN_LINK_MAX_AGE_MINUTES."""
    from learningday.settings import get_settings
    from learningday.web.auth import login_url

    try:
        require_migrated(get_engine())
    except DatabaseNotMigrated as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    with session_scope() as session:
        person = session.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))
        if person is None or not person.active:
            typer.echo(f"Error: nobody active with the email {email!r}; see `learningday org list`.", err=True)
            raise typer.Exit(1)
        person_id = person.id
    mode = get_settings().auth_mode
    if mode != "link":
        typer.echo(f"Note: LEARNINGDAY_AUTH_MODE is {mode!r}, so this link will not be asked for.", err=True)
    typer.echo(login_url(person_id))
