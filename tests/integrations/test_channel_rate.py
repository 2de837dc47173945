"""Thirty summaries arriving at once reach one Slack channel at most once a second, in the order
they were shared, none lost and none doubled — paced by the channel's sequencer workflow (one
activity posting the burst in turn), not by the adapter (whose own pacing is switched off here).

The thirty days run at the compact policy's real times on the time-skipping server: the clock
stands at 09:31 UTC while the summaries go in (the summary window's 19 minutes, not a compressed
day's seconds); the posts' pacing is the activity's, in real time, which the Slack peer measures."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from activities.chat.slack import SlackChat
from learningday.contracts.day import CheckInUpdate, LearningDayInput, workflow_id_for
from learningday.db.models import Person
from learningday.settings import Settings
from learningday.temporal.worker import Ports, build_workers
from policies.policy import Policy
from tests.peers.slack import BOT_TOKEN, running_slack_peer
from tests.waiting import eventually
from tests.workflows.clock import advance_to, thursday_ahead
from tests.workflows.conftest import FakeCalendar
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow

PEOPLE = 30


def summaries_only() -> Policy:
    policy = compact_policy().model_dump()
    policy["channel"] = {"name": "#learning-day", "post_plans": False, "post_summaries": True}
    return Policy.model_validate(policy)


@pytest.mark.slow
async def test_thirty_simultaneous_summaries_reach_the_channel_at_most_once_a_second(
    skipping_env: WorkflowEnvironment, session: Session
) -> None:
    policy = summaries_only()
    date = thursday_ahead(await skipping_env.get_current_time(), policy)
    people = [Person(email=f"p{i:02d}@example.com", name=f"Person {i:02d}", timezone="UTC") for i in range(PEOPLE)]
    session.add_all(people)
    session.commit()
    queue = f"rate-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")

    with running_slack_peer(messages_per_second=1.0, burst=1) as slack:
        channel = slack.add_channel("#learning-day")
        for person in people:
            slack.add_user(person.email)
        chat = SlackChat(token=BOT_TOKEN, base_url=slack.base_url, min_post_interval=0.0)
        workers = build_workers(
            skipping_env.client,
            settings,
            Ports(calendar=FakeCalendar(), chat=chat),
            policy_loader=lambda: policy,
            channel_posts_per_second=1.0,
        )
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            handles = [
                await skipping_env.client.start_workflow(
                    LearningDayWorkflow.run,
                    LearningDayInput(person_id=p.id, date=date),
                    id=workflow_id_for(p.id, date),
                    task_queue=queue,
                )
                for p in people
            ]
            await advance_to(skipping_env, dt.datetime.combine(date, dt.time(9, 31), tzinfo=dt.UTC))

            async def all_prompted_for_summary() -> bool:
                views = await asyncio.gather(*(h.query(LearningDayWorkflow.status) for h in handles))
                return all("summary:prompt:0" in v.prompts_sent for v in views)

            await eventually(all_prompted_for_summary, timeout=60, what="every summary prompt")
            # Shared one after another, as fast as the updates go: this is the order to keep.
            for i, handle in enumerate(handles):
                await handle.execute_update(
                    LearningDayWorkflow.submit_check_in,
                    CheckInUpdate(kind="summary", text=f"Summary number {i:02d}", source="web"),
                )

            # All posted while the clock runs at wall speed: the sequencer's wait between two turns is
            # a workflow timer, which awaiting a result would skip (the test server's clock, not Slack's).
            async def all_posted() -> bool:
                return len(slack.channel_messages("#learning-day")) >= PEOPLE

            await eventually(all_posted, timeout=120, what="every summary in the channel")
            views = [await h.result() for h in handles]  # one at a time: each unlocks the test server's clock
        finally:
            for worker in workers:
                await worker.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)

        posted = slack.channel_messages("#learning-day")
        texts = [m.text or "" for m in posted]
        assert all(v.posted == ["summary"] for v in views)
        assert len(posted) == PEOPLE, "a summary was lost or doubled"
        numbers = [next(f"{i:02d}" for i in range(PEOPLE) if f"Summary number {i:02d}" in t) for t in texts]
        assert numbers == [f"{i:02d}" for i in range(PEOPLE)], "posts arrived out of order"
        # The channel's limit is the sequencer's to keep. (One person's DMs, prompt, reminder and
        # summary prompt, go out within a second when the clock jumps to 09:31: the adapter, whose
        # own pacing is off here, waits out Slack's 429 and posts once. Not this test's subject.)
        assert [at for where, at in slack.rate_limited if where == channel] == [], (
            "the channel was sent more than Slack's limit"
        )
        gaps = [b.arrived_at - a.arrived_at for a, b in zip(posted, posted[1:])]
        span = posted[-1].arrived_at - posted[0].arrived_at
        assert span >= (PEOPLE - 1) * 0.9, f"{PEOPLE} posts in {span:.1f} s: faster than 1/s"
        print(f"\n{PEOPLE} posts drained in {span:.1f} s; smallest gap {min(gaps):.2f} s")
