"""Mail activities for enforcement: one email per flag per recipient, and the weekly digest.

Exactly once: every email has an outbox key made of ids (`flag:<flag id>:<recipient id>`,
`digest:<manager id>:<iso week>`), and the mailers answer a key already sent without sending
again, so a retried activity or a restarted worker never mails twice. A refusal that retrying
cannot fix (`MailRejected`, e.g. an unknown mailbox) is recorded as a delivery problem for that
one recipient, and the others are still mailed: one bad address never stops a flag or a digest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar.port import Calendar
from activities.mail.delivery import deliver_or_record
from activities.mail.flag_facts import calendar_that_day, day_facts
from activities.records import enforcement as records
from learningday.contracts.audit import DigestPage, DigestPageResult
from learningday.contracts.flags import FlagNotice, FlagNotified
from learningday.contracts.mail import Email, Mailer
from learningday.contracts.problems import ProblemReport
from learningday.db.engine import session_scope
from learningday.db.models import ExpenseClaim, Flag, LearningDay, Person
from learningday.flag_evidence import evidence_events, evidence_lines
from learningday.links.excuse import excuse_url
from learningday.mail_render import render_email
from policies.enforcement import digest_mark, flag_days, reads_as_manager, spilled_onto
from policies.policy import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Recipient:
    person: Person
    level: str


class MailActivities:
    """Enforcement emails. Takes the mailer (port) and the calendar (for the day's events)."""

    def __init__(self, mailer: Mailer, policy_loader: Callable[[], Policy], calendar: Calendar | None = None) -> None:
        self._mailer = mailer
        self._policy_loader = policy_loader
        self._calendar = calendar

    @activity.defn(name="notify_flag")
    def notify_flag(self, notice: FlagNotice) -> FlagNotified:
        with session_scope() as session:
            flag = session.get(Flag, notice.flag_id)
            if flag is None:
                raise ApplicationError(f"flag {notice.flag_id} does not exist", non_retryable=True)
            if flag.excused_at is not None:
                return FlagNotified(skipped="excused")
            if not notice.readers:
                log.warning("flag %s: nobody to tell (no manager)", flag.id)
                return FlagNotified(skipped="no manager")
            person = session.get(Person, flag.person_id)
            assert person is not None
            recipients = [
                _Recipient(reader, r.level)
                for r in notice.readers
                if (reader := session.get(Person, r.person_id)) is not None
            ]
            escalated = any(r.level == "manager_of_manager" for r in recipients)
            shared = self._shared_context(session, flag, person, escalated)
            emails = [(r, self._flag_email(flag, person, r, shared)) for r in recipients]
        undelivered = [
            r.person.id for r, email in emails if not deliver_or_record(self._mailer, email, _flag_problem(flag, r))
        ]
        return FlagNotified(
            recipient_ids=[r.person.id for r in recipients],
            levels=[r.level for r in recipients],
            undelivered_ids=undelivered,
        )

    # --- pieces ------------------------------------------------------------------------------

    def _shared_context(self, session: Any, flag: Flag, person: Person, escalated: bool) -> dict[str, Any]:
        facts = day_facts(session, person, flag.learning_day_id, flag.date)
        return {
            **facts,
            "flag_label": records.LABELS.get(flag.kind.value, flag.kind.value),
            "reason": flag.reason,
            "events": evidence_events(flag) or calendar_that_day(self._calendar, person, flag.date),
            "escalated": escalated,
        }

    def _flag_email(self, flag: Flag, person: Person, recipient: _Recipient, shared: dict[str, Any]) -> Email:
        reader = recipient.person
        manages = reads_as_manager(recipient.level)
        context = dict(
            shared,
            manager_name=reader.name,
            manager_timezone=reader.timezone,
            evidence=evidence_lines(flag, reader.timezone),
            excuse_url=excuse_url(flag.id, reader.id) if manages else None,
            audience=recipient.level,
        )
        # Short subjects: a Subject longer than one header line is folded, and some readers
        # then show it with a leading space.
        days = flag_days(flag.kind.value, flag.date, (flag.evidence or {}).get("events", []), person.timezone)
        subject = f"{person.name}: {shared['flag_label']} ({days})"
        if shared["escalated"] and recipient.level == "manager_of_manager":
            subject = f"Escalated: {subject}, {shared['missed_in_a_row']} in a row"
        key = f"flag:{flag.id}:{reader.id}"
        return render_email("flag", context, key=key, to=[reader.email], subject=subject)


# --- the weekly digest -----------------------------------------------------------------------


class DigestActivities:
    """One digest email per manager per week (key `digest:<manager id>:<iso week>`)."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    @activity.defn(name="send_digests_page")
    def send_digests_page(self, page: DigestPage) -> DigestPageResult:
        after = page.after_manager_id
        resumed = activity.info().heartbeat_details
        if resumed:
            after = int(resumed[0])
        with session_scope() as session:
            # `manager_id` is nullable, but the query keeps only the rows where it is set.
            manager_ids = cast(
                list[int],
                list(
                    session.scalars(
                        select(Person.manager_id)
                        .where(Person.active.is_(True), Person.manager_id.is_not(None), Person.manager_id > after)
                        .group_by(Person.manager_id)
                        .order_by(Person.manager_id)
                        .limit(page.limit + 1)
                    )
                ),
            )
        more = len(manager_ids) > page.limit
        manager_ids = manager_ids[: page.limit]
        for manager_id in manager_ids:
            with session_scope() as session:
                email = digest_email(session, manager_id, page.week_start)
            if email is not None:
                deliver_or_record(
                    self._mailer,
                    email,
                    ProblemReport(
                        key=email.key,
                        step="digest",
                        subject_type="week",
                        subject_id=f"{page.week_start}",
                        person_id=manager_id,
                        reason="",
                        outcome="this manager's digest was not sent",
                    ),
                )
            activity.heartbeat(manager_id)
        return DigestPageResult(manager_ids, manager_ids[-1] if manager_ids else after, done=not more)


def digest_email(session: Any, manager_id: int, monday: dt.date) -> Any:
    """The digest for `manager_id` about the week starting `monday`: each person's days (✓ ✗ !),
    the week's flags, what people learned (plans) and their expense claims."""
    manager = session.get(Person, manager_id)
    if manager is None:
        return None
    sunday = monday + dt.timedelta(days=6)
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    people = list(
        session.scalars(
            select(Person).where(Person.manager_id == manager_id, Person.active.is_(True)).order_by(Person.name)
        )
    )
    rows, flags, topics, claims = [], [], [], []
    for person in people:
        person_days = {
            d.date: d
            for d in session.scalars(
                select(LearningDay).where(
                    LearningDay.person_id == person.id, LearningDay.date >= monday, LearningDay.date <= sunday
                )
            )
        }
        person_flags = list(
            session.scalars(
                select(Flag)
                .where(Flag.person_id == person.id, Flag.date >= monday, Flag.date <= sunday, Flag.excused_at.is_(None))
                .order_by(Flag.date, Flag.id)
            )
        )
        spill_dates = {
            date
            for f in person_flags
            if f.kind.value == "spillover"
            for date in spilled_onto((f.evidence or {}).get("events", []), person.timezone)
        }
        cells = [
            digest_mark(
                person_days[date].state.value if date in person_days else None,
                [f.kind.value for f in person_flags if f.date == date],
                date in spill_dates,
            )
            for date in days
        ]
        rows.append({"name": person.name, "cells": cells})
        flags += [
            {
                "person_name": person.name,
                "label": records.LABELS.get(f.kind.value, f.kind.value),
                "date": f.date,
                "reason": f.reason,
            }
            for f in person_flags
        ]
        for day in person_days.values():
            plan = records.check_ins(session, day.id).get("plan")
            if plan:
                topics.append({"person_name": person.name, "topic": plan.text[:200]})
        claims += [
            {
                "person_name": person.name,
                "description": c.description,
                "amount": c.amount,
                "currency": c.currency,
                "state": c.state.value,
            }
            for c in session.scalars(
                select(ExpenseClaim).where(
                    ExpenseClaim.person_id == person.id,
                    ExpenseClaim.submitted_at >= dt.datetime.combine(monday, dt.time(), dt.UTC),
                    ExpenseClaim.submitted_at < dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time(), dt.UTC),
                )
            )
        ]
    year, week, _ = monday.isocalendar()
    context = {
        "manager_name": manager.name,
        "week_of": monday,
        "days": days,
        "rows": rows,
        "flags": flags,
        "topics": topics,
        "claims": claims,
    }
    return render_email(
        "digest",
        context,
        key=f"digest:{manager.id}:{year}-W{week:02d}",
        to=[manager.email],
        subject=f"Learning Day digest, week of {monday:%d %b}: {len(flags)} flag{'s' if len(flags) != 1 else ''}",
    )


def _flag_problem(flag: Flag, recipient: _Recipient) -> ProblemReport:
    return ProblemReport(
        key=f"flag:{flag.id}:{recipient.person.id}",
        step="flag_email",
        subject_type="flag",
        subject_id=str(flag.id),
        person_id=recipient.person.id,
        reason="",
        outcome=f"the {recipient.level.replace('_', ' ')} was not emailed about this flag",
    )
