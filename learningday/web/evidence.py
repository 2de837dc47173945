"""A flag's evidence as a person reads it on a page: the facts as sentences, times in the
viewer's timezone, the meetings as a list of titles with their times.

The stored evidence is a record (`{"cutoff": ISO, "prompts": ["plan:prompt:0", …]}`, `{"facts":
[…], "events": [{"title", "start", "end", "why"}]}`); printing it as a dict showed people Python
reprs. The sentences are the ones the flag email uses (`evidence_lines`), so a manager reads the
same facts in both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from learningday.db.models import Flag
from learningday.flag_evidence import evidence_events, evidence_lines
from learningday.mail_render import localtime


@dataclass(frozen=True)
class Meeting:
    title: str
    when: str  # "Thu 03 Dec 10:00–11:30", in the viewer's timezone
    why: str  # "meeting accepted", "learning block"…


@dataclass(frozen=True)
class Evidence:
    lines: list[str] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    timezone: str = "UTC"

    def __bool__(self) -> bool:
        return bool(self.lines or self.meetings)


def evidence_for(flag: Flag, timezone: str) -> Evidence:
    """`flag`'s evidence for a viewer in `timezone`; a malformed record shows what it can."""
    try:
        lines = evidence_lines(flag, timezone)
        stored = {(e.get("title"), e.get("start")): e.get("why", "") for e in (flag.evidence or {}).get("events", [])}
        meetings = [
            Meeting(
                title=e["title"] or "(no title)",
                when=f"{localtime(e['start'], timezone)}–{localtime(e['end'], timezone)[-5:]}",
                why=str(stored.get((e["title"], e["start"].isoformat()), "")),
            )
            for e in evidence_events(flag)
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return Evidence(["The evidence recorded with this flag could not be read."], [], timezone)
    return Evidence(lines, meetings, timezone)
