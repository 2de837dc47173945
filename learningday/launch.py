"""From a command (`serve`, `worker`, `web`, `demo`) to a running service, in an order an
operator can trust: every refusal comes before anything is started or printed.

1. `claim_ports`: the web's (or a lone worker's probes') socket is bound and kept, the dev
   server's frontend and UI ports are tried (`learningday.listeners`);
2. the database's schema is checked (or, for the demo, migrated) by the caller;
3. `run`: the dev server (unless LEARNINGDAY_TEMPORAL_ADDRESS is set), which dies with this
   process however it dies (`devserver.die_with_parent`); then where it all runs is printed;
   then the worker and the web run until SIGINT or SIGTERM.

A failure at any step raises an error the CLI prints as one line (`learningday.cli.errors`);
what the earlier steps started is stopped on the way out.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import types
from collections.abc import Callable, Coroutine
from typing import Any

import typer
from temporalio.client import Client

from learningday.listeners import Port, listen, require_free
from learningday.logging_setup import configure_logging
from learningday.settings import Settings

USE_A_RUNNING_SERVER = ", or set LEARNINGDAY_TEMPORAL_ADDRESS=127.0.0.1:{port} to use the Temporal server running there"


def dev_server_wanted(settings: Settings, with_worker: bool) -> bool:
    return with_worker and not settings.temporal_address


def claim_ports(settings: Settings, with_web: bool, with_worker: bool) -> socket.socket | None:
    """Bind the web (or probes) port and try the dev server's: a taken one raises `PortTaken`."""
    if dev_server_wanted(settings, with_worker):
        frontend = settings.temporal_dev_port
        require_free(
            Port(
                "Temporal frontend",
                "127.0.0.1",
                frontend,
                "LEARNINGDAY_TEMPORAL_DEV_PORT",
                "--temporal-port",
                USE_A_RUNNING_SERVER.format(port=frontend),
            )
        )
        require_free(
            Port(
                "Temporal UI",
                "127.0.0.1",
                settings.temporal_dev_ui_port,
                "LEARNINGDAY_TEMPORAL_DEV_UI_PORT",
                "--temporal-ui-port",
            )
        )
    if with_web:
        return listen(Port("web pages", settings.web_host, settings.web_port, "LEARNINGDAY_WEB_PORT", "--port"))
    if with_worker:
        return listen(
            Port("worker probes and metrics", settings.metrics_host, settings.metrics_port, "LEARNINGDAY_METRICS_PORT")
        )
    return None


def _interrupt(signum: int, frame: types.FrameType | None) -> None:
    raise KeyboardInterrupt


def run(
    settings: Settings,
    sock: socket.socket | None,
    with_web: bool = True,
    with_worker: bool = True,
    then: Callable[[Client], Coroutine[Any, Any, None]] | None = None,
    log_level: str | None = None,
) -> None:
    """Start the dev server if wanted, print where everything is, serve until stopped."""
    from learningday.runtime import embedded_temporal, serve

    configure_logging(settings.log_format, log_level or settings.log_level)
    # Until the event loop takes the signals over, a SIGTERM (a service manager's stop) is a
    # Ctrl-C: the `finally` below and the dev server's context still run.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if dev_server_wanted(settings, with_worker):
            with embedded_temporal(settings) as address:
                typer.echo(f"Temporal dev server on {address} (UI http://127.0.0.1:{settings.temporal_dev_ui_port})")
                if with_web:
                    typer.echo(f"Learning Day on {settings.public_base_url}")
                asyncio.run(serve(settings, address, with_web, with_worker, then, sock))
        else:
            if with_web:
                typer.echo(f"Learning Day on {settings.public_base_url}")
            asyncio.run(serve(settings, settings.temporal_address or "", with_web, with_worker, then, sock))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if sock is not None:
            sock.close()
