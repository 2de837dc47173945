"""Thirty summaries arriving at once reach one Slack channel at most once a second, in the order
they were shared, none lost and none doubled — paced by the channel's sequencer workflow (one
activity posting the burst in turn), not by the adapter (whose own pacing is switched off here)."""

from __future__ import annotations

import asyncio
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
from tests.workflows.conftest import FakeCalendar
from tests.workflows.test_learning_day import compact_policy
from workflows.learning_day import LearningDayWorkflow

PEOPLE = 30
THURSDAY_DATE = "2026-12-03"


def summaries_only() -> Policy:
    policy = compact_policy().model_dump()
    policy["channel"] = {"name": "#learning-day", "post_plans": False, "post_summaries": True}
    return Policy.model_validate(policy)


@pytest.mark.slow
async def test_thirty_simultaneous_summaries_reach_the_channel_at_most_once_a_second(
    temporal_env: WorkflowEnvironment, session: Session
) -> None:
    import datetime as dt

    date = dt.date.fromisoformat(THURSDAY_DATE)
    people = [Person(email=f"p{i:02d}@example.com", name=f"Person {i:02d}", timezone="UTC") for i in range(PEOPLE)]
    session.add_all(people)
    session.commit()
    queue = f"rate-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue, temporal_channel_task_queue=f"{queue}-channel")
    policy = summaries_only()

    with running_slack_peer(messages_per_second=1.0, burst=1) as slack:
        channel = slack.add_channel("#learning-day")
        for person in people:
            slack.add_user(person.email)
        chat = SlackChat(token=BOT_TOKEN, base_url=slack.base_url, min_post_interval=0.0)
        workers = build_workers(
            temporal_env.client,
            settings,
            Ports(calendar=FakeCalendar(), chat=chat),
            policy_loader=lambda: policy,
            channel_posts_per_second=1.0,
        )
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            handles = [
                await temporal_env.client.start_workflow(
                    LearningDayWorkflow.run,
                    LearningDayInput(person_id=p.id, date=date, time_scale=120),
                    id=workflow_id_for(p.id, date),
                    task_queue=queue,
                )
                for p in people
            ]

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
            views = await asyncio.gather(*(h.result() for h in handles))
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
        # The channel's limit is the sequencer's to keep. (A DM's prompt and its reminder, 5 s apart
        # at this time scale, may meet within a second on a loaded machine: the adapter, whose own
        # pacing is off here, then waits out Slack's 429 and posts once. Not this test's subject.)
        assert [at for where, at in slack.rate_limited if where == channel] == [], (
            "the channel was sent more than Slack's limit"
        )
        gaps = [b.arrived_at - a.arrived_at for a, b in zip(posted, posted[1:])]
        span = posted[-1].arrived_at - posted[0].arrived_at
        assert span >= (PEOPLE - 1) * 0.9, f"{PEOPLE} posts in {span:.1f} s: faster than 1/s"
        print(f"\n{PEOPLE} posts drained in {span:.1f} s; smallest gap {min(gaps):.2f} s")
