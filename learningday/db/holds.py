"""The calendar holds table as its writer (the local calendar) and its reader (the ICS feed) see it:
a hold's statuses, and its times as aware UTC."""

from __future__ import annotations

import datetime as dt

CONFIRMED = "confirmed"
CANCELLED = "cancelled"


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC; SQLite hands back naive datetimes, which we always stored as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
