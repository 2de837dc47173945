"""A worker SIGKILLed in the middle of a batch of flag emails, over the real SMTP adapter.

Two `learningday worker` processes share one task queue on the real Temporal dev server, each
with the SMTP mailer and 4 activity slots. Thirty Learning Days start together and nobody
answers, so each day raises two flags (no plan, no summary) and at its end `notify_day_flags`
emails the manager, then the person, about both (2 emails per day, 60 in all, in one batch).
The relay (aiosmtpd) takes LATENCY to answer each message. Once some of the batch has arrived,
the relay stops answering the emails to the people: every activity slot soon waits on one, its
manager email sent and recorded. One worker is SIGKILLed there, with 4 emails on the wire; the
relay answers again, and the surviving worker finishes every day (the dead worker's
`notify_day_flags` attempts run again after their start-to-close timeout).

Every expected email must arrive — counted by Message-ID and by (recipient, subject), once each
except as below — the outbox must hold one row per idempotency key, all sent once, and every day
must complete.

Where in the SMTP exchange the kill lands decides the outcome, so the relay fixes it per case:

- `before_accept`: the relay delivers a message as it answers 250 (a relay that queues on
  commit), so the dead worker's emails awaiting that answer were never delivered, and the
  survivor sends each once.
- `after_accept`: the relay queued the dead worker's messages as their data came in, and its 250
  never reached the worker (RFC 1047's duplicate-message window). Nobody can tell such a message
  from one the relay never took, and losing a manager's flag email is worse than a repeat, so
  the survivor sends it again with the same Message-ID (activities/mail/smtp.py): exactly the
  emails on the wire at the kill arrive twice, nothing else repeats or is lost. The README
  states this limit.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.mail.message import message_id_for
from activities.records.enforcement import LABELS
from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.installation import forget_cached, installation_id
from learningday.db.models import DayState, Flag, LearningDay, OutboxMessage, OutboxStatus, Person
from learningday.settings import Settings
from learningday.temporal.devserver import DevServer
from tests.deploy.test_two_workers import THURSDAY, WorkerProcess, cluster  # noqa: F401 - fixture
from tests.mail.smtp_peer import HOST, free_port
from tests.waiting import eventually
from workflows.learning_day import LearningDayWorkflow

pytestmark = pytest.mark.slow

LEARNERS = 30  # 3 managers with 10 reports each; the managers run no day of their own
MANAGERS = 3
EMAILS_PER_DAY = 2  # the day's two flags in one email to the manager and one to the person
TIME_SCALE = 120.0  # the compact day of test_two_workers: plan cutoff ~12.5 s, summary ~27.5 s
LATENCY = 0.15  # seconds the relay takes to answer each message's end of data
ACTIVITY_SLOTS = 4  # per worker: the batch takes a few seconds, not one burst
KILL_AFTER = LEARNERS // 2  # emails delivered before the kill: a quarter of the batch
TIMEOUT = 240.0


@dataclass(frozen=True)
class Delivered:
    worker: str  # which worker's connection carried it (by the relay port it used)
    rcpt_tos: list[str]
    subject: str
    message_id: str


@dataclass
class SlowRelay:
    """An SMTP relay that takes `latency` to answer each message and can hold some answers back.

    `accept="on_reply"` delivers a message at the moment it answers 250, like a relay that queues
    on commit: a client gone before then delivered nothing (aiosmtpd cancels the handler when the
    connection drops). `accept="on_data"` queues the message as soon as its data is in, then
    answers: a client gone in between delivered it without hearing so.

    It listens on one port per worker, so it can tell whose messages are in flight. Each
    Controller runs its own event loop in its own thread, hence a thread lock.
    """

    workers: tuple[str, ...]
    latency: float
    accept: str = "on_reply"
    ports: dict[str, int] = field(default_factory=dict)
    delivered: list[Delivered] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)  # messages awaiting our answer, per worker
    held: Counter[str] = field(default_factory=Counter)  # of those, held back by `hold`
    _held_for: frozenset[str] = frozenset()
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controllers: list[Controller] = field(default_factory=list)

    def start(self) -> None:
        for worker in self.workers:
            self.ports[worker] = free_port()
            controller = Controller(self, hostname=HOST, port=self.ports[worker])
            controller.start()
            self._controllers.append(controller)

    def stop(self) -> None:
        self.release()
        for controller in self._controllers:
            controller.stop()

    def hold(self, recipients: set[str]) -> None:
        """From now on answer no message to `recipients` (and, `on_reply`, deliver none) until `release`."""
        with self._lock:
            self._held_for = frozenset(recipients)

    def release(self) -> None:
        with self._lock:
            self._held_for = frozenset()

    def count(self) -> int:
        with self._lock:
            return len(self.delivered)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        assert server.transport is not None
        port = server.transport.get_extra_info("sockname")[1]
        worker = next(name for name, p in self.ports.items() if p == port)
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        parsed = BytesParser(policy=email_policy.default).parsebytes(content)
        message = Delivered(worker, list(envelope.rcpt_tos), str(parsed["Subject"]), str(parsed["Message-ID"]))
        with self._lock:
            self.in_flight[worker] += 1
            if self.accept == "on_data":
                self.delivered.append(message)
        held = False
        try:
            await asyncio.sleep(self.latency)
            while True:
                with self._lock:  # hold() takes the lock too: no answer slips past it
                    if not self._held_for.intersection(message.rcpt_tos):
                        if self.accept == "on_reply":
                            self.delivered.append(message)
                        break
                    if not held:
                        held = True
                        self.held[worker] += 1
                await asyncio.sleep(0.01)
        finally:
            with self._lock:
                self.in_flight[worker] -= 1
                self.held[worker] -= held
        return "250 Message accepted for delivery"


@pytest.fixture
def org(session: Session) -> tuple[list[Person], list[Person]]:
    managers = [
        Person(email=f"manager{m}@example.com", name=f"Manager {m}", timezone="Europe/Berlin") for m in range(MANAGERS)
    ]
    session.add_all(managers)
    session.flush()
    learners = [
        Person(
            email=f"learner{n:02d}@example.com",
            name=f"Learner {n:02d}",
            timezone="Europe/Berlin",
            team="Batch",
            manager_id=managers[n % MANAGERS].id,
        )
        for n in range(LEARNERS)
    ]
    session.add_all(learners)
    session.commit()
    return learners, managers


@pytest.fixture(params=["before_accept", "after_accept"])
def kill_point(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def relay(kill_point: str) -> Iterator[SlowRelay]:
    relay = SlowRelay(
        ("doomed", "survivor"), LATENCY, accept="on_reply" if kill_point == "before_accept" else "on_data"
    )
    relay.start()
    yield relay
    relay.stop()


def _count(session: Session, query) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return int(session.scalar(query) or 0)


def _worker_env(env: dict[str, str], relay: SlowRelay, worker: str) -> dict[str, str]:
    """The real SMTP adapter (no TLS, no login: a relay on the host), on this worker's relay port."""
    return env | {
        "LEARNINGDAY_SMTP_HOST": HOST,
        "LEARNINGDAY_SMTP_PORT": str(relay.ports[worker]),
        "LEARNINGDAY_SMTP_TLS": "none",
        "LEARNINGDAY_WORKER_MAX_CONCURRENT_ACTIVITIES": str(ACTIVITY_SLOTS),
    }


def _notify_timed_out_then_ran_on(history: WorkflowHistory, identity_prefix: str) -> bool:
    """Whether the day's `notify_day_flags` timed out (its worker died) and this worker ran it again."""
    scheduled = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "notify_day_flags"
    }
    return any(
        e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
        and e.activity_task_started_event_attributes.attempt > 1
        and e.activity_task_started_event_attributes.last_failure.HasField("timeout_failure_info")
        and e.activity_task_started_event_attributes.identity.startswith(identity_prefix)
        for e in history.events
    )


async def test_every_email_of_a_batch_goes_out_once_when_a_worker_is_killed_mid_batch(
    cluster: tuple[DevServer, dict[str, str]],
    relay: SlowRelay,
    kill_point: str,  # noqa: F811 - fixture
    org: tuple[list[Person], list[Person]],
    session: Session,
    tmp_path: Path,
) -> None:
    server, env = cluster
    learners, managers = org
    began = time.monotonic()
    doomed = WorkerProcess("doomed", _worker_env(env, relay, "doomed"), tmp_path)
    survivor = WorkerProcess("survivor", _worker_env(env, relay, "survivor"), tmp_path)
    try:
        await eventually(doomed.ready, timeout=60, what="the doomed worker ready")
        await eventually(survivor.ready, timeout=60, what="the surviving worker ready")
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        handles = await asyncio.gather(
            *(
                client.start_workflow(
                    LearningDayWorkflow.run,
                    LearningDayInput(person_id=p.id, date=THURSDAY, time_scale=TIME_SCALE),
                    id=workflow_id_for(p.id, THURSDAY),
                    task_queue=Settings().temporal_task_queue,
                )
                for p in learners
            )
        )

        # Mid-batch: some of the day-end emails are in, from both workers.
        async def some_delivered() -> bool:
            return relay.count() >= KILL_AFTER

        await eventually(some_delivered, timeout=90, what=f"{KILL_AFTER} flag emails at the relay")
        # notify_day_flags mails the manager, records it, then mails the person. Holding the answers to
        # the people stops every activity slot on an email in flight whose manager email is sent
        # and recorded: the kill then lands on emails in flight, never between a 250 and its
        # outbox row (where the outcome would be left to chance).
        relay.hold({p.email for p in learners})

        async def doomed_worker_stuck_mid_send() -> bool:
            return relay.held["doomed"] == ACTIVITY_SLOTS

        await eventually(
            doomed_worker_stuck_mid_send, timeout=30, what="every slot of the doomed worker awaiting the relay"
        )
        delivered_at_kill, in_flight_at_kill = relay.count(), relay.in_flight["doomed"]
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        killed_at = time.monotonic() - began

        async def connections_dropped() -> bool:
            return relay.in_flight["doomed"] == 0

        await eventually(connections_dropped, timeout=10, what="the relay noticing the dead worker's connections")
        relay.release()

        try:
            views: list[DayView] = await asyncio.wait_for(
                asyncio.gather(*(h.result() for h in handles)), timeout=TIMEOUT
            )
        except TimeoutError:
            done = _count(
                session, select(func.count()).select_from(LearningDay).where(LearningDay.state == DayState.completed)
            )
            raise AssertionError(
                f"{done} of {LEARNERS} days completed within {TIMEOUT} s; logs in {tmp_path}"
            ) from None
        finished_at = time.monotonic() - began

        # Every day completed, flagged twice, as the program says for someone who never answers.
        assert Counter(v.state for v in views) == {"completed": LEARNERS}
        assert all(v.flags == ["missed_plan", "missed_summary"] for v in views)

        # What should have gone out: per day, one email about both flags to the manager and one to the person.
        session.expire_all()
        flags = session.scalars(select(Flag)).all()
        by_id = {p.id: p for p in [*learners, *managers]}
        assert Counter((f.person_id, f.kind.value) for f in flags) == Counter(
            {(p.id, kind): 1 for p in learners for kind in ("missed_plan", "missed_summary")}
        )
        expected: dict[str, tuple[str, str]] = {}  # outbox key -> (recipient, subject)
        for person in learners:
            assert person.manager_id is not None
            subject = f"{person.name}: {LABELS['missed_plan']}, {LABELS['missed_summary']} ({THURSDAY:%a %d %b})"
            for reader in (by_id[person.manager_id], person):
                expected[f"day-flags:{person.id}:{THURSDAY}:{reader.id}"] = (reader.email, subject)
        assert len(expected) == EMAILS_PER_DAY * LEARNERS

        # What arrived at the relay: every expected email, once.
        arrived = list(relay.delivered)
        by_message_id = Counter(m.message_id for m in arrived)
        first_copies = {m.message_id: m for m in reversed(arrived)}.values()
        by_recipient_subject = Counter((rcpt, m.subject) for m in first_copies for rcpt in m.rcpt_tos)
        duplicates = sum(n - 1 for n in by_message_id.values())
        print(
            f"\n[{kill_point}] {len(expected)} emails in one batch, 2 workers, relay latency "
            f"{LATENCY * 1000:.0f} ms: {delivered_at_kill} delivered when one worker was killed at "
            f"{killed_at:.1f} s with {in_flight_at_kill} of its emails awaiting the relay; all days completed at "
            f"{finished_at:.1f} s; {len(arrived)} messages at the relay, {duplicates} duplicates"
        )
        repeated = {m: n for m, n in by_message_id.items() if n > 1}
        if kill_point == "before_accept":
            assert repeated == {}, "an email was delivered twice"
        else:
            # The relay had queued the dead worker's messages, but its 250 never reached the worker:
            # exactly those arrive a second time, under the same Message-ID; nothing else repeats.
            assert sorted(repeated.values()) == [2] * in_flight_at_kill, repeated
        forget_cached()  # the workers made this database's installation id: read theirs
        install, sender = installation_id(session), Settings().mail_from
        assert set(by_message_id) == {message_id_for(key, install, sender) for key in expected}
        assert by_recipient_subject == Counter(expected.values())

        # The outbox: one row per idempotency key, each sent once, with the Message-ID delivered.
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("day-flags:%"))).all()
        assert sorted(r.idempotency_key for r in rows) == sorted(expected)
        assert {r.status for r in rows} == {OutboxStatus.sent}
        assert all(r.external_id == message_id_for(r.idempotency_key, install, sender) for r in rows)
        assert all(r.attempts == 1 for r in rows)

        # The dead worker's notify_day_flags attempts timed out and ran again on the survivor, which
        # found each one's manager email sent and recorded, and sent only the person's.
        histories: list[WorkflowHistory] = await asyncio.gather(*(h.fetch_history() for h in handles))
        retried = sorted(h.workflow_id for h in histories if _notify_timed_out_then_ran_on(h, survivor.identity_prefix))
        assert len(retried) == ACTIVITY_SLOTS, retried
        already_sent = [
            (line["workflow_id"], line["message"].split()[1])
            for line in (json.loads(text) for text in survivor.log.read_text().splitlines() if text.startswith("{"))
            if line["message"].endswith("already sent; not sending again") and line.get("workflow_id") in retried
        ]
        assert sorted(wf for wf, _ in already_sent) == retried
        manager_emails = {m.email for m in managers}
        assert all(expected[key][0] in manager_emails for _, key in already_sent)
        print(
            f"[{kill_point}] the survivor re-ran {len(retried)} notify_day_flags and skipped {len(already_sent)} manager "
            f"emails already sent; delivered by worker: {dict(Counter(m.worker for m in arrived))}"
        )
    finally:
        doomed.stop()
        survivor.stop()
