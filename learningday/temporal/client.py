"""Connecting to Temporal: the embedded dev server or a cluster / Temporal Cloud from settings."""

from __future__ import annotations

import asyncio
import logging

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, TLSConfig

from learningday.settings import Settings
from learningday.temporal.converter import data_converter

log = logging.getLogger(__name__)
_connected = False
# A server that has just started (the embedded dev server, a cluster rolling out) opens its
# port before its frontend is healthy and answers "Unavailable": wait for it this long.
CONNECT_PATIENCE_SECONDS = 30.0


class TemporalUnreachable(RuntimeError):
    """No Temporal server answers at the address: one line saying what to do."""

    def __init__(self, address: str) -> None:
        super().__init__(
            f"Temporal at {address} is unreachable: start the service with `learningday serve`, "
            "or set LEARNINGDAY_TEMPORAL_ADDRESS to a Temporal server that is running."
        )
        self.address = address


def connected_in_this_process() -> bool:
    return _connected


def temporal_target(settings: Settings, address: str | None = None) -> str:
    """Where the Temporal frontend is: the given address, the configured one, or the dev server's."""
    return address or settings.temporal_address or f"127.0.0.1:{settings.temporal_dev_port}"


async def connect(settings: Settings, address: str | None = None) -> Client:
    """A client using the pydantic data converter (workflow payloads include pydantic models)."""
    global _connected
    _connected = True
    target = temporal_target(settings, address)
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_PATIENCE_SECONDS
    while True:
        try:
            return await Client.connect(
                target,
                namespace=settings.temporal_namespace,
                data_converter=data_converter,
                tls=tls or bool(api_key),
                api_key=api_key,
            )
        except RuntimeError as error:
            unavailable = "Unavailable" in str(error)
            if unavailable and loop.time() <= deadline:
                log.info("Temporal at %s is not ready yet; retrying", target)
                await asyncio.sleep(0.25)
                continue
            if unavailable or "Server connection error" in str(error):  # refused, DNS, timeout
                log.debug("connecting to Temporal at %s failed: %s", target, error)
                raise TemporalUnreachable(target) from None
            raise


async def workers_poll(client: Client, task_queue: str) -> bool:
    """Whether a worker has polled `task_queue` for workflow tasks lately (Temporal keeps a
    poller for a few minutes after its last poll). A command that waits on a workflow's result
    asks first, so with no worker running it can say so instead of waiting without a word."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(answer.pollers) > 0
