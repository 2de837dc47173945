"""Benchmark: N learners in one timezone, every plan prompt due at the same real instant.

The moment that matters to a company: at 09:00 everyone's plan prompt is due. The days are
started ahead at time scale 1 (each reads the calendar and places its hold, then waits on a
timer), all in one timezone picked so the due minute is mid-morning there; then the prompts go
out through the real worker (`build_workers`, in a process of its own) and the real Slack
client, against the Slack peer with a latency per call. Nobody answers: the burst is the prompts.

Prints prompts/s, the share out within 5 minutes of the due instant, lateness p50/p99, CPU per
prompt by process (worker, dev server), peak RSS of both, the sticky-cache size used and the
Slack calls the prompts made (method by method; Slack limits `conversations.open` per workspace).

    .venv/bin/python -m bench.burst                  # 2,000 learners
    .venv/bin/python -m bench.burst --learners 10000

Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from temporalio.client import Client

from bench.peers import CHANNEL, running_peers
from bench.stack import base_stack, percentile, run, timed, worker_process, write_json
from learningday.contracts.day import LearningDayInput, workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.settings import get_settings
from policies.policy import Policy
from workflows.learning_day import LearningDayWorkflow

WITHIN = 300.0  # seconds: the goal is every prompt out within five minutes of its time


def zone_for_mid_morning(now: dt.datetime) -> str:
    """A fixed-offset zone where `now` is between 08:00 and 20:00 local, so a day fits after it.

    (`Etc/GMT-3` is UTC+3: the IANA names invert the sign.)"""
    offset = (10 - now.astimezone(dt.UTC).hour) % 24
    offset = offset - 24 if offset > 12 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def due_minute(zone: str, lead: float) -> dt.datetime:
    """The first whole local minute at least `lead` seconds from now."""
    soon = dt.datetime.now(ZoneInfo(zone)) + dt.timedelta(seconds=lead)
    return (soon + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def burst_policy(due: dt.datetime) -> Policy:
    """The day starts at the due minute with the plan prompt; the rest of the day lies hours after
    the measurement, so nothing else competes with the burst."""

    def at(minutes: int) -> str:
        return (due + dt.timedelta(minutes=minutes)).strftime("%H:%M")

    return Policy.model_validate(
        {
            "working_hours": {"start": at(0), "end": at(240)},
            "checkins": {
                "plan_prompt": at(0),
                "plan_reminders": [at(60)],
                "plan_deadline": at(90),
                "summary_prompt": at(180),
                "summary_reminders": [at(200)],
                "summary_deadline": at(230),
            },
            "channel": {"name": CHANNEL, "post_plans": True, "post_summaries": True},
            "holidays": {"country": None},
        }
    )


def seed_people(learners: int, zone: str) -> dict[int, str]:
    """N learners in `zone` with Slack ids, one manager per ten; returns learner id → email."""
    with session_scope() as session:
        managers = [
            Person(email=f"manager{m}@example.com", name=f"Manager {m}", timezone=zone)
            for m in range((learners + 9) // 10)
        ]
        session.add_all(managers)
        session.flush()
        people = [
            Person(
                email=f"learner{i}@example.com",
                name=f"Learner {i}",
                timezone=zone,
                slack_user_id=f"U{i + 1:08d}",
                manager_id=managers[i // 10].id,
                team=f"Team {i // 10}",
            )
            for i in range(learners)
        ]
        session.add_all(people)
        session.flush()
        return {p.id: p.email for p in people}


@dataclass
class Arrivals:
    """When each plan prompt reached its DM at the Slack peer (called on the peer's threads)."""

    times: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prompted(self, key: str) -> None:
        _, workflow_id, kind, index = key.split(":")
        if kind == "plan" and index == "0":
            with self._lock:
                self.times.setdefault(workflow_id, time.time())

    def count(self) -> int:
        with self._lock:
            return len(self.times)


async def start_all(client: Client, ids: list[int], date: dt.date, concurrency: int = 64) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(person_id: int) -> None:
        async with gate:
            await client.start_workflow(
                LearningDayWorkflow.run,
                LearningDayInput(person_id=person_id, date=date, time_scale=1.0),
                id=workflow_id_for(person_id, date),
                task_queue="learningday",
            )

    await asyncio.gather(*(one(p) for p in ids))


def held(ids: list[int], date: dt.date) -> int:
    """Days whose hold is placed (state past 'scheduled'): ready and waiting for the prompt."""
    from sqlalchemy import func, select

    from learningday.db.models import LearningDay

    with session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(LearningDay)
                .where(LearningDay.date == date, LearningDay.state != "scheduled")
            )
            or 0
        )


async def main(args: argparse.Namespace) -> None:
    n = args.learners
    lead = args.lead if args.lead is not None else 60 + n * 0.06
    async with base_stack(keep=args.keep) as base:
        with running_peers(base.data_dir, args.latency, channel_limit=1.0) as peers, contextlib.ExitStack() as cleanup:
            zone = zone_for_mid_morning(dt.datetime.now(dt.UTC))
            due = due_minute(zone, lead)
            emails = seed_people(n, zone)
            for index, email in enumerate(emails.values()):
                peers.slack.add_user(email, f"U{index + 1:08d}")
            policy_file = write_json(base.data_dir / "policy.json", burst_policy(due).model_dump(mode="json"))
            env = {**base.env, **peers.env(1.0), "BENCH_POLICY": str(policy_file)}
            if args.profile:
                env["BENCH_PROFILE"] = args.profile
            workers = [cleanup.enter_context(worker_process("day", env)) for _ in range(args.workers)]
            arrivals = Arrivals()
            peers.slack.on_prompt = arrivals.prompted
            cache = get_settings().worker_max_cached_workflows
            print(
                f"{n} learners in {zone}, plan prompt due at {due:%H:%M} local "
                f"({(due - dt.datetime.now(due.tzinfo)).total_seconds():.0f} s from now), peer latency "
                f"{args.latency * 1000:.0f} ms, sticky cache {cache} workflows per worker; "
                f"{args.workers} worker process(es), pid {', '.join(str(w.process.pid) for w in workers)}"
            )

            ids = list(emails)
            with timed() as started:
                await start_all(base.client, ids, due.date())
                while held(ids, due.date()) < n and time.time() < due.timestamp() - 1:
                    await asyncio.sleep(1)
            ready = held(ids, due.date())
            print(f"started {n} days and {ready} placed their hold in {started[0]:.1f} s ({n / started[0]:.1f} days/s)")
            if ready < n:
                print(f"  {n - ready} days were still starting at the due instant: raise --lead")

            await asyncio.sleep(max(0.0, due.timestamp() - 2 - time.time()))
            worker_meters, server_meter = [w.meter.start() for w in workers], base.server_meter.start()
            slack_calls_before = Counter(call.method for call in peers.slack.calls)
            deadline = due.timestamp() + args.give_up
            while arrivals.count() < n and time.time() < deadline:
                await asyncio.sleep(0.5)
            worker_cpu, server_cpu = sum(m.cpu_seconds() for m in worker_meters), server_meter.cpu_seconds()
            worker_peak, server_peak = sum(m.peak_rss_mb() for m in worker_meters), base.server_meter.peak_rss_mb()
            slack_calls = Counter(call.method for call in peers.slack.calls) - slack_calls_before

            late = sorted(t - due.timestamp() for t in arrivals.times.values())
            out = len(late)
            print("\n== the 09:00 burst ==")
            if not late:
                print("no prompt arrived")
                return
            span = max(late[-1] - max(late[0], 0.0), 1e-9)
            within = sum(1 for s in late if s <= WITHIN)
            print(f"prompts out         {out} of {n} ({n - out} not out after {args.give_up:.0f} s)")
            print(
                f"rate                {out / span:8.1f} prompts/s (first {late[0]:.1f} s, last {late[-1]:.1f} s after the due instant)"
            )
            print(f"within 5 minutes    {within / n * 100:8.1f} %  ({within} of {n})")
            print(
                f"lateness            p50 {percentile(late, 50):.1f} s, p99 {percentile(late, 99):.1f} s, max {late[-1]:.1f} s"
            )
            print(
                f"CPU per prompt      worker {worker_cpu / out * 1000:.1f} ms, dev server {server_cpu / out * 1000:.1f} ms "
                f"(worker {worker_cpu:.0f} s, server {server_cpu:.0f} s over the burst)"
            )
            print(
                f"peak RSS            worker(s) {worker_peak:.0f} MB, dev server {server_peak:.0f} MB, together {worker_peak + server_peak:.0f} MB"
            )
            cached = min(cache * args.workers, n)
            print(
                f"sticky cache        {cache} workflows × {args.workers} worker(s) for {n} open days "
                f"({cached / n * 100:.0f} % can stay cached)"
            )
            print(
                f"Slack calls         {dict(slack_calls.most_common())} during the burst; 429s {len(peers.slack.rate_limited)}"
            )
            print(f"bench process pid   {os.getpid()} (peers and meters, not the service)")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--learners", type=int, default=2000, help="learners in one timezone (default 2,000; the goal is 10,000)"
    )
    parser.add_argument(
        "--lead",
        type=float,
        default=None,
        help="seconds from now to the due minute, to start every day first (default 60 + 0.06 × N)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call to each peer (default 0.05)")
    parser.add_argument(
        "--give-up", type=float, default=900.0, help="seconds after the due instant to stop waiting (default 900)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1; the box has 2 cores)")
    parser.add_argument("--profile", metavar="FILE", help="pyinstrument the worker's event loop into FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main(parse()))
