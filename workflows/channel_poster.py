"""One sequencer per Slack channel: posts leave in the order they were shared, at most the
channel's rate, and each Learning Day is told the message's `ts` (to thread its summary).

What is queued leaves in turns: one activity posts a burst one after another at the channel's
rate (since the `channel-turns` patch; a sequencer started before it posts one per activity).
A post that cannot be made (the channel does not exist, the app is not in it, Slack down past
the post's retry budget) is recorded as a delivery problem and the day is told it failed; the
queue moves on. One bad channel or one bad post never stops the sequencer or the days.

Why not a rate-limited task queue alone: Temporal's queue rate limiter neither keeps order nor
paces smoothly (30 posts at a 1/s limit took 71 s with gaps up to 4 s here). A workflow per
channel is the single place that decides when the next post may leave, across every worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.chat.activities import ChatActivities
    from activities.records.problems import record_delivery_problem
    from learningday.contracts.channel import (
        CHANNEL_POSTER_WORKFLOW,
        ChannelPosted,
        ChannelPosterInput,
        PostOutcome,
        PostsInTurn,
        PostsInTurnDone,
        QueuedPost,
    )
    from learningday.contracts.chat import MessageRef
    from learningday.contracts.problems import ProblemReport
    from workflows.failures import reason_of

IDLE_BEFORE_CLOSING = dt.timedelta(minutes=10)
POST_BUDGET = dt.timedelta(minutes=30)  # Slack down longer than this: the post is given up, recorded
POSTS_BEFORE_CONTINUE_AS_NEW = 1000
RECENT_KEYS = 2000
POSTS_PER_TURN = 50  # posts one activity makes in a row: bounds its input, heartbeat and retry
SLACK_BUSY_BACKOFF_MAX = 30.0  # seconds between tries while Slack cannot take a post right now


@workflow.defn(name=CHANNEL_POSTER_WORKFLOW)
class ChannelPosterWorkflow:
    def __init__(self) -> None:
        self._queue: deque[QueuedPost] = deque()
        self._known: set[str] = set()
        self._recent: deque[str] = deque(maxlen=RECENT_KEYS)
        self._failed: dict[str, str] = {}  # post key -> why, until the day is told

    @workflow.signal
    def enqueue(self, item: QueuedPost) -> None:
        # A retried enqueue activity signals twice; the post leaves once.
        if item.post.key not in self._known:
            self._known.add(item.post.key)
            self._queue.append(item)

    @workflow.run
    async def run(self, state: ChannelPosterInput) -> None:
        for item in state.pending:
            self.enqueue(item)
        for key in state.recent_keys:
            self._remember(key)
        if workflow.patched("channel-turns"):
            await self._post_in_turns(state)
            return
        interval = dt.timedelta(seconds=1 / state.posts_per_second)
        last = state.last_post_at
        posted = 0
        while True:
            if not await self._wait_for_work():
                return  # idle: the next enqueue starts a new run (signal-with-start)
            if last is not None:
                wait = (last + interval - workflow.now()).total_seconds()
                if wait > 0:
                    await workflow.sleep(wait)
            item = self._queue.popleft()
            ts = await self._post(item, state.task_queue)
            last = workflow.now()
            self._remember(item.post.key)
            await self._tell(item, ts)
            posted += 1
            if posted >= POSTS_BEFORE_CONTINUE_AS_NEW or workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new(state, last)

    async def _post_in_turns(self, state: ChannelPosterInput) -> None:
        """Post what is queued in turns: one activity makes a burst of posts at the channel's rate
        (`ChatActivities.post_to_channel_in_turn`), so the channel gets the rate it is configured
        for, not one post per few workflow tasks, and the history grows per turn, not per post.

        Each post's outcome is acted on as before: its day is told the `ts`, or the refusal is
        recorded as a delivery problem and the day told it failed. Posts Slack could not take
        right now go back to the front of the queue (order kept) and are tried again after a
        back-off, each until POST_BUDGET after it was first tried."""
        interval = dt.timedelta(seconds=1 / state.posts_per_second)
        last = state.last_post_at
        first_tried: dict[str, dt.datetime] = {}
        backoff = 0.0
        posted = 0
        while True:
            if not await self._wait_for_work():
                return  # idle: the next enqueue starts a new run (signal-with-start)
            if last is not None:
                wait = (last + interval - workflow.now()).total_seconds()
                if wait > 0:
                    await workflow.sleep(wait)
            turn = [self._queue.popleft() for _ in range(min(POSTS_PER_TURN, len(self._queue)))]
            for item in turn:
                first_tried.setdefault(item.post.key, workflow.now())
            done, for_good = await self._turn(turn, interval, state.task_queue)
            last = workflow.now()
            rest = turn[len(done.outcomes) :]
            if for_good:  # the activity gave up (its budget spent): the rest is given up, recorded
                given_up = rest
            else:
                given_up = [item for item in rest if workflow.now() - first_tried[item.post.key] >= POST_BUDGET]
            waiting = [item for item in rest if item not in given_up]
            why = done.interrupted or "Slack did not take the post in time"
            settled = [
                *(self._settle(item, outcome) for item, outcome in zip(turn, done.outcomes, strict=False)),
                *(self._settle(item, PostOutcome(item.post.key, failed=why)) for item in given_up),
            ]
            for item in turn:
                if item not in waiting:
                    first_tried.pop(item.post.key, None)
            self._queue.extendleft(reversed(waiting))  # back to the front: the order is kept
            await asyncio.gather(*settled)
            posted += len(turn) - len(waiting)
            if waiting:
                backoff = min(SLACK_BUSY_BACKOFF_MAX, max(1.0, backoff * 2))
                await workflow.sleep(backoff)
            else:
                backoff = 0.0
            if posted >= POSTS_BEFORE_CONTINUE_AS_NEW or workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new(state, last)

    async def _turn(
        self, turn: list[QueuedPost], interval: dt.timedelta, task_queue: str
    ) -> tuple[PostsInTurnDone, bool]:
        """One activity posting `turn` in order: what it did, and whether it failed for good
        (then `interrupted` says why and no outcome is known)."""
        try:
            done = await workflow.execute_activity_method(
                ChatActivities.post_to_channel_in_turn,
                PostsInTurn(posts=[item.post for item in turn], seconds_between=interval.total_seconds()),
                task_queue=task_queue or None,
                start_to_close_timeout=len(turn) * (interval + dt.timedelta(minutes=2)),
                heartbeat_timeout=interval + dt.timedelta(minutes=2),
                schedule_to_close_timeout=POST_BUDGET + len(turn) * interval,
                retry_policy=RetryPolicy(maximum_interval=dt.timedelta(seconds=30)),
            )
            return done, False
        except ActivityError as error:
            return PostsInTurnDone([], interrupted=reason_of(error)), True

    async def _settle(self, item: QueuedPost, outcome: PostOutcome) -> None:
        """Act on one post's outcome: remember it is done, record a refusal, tell its day."""
        self._remember(item.post.key)
        if outcome.failed is not None:
            self._failed[item.post.key] = outcome.failed
            await self._record_problem(item, outcome.failed)
        await self._tell(item, outcome.ts)

    async def _continue_as_new(self, state: ChannelPosterInput, last: dt.datetime | None) -> None:
        """A fresh run carrying the queue, the keys already posted and the last post's time."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            ChannelPosterInput(
                channel=state.channel,
                posts_per_second=state.posts_per_second,
                task_queue=state.task_queue,
                pending=list(self._queue),
                recent_keys=list(self._recent),
                last_post_at=last,
            )
        )

    async def _wait_for_work(self) -> bool:
        try:
            await workflow.wait_condition(lambda: bool(self._queue), timeout=IDLE_BEFORE_CLOSING)
            return True
        except TimeoutError:
            return False

    async def _post(self, item: QueuedPost, task_queue: str) -> str | None:
        """The post's `ts`; None when it failed for good (then recorded as a delivery problem)."""
        try:
            ref: MessageRef = await workflow.execute_activity(
                "post_to_channel",
                item.post,
                result_type=MessageRef,
                task_queue=task_queue or None,
                start_to_close_timeout=dt.timedelta(minutes=2),
                schedule_to_close_timeout=POST_BUDGET,
                retry_policy=RetryPolicy(maximum_interval=dt.timedelta(seconds=30)),
            )
            return ref.ts
        except ActivityError as error:
            reason = reason_of(error)
            self._failed[item.post.key] = reason
            await self._record_problem(item, reason)
            return None

    async def _record_problem(self, item: QueuedPost, reason: str) -> None:
        post = item.post
        await workflow.execute_activity(
            record_delivery_problem,
            ProblemReport(
                key=post.key,
                step="channel_post",
                subject_type="learning_day",
                subject_id=str(post.learning_day_id or item.reply_to_workflow_id),
                person_id=post.person_id,
                reason=reason,
                outcome=f"the {post.kind} was not posted to {post.channel}",
                at=workflow.now(),
            ),
            start_to_close_timeout=dt.timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=dt.timedelta(minutes=1)),
        )

    async def _tell(self, item: QueuedPost, ts: str | None) -> None:
        """Tell the day its post is out (or failed); a day that has ended needs no answer."""
        failed = self._failed.pop(item.post.key, None) if ts is None else None
        try:
            await workflow.get_external_workflow_handle(item.reply_to_workflow_id).signal(
                "channel_posted", ChannelPosted(kind=item.post.kind, ts=ts, failed=failed)
            )
        except Exception:  # noqa: BLE001 - the post is made; only the courtesy reply failed
            workflow.logger.info("day %s had ended before its post went out", item.reply_to_workflow_id)

    def _remember(self, key: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._known.discard(self._recent[0])
        self._recent.append(key)
        self._known.add(key)
