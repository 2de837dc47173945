"""Logging for the long-running commands: JSON lines for a log pipeline, or text for a terminal.

A JSON line carries time, level, logger and message, plus the workflow and activity ids when
the record was emitted inside a Temporal activity or workflow, so one person's day can be
followed across worker processes by its workflow id. Our code logs ids, never names, emails
or check-in text; this module adds nothing from the record's arguments beyond the message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from temporalio import activity

_TEMPORAL_FIELDS = ("workflow_id", "run_id", "workflow_type", "activity_id", "activity_type", "attempt", "task_queue")


def temporal_context(record: logging.LogRecord) -> dict[str, Any]:
    """Workflow/activity ids of the record: from the SDK's own logger adapters (`temporal_workflow`
    / `temporal_activity` extras) or, for plain module loggers, from the running activity."""
    found: dict[str, Any] = {}
    for extra in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, extra, None)
        if isinstance(details, dict):
            found.update({k: v for k, v in details.items() if k in _TEMPORAL_FIELDS or k == "workflow_run_id"})
    if "workflow_run_id" in found:
        found["run_id"] = found.pop("workflow_run_id")
    if not found and activity.in_activity():
        info = activity.info()
        found = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity_id": info.activity_id,
            "activity_type": info.activity_type,
            "attempt": info.attempt,
        }
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(temporal_context(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Replace the root handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's access log would put request paths (which carry signed tokens) in the logs.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # At DEBUG the SDK logs each activity's arguments and result (names, emails, check-in
    # text): our own DEBUG lines are ids only, the SDK's stay at INFO and above.
    logging.getLogger("temporalio").setLevel(max(logging.INFO, root.level))
