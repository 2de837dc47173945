"""What the demo prints while a day plays: who was prompted, who answered, who was flagged.

It reads each day's `status` query (what the web page and `/learning status` read too) and
prints what changed since the last look, one line per happening, so the terminal tells the day's
story as the workflows live it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from learningday.contracts.day import DayView, workflow_id_for
from policies.participation import participation_mark
from workflows.learning_day import LearningDayWorkflow

PROMPTS = {
    "plan:prompt": "asked for the plan",
    "plan:reminder": "reminded about the plan",
    "summary:prompt": "asked for the summary",
    "summary:reminder": "reminded about the summary",
}
FLAGS = {
    "missed_plan": "flagged: no plan by the deadline",
    "missed_summary": "flagged: no summary by the deadline",
    "used_for_work": "flagged: the day was used for work",
    "spillover": "flagged: learning spilled onto other days",
}


def happenings(before: DayView, after: DayView) -> list[str]:
    """What changed between two looks at a day, in words."""
    said = [PROMPTS.get(key.rsplit(":", 1)[0], key) for key in after.prompts_sent if key not in before.prompts_sent]
    if after.plan and not before.plan:
        said.append(f"plan: {_short(after.plan)}")
    if after.summary and not before.summary:
        said.append(f"summary: {_short(after.summary)}")
    said += [FLAGS.get(kind, f"flagged: {kind}") for kind in after.flags if kind not in before.flags]
    if after.state != before.state and after.state == "skipped":
        said.append(f"day skipped ({after.skip_reason or 'away'})")
    elif after.state != before.state and after.state == "completed":
        said.append("day over")
    return said


def _short(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


class DayWatch:
    """Follows everyone's day on one date until `stop`, printing each happening through `echo`."""

    def __init__(
        self,
        client: Client,
        names: dict[int, str],
        date: dt.date,
        echo: Callable[[str], None] | None,
        every: float = 0.5,
    ) -> None:
        self._client, self._names, self._date, self._echo, self._every = client, names, date, echo, every
        self._seen = {person_id: DayView() for person_id in names}
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def follow(self) -> None:
        while not self._stopped.is_set():
            await self._look()
            try:
                await asyncio.wait_for(self._stopped.wait(), self._every)
            except TimeoutError:
                pass
        await self._look()  # the last happenings, after the learners are done

    async def outcomes(self) -> Counter[str]:
        """kept, missed, skipped or open per day, as the days ended: counted as the pages and the
        flag emails count them (`participation_mark`), so a day skipped after its plan was
        missed is a miss here too."""
        return Counter(participation_mark(view.state, view.flags) for view in self._seen.values())

    async def _look(self) -> None:
        for person_id, name in self._names.items():
            handle = self._client.get_workflow_handle(workflow_id_for(person_id, self._date))
            try:
                view: DayView = await handle.query(LearningDayWorkflow.status)
            except (RPCError, WorkflowQueryFailedError):  # not started yet, or cannot answer: look again later
                continue
            if self._echo is not None:
                for line in happenings(self._seen[person_id], view):
                    self._echo(f"  {dt.datetime.now():%H:%M:%S}  {name:<18} {line}")
            self._seen[person_id] = view
