"""The worker process the benchmarks measure: `python -m bench.worker day|floor`.

`day`: `build_workers` exactly as `learningday worker` builds them, with the vendor adapters
(GoogleCalendar, SlackChat, SMTP) pointed at the peers by the LEARNINGDAY_* environment and the
policy read from BENCH_POLICY (JSON). `floor`: the same worker tuning running FloorWorkflow.
BENCH_PROFILE=FILE profiles the event loop thread (workflow code, the SDK's Python side) with
pyinstrument and writes a text report there on exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
from pathlib import Path

from temporalio.worker import Worker

from learningday.settings import get_settings
from learningday.temporal.client import connect
from learningday.temporal.worker import WORKFLOW_RUNNER, Ports, build_workers


def day_workers(client, settings):  # type: ignore[no-untyped-def]
    from activities.calendar.google import GoogleCalendar
    from activities.chat.slack import SlackChat
    from policies.policy import Policy

    policy = Policy.model_validate_json(Path(os.environ["BENCH_POLICY"]).read_text())
    assert settings.slack_bot_token is not None
    ports = Ports(
        calendar=GoogleCalendar(
            service_account_file=settings.google_service_account_file, api_endpoint=settings.google_api_endpoint
        ),
        # The adapter's own pacing matches the channel limit the sequencer keeps.
        chat=SlackChat(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_base_url,
            min_post_interval=1 / settings.channel_posts_per_second,
        ),
    )
    return build_workers(client, settings, ports, policy_loader=lambda: policy)


def floor_workers(client, settings):  # type: ignore[no-untyped-def]
    from bench.floor import FloorWorkflow, floor_noop

    return [
        Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=[FloorWorkflow],
            activities=[floor_noop],
            workflow_runner=WORKFLOW_RUNNER,
            activity_executor=concurrent.futures.ThreadPoolExecutor(
                max_workers=settings.worker_activity_threads or settings.worker_max_concurrent_activities
            ),
            max_concurrent_activities=settings.worker_max_concurrent_activities,
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            max_cached_workflows=settings.worker_max_cached_workflows,
        )
    ]


async def serve(mode: str) -> None:
    settings = get_settings()
    client = await connect(settings)
    workers = day_workers(client, settings) if mode == "day" else floor_workers(client, settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    print("ready", flush=True)
    await stop.wait()
    await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "day"
    profile_to = os.environ.get("BENCH_PROFILE")
    profiler = None
    if profile_to:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    try:
        asyncio.run(serve(mode))
    finally:
        if profiler is not None:
            profiler.stop()
            Path(profile_to).write_text(profiler.output_text(unicode=True, show_all=False))  # type: ignore[arg-type]
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
