"""The channel sequencer posts a burst in turns: one activity makes the queued posts one after
another at the channel's rate. When Slack cannot take a post right now (its server errors past
the client's own retries), the turn ends there; the rest goes back to the front of the queue and
is posted after a back-off — in order, each once, none recorded as a problem. The real
ChannelPosterWorkflow on the dev server, the real slack_sdk client against the Slack peer."""

from __future__ import annotations

import asyncio
import threading
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from activities.channel_queue import ChannelQueue
from activities.chat.slack import SlackChat
from learningday.contracts.channel import EnqueueRequest, poster_workflow_id
from learningday.contracts.chat import ChannelPost
from learningday.db.models import DeliveryProblem
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from tests.peers.slack import BOT_TOKEN, running_slack_peer
from tests.waiting import eventually
from tests.workflows.conftest import FakeCalendar
from tests.workflows.test_learning_day import compact_policy

POSTS = 8
RATE = 2.0


def post(n: int) -> ChannelPost:
    return ChannelPost(
        key=f"channel:turns-{n}:plan",
        channel="#learning-day",
        person_email=f"p{n}@example.com",
        person_name=f"Person {n}",
        slack_user_id=None,
        kind="plan",
        text=f"Plan number {n}",
        category=None,
        thread_ts=None,
    )


async def test_slack_down_mid_burst_ends_the_turn_and_the_rest_follows_in_order(
    temporal_env: WorkflowEnvironment, session: Session
) -> None:
    queue = f"turns-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    policy = compact_policy()
    with running_slack_peer(messages_per_second=RATE, burst=1) as slack:
        slack.add_channel("#learning-day")
        chat = SlackChat(token=BOT_TOKEN, base_url=slack.base_url, min_post_interval=0.0)
        workers = build_workers(
            temporal_env.client,
            settings,
            Ports(calendar=FakeCalendar(), chat=chat),
            policy_loader=lambda: policy,
            channel_posts_per_second=RATE,
        )
        tasks = [asyncio.create_task(w.run()) for w in workers]

        def break_slack_after_three_posts() -> None:
            # Three server errors: the client's own two retries and then the turn's interruption.
            if slack.wait_for(lambda: len(slack.channel_messages("#learning-day")) >= 3, timeout=60):
                slack.fail_next("chat.postMessage", "server_error", times=3)

        saboteur = threading.Thread(target=break_slack_after_three_posts, daemon=True)
        saboteur.start()
        try:
            sequencer = ChannelQueue(temporal_env.client, queue, settings.temporal_channel_task_queue, RATE)
            for n in range(POSTS):
                await sequencer.enqueue_channel_post(EnqueueRequest(post(n), reply_to_workflow_id=f"no-day-{n}"))

            async def all_posted() -> bool:
                return len(slack.channel_messages("#learning-day")) >= POSTS

            await eventually(all_posted, timeout=120, what="every post in the channel")
            history = await temporal_env.client.get_workflow_handle(
                poster_workflow_id("#learning-day", queue)
            ).fetch_history()
        finally:
            for worker in workers:
                await worker.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)
        saboteur.join(timeout=1)

        texts = [m.text or "" for m in slack.channel_messages("#learning-day")]
        order = [next(n for n in range(POSTS) if f"Plan number {n}" in text) for text in texts]
        assert order == list(range(POSTS)), "lost, doubled or out of order"
        failed = [call for call in slack.calls_to("chat.postMessage") if call.status == 500]
        assert len(failed) == 3, "Slack's errors were not met mid-burst"
        assert not slack.rate_limited, "the channel was sent more than its rate"
    # The interruption was the turn's answer, not a failed activity Temporal retried: several
    # turns, each a first attempt, and the back-off as the sequencer's own timers.
    started = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert len(started) >= 2 and all(attempt.attempt == 1 for attempt in started)
    assert any(e.HasField("timer_started_event_attributes") for e in history.events)
    session.expire_all()
    assert session.scalars(select(DeliveryProblem)).all() == []
