"""Slack gives up on a request after 3 seconds: answer within a budget, finish the work after."""

from __future__ import annotations

import asyncio
from typing import TypeVar

ACK_BUDGET_SECONDS = 2.0  # Slack gives up after 3 s; keep room for the network

T = TypeVar("T")


async def within(task: asyncio.Future[T], seconds: float) -> T | None:
    """The task's result if it is ready in time (the task keeps running if not)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return task.result() if done else None
