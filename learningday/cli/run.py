"""`learningday serve | worker | web`: run the service."""

from __future__ import annotations

import asyncio

import typer

from learningday.db.migrate import DatabaseNotMigrated
from learningday.logging_setup import configure_logging
from learningday.runtime import embedded_temporal, serve
from learningday.settings import get_settings
from learningday.temporal.devserver import DevServerError


def _run(with_web: bool, with_worker: bool) -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        if with_worker and not settings.temporal_address:
            with embedded_temporal(settings) as address:
                typer.echo(f"Temporal dev server on {address} (UI http://127.0.0.1:{settings.temporal_dev_ui_port})")
                typer.echo(f"Learning Day on {settings.public_base_url}")
                asyncio.run(serve(settings, address, with_web, with_worker))
        else:
            asyncio.run(serve(settings, settings.temporal_address or "", with_web, with_worker))
    except (DatabaseNotMigrated, DevServerError) as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def serve_command() -> None:
    """Run everything: the Temporal dev server (unless LEARNINGDAY_TEMPORAL_ADDRESS is set),
    the worker, the weekly Schedule and the web pages."""
    _run(with_web=True, with_worker=True)


def worker_command() -> None:
    """Run only the worker (production: one or many, next to a Temporal cluster)."""
    _run(with_web=False, with_worker=True)


def web_command() -> None:
    """Run only the web server (production: behind a load balancer)."""
    _run(with_web=True, with_worker=False)
