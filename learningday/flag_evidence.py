"""A flag's stored evidence as people read it: the facts as sentences, the meetings as events.

The flag emails (activities/mail/) and the pages (learningday/web/evidence.py) both show it, in
the same words; it reads only the flag row, so it lives below both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from learningday.db.models import Flag
from learningday.mail_render import localtime


def evidence_lines(flag: Flag, timezone: str) -> list[str]:
    """The flag's evidence as sentences, times in the reader's `timezone`."""
    evidence = flag.evidence or {}
    lines = list(evidence.get("facts", []))
    if "cutoff" in evidence:
        cutoff = dt.datetime.fromisoformat(evidence["cutoff"])
        lines.append(f"Deadline plus grace: {localtime(cutoff, timezone)} ({timezone})")
    prompts = evidence.get("prompts")
    if prompts is not None:
        lines.append(f"Prompts and reminders sent: {len(prompts)}")
    return lines


def evidence_events(flag: Flag) -> list[dict[str, Any]]:
    """The calendar events stored with the flag, as {title, start, end} aware datetimes."""
    return [
        {
            "title": e.get("title", ""),
            "start": dt.datetime.fromisoformat(e["start"]),
            "end": dt.datetime.fromisoformat(e["end"]),
        }
        for e in (flag.evidence or {}).get("events", [])
    ]
