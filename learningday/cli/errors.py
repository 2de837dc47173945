"""Errors an operator can act on end a command with one line and exit code 1, never a traceback.

They are raised deep down (a port taken, Temporal unreachable, the schema behind), where the
message is written with what to do; this is the one place that prints them. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from learningday.db.migrate import DatabaseNotMigrated
from learningday.listeners import CannotListen, ServerFailed
from learningday.temporal.client import TemporalUnreachable
from learningday.temporal.devserver import DevServerError

if TYPE_CHECKING:
    # Typer vendors click (no `click` dependency of its own): its groups are invoked with this
    # Context, for which it has no public name.
    from typer._click import Context


class OperatorError(RuntimeError):
    """A refusal raised by a command itself, e.g. an `--out` folder that does not exist."""


ONE_LINE = (OperatorError, CannotListen, ServerFailed, TemporalUnreachable, DatabaseNotMigrated, DevServerError)


class OneLineErrors(TyperGroup):
    """The top-level group: every sub-command runs inside its `invoke`."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ONE_LINE as error:
            typer.secho(f"Error: {error}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except DBAPIError:
            # A missing table or column is a schema behind the code: say which command to run,
            # for every command at once, instead of each checking before it reads.
            behind = _schema_behind()
            if behind is None:
                raise
            typer.secho(f"Error: {behind}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None


def _schema_behind() -> DatabaseNotMigrated | None:
    """Why the database cannot serve this code, if its migrations are behind; else None (the
    database error was something else and keeps its traceback)."""
    from learningday.db.engine import get_engine
    from learningday.db.migrate import require_migrated

    try:
        require_migrated(get_engine())
    except DatabaseNotMigrated as behind:
        return behind
    except DBAPIError:
        return None
    return None
