"""An org of four (Grace → Maria → Ada, Bob), a real SMTP server, and workers whose mailer and
calendar the test chooses, on the real Temporal dev server or the time-skipping test server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from learningday.contracts.calendar import CalendarEvent, EventQuery
from learningday.contracts.mail import Mailer
from learningday.db.models import Person
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from policies.policy import Policy
from tests.mail.smtp_peer import HOST, CollectingHandler, smtp_server
from tests.workflows.clock import thursday_ahead
from tests.workflows.conftest import FakeCalendar, FakeChat


@dataclass
class Org:
    grace: Person  # Maria's manager
    maria: Person  # the manager
    ada: Person
    bob: Person


@pytest.fixture
def org(session: Session) -> Org:
    grace = Person(email="grace@example.com", name="Grace Hopper", timezone="America/New_York", team="Leads")
    session.add(grace)
    session.flush()
    maria = Person(
        email="maria@example.com", name="Maria Agnesi", timezone="Europe/London", manager_id=grace.id, team="Research"
    )
    session.add(maria)
    session.flush()
    ada = Person(
        email="ada@example.com", name="Ada Lovelace", timezone="Europe/Berlin", manager_id=maria.id, team="Research"
    )
    bob = Person(
        email="bob@example.com", name="Bob Noyce", timezone="America/Los_Angeles", manager_id=maria.id, team="Research"
    )
    session.add_all([ada, bob])
    session.commit()
    return Org(grace, maria, ada, bob)


@dataclass
class Smtp:
    handler: CollectingHandler
    port: int

    def to(self, address: str) -> list:  # type: ignore[type-arg]
        return [r for r in self.handler.received if address in r.rcpt_tos]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        yield Smtp(handler, port)


@dataclass
class CalendarWithEvents(FakeCalendar):
    """The workflow tests' fake calendar, plus events per person returned by `list_events`."""

    events: dict[str, list[CalendarEvent]] = field(default_factory=dict)

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        found = super().list_events(query)
        return found + [
            e
            for e in self.events.get(query.person_email, [])
            if e.starts_at < query.ends_at and e.ends_at > query.starts_at
        ]


@dataclass
class Workers:
    env: WorkflowEnvironment
    settings: Settings
    calendar: CalendarWithEvents
    chat: FakeChat
    policy: Policy

    @contextlib.asynccontextmanager
    async def running(self, mailer: Mailer) -> AsyncIterator[list[Worker]]:
        workers = build_workers(
            self.env.client,
            self.settings,
            Ports(calendar=self.calendar, chat=self.chat, mailer=mailer),
            policy_loader=lambda: self.policy,
            channel_posts_per_second=50,
        )
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            yield workers
        finally:
            for worker in workers:
                await worker.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)


def workers_on(env: WorkflowEnvironment) -> Workers:
    queue = f"enf-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    return Workers(env, settings, CalendarWithEvents(), FakeChat(), Policy())


@pytest.fixture
def workers(temporal_env: WorkflowEnvironment, engine: object) -> Workers:
    return workers_on(temporal_env)


async def next_thursday(w: Workers) -> dt.date:
    """The day a test on the time-skipping server plays: the next working Thursday of its clock."""
    return thursday_ahead(await w.env.get_current_time(), w.policy)


@pytest.fixture
def skipping_workers(skipping_env: WorkflowEnvironment, engine: object) -> Workers:
    """On the time-skipping test server: a real, uncompressed day passes in an instant."""
    return workers_on(skipping_env)


class CrashAfterFirstSend:
    """A mailer that sends one email for real, then stalls until released and fails as a dying
    worker would: the email went out, the activity never completed."""

    def __init__(self, real: Mailer) -> None:
        self.real = real
        self.sent_one = threading.Event()
        self.release = threading.Event()

    def send(self, email):  # type: ignore[no-untyped-def]
        if not self.sent_one.is_set():
            self.real.send(email)
            self.sent_one.set()
        self.release.wait(30)
        raise RuntimeError("worker process died")


def smtp_mailer(smtp: Smtp):  # type: ignore[no-untyped-def]
    from activities.mail.smtp import SmtpMailer

    return SmtpMailer(HOST, smtp.port, tls="none", sender="Learning Day <ld@example.com>", timeout=5)


THURSDAY = dt.date(2026, 12, 3)
MONDAY = dt.date(2026, 11, 30)
