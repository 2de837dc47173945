"""Probes and metrics: `/healthz` (the process is up), `/readyz` (it can do its work: the
database answers `SELECT 1` and the Temporal frontend answers), `/metrics` (Prometheus).

The web app includes this router; a worker-only process serves the same routes from
`probe_app` on its metrics port, so Kubernetes probes and Prometheus treat both alike.
Readiness checks each dependency with a short timeout and names the one that failed, so a
503 says what to fix rather than just "not ready".
"""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from learningday import metrics, problem_metrics
from learningday.db.engine import get_engine

CHECK_TIMEOUT_SECONDS = 2.0

router = APIRouter(include_in_schema=False)
problem_metrics.register()


def _select_one() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


async def check_database() -> None:
    await asyncio.wait_for(asyncio.to_thread(_select_one), CHECK_TIMEOUT_SECONDS)


async def check_temporal(client: Client | None) -> None:
    if client is None:
        raise RuntimeError("no Temporal client in this process")
    # GetSystemInfo works on every deployment (self-hosted and Temporal Cloud) and is the
    # call Client.connect itself makes; the gRPC health service is not exposed everywhere.
    await client.workflow_service.get_system_info(
        GetSystemInfoRequest(), timeout=dt.timedelta(seconds=CHECK_TIMEOUT_SECONDS)
    )


async def readiness(client: Client | None) -> dict[str, str]:
    """Each dependency → "ok" or why it is not ready."""
    results = await asyncio.gather(check_database(), check_temporal(client), return_exceptions=True)
    report: dict[str, str] = {}
    for name, result in zip(("database", "temporal"), results):
        if isinstance(result, BaseException):
            reason = "timed out" if isinstance(result, TimeoutError) else str(result) or type(result).__name__
            report[name] = f"failed: {reason}"[:300]
        else:
            report[name] = "ok"
    return report


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    report = await readiness(getattr(request.app.state, "temporal_client", None))
    ready = all(value == "ok" for value in report.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": report}, status_code=200 if ready else 503
    )


@router.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def probe_app(client: Client | None) -> FastAPI:
    """The probes and metrics alone: what a worker-only process serves on its metrics port."""
    app = FastAPI(title="Learning Day worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.temporal_client = client
    app.include_router(router)
    return app
