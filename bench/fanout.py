"""Benchmark: N learners run one compressed Learning Day at once on the embedded default.

The real worker (`build_workers`, in a process of its own) with the real adapters — SlackChat,
GoogleCalendar, SMTP — against local peers with a latency per call and Slack's per-channel
limit; the dev server on a WAL SQLite file; a migrated SQLite database of N learners and their
managers. Simulated learners answer each prompt when it reaches their Slack DM, through
`TemporalCheckInGateway` (the path a Slack reply or web form takes); `--miss-rate` of them never
write a summary, so reminders, flags and manager emails run too.

Then the bare-Temporal floor on the same server: N workflows with the same number of activities,
updates and signals per workflow as the measured days, doing nothing.

    .venv/bin/python -m bench.fanout                 # 2,000 learners
    .venv/bin/python -m bench.fanout --learners 10000

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
from collections import Counter
from dataclasses import dataclass, field

from temporalio.client import Client

from bench import history
from bench.peers import CHANNEL, running_peers
from bench.stack import ProcessMeter, base_stack, run, timed, worker_process, write_json
from learningday.checkins import CheckInSubmission
from learningday.contracts.channel import poster_workflow_id
from learningday.contracts.day import LearningDayInput, workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.temporal.gateway import TemporalCheckInGateway
from policies.policy import Policy
from workflows.learning_day import LearningDayWorkflow

THURSDAY = dt.date(2026, 12, 3)
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]
# The compact day of tests/workflows/test_learning_day.py: prompts, reminders, deadlines and
# grace in one policy hour (09:00–09:55), compressed by --time-scale.
THINK_MINUTES = 8.0  # a learner answers within 8 policy minutes of the prompt, before the reminder


def compact_policy(channel: bool = True) -> Policy:
    return Policy.model_validate(
        {
            "working_hours": {"start": "09:00", "end": "10:00"},
            "checkins": {
                "plan_prompt": "09:00",
                "plan_reminders": ["09:10"],
                "plan_deadline": "09:20",
                "plan_grace_minutes": 5,
                "summary_prompt": "09:30",
                "summary_reminders": ["09:40"],
                "summary_deadline": "09:50",
                "summary_grace_minutes": 5,
            },
            "channel": {"name": CHANNEL, "post_plans": channel, "post_summaries": channel},
        }
    )


def seed_people(learners: int) -> dict[int, str]:
    """N learners, one manager per ten; returns learner id → email."""
    with session_scope() as session:
        managers = [
            Person(email=f"manager{m}@example.com", name=f"Manager {m}", timezone="UTC")
            for m in range((learners + 9) // 10)
        ]
        session.add_all(managers)
        session.flush()
        people = [
            Person(
                email=f"learner{i}@example.com",
                name=f"Learner {i}",
                timezone=ZONES[i % len(ZONES)],
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
class Learners:
    """People reading their DMs: each answers the first plan and summary prompt after a think."""

    gateway: TemporalCheckInGateway
    emails: dict[int, str]
    missers: set[int]
    think_seconds: float
    rng: random.Random
    loop: asyncio.AbstractEventLoop
    answered: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # A web tier answers a bounded number of check-ins at once. Unbounded, 2,000 updates at once
    # are 2,000 long-running calls: past the dev server's per-namespace limit (~1,200) the
    # worker's own task polls are refused and the updates time out after 20 s.
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(200))

    def prompted(self, key: str) -> None:  # called on the Slack peer's threads
        self.loop.call_soon_threadsafe(self._prompted, key)

    def _prompted(self, key: str) -> None:
        _, workflow_id, kind, index = key.split(":")
        person_id = int(workflow_id.split("-")[2])
        if index != "0" or (kind == "summary" and person_id in self.missers):
            return
        task = asyncio.create_task(self._answer(person_id, kind))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, person_id: int, kind: str) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.think_seconds))
        text = (
            "Read the Raft paper and implement leader election"
            if kind == "plan"
            else ("Implemented leader election; notes in the wiki")
        )
        try:
            async with self.in_flight:
                result = await self.gateway.submit(
                    CheckInSubmission(
                        person_email=self.emails[person_id],
                        kind=kind,
                        text=text,  # type: ignore[arg-type]
                        source="slack_dm",
                        date=THURSDAY,
                    )
                )
        except Exception as error:  # noqa: BLE001 - what a person would see as an error page
            self.refused.append(f"{type(error).__name__}: {error}")
            return
        if result.accepted:
            self.answered[kind] += 1
        else:
            self.refused.append(result.message)


async def start_all(client: Client, queue: str, ids: list[int], scale: float, concurrency: int = 64) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(concurrency)

    async def one(person_id: int):  # type: ignore[no-untyped-def]
        async with gate:
            return await client.start_workflow(
                LearningDayWorkflow.run,
                LearningDayInput(person_id=person_id, date=THURSDAY, time_scale=scale),
                id=workflow_id_for(person_id, THURSDAY),
                task_queue=queue,
            )

    return list(await asyncio.gather(*(one(p) for p in ids)))


async def results(handles: list, concurrency: int = 256) -> list:  # type: ignore[type-arg]
    """Every workflow's result, with at most `concurrency` long polls open: the dev server
    refuses more than ~1,000 concurrent polls per namespace ("concurrent poller limit")."""
    gate = asyncio.Semaphore(concurrency)

    async def one(handle):  # type: ignore[no-untyped-def]
        async with gate:
            return await handle.result()

    return list(await asyncio.gather(*(one(h) for h in handles)))


async def run_floor(
    client: Client, env: dict[str, str], n: int, spec: object, concurrency: int = 64
) -> dict[str, float]:
    """N FloorWorkflows with their updates and signals, on a fresh worker process."""
    from bench.floor import FloorInput

    assert isinstance(spec, FloorInput)
    queue = "bench-floor"
    with worker_process("floor", {**env, "LEARNINGDAY_TEMPORAL_TASK_QUEUE": queue}) as worker:
        return await _floor_runs(client, worker, env, n, spec, queue, concurrency)


async def _floor_runs(client, worker, env, n, spec, queue, concurrency):  # type: ignore[no-untyped-def]
    from bench.floor import FloorWorkflow

    gate, waits = asyncio.Semaphore(concurrency), asyncio.Semaphore(256)

    async def one(i: int) -> int:
        async with gate:
            handle = await client.start_workflow(FloorWorkflow.run, spec, id=f"floor-{i}", task_queue=queue)
            await asyncio.gather(
                *(handle.execute_update(FloorWorkflow.poke, u) for u in range(spec.updates)),
                *(handle.signal(FloorWorkflow.ping) for _ in range(spec.signals)),
            )
        async with waits:
            return await handle.result()

    worker.meter.start()
    server = ProcessMeter(int(env["BENCH_SERVER_PID"])).start()
    with timed() as wall:
        await asyncio.gather(*(one(i) for i in range(n)))
    server_cpu = server.cpu_seconds()
    worker_cpu, peak = worker.stop()
    return {"wall": wall[0], "worker_cpu": worker_cpu, "server_cpu": server_cpu, "peak": peak}


async def main(args: argparse.Namespace) -> None:
    scale = args.time_scale
    limit = args.channel_limit or scale * 1.0
    rng = random.Random(8)
    async with base_stack(keep=args.keep) as base:
        with running_peers(base.data_dir, args.latency, limit) as peers, contextlib.ExitStack() as cleanup:
            emails = seed_people(args.learners)
            with session_scope() as session:  # the Slack ids the people table holds
                for person in session.query(Person).filter(Person.slack_user_id.is_not(None)):
                    peers.slack.add_user(person.email, person.slack_user_id)
            policy_file = write_json(
                base.data_dir / "policy.json", compact_policy(args.channel).model_dump(mode="json")
            )
            server_pid = base.server._process.pid  # type: ignore[union-attr]
            env = {
                **base.env,
                **peers.env(limit),
                "BENCH_POLICY": str(policy_file),
                "BENCH_SERVER_PID": str(server_pid),
            }
            if args.profile:
                env["BENCH_PROFILE"] = args.profile
            worker = cleanup.enter_context(worker_process("day", env))
            ids = list(emails)
            missers = set(rng.sample(ids, int(len(ids) * args.miss_rate)))
            learners = Learners(
                TemporalCheckInGateway(base.client),
                emails,
                missers,
                THINK_MINUTES * 60 / scale,
                rng,
                asyncio.get_running_loop(),
            )
            peers.slack.on_prompt = learners.prompted
            day_span = 55 * 60 / scale
            print(
                f"{args.learners} learners, time scale {scale:g} (a day spans {day_span:.0f} s), "
                f"peer latency {args.latency * 1000:.0f} ms, channel limit {limit:g}/s, "
                f"{len(missers)} miss the summary, channel posts {'on' if args.channel else 'off'}; worker pid {worker.process.pid}"
            )

            worker.meter.start()
            server = base.server_meter.start()
            me = ProcessMeter(os.getpid()).start()
            with timed() as wall:
                handles = await start_all(base.client, "learningday", ids, scale)
                views = await results(handles)
            server_cpu, parent_cpu = server.cpu_seconds(), me.cpu_seconds()
            worker_cpu, peak = worker.stop()

            states = Counter(v.state for v in views)
            flags = Counter(f for v in views for f in v.flags)
            posts = peers.slack.channel_messages(CHANNEL)
            drain = posts[-1].arrived_at - posts[0].arrived_at if len(posts) > 1 else 0.0
            sample = ids if args.history_sample <= 0 else rng.sample(ids, min(args.history_sample, len(ids)))
            counts = await history.sample_counts(base.client, [workflow_id_for(p, THURSDAY) for p in sample])
            sequencer, runs = await history.all_runs_counts(base.client, poster_workflow_id(CHANNEL, "learningday"))
            n = args.learners
            per_day = history.mean(counts)
            amortised = history.events(sequencer) / n
            print("\n== our Learning Day ==")
            print(
                f"wall time           {wall[0]:8.1f} s   ({n / wall[0]:.1f} learner-days/s; the day itself spans {day_span:.0f} s)"
            )
            print(
                f"worker CPU          {worker_cpu:8.1f} s   ({worker_cpu / n * 1000:.1f} ms per learner-day), peak RSS {peak:.0f} MB"
            )
            print(f"dev-server CPU      {server_cpu:8.1f} s   ({server_cpu / n * 1000:.1f} ms per learner-day)")
            print(f"bench process CPU   {parent_cpu:8.1f} s   (peers, learners, gateway: not the service)")
            print(
                f"outcome             {dict(states)}, flags {dict(flags)}, answers {dict(learners.answered)}, refused or failed {len(learners.refused)} {Counter(m.split(':')[0] for m in learners.refused).most_common(3)}"
            )
            late = flags["missed_plan"] + flags["missed_summary"] - len(missers)
            if late > 0:
                print(
                    f"behind the clock    {late} check-ins flagged although answered: prompts reached learners "
                    f"after the compressed deadline (lower --time-scale to keep the day's outcome)"
                )
            print(
                f"emails sent         {len(peers.smtp.received)};  channel posts {len(posts)} in {drain:.1f} s "
                f"(limit {limit:g}/s: ideal {max(0, len(posts) - 1) / limit:.1f} s), 429s {len(peers.slack.rate_limited)}"
            )
            print(
                f"history events      {per_day:8.1f} per learner-day (sample of {len(counts)}) "
                f"+ {amortised:.1f} sequencer events amortised ({history.events(sequencer)} over {runs} runs) "
                f"= {per_day + amortised:.1f}"
            )
            print(f"  per day: {history.breakdown(counts)}")
            print(f"  activities per day: {history.breakdown(counts, 12, prefix='activity:')}")

            if args.no_floor:
                return
            from bench.floor import FloorInput

            activities = history.mean(counts, "ACTIVITY_TASK_SCHEDULED") + sequencer["ACTIVITY_TASK_SCHEDULED"] / n
            spec = FloorInput(
                activities=round(activities),
                local_activities=round(history.mean(counts, "marker:core_local_activity")),
                timers=round(history.mean(counts, "TIMER_STARTED")),
                updates=round(history.mean(counts, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")),
                signals=round(history.mean(counts, "WORKFLOW_EXECUTION_SIGNALED")),
            )
            floor = await run_floor(base.client, env, n, spec)
            floor_counts = await history.sample_counts(base.client, [f"floor-{i}" for i in range(min(n, 50))])
            ours_cost = (worker_cpu + server_cpu) / n
            floor_cost = (floor["worker_cpu"] + floor["server_cpu"]) / n
            print(
                f"\n== bare-Temporal floor: {n} workflows x ({spec.activities} no-op activities, "
                f"{spec.local_activities} no-op local activities, {spec.timers} timers, "
                f"{spec.updates} updates, {spec.signals} signals) =="
            )
            print(f"wall time           {floor['wall']:8.1f} s   ({n / floor['wall']:.1f} workflows/s)")
            print(
                f"worker CPU          {floor['worker_cpu']:8.1f} s   ({floor['worker_cpu'] / n * 1000:.1f} ms per workflow), peak RSS {floor['peak']:.0f} MB"
            )
            print(
                f"dev-server CPU      {floor['server_cpu']:8.1f} s   ({floor['server_cpu'] / n * 1000:.1f} ms per workflow)"
            )
            print(f"history events      {history.mean(floor_counts):8.1f} per workflow")
            print(
                f"\nour/floor           {floor_cost / ours_cost:8.2f}   (CPU cost: floor {floor_cost * 1000:.1f} ms vs ours "
                f"{ours_cost * 1000:.1f} ms per learner-day, worker + server)"
            )
            print(
                f"our/floor (wall)    {floor['wall'] / wall[0]:8.2f}   (bounded by the compressed day's own {day_span:.0f} s)"
            )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000, help="learners (default 2,000; 10,000 works)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=30.0,
        help="day compression; 30 plays the one-hour compact day in ~110 s (default 30)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call to each peer (default 0.05)")
    parser.add_argument(
        "--channel-limit",
        type=float,
        default=None,
        help="Slack posts/s per channel, enforced by the peer and kept by the sequencer; "
        "default 1/s compressed like the day (= --time-scale)",
    )
    parser.add_argument(
        "--no-channel",
        dest="channel",
        action="store_false",
        help="leave plans and summaries out of the channel (on by default, as in the default "
        "policy: the headline is the day with its channel posts and the sequencer's share)",
    )
    parser.add_argument("--miss-rate", type=float, default=0.1, help="share of learners who never write a summary")
    parser.add_argument("--history-sample", type=int, default=300, help="days whose history is read (0: all)")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-Temporal floor")
    parser.add_argument("--profile", metavar="FILE", help="pyinstrument the worker's event loop into FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main(parse()))
