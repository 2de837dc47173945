"""Web fixtures: an org with every role in one line, the app on a fake check-in gateway, and
signing in the way a person does (a sign-in link, pressed)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from activities.mail.factory import mailer_from_settings
from learningday.checkins import CheckInResult, CheckInSubmission, DayStatus
from learningday.contracts.day import channel_post_key, workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import (
    CheckIn,
    CheckInKind,
    ClaimState,
    DayState,
    ExpenseClaim,
    Flag,
    FlagKind,
    LearningDay,
    OutboxMessage,
    Person,
    Role,
)
from learningday.settings import get_settings
from learningday.web.app import create_app
from learningday.web.auth import login_token

TODAY = dt.date.today()
# The latest Thursday up to today: pages show recent weeks, so the data is recent too.
THURSDAY = TODAY - dt.timedelta(days=(TODAY.weekday() - 3) % 7)
NOW = dt.datetime.combine(THURSDAY, dt.time(9, 30), dt.UTC)
WEEK = dt.timedelta(weeks=1)
# A Program date range covering the last eight weeks of data.
RANGE = {"start": (THURSDAY - 8 * WEEK).isoformat(), "end": TODAY.isoformat()}


@dataclass
class FakeGateway:
    """Stands in for the workflow: records the check-in as the workflow's activity would."""

    submissions: list[CheckInSubmission] = field(default_factory=list)

    async def submit(self, submission: CheckInSubmission) -> CheckInResult:
        self.submissions.append(submission)
        # In a thread, as the real gateway reads: the web's event loop runs no database work.
        return await asyncio.to_thread(self._record, submission)

    def _record(self, submission: CheckInSubmission) -> CheckInResult:
        with session_scope() as session:
            person = session.scalar(select(Person).where(Person.email == submission.person_email))
            assert person is not None
            query = select(LearningDay).where(LearningDay.person_id == person.id)
            if submission.date is not None:
                query = query.where(LearningDay.date == submission.date)
            day = session.scalar(query.order_by(LearningDay.date.desc()))
            if day is None:
                return CheckInResult(accepted=False, message="No Learning Day is running for you right now.")
            existing = session.scalar(
                select(CheckIn).where(CheckIn.learning_day_id == day.id, CheckIn.kind == CheckInKind(submission.kind))
            )
            if existing is None:
                session.add(
                    CheckIn(
                        learning_day_id=day.id,
                        kind=CheckInKind(submission.kind),
                        text=submission.text,
                        why=submission.why,
                        category=submission.category,
                        resources=submission.resources,
                        source="web",
                        submitted_at=dt.datetime.now(dt.UTC),
                    )
                )
            else:
                existing.text = submission.text
                existing.edited_at = dt.datetime.now(dt.UTC)
        noun = submission.kind.capitalize()
        return CheckInResult(
            accepted=True, message=f"{noun} {'updated' if existing else 'saved'}.", edited=existing is not None
        )

    async def status(self, person_email: str) -> DayStatus:
        return DayStatus(person_email=person_email, date=None, state="none")

    async def skip(self, person_email: str, reason: str, key: str | None = None) -> CheckInResult:
        return CheckInResult(accepted=False, message="not supported here")


@dataclass
class Org:
    """ada (admin) · grace → margaret → alan (Research) · barbara → linus (Platform)."""

    ada: Person
    grace: Person
    margaret: Person
    alan: Person
    barbara: Person
    linus: Person

    def everyone(self) -> list[Person]:
        return [self.ada, self.grace, self.margaret, self.alan, self.barbara, self.linus]


def add_person(
    session: Session, email: str, name: str, team: str | None, manager: Person | None = None, role: Role = Role.learner
) -> Person:
    person = Person(
        email=email,
        name=name,
        timezone="Europe/London",
        team=team,
        role=role,
        manager_id=manager.id if manager else None,
    )
    session.add(person)
    session.flush()
    return person


def add_day(
    session: Session,
    person: Person,
    date: dt.date,
    plan: str | None = None,
    summary: str | None = None,
    category: str = "papers",
    state: DayState = DayState.completed,
) -> LearningDay:
    day = LearningDay(person_id=person.id, date=date, state=state, workflow_id=f"learning-day-{person.id}-{date}")
    session.add(day)
    session.flush()
    if plan:
        session.add(
            CheckIn(learning_day_id=day.id, kind=CheckInKind.plan, text=plan, category=category, submitted_at=NOW)
        )
    if summary:
        session.add(CheckIn(learning_day_id=day.id, kind=CheckInKind.summary, text=summary, submitted_at=NOW))
    session.flush()
    return day


def add_flag(session: Session, day: LearningDay, kind: FlagKind = FlagKind.missed_summary) -> Flag:
    flag = Flag(
        person_id=day.person_id,
        learning_day_id=day.id,
        kind=kind,
        date=day.date,
        reason="No summary by the deadline",
        evidence={"deadline": "20:00"},
        raised_at=NOW,
    )
    session.add(flag)
    session.flush()
    return flag


def add_claim(
    session: Session, person: Person, amount: str, state: ClaimState = ClaimState.pending, category: str = "books"
) -> ExpenseClaim:
    claim = ExpenseClaim(
        person_id=person.id,
        amount=Decimal(amount),
        currency="USD",
        category=category,
        description=f"A {category} purchase",
        state=state,
        submitted_at=NOW,
    )
    session.add(claim)
    session.flush()
    return claim


def add_channel_post(session: Session, person: Person, date: dt.date, kind: str, text: str) -> None:
    """A post in the local channel as a day's workflow keys it and the local chat writes it."""
    header = f"{person.name}'s {kind} for {date:%A %-d %B}"
    session.add(
        OutboxMessage(
            idempotency_key=channel_post_key(workflow_id_for(person.id, date), kind),
            channel="local_channel",
            recipient="#learning-day",
            subject=header,
            body=f"{header}\n\n{text}",
        )
    )
    session.flush()


@pytest.fixture
def org(session: Session) -> Org:
    ada = add_person(session, "ada@example.com", "Ada Admin", "Ops", role=Role.admin)
    grace = add_person(session, "grace@example.com", "Grace Head", "Research")
    margaret = add_person(session, "margaret@example.com", "Margaret Lead", "Research", grace)
    alan = add_person(session, "alan@example.com", "Alan Learner", "Research", margaret)
    barbara = add_person(session, "barbara@example.com", "Barbara Head", "Platform")
    linus = add_person(session, "linus@example.com", "Linus Learner", "Platform", barbara)
    session.commit()
    return Org(ada, grace, margaret, alan, barbara, linus)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def app(engine: Engine, gateway: FakeGateway) -> FastAPI:
    return create_app(get_settings(), gateway, mailer_from_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        yield client


CSRF_FIELD = re.compile(r'name="(csrf_token|csrf)" value="([^"]+)"')


def form_token(page: str) -> tuple[str, str]:
    """The (field name, CSRF token) of the first form on a page, as a browser would post it."""
    found = CSRF_FIELD.search(page)
    assert found, "the page's form carries no CSRF token"
    return found.group(1), found.group(2)


def sign_in(client: TestClient, person: Person) -> TestClient:
    """Use a fresh sign-in link as the person would: open it, press the button."""
    path = f"/auth/link/{login_token(person.id)}"
    field, token = form_token(client.get(path).text)
    response = client.post(path, data={"next": "/me", field: token})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def auth_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Switch `LEARNINGDAY_AUTH_MODE` (and related settings) for one test."""

    def switch(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"LEARNINGDAY_{key.upper()}", value)
        get_settings.cache_clear()

    yield switch
    get_settings.cache_clear()  # monkeypatch then restores the environment
