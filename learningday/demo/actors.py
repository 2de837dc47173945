"""Simulated learners for `learningday demo`: they answer their prompts through the same
gateway Slack and the web use, each in character, so every outcome of a day shows up."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from learningday.checkins import CheckInSubmission
from learningday.contracts.day import DayView, workflow_id_for
from learningday.temporal.gateway import TemporalCheckInGateway
from workflows.learning_day import LearningDayWorkflow

log = logging.getLogger(__name__)

# From the seed's list of what people learn on a single Learning Day.
PLANS = [
    ("Reimplement Reptile and MAML on Omniglot", "papers", "Meta-learning keeps coming up in reviews"),
    ("Play with code in JAX: port our toy model", "engineering", "To judge whether we should switch"),
    ("Implement an LSTM and a transformer from scratch", "ml_fundamentals", "Fill the gaps in my basics"),
    ("Work through the linear algebra of PCA", "fundamentals", "Needed for the embedding work"),
    ("Read about how Bell Labs organised research", "management", "I lead a team from next month"),
    ("Build a linear actuator prototype", "mechanical_engineering", "Robotics hardware literacy"),
    ("Better technical writing: the Pyramid Principle", "other_skill", "Design docs that get read"),
]
SUMMARIES = [
    "Reptile matches MAML on 5-way Omniglot with a fraction of the code; notes in the wiki.",
    "Ported the model; jit + vmap made the training loop 3× shorter. Wrote up the gotchas.",
    "Both train on Penn Treebank; the transformer needed warm-up to converge at all.",
    "Derived PCA from the SVD by hand; finally see why centring matters.",
    "Bell Labs mixed theorists and builders on purpose. Want to try pairing days.",
    "Actuator moves 40 mm; the lead screw backlash is the next problem to learn about.",
    "Rewrote my last design doc top-down; it is half as long.",
]


@dataclass(frozen=True)
class Persona:
    """How a simulated learner behaves: on time, late after a reminder, or never answers."""

    plan: str  # on_time | late | never
    summary: str  # on_time | never


def persona_for(index: int, week: int = 0) -> Persona:
    """Week 0 (the live day) shows every outcome: a missed plan, a late plan, a missed summary.
    Earlier weeks are mostly kept, one person slipping each week, so streaks and misses both
    show in the history."""
    if week == 0:
        return {0: Persona("never", "on_time"), 1: Persona("late", "on_time"), 2: Persona("on_time", "never")}.get(
            index, Persona("on_time", "on_time")
        )
    if index == (week * 3) % 7:
        return Persona("on_time", "never") if week % 2 else Persona("never", "on_time")
    return Persona("late", "on_time") if index == (week + 4) % 7 else Persona("on_time", "on_time")


async def act(
    client: Client,
    gateway: TemporalCheckInGateway,
    index: int,
    person_id: int,
    email: str,
    date: dt.date,
    week: int = 0,
) -> None:
    persona = persona_for(index, week)
    handle = client.get_workflow_handle(workflow_id_for(person_id, date))
    what, category, why = PLANS[(index + week) % len(PLANS)]
    done: set[str] = set()
    while True:
        try:
            view: DayView = await handle.query(LearningDayWorkflow.status)
        except (RPCError, WorkflowQueryFailedError) as error:  # the day is gone or cannot answer:
            log.warning("%s stops answering on %s: %s", email, date, error)  # the story goes on without them
            return
        if view.state in ("completed", "skipped"):
            return
        sent = set(view.prompts_sent)
        if "plan" not in done and persona.plan != "never":
            trigger = "plan:reminder:1" if persona.plan == "late" else "plan:prompt:0"
            if trigger in sent:
                await gateway.submit(
                    CheckInSubmission(email, "plan", what, "web", why=why, category=category, date=date)
                )
                done.add("plan")
        if "summary" not in done and persona.summary != "never" and "summary:prompt:0" in sent:
            text = SUMMARIES[(index + week) % len(SUMMARIES)]
            await gateway.submit(CheckInSubmission(email, "summary", text, "web", date=date))
            done.add("summary")
        await asyncio.sleep(0.25)
