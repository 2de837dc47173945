"""The end-of-day email: one per reader about all of one person's flags of one Learning Day.

A day can raise up to three flags (no plan, no summary, used for work). Mailing each as it
is raised sent a manager two or three emails about one person's one day; the workflow now
waits for the day's last judgement and sends this one instead (see workflows/day_end.py).

Exactly once: the outbox key is `day-flags:<person id>:<date>:<reader id>`, so a retried
activity or a restarted worker never mails a reader twice about the same day. An address the
relay refuses for good is a delivery problem for that reader; the others are still mailed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from temporalio import activity

from activities.calendar.port import Calendar
from activities.mail.delivery import deliver_or_record
from activities.mail.flag_facts import calendar_that_day, day_facts
from activities.records import enforcement as records
from learningday.contracts.flags import DayFlagsNotice, FlagNotified
from learningday.contracts.mail import Email, Mailer
from learningday.contracts.problems import ProblemReport
from learningday.db.engine import session_scope
from learningday.db.models import Flag, Person
from learningday.flag_evidence import evidence_events, evidence_lines
from learningday.links.excuse import excuse_url
from learningday.mail_render import render_email
from policies.enforcement import flag_days, reads_as_manager

log = logging.getLogger(__name__)


def day_flags_key(person_id: int, date: dt.date, reader_id: int) -> str:
    return f"day-flags:{person_id}:{date.isoformat()}:{reader_id}"


def unexcused_flags(session: Any, flag_ids: list[int]) -> list[Flag]:
    """The notice's flags still standing, in the order they were raised."""
    flags = [flag for i in flag_ids if (flag := session.get(Flag, i)) is not None]
    return [f for f in flags if f.excused_at is None]


def day_flags_subject(person_name: str, flags: list[Flag], timezone: str) -> str:
    """ "Ada Lovelace: No plan posted, No summary posted (Thu 03 Dec)": who, what, which day."""
    labels = ", ".join(records.LABELS.get(f.kind.value, f.kind.value) for f in flags)
    first = flags[0]
    return f"{person_name}: {labels} ({flag_days(first.kind.value, first.date, [], timezone)})"


class DayFlagMail:
    """Takes the mailer (port) and the calendar (the day's events, when no flag carries them)."""

    def __init__(self, mailer: Mailer, calendar: Calendar | None = None) -> None:
        self._mailer = mailer
        self._calendar = calendar

    @activity.defn(name="notify_day_flags")
    def notify_day_flags(self, notice: DayFlagsNotice) -> FlagNotified:
        with session_scope() as session:
            flags = unexcused_flags(session, notice.flag_ids)
            if not flags:
                return FlagNotified(skipped="excused")
            if not notice.readers:
                log.warning("person %s, %s: nobody to tell (no manager)", notice.person_id, notice.date)
                return FlagNotified(skipped="no manager")
            person = session.get(Person, notice.person_id)
            assert person is not None
            readers = [(reader, r.level) for r in notice.readers if (reader := session.get(Person, r.person_id))]
            escalated = any(level == "manager_of_manager" for _, level in readers)
            shared = day_facts(session, person, flags[0].learning_day_id, notice.date)
            events = [e for f in flags for e in evidence_events(f)]
            shared |= {
                "events": events or calendar_that_day(self._calendar, person, notice.date),
                "escalated": escalated,
            }
            emails = [(reader, level, self._email(flags, person, reader, level, shared)) for reader, level in readers]
        undelivered = [
            reader.id
            for reader, level, email in emails
            if not deliver_or_record(self._mailer, email, _problem(notice, reader, level))
        ]
        return FlagNotified(
            recipient_ids=[r.id for r, _ in readers],
            levels=[level for _, level in readers],
            undelivered_ids=undelivered,
        )

    def _email(self, flags: list[Flag], person: Person, reader: Person, level: str, shared: dict[str, Any]) -> Email:
        manages = reads_as_manager(level)
        context = dict(
            shared,
            manager_name=reader.name,
            manager_timezone=reader.timezone,
            audience=level,
            flags=[
                {
                    "label": records.LABELS.get(f.kind.value, f.kind.value),
                    "reason": f.reason,
                    "evidence": evidence_lines(f, reader.timezone),
                    "excuse_url": excuse_url(f.id, reader.id) if manages else None,
                }
                for f in flags
            ],
        )
        subject = day_flags_subject(person.name, flags, person.timezone)
        if shared["escalated"] and level == "manager_of_manager":
            subject = f"Escalated: {subject}, {shared['missed_in_a_row']} in a row"
        key = day_flags_key(person.id, flags[0].date, reader.id)
        return render_email("day_flags", context, key=key, to=[reader.email], subject=subject)


def _problem(notice: DayFlagsNotice, reader: Person, level: str) -> ProblemReport:
    return ProblemReport(
        key=day_flags_key(notice.person_id, notice.date, reader.id),
        step="flag_email",
        subject_type="learning_day",
        subject_id=str(notice.learning_day_id),
        person_id=reader.id,
        reason="",
        outcome=f"the {level.replace('_', ' ')} was not emailed about this day's flags",
    )
