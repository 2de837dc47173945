"""Handing a channel post to that channel's sequencer workflow (signal-with-start).

Signal-with-start starts the sequencer if it is idle and closed, and otherwise just queues
the post; a retried enqueue signals twice and the sequencer drops the second by its key. The
sequencer is started by its registered name and input (learningday.contracts.channel): an
activity never imports a workflow.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from learningday.contracts.channel import (
    CHANNEL_POSTER_WORKFLOW,
    ChannelPosterInput,
    EnqueueRequest,
    QueuedPost,
    poster_workflow_id,
)


class ChannelQueue:
    def __init__(self, client: Client, workflow_task_queue: str, post_task_queue: str, posts_per_second: float) -> None:
        self._client = client
        self._workflow_task_queue = workflow_task_queue
        self._post_task_queue = post_task_queue
        self._posts_per_second = posts_per_second

    @activity.defn(name="enqueue_channel_post")
    async def enqueue_channel_post(self, request: EnqueueRequest) -> None:
        channel = request.post.channel
        await self._client.start_workflow(
            CHANNEL_POSTER_WORKFLOW,
            ChannelPosterInput(
                channel=channel,
                posts_per_second=self._posts_per_second,
                task_queue=self._post_task_queue,
            ),
            id=poster_workflow_id(channel, self._workflow_task_queue),
            task_queue=self._workflow_task_queue,
            start_signal="enqueue",
            start_signal_args=[QueuedPost(post=request.post, reply_to_workflow_id=request.reply_to_workflow_id)],
        )
