"""`learningday serve | worker | web`: run the service.

The flags are the settings of the same name (`--port` is LEARNINGDAY_WEB_PORT) and win over
the environment for the whole process, so the links the worker emails follow them too.
"""

from __future__ import annotations

import typer

from learningday.settings import Settings, get_settings, override_settings

HOST = typer.Option(None, "--host", help="Address of the web pages (LEARNINGDAY_WEB_HOST, default 127.0.0.1).")
PORT = typer.Option(None, "--port", help="Port of the web pages (LEARNINGDAY_WEB_PORT, default 8000); links follow it.")
TEMPORAL_PORT = typer.Option(
    None,
    "--temporal-port",
    help="Port of the embedded Temporal dev server (LEARNINGDAY_TEMPORAL_DEV_PORT, default 7233).",
)
TEMPORAL_UI_PORT = typer.Option(
    None, "--temporal-ui-port", help="Port of the dev server's web UI (LEARNINGDAY_TEMPORAL_DEV_UI_PORT, default 8233)."
)


def settings_with(
    host: str | None = None,
    port: int | None = None,
    temporal_port: int | None = None,
    temporal_ui_port: int | None = None,
) -> Settings:
    """The settings, with the flags given on the command line in force from now on."""
    override_settings(
        web_host=host, web_port=port, temporal_dev_port=temporal_port, temporal_dev_ui_port=temporal_ui_port
    )
    return get_settings()


def _run(settings: Settings, with_web: bool, with_worker: bool) -> None:
    from learningday.db.engine import get_engine
    from learningday.db.migrate import require_migrated
    from learningday.launch import claim_ports, run

    require_migrated(get_engine())  # first: a refusal printed before anything else, nothing started
    run(settings, claim_ports(settings, with_web, with_worker), with_web, with_worker)


def serve_command(
    host: str | None = HOST,
    port: int | None = PORT,
    temporal_port: int | None = TEMPORAL_PORT,
    temporal_ui_port: int | None = TEMPORAL_UI_PORT,
) -> None:
    """Run everything: the Temporal dev server (unless LEARNINGDAY_TEMPORAL_ADDRESS is set),
    the worker, the weekly Schedule and the web pages, until Ctrl-C or SIGTERM."""
    _run(settings_with(host, port, temporal_port, temporal_ui_port), with_web=True, with_worker=True)


def worker_command() -> None:
    """Run only the worker (production: one or many, next to a Temporal cluster)."""
    _run(get_settings(), with_web=False, with_worker=True)


def web_command(host: str | None = HOST, port: int | None = PORT, temporal_port: int | None = TEMPORAL_PORT) -> None:
    """Run only the web server (production: behind a load balancer). Without
    LEARNINGDAY_TEMPORAL_ADDRESS it joins the dev server of a `serve` on --temporal-port."""
    _run(settings_with(host, port, temporal_port), with_web=True, with_worker=False)
