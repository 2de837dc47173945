"""What the weekly audit would do for one week, without doing it (`learningday audit run`).

It reads the calendar the worker would read (Google, or the local one) and runs the audit's own
judgement (`activities.records.audit.judge_week`) for every active person, then works out who
each flag would be emailed to and which managers' digests would go. It sends nothing and writes
nothing (its database session is rolled back, never committed), so an operator can see a week's
flags before `--send` raises and mails them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from activities.calendar.port import Calendar
from activities.mail.outbox import already_sent
from activities.records.audit import WeekFinding, judge_week, week_query
from activities.records.enforcement import LABELS, missed_in_a_row
from learningday.db.engine import get_engine
from learningday.db.models import Flag, FlagKind, Person
from policies.enforcement import flag_days, flag_recipients
from policies.policy import Policy


@dataclass(frozen=True)
class FlagPreview:
    label: str  # "Learning spilled into other weekdays"
    days: str  # the days it is about, as its email's subject names them
    reason: str
    evidence: list[str]
    readers: list[str]  # "maria@example.com (manager)"
    already: bool  # raised before: the audit finds it again and mails nothing new about it


@dataclass(frozen=True)
class PersonPreview:
    name: str
    email: str
    flags: list[FlagPreview] = field(default_factory=list)
    unread: str | None = None  # why their calendar could not be read (they would not be audited)


@dataclass(frozen=True)
class DigestPreview:
    name: str
    email: str
    flags: int  # the week's flags the digest would list, those the audit would raise included
    sent: bool  # this week's digest already went to this manager


@dataclass(frozen=True)
class WeekPreview:
    monday: dt.date
    people: list[PersonPreview]
    digests: list[DigestPreview]


@contextlib.contextmanager
def read_only() -> Iterator[Session]:
    session = Session(get_engine())
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def preview_week(calendar: Calendar, policy: Policy, monday: dt.date) -> WeekPreview:
    """The audit of the week starting `monday`, as it would run now."""
    with read_only() as session:
        people = list(session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id)))
        previews, new_flags = [], {}
        for person in people:
            try:
                events = calendar.list_events(week_query(person.email, person.timezone, monday))
            except SQLAlchemyError:
                raise
            except Exception as error:  # noqa: BLE001 - shown, as the audit would record it
                previews.append(
                    PersonPreview(person.name, person.email, unread=f"{type(error).__name__}: {error}"[:300])
                )
                continue
            week = judge_week(session, policy, person.id, person.timezone, monday, events)
            flags = [_flag(session, policy, person, found) for found in week.findings]
            new_flags[person.id] = sum(not f.already for f in flags)
            previews.append(PersonPreview(person.name, person.email, flags))
        digests = [_digest(session, manager, monday, new_flags) for manager in _managers(session)]
    return WeekPreview(monday, previews, digests)


def _flag(session: Session, policy: Policy, person: Person, found: WeekFinding) -> FlagPreview:
    finding, kind = found.finding, FlagKind(found.finding.kind)
    already = (
        session.scalar(select(Flag.id).where(Flag.person_id == person.id, Flag.kind == kind, Flag.date == found.date))
        is not None
    )
    manager = person.manager
    readers = flag_recipients(
        policy,
        missed_in_a_row(session, person.id, found.date),
        person.id,
        manager.id if manager else None,
        manager.manager_id if manager else None,
    )
    emails = [f"{p.email} ({r.level.replace('_', ' ')})" for r in readers if (p := session.get(Person, r.person_id))]
    return FlagPreview(
        label=LABELS.get(finding.kind, finding.kind),
        days=flag_days(finding.kind, found.date, finding.events, person.timezone),
        reason=finding.reason,
        evidence=list(finding.evidence),
        readers=emails,
        already=already,
    )


def _managers(session: Session) -> list[Person]:
    """Who gets a digest: the managers of active people (as `send_digests_page` pages them)."""
    ids = select(Person.manager_id).where(Person.active.is_(True), Person.manager_id.is_not(None)).distinct()
    return list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))


def _digest(session: Session, manager: Person, monday: dt.date, new_flags: dict[int, int]) -> DigestPreview:
    reports = list(session.scalars(select(Person.id).where(Person.manager_id == manager.id, Person.active.is_(True))))
    standing = session.scalars(
        select(Flag.id).where(
            Flag.person_id.in_(reports),
            Flag.date >= monday,
            Flag.date <= monday + dt.timedelta(days=6),
            Flag.excused_at.is_(None),
        )
    ).all()
    year, week, _ = monday.isocalendar()
    sent = already_sent(session, f"digest:{manager.id}:{year}-W{week:02d}") is not None
    return DigestPreview(manager.name, manager.email, len(standing) + sum(new_flags.get(r, 0) for r in reports), sent)


def describe(preview: WeekPreview) -> list[str]:
    """The preview as the lines `audit run` prints: per person, then the digests."""
    lines = []
    for person in preview.people:
        who = f"{person.name} <{person.email}>"
        if person.unread is not None:
            lines.append(f"{who}: not audited, the calendar could not be read ({person.unread})")
            continue
        if not person.flags:
            lines.append(f"{who}: nothing to flag")
            continue
        lines.append(f"{who}: would flag")
        for flag in person.flags:
            told = (
                "raised before (its emails are never sent twice)"
                if flag.already
                else f"email to {', '.join(flag.readers) or 'nobody (no manager)'}"
            )
            lines.append(f"  {flag.label} ({flag.days}): {told}")
            lines.append(f"    {flag.reason}")
            lines += [f"    - {item}" for item in flag.evidence]
    lines.append(
        f"Digests that would go ({len(preview.digests)}):" if preview.digests else "No digests: nobody has a manager."
    )
    for digest in preview.digests:
        count = f"{digest.flags} flag{'' if digest.flags == 1 else 's'}"
        lines.append(
            f"  {digest.name} <{digest.email}>: {count}{' (already sent: not sent again)' if digest.sent else ''}"
        )
    return lines
