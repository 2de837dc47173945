"""The tables: who takes part, each Learning Day and its check-ins, flags, claims, the outbox
of everything we send, and the audit log.

Times are stored as timezone-aware UTC; dates are the person's local calendar date.
Natural keys carry unique constraints so a retried activity can upsert instead of duplicate.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native PG enum) so adding a value is not a migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Role(str, enum.Enum):
    learner = "learner"
    admin = "admin"
    finance = "finance"


class DayState(str, enum.Enum):
    scheduled = "scheduled"
    held = "held"
    planning = "planning"
    learning = "learning"
    summarising = "summarising"
    completed = "completed"
    skipped = "skipped"
    cancelled = "cancelled"


class CheckInKind(str, enum.Enum):
    plan = "plan"
    summary = "summary"


class FlagKind(str, enum.Enum):
    missed_plan = "missed_plan"
    missed_summary = "missed_summary"
    used_for_work = "used_for_work"
    spillover = "spillover"


class ClaimState(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"
    withdrawn = "withdrawn"


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Person(Base):
    __tablename__ = "people"
    # Ids are in workflow ids (learning-day-<person id>-<date>): never hand one out twice.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    team: Mapped[str | None] = mapped_column(String(120), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.learner)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # In every session cookie; a cookie with an older version is refused. Signing out and
    # deactivation bump it, ending the person's sessions everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    manager: Mapped[Person | None] = relationship(remote_side=[id])


class Absence(Base):
    """An out-of-office period or an approved exception recorded in the service."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class LearningDay(Base):
    __tablename__ = "learning_days"
    __table_args__ = (UniqueConstraint("person_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    state: Mapped[DayState] = mapped_column(_enum(DayState), default=DayState.scheduled)
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    hold_event_id: Mapped[str | None] = mapped_column(String(1024))
    channel_thread_ts: Mapped[str | None] = mapped_column(String(32))
    followed_plan: Mapped[bool | None] = mapped_column(
        Boolean
    )  # judged at the day's end (or by the audit, for older days); shown on the person page
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    person: Mapped[Person] = relationship()
    check_ins: Mapped[list[CheckIn]] = relationship(back_populates="learning_day")


class CheckIn(Base):
    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("learning_day_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learning_day_id: Mapped[int] = mapped_column(ForeignKey("learning_days.id"), index=True)
    kind: Mapped[CheckInKind] = mapped_column(_enum(CheckInKind))
    text: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    resources: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="web")
    submitted_at: Mapped[dt.datetime] = mapped_column()
    edited_at: Mapped[dt.datetime | None] = mapped_column()
    # Which of the workflow's accepted versions this row holds (1 = first submission): a write
    # of another text under the same revision is two truths, and refused.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    learning_day: Mapped[LearningDay] = relationship(back_populates="check_ins")


class CalendarHold(Base):
    """A hold kept by the local calendar: served to the person as an ICS feed."""

    __tablename__ = "calendar_holds"

    event_id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column()
    ends_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("person_id", "kind", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    learning_day_id: Mapped[int | None] = mapped_column(ForeignKey("learning_days.id"))
    kind: Mapped[FlagKind] = mapped_column(_enum(FlagKind))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[dt.datetime] = mapped_column()
    excused_at: Mapped[dt.datetime | None] = mapped_column()
    excused_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    excuse_reason: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])


class ExpenseClaim(Base):
    __tablename__ = "expense_claims"
    # Ids are in workflow ids (claim-<id>): never hand one out twice.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    base_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # in the policy currency
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    receipt_path: Mapped[str | None] = mapped_column(String(500))
    receipt_content_type: Mapped[str | None] = mapped_column(String(100))
    receipt_size: Mapped[int | None] = mapped_column(Integer)
    learning_day_id: Mapped[int | None] = mapped_column(ForeignKey("learning_days.id"))
    topic: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[ClaimState] = mapped_column(_enum(ClaimState), default=ClaimState.pending)
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    # The front door's idempotency key (Slack `view.id`, a web form's nonce): a redelivered
    # submission finds this claim instead of filing a second one.
    submission_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    submitted_at: Mapped[dt.datetime] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()

    person: Mapped[Person] = relationship()
    decisions: Mapped[list[ClaimDecision]] = relationship(back_populates="claim")


class ClaimDecision(Base):
    __tablename__ = "claim_decisions"
    __table_args__ = (UniqueConstraint("claim_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected | auto_approved
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column()
    token_id: Mapped[str | None] = mapped_column(String(64))  # the approval link it spent

    claim: Mapped[ExpenseClaim] = relationship(back_populates="decisions")


class UsedToken(Base):
    """Single use for signed links: a token id is spent once, enforced by the primary key."""

    __tablename__ = "used_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column()


class SignInRequest(Base):
    """One request for a sign-in link, kept for the rate limits (`web/sign_in_limits.py`) and
    pruned once older than their window. The address is kept only as a keyed digest."""

    __tablename__ = "sign_in_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(index=True)


class OutboxMessage(Base):
    """Every message we send, keyed so a retried send is recognised and never repeated."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | slack_dm | slack_channel
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.pending)
    external_id: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(320))  # a person's email, "system" or "workflow:<id>"
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DeliveryProblem(Base):
    """A step outside a day's core (a prompt, an email, a channel post, a digest) that failed for
    good: what was tried, for whom, why, and what was done instead. Shown to admins on
    /problems and counted in /metrics; one row per step key, so a retry never adds a second."""

    __tablename__ = "delivery_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the failed step's idempotency key
    step: Mapped[str] = mapped_column(String(32), index=True)  # prompt | flag_email | channel_post | …
    subject_type: Mapped[str] = mapped_column(String(32))  # learning_day | flag | expense_claim | week
    subject_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)  # who missed out
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)  # what happened instead: "emailed instead", "not sent"
    at: Mapped[dt.datetime] = mapped_column()

    person: Mapped[Person | None] = relationship()


class Installation(Base):
    """This installation's random id, made on first use: it keeps the Message-IDs of two
    installations (or of one reinstalled on a fresh database) from ever colliding."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    install_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
