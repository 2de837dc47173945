"""One sequencer per Slack channel: posts leave in the order they were shared, at most the
channel's rate, and each Learning Day is told the message's `ts` (to thread its summary).

A post that cannot be made (the channel does not exist, the app is not in it, Slack down past
the post's retry budget) is recorded as a delivery problem and the day is told it failed; the
queue moves on. One bad channel or one bad post never stops the sequencer or the days.

Why not a rate-limited task queue alone: Temporal's queue rate limiter neither keeps order nor
paces smoothly (30 posts at a 1/s limit took 71 s with gaps up to 4 s here). A workflow per
channel is the single place that decides when the next post may leave, across every worker.
"""

from __future__ import annotations

import datetime as dt
from collections import deque

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.records.problems import record_delivery_problem
    from learningday.contracts.channel import CHANNEL_POSTER_WORKFLOW, ChannelPosted, ChannelPosterInput, QueuedPost
    from learningday.contracts.chat import MessageRef
    from learningday.contracts.problems import ProblemReport
    from workflows.failures import reason_of

IDLE_BEFORE_CLOSING = dt.timedelta(minutes=10)
POST_BUDGET = dt.timedelta(minutes=30)  # Slack down longer than this: the post is given up, recorded
POSTS_BEFORE_CONTINUE_AS_NEW = 1000
RECENT_KEYS = 2000


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
            ref = await workflow.execute_activity(
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
            post = item.post
            reason = reason_of(error)
            self._failed[post.key] = reason
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
            return None

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
