"""Text that must stay on one line: names in email headers, ICS properties, Slack mentions.

Control characters (Unicode Cc, tab, CR and LF among them) and the line and paragraph separators
either break such a line or make the whole message fail. The importer refuses them in person
fields; whatever reaches a header or a calendar anyway (a row stored before that rule) is made
one line here, so it can never take an email or a feed down.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_RUN = re.compile(r" *[\x00-\x1f\x7f-\x9f\u2028\u2029][ \x00-\x1f\x7f-\x9f\u2028\u2029]*")


def one_line(value: str) -> str:
    """`value` with every run of control characters (and the spaces around it) as one space."""
    return _CONTROL_RUN.sub(" ", value).strip()
