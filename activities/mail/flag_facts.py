"""What every flag email shows beside its flags: the day's plan and summary (and whether one
followed the other), the person's calendar that day and their last eight Learning Days.

Shared by the email about one flag (the weekly audit's spillover) and the one end-of-day email
about a day's flags, so both read alike.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from activities.calendar.port import Calendar
from activities.records import enforcement as records
from learningday.contracts.calendar import EventQuery
from learningday.db.models import Person
from policies.enforcement import summary_followed_plan
from policies.spillover import local_day

log = logging.getLogger(__name__)


def day_facts(session: Session, person: Person, learning_day_id: int | None, date: dt.date) -> dict[str, Any]:
    """The template keys person_name, date, plan, summary, followed, history and missed_in_a_row."""
    ins = records.check_ins(session, learning_day_id)
    plan, summary = ins.get("plan"), ins.get("summary")
    followed = summary_followed_plan(plan.text if plan else None, summary.text if summary else None)
    return {
        "person_name": person.name,
        "date": date,
        "plan": plan.text if plan else None,
        "summary": summary.text if summary else None,
        "followed": followed if plan and summary else None,
        "history": records.weekly_history(session, person.id, date),
        "missed_in_a_row": records.missed_in_a_row(session, person.id, date),
    }


def calendar_that_day(calendar: Calendar | None, person: Person, date: dt.date) -> list[dict[str, Any]]:
    """The person's calendar that day, for context; an unreachable calendar costs the email
    nothing but this section."""
    if calendar is None:
        return []
    start, end = local_day(date, person.timezone)
    try:
        events = calendar.list_events(EventQuery(person.email, start, end, person.timezone))
    except Exception:  # noqa: BLE001 - context only; the flag email must still go out
        log.warning("calendar unavailable for person %s; flag email sent without events", person.id)
        return []
    return [{"title": e.title, "start": e.starts_at, "end": e.ends_at} for e in events]
