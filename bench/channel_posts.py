"""Benchmark: N summaries arrive at once for one Slack channel; how long until all are posted?

Each summary is handed to the channel's sequencer exactly as the `enqueue_channel_post` activity
hands it (signal-with-start of ChannelPosterWorkflow), all at once from the bench process; the
real worker process posts them through SlackChat to the Slack peer, which enforces `--limit`
posts per second on the channel (a 429 beyond it) and adds `--latency` to every call.
Prints the drain time against N / limit, and whether the limit was ever exceeded.

    .venv/bin/python -m bench.channel_posts                       # 1,000 posts at 4/s
    .venv/bin/python -m bench.channel_posts --limit 1             # Slack's real 1/s: ~17 min

The day that asked for a post is told its `ts` by a signal; here no such day exists, so that
signal fails and is dropped, as for a day that ended meanwhile — the same workflow tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import time

from bench import history
from bench.fanout import compact_policy
from bench.peers import CHANNEL, running_peers
from bench.stack import base_stack, run, worker_process, write_json
from learningday.contracts.channel import ChannelPosterInput, QueuedPost, poster_workflow_id
from learningday.contracts.chat import ChannelPost
from workflows.channel_poster import ChannelPosterWorkflow

QUEUE = "learningday"
CHANNEL_QUEUE = "learningday-channel-posts"


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most posts accepted within any `window` seconds."""
    return max((bisect.bisect_right(times, t + window - 1e-9) - i for i, t in enumerate(times)), default=0)


async def main(args: argparse.Namespace) -> None:
    async with base_stack() as base:
        with (
            running_peers(base.data_dir, args.latency, args.limit, burst=1) as peers,
            contextlib.ExitStack() as cleanup,
        ):
            policy_file = write_json(base.data_dir / "policy.json", compact_policy().model_dump(mode="json"))
            env = {**base.env, **peers.env(args.limit), "BENCH_POLICY": str(policy_file)}
            worker = cleanup.enter_context(worker_process("day", env))
            worker.meter.start()
            server = base.server_meter.start()
            workflow_id = poster_workflow_id(CHANNEL, QUEUE)
            start = ChannelPosterInput(channel=CHANNEL, posts_per_second=args.limit, task_queue=CHANNEL_QUEUE)

            async def enqueue(i: int) -> None:
                post = ChannelPost(
                    key=f"channel:bench-day-{i}:summary",
                    channel=CHANNEL,
                    person_email=f"learner{i}@example.com",
                    person_name=f"Learner {i}",
                    slack_user_id=None,
                    kind="summary",
                    text=f"Summary {i}: implemented leader election from the Raft paper",
                    category=None,
                    thread_ts=None,
                    day_label="Thursday 3 December",
                )
                await base.client.start_workflow(
                    ChannelPosterWorkflow.run,
                    start,
                    id=workflow_id,
                    task_queue=QUEUE,
                    start_signal="enqueue",
                    start_signal_args=[QueuedPost(post, f"bench-day-{i}")],
                )

            print(
                f"{args.posts} posts to one channel at once; limit {args.limit:g}/s; peer latency {args.latency * 1000:.0f} ms"
            )
            began = time.monotonic()
            await asyncio.gather(*(enqueue(i) for i in range(args.posts)))
            enqueued = time.monotonic() - began

            def drained() -> bool:
                return len(peers.slack.channel_messages(CHANNEL)) >= args.posts

            while not drained():
                await asyncio.to_thread(peers.slack.wait_for, drained, 5.0)
            posts = peers.slack.channel_messages(CHANNEL)
            drain = posts[-1].arrived_at - began
            worker_cpu, peak = worker.stop()
            server_cpu = server.cpu_seconds()
            times = [p.arrived_at for p in posts]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            keys = [((p.metadata or {}).get("event_payload") or {}).get("key") for p in posts]
            ideal = args.posts / args.limit
            counts, runs = await history.all_runs_counts(base.client, workflow_id)
            print(f"enqueued            {enqueued:8.1f} s   (all {args.posts} signal-with-starts answered)")
            print(f"drain               {drain:8.1f} s   = {drain / ideal:.2f} x N/limit ({ideal:.0f} s)")
            print(f"posted              {len(posts)} ({len(set(keys))} distinct), first after {times[0] - began:.2f} s")
            print(
                f"never over limit    {max_in_window(times)} posts in the busiest second (limit {args.limit:g}, burst 1); "
                f"429s {len(peers.slack.rate_limited)}; gaps min {min(gaps, default=0):.3f} s, "
                f"median {sorted(gaps)[len(gaps) // 2] if gaps else 0:.3f} s, max {max(gaps, default=0):.3f} s"
            )
            print(f"worker CPU          {worker_cpu:8.1f} s, peak RSS {peak:.0f} MB; dev-server CPU {server_cpu:.1f} s")
            print(
                f"sequencer history   {history.events(counts)} events over {runs} runs "
                f"({history.events(counts) / args.posts:.1f} per post): {history.breakdown([counts], 6)}"
            )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.channel_posts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="summaries arriving at once (default 1,000)")
    parser.add_argument(
        "--limit",
        type=float,
        default=4.0,
        help="posts/s the channel allows (Slack: ~1; default 4 keeps the run near 4 minutes)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Slack call (default 0.05)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main(parse()))
