"""Benchmark: approvers clicking their emailed approval links at the same moment.

The production pieces, each in its own process: `learningday web` (uvicorn) serving the approval
pages, the worker (`build_workers`: ReimbursementWorkflow and the claim activities, SMTP to an
aiosmtpd peer), the dev server. Each round, every claimant files a claim (`submit_claim`, as the
web form does), the approval emails arrive over SMTP, each approver opens the link (GET: the
page and its CSRF pair), and then all of them press Approve at once. The latency measured is
the POST's round trip: the web process sends the `decide` update and answers only once the
workflow has recorded the decision (the `record_claim_decision` activity inside the update).

    .venv/bin/python -m bench.approval_clicks                  # 50 approvers x 4 rounds

Prints p50 / p99; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.fanout import compact_policy
from bench.peers import running_peers
from bench.stack import (
    ProcessMeter,
    base_stack,
    percentile,
    run,
    worker_process,
    write_json,
)
from learningday.claims.service import ClaimSubmission, submit_claim
from learningday.db.engine import session_scope
from learningday.db.models import ClaimDecision, Person
from learningday.links.approval import read_approval_token
from learningday.temporal.devserver import free_port, port_is_open
from policies.policy import Policy

APPROVE_LINK = re.compile(r"/approve/([A-Za-z0-9_\-.]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PDF = b"%PDF-1.4\n% a receipt\n"
FLOOR_QUEUE = "bench-update-floor"


def seed(approvers: int) -> list[tuple[str, str]]:
    """(claimant email, approver email) pairs: every claimant has a manager of their own."""
    with session_scope() as session:
        pairs = []
        for i in range(approvers):
            manager = Person(email=f"manager{i}@example.com", name=f"Manager {i}", timezone="UTC")
            session.add(manager)
            session.flush()
            session.add(
                Person(email=f"claimant{i}@example.com", name=f"Claimant {i}", timezone="UTC", manager_id=manager.id)
            )
            pairs.append((f"claimant{i}@example.com", f"manager{i}@example.com"))
        return pairs


@contextlib.contextmanager
def web_process(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`learningday web` on `port` (only the base settings: the approval pages need no Slack)."""
    command = [str(Path(sys.executable).parent / "learningday"), "web"]
    web_env = {
        **os.environ,
        **env,
        "LEARNINGDAY_WEB_PORT": str(port),
        "LEARNINGDAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LEARNINGDAY_METRICS_PORT": str(free_port()),
    }
    with open(log, "ab") as output:
        process = subprocess.Popen(command, env=web_env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`learningday web` did not start (exit code {process.poll()}); see {log}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


async def emailed_tokens(peers, claim_ids: dict[str, int], timeout: float = 120) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Approver email → the token of the link emailed for their claimant's claim this round."""
    wanted = {claim_id: approver for approver, claim_id in claim_ids.items()}
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(wanted):
        for received in list(peers.smtp.received):
            text = received.message.get_body(preferencelist=("plain",)).get_content()
            for token in APPROVE_LINK.findall(text):
                approver = wanted.get(read_approval_token(token).claim_id)
                if approver is not None and approver in received.rcpt_tos:
                    found[approver] = token
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(found)} of {len(wanted)} approval emails arrived")
        await asyncio.sleep(0.2)
    return found


async def main(args: argparse.Namespace) -> None:
    policy = Policy.model_validate(
        {**compact_policy().model_dump(mode="json"), "reimbursement": {"finance_email": "manager0@example.com"}}
    )
    async with base_stack() as base:
        with running_peers(base.data_dir, args.latency, channel_limit=1.0) as peers:
            pairs = seed(args.approvers)
            policy_file = write_json(base.data_dir / "policy.json", policy.model_dump(mode="json"))
            env = {**base.env, **peers.env(1.0), "BENCH_POLICY": str(policy_file)}
            port = free_port()
            with worker_process("day", env) as worker, web_process(base.env, port, base.data_dir / "web.log") as web:
                await clicks(args, base, peers, pairs, policy, worker, web, port)
        if args.floor:
            # A queue of its own: the claims' last emails may still be on the day worker's queue.
            with worker_process("floor", {**base.env, "LEARNINGDAY_TEMPORAL_TASK_QUEUE": FLOOR_QUEUE}):
                await update_floor(base.client, args)


async def update_floor(client, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    """The engine's own figure on this machine: the same number of updates at once, each to its
    own workflow whose handler does nothing (no web, no database), through a Python worker."""
    from bench.floor import FloorInput, FloorWorkflow

    queue = FLOOR_QUEUE
    latencies: list[float] = []
    for round_ in range(args.rounds):
        handles = [
            await client.start_workflow(
                FloorWorkflow.run,
                FloorInput(activities=0, updates=1, signals=0),
                id=f"update-floor-{round_}-{i}",
                task_queue=queue,
            )
            for i in range(args.approvers)
        ]
        for handle in handles:  # every workflow has run its first task, as a claim has
            await handle.query("__stack_trace")

        async def poke(handle) -> None:  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            await handle.execute_update(FloorWorkflow.poke, 1)
            latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(poke(h) for h in handles))
        await asyncio.gather(*(h.result() for h in handles))
    print(
        f"floor: bare update, same concurrency: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms ({len(latencies)} updates, {args.approvers} at once)"
    )


async def clicks(args, base, peers, pairs, policy, worker, web, port) -> None:  # type: ignore[no-untyped-def]
    web_meter = ProcessMeter(web.pid)
    posts: list[float] = []
    gets: list[float] = []
    failures: list[str] = []
    print(
        f"{args.approvers} approvers x {args.rounds} rounds; SMTP latency {args.latency * 1000:.0f} ms; "
        f"web pid {web.pid}, worker pid {worker.process.pid}"
    )
    limits = httpx.Limits(max_connections=args.approvers * 2)
    try:
        for round_ in range(args.rounds):
            filed = await asyncio.gather(
                *(
                    submit_claim(
                        base.client,
                        "learningday",
                        ClaimSubmission(
                            person_email=claimant,
                            amount="42.50",
                            currency="USD",
                            category="books",
                            description=f"Deep Learning, round {round_}",
                            receipt=PDF,
                        ),
                        policy,
                        base.data_dir,
                    )
                    for claimant, _ in pairs
                )
            )
            claim_ids = {approver: f.claim_id for (_, approver), f in zip(pairs, filed)}
            assert all(f.ok for f in filed), [f.problems for f in filed if not f.ok]
            tokens = await emailed_tokens(peers, claim_ids)  # type: ignore[arg-type]
            clients = {a: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) for a in tokens}
            forms: dict[str, str] = {}
            for approver, token in tokens.items():  # opening the emails, one by one
                began = time.perf_counter()
                page = await clients[approver].get(f"/approve/{token}")
                gets.append(time.perf_counter() - began)
                forms[approver] = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
            if round_ == 0:
                web_meter.start()
                worker.meter.start()
                server = base.server_meter.start()

            async def click(client: httpx.AsyncClient, token: str, csrf: str) -> None:
                began = time.perf_counter()
                response = await client.post(f"/approve/{token}", data={"csrf": csrf, "decision": "approve"})
                posts.append(time.perf_counter() - began)
                if response.status_code != 200 or "approved" not in response.text:
                    failures.append(f"{response.status_code}")

            await asyncio.gather(*(click(clients[a], tokens[a], forms[a]) for a in tokens))
            for client in clients.values():
                await client.aclose()
        web_cpu = web_meter.cpu_seconds()
        server_cpu = server.cpu_seconds()
    finally:
        worker_cpu, peak = worker.stop()
    with session_scope() as session:
        recorded = session.scalar(select(func.count()).select_from(ClaimDecision)) or 0
    n = len(posts)
    print(
        f"POST → decision recorded: p50 {percentile(posts, 50) * 1000:.0f} ms, "
        f"p99 {percentile(posts, 99) * 1000:.0f} ms, max {max(posts) * 1000:.0f} ms ({n} clicks, "
        f"{args.approvers} at once)"
    )
    print(
        f"GET (open the link):      p50 {percentile(gets, 50) * 1000:.0f} ms, p99 {percentile(gets, 99) * 1000:.0f} ms"
    )
    print(f"decisions recorded        {recorded} of {n}; failed clicks {len(failures)} {failures[:5]}")
    print(
        f"CPU (first click to end):  web {web_cpu:.1f} s, worker {worker_cpu:.1f} s (peak RSS {peak:.0f} MB), "
        f"dev server {server_cpu:.1f} s"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.approval_clicks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvers", type=int, default=50, help="approvers clicking at once (default 50)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of simultaneous clicks (default 4)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per SMTP message (default 0.05)")
    parser.add_argument("--no-floor", dest="floor", action="store_false", help="skip the bare-update floor")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main(parse()))
