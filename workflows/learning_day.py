"""One person's Learning Day, from calendar hold to summary, as a durable workflow.

Its id is `learning-day-<person id>-<date>`, so the weekly Schedule and any manual start can
never run the same day twice. The workflow decides (with policies/) and delegates every side
effect to an activity; answers arrive as the `submit_check_in` update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar.activities import HoldOrAway, HoldRemoval, HoldUnlessAway
    from activities.calendar.port import EventQuery, HoldRef, HoldRequest
    from activities.channel_queue import EnqueueRequest
    from activities.chat.port import ChannelPost, MessageRef, Prompt
    from activities.mail.activities import FlagNotice, FlagNotified
    from activities.records.day import (
        CheckInRecord,
        CheckInSaved,
        DayContext,
        DayKey,
        DayStateChange,
        FlagRecord,
    )
    from policies import checkins
    from workflows.channel_poster import ChannelPosted
    from policies.schedule import DayInstants, compress, day_instants

# A database write takes milliseconds: if its worker dies, retry elsewhere soon. Calls to
# Google and Slack back off on 429/5xx inside the client, so they get longer.
DATABASE_TIMEOUT = dt.timedelta(seconds=15)
VENDOR_TIMEOUT = dt.timedelta(seconds=60)
VENDOR_ACTIVITIES = frozenset({"find_out_of_office", "place_hold", "hold_unless_out_of_office", "remove_hold", "send_prompt", "notify_flag", "dm_managers_about_flag"})
# Short, idempotent steps run as local activities: one marker in the workflow task already under
# way instead of a round trip through the task queue (~6 history events and a workflow task
# each). That is our own database, the hand-over to the channel's sequencer, and the Slack
# prompt: one DM of ~100 ms whose key makes a repeat a no-op, where the round trip cost more
# than the call. A worker that dies mid-way loses the workflow task, and the next worker runs
# them again: still at least once. Calendar calls and emails stay regular activities: they
# page, back off for long, and are not on a prompt's clock.
LOCAL_ACTIVITIES = frozenset({"load_day_context", "record_day_state", "record_check_in", "record_flag", "enqueue_channel_post", "send_prompt"})
RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))


def workflow_id_for(person_id: int, date: dt.date) -> str:
    return f"learning-day-{person_id}-{date.isoformat()}"


@dataclass(frozen=True)
class LearningDayInput:
    person_id: int
    date: dt.date
    # >1 runs the day faster (demo, tests): 540 turns 09:00–18:00 into a minute.
    time_scale: float = 1.0


@dataclass(frozen=True)
class CheckInUpdate:
    kind: str
    text: str
    source: str
    why: str | None = None
    category: str | None = None
    resources: str | None = None


@dataclass(frozen=True)
class CheckInAccepted:
    kind: str
    edited: bool
    late: bool


@dataclass(frozen=True)
class SkipRequest:
    reason: str


@dataclass
class DayView:
    """What `status` shows: enough for the web page, Slack `/learning status` and tests."""

    state: str = "scheduled"
    date: dt.date | None = None
    skip_reason: str | None = None
    plan: str | None = None
    summary: str | None = None
    plan_at: dt.datetime | None = None
    summary_at: dt.datetime | None = None
    hold_event_id: str | None = None
    prompts_sent: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    instants: DayInstants | None = None


@workflow.defn
class LearningDayWorkflow:
    def __init__(self) -> None:
        self._view = DayView()
        self._ctx: DayContext | None = None
        self._skip: checkins.Skip | None = None
        self._policy_changed = False
        self._time_scale = 1.0
        self._origin = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        self._shared: list[str] = []  # kinds queued for the channel
        self._posted_ts: dict[str, str] = {}  # kind -> Slack ts, as the sequencer reports
        self._plan_category: str | None = None
        self._lean = False

    # --- the day -------------------------------------------------------------------------

    @workflow.run
    async def run(self, day: LearningDayInput) -> DayView:
        self._view.date = day.date
        # Local activities (LOCAL_ACTIVITIES) and one calendar activity. Days started before
        # this change replay with the regular activities they recorded.
        lean = self._lean = workflow.patched("lean-history")
        ctx = self._ctx = await self._activity(
            "load_day_context",
            DayKey(person_id=day.person_id, date=day.date, workflow_id=workflow.info().workflow_id),
            DayContext,
        )
        policy = ctx.policy
        self._time_scale, self._origin = day.time_scale, workflow.now()
        self._view.instants = self._instants_for(ctx)
        # The calendar always sees the real day; only the timers run compressed.
        calendar_day = day_instants(policy, ctx.timezone, day.date)

        skip = checkins.skip_before_start(policy, day.date, ctx.recorded_absence)
        hold: HoldRef | None = None
        if skip is None:
            away_query = EventQuery(
                person_email=ctx.person_email,
                starts_at=calendar_day.day_start,
                ends_at=calendar_day.day_end,
                timezone=ctx.timezone,
            )
            if lean:
                held = await self._activity(
                    "hold_unless_out_of_office",
                    HoldUnlessAway(away_query=away_query, hold=self._hold_request(calendar_day)),
                    HoldOrAway,
                )
                skip, hold = checkins.skip_for_calendar(held.out_of_office), held.hold
            else:
                ooo = await self._activity("find_out_of_office", away_query, str)
                skip = checkins.skip_for_calendar(ooo)
        if skip is not None:
            await self._record_skip(skip)
            return self._view

        if hold is None:
            hold = await self._activity("place_hold", self._hold_request(calendar_day), HoldRef)
        self._view.hold_event_id = hold.event_id
        await self._set_state("held", hold_event_id=hold.event_id)

        await self._check_in_phase("plan")
        if self._skip is None:
            await self._set_state("learning")
            await self._check_in_phase("summary")
        # Stay open until the cutoff even once answered, so the person can still edit.
        await self._wait_until(lambda: self._skip is not None, lambda i: i.summary_cutoff)
        if self._skip is not None:
            await self._activity(
                "remove_hold", HoldRemoval(person_email=ctx.person_email, date=day.date), bool
            )
            await self._record_skip(self._skip)
            return self._view
        await self._all_shared()
        await self._set_state("completed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _check_in_phase(self, kind: str) -> None:
        """Prompt at the policy's time, remind until answered, flag a miss at the cutoff.

        Instants are read afresh at every wait, so a policy change re-plans what is to come.
        """

        def answered() -> bool:
            return self._submitted(kind) or self._skip is not None

        def reminders(i: DayInstants) -> list[dt.datetime]:
            return i.plan_reminders if kind == "plan" else i.summary_reminders

        def cutoff(i: DayInstants) -> dt.datetime:
            return i.plan_cutoff if kind == "plan" else i.summary_cutoff

        def reminder_at(n: int) -> Callable[[DayInstants], dt.datetime]:
            # The cutoff stands in for a reminder a changed policy no longer has.
            return lambda i: reminders(i)[n - 1] if n <= len(reminders(i)) else cutoff(i)

        prompt_at = (lambda i: i.plan_prompt) if kind == "plan" else (lambda i: i.summary_prompt)
        if not await self._wait_until(answered, prompt_at):
            await self._set_state("planning" if kind == "plan" else "summarising")
            await self._prompt(kind, reminder=False, index=0)
            index = 1
            while index <= len(reminders(self._instants)):
                if await self._wait_until(answered, reminder_at(index)):
                    break
                if index <= len(reminders(self._instants)):
                    await self._prompt(kind, reminder=True, index=index)
                index += 1
        await self._wait_until(answered, cutoff)
        if self._skip is not None:
            return
        if self._submitted(kind):
            await self._share(kind)
        else:
            await self._flag_missed(kind, cutoff(self._instants))

    # --- handlers ------------------------------------------------------------------------

    @workflow.update
    async def submit_check_in(self, update: CheckInUpdate) -> CheckInAccepted:
        await workflow.wait_condition(lambda: self._ctx is not None)
        assert self._ctx is not None
        now = workflow.now()
        saved = await self._activity(
            "record_check_in",
            CheckInRecord(
                learning_day_id=self._ctx.learning_day_id,
                kind=update.kind,
                text=update.text.strip(),
                source=update.source,
                at=now,
                why=update.why,
                category=update.category,
                resources=update.resources,
            ),
            CheckInSaved,
        )
        if update.kind == "plan":
            self._view.plan, self._view.plan_at = update.text.strip(), now
            self._plan_category = update.category
        else:
            self._view.summary, self._view.summary_at = update.text.strip(), now
        instants = self._view.instants
        deadline = None
        if instants is not None:
            deadline = instants.plan_deadline if update.kind == "plan" else instants.summary_deadline
        return CheckInAccepted(
            kind=update.kind,
            edited=saved.edited,
            late=deadline is not None and checkins.is_late(now, deadline),
        )

    @submit_check_in.validator
    def _validate_check_in(self, update: CheckInUpdate) -> None:
        if self._view.state in ("completed", "skipped", "cancelled"):
            raise ApplicationError(f"This Learning Day is {self._view.state}.")
        if self._ctx is not None:
            problems = checkins.check_in_problems(
                self._ctx.policy, update.kind, update.text, update.category
            )
            if problems:
                raise ApplicationError(
                    "; ".join(f"{name}: {message}" for name, message in problems.items()),
                    problems,
                    type="InvalidCheckIn",
                )

    @workflow.update
    async def skip(self, request: SkipRequest) -> str:
        self._skip = checkins.Skip("requested", request.reason.strip() or "Skipped by the person")
        return self._skip.reason

    @skip.validator
    def _validate_skip(self, request: SkipRequest) -> None:
        if self._view.state in ("completed", "skipped", "cancelled"):
            raise ApplicationError(f"This Learning Day is already {self._view.state}.")

    @workflow.query
    def status(self) -> DayView:
        return self._view

    # --- steps ---------------------------------------------------------------------------

    def _submitted(self, kind: str) -> bool:
        return (self._view.plan if kind == "plan" else self._view.summary) is not None

    async def _wait_until(
        self, condition: Callable[[], bool], instant: Callable[[DayInstants], dt.datetime]
    ) -> bool:
        """Wait for `condition` or the day's `instant`; True when the condition came first.

        A `policy_changed` signal wakes the wait, re-plans the day, and waits for the new
        instant instead.
        """
        while True:
            if condition():
                return True
            await self._apply_policy_change()
            remaining = (instant(self._instants) - workflow.now()).total_seconds()
            if remaining <= 0:
                return False
            try:
                await workflow.wait_condition(
                    lambda: condition() or self._policy_changed, timeout=remaining
                )
            except TimeoutError:
                return False

    @workflow.signal
    def policy_changed(self) -> None:
        """The policy file changed: re-read it, move the hold and the times still to come."""
        self._policy_changed = True

    async def _apply_policy_change(self) -> None:
        if not self._policy_changed or self._ctx is None or self._view.date is None:
            return
        self._policy_changed = False
        ctx = self._ctx = await self._activity(
            "load_day_context",
            DayKey(
                person_id=self._ctx.person_id,
                date=self._view.date,
                workflow_id=workflow.info().workflow_id,
            ),
            DayContext,
        )
        self._view.instants = self._instants_for(ctx)
        if self._view.hold_event_id is not None:
            # Same deterministic event id: the calendar updates the hold in place.
            calendar_day = day_instants(ctx.policy, ctx.timezone, self._view.date)
            await self._activity("place_hold", self._hold_request(calendar_day), HoldRef)

    def _instants_for(self, ctx: DayContext) -> DayInstants:
        assert self._view.date is not None
        instants = day_instants(ctx.policy, ctx.timezone, self._view.date)
        if self._time_scale != 1.0:
            instants = compress(instants, self._origin, self._time_scale)
        return instants

    @property
    def _instants(self) -> DayInstants:
        assert self._view.instants is not None
        return self._view.instants

    def _day_label(self) -> str:
        date = self._view.date
        assert date is not None
        return f"{date:%A} {date.day} {date:%B}"

    def _hold_request(self, instants: DayInstants) -> HoldRequest:
        assert self._ctx is not None
        calendar = self._ctx.policy.calendar
        return HoldRequest(
            person_email=self._ctx.person_email,
            date=self._view.date or workflow.now().date(),
            starts_at=instants.day_start,
            ends_at=instants.day_end,
            timezone=self._ctx.timezone,
            title=calendar.hold_title,
            description=f"Learning Day: self-study. Plan and summary: {self._ctx.checkin_url}",
            focus_time=calendar.focus_time,
            auto_decline=calendar.auto_decline,
            decline_message=calendar.decline_message,
        )

    async def _prompt(self, kind: str, reminder: bool, index: int) -> None:
        assert self._ctx is not None and self._view.date is not None
        wf_id = workflow.info().workflow_id
        await self._activity(
            "send_prompt",
            Prompt(
                key=f"prompt:{wf_id}:{kind}:{index}",
                person_email=self._ctx.person_email,
                slack_user_id=self._ctx.slack_user_id,
                kind=kind,  # type: ignore[arg-type]
                reminder=reminder,
                day_label=self._day_label(),
                checkin_url=self._ctx.checkin_url,
                workflow_id=wf_id,
            ),
            MessageRef,
        )
        self._view.prompts_sent.append(f"{kind}:{'reminder' if reminder else 'prompt'}:{index}")

    async def _share(self, kind: str) -> None:
        """Queue the check-in for the shared channel: the seed's accountability mechanism.

        The channel's sequencer posts it in turn and signals back its `ts`; the day does not
        wait for that (a long queue must not delay the summary prompt), except that a summary
        waits for its plan's `ts` so it can answer in the plan's thread.
        """
        assert self._ctx is not None
        channel = self._ctx.policy.channel
        if not (channel.post_plans if kind == "plan" else channel.post_summaries):
            return
        thread = None
        if kind == "summary" and "plan" in self._shared:
            await workflow.wait_condition(lambda: "plan" in self._posted_ts)
            thread = self._posted_ts["plan"]
        self._shared.append(kind)
        await self._activity(
            "enqueue_channel_post",
            EnqueueRequest(
                post=ChannelPost(
                    key=f"channel:{workflow.info().workflow_id}:{kind}",
                    channel=channel.name,
                    person_email=self._ctx.person_email,
                    person_name=self._ctx.person_name,
                    slack_user_id=self._ctx.slack_user_id,
                    kind=kind,  # type: ignore[arg-type]
                    text=(self._view.plan if kind == "plan" else self._view.summary) or "",
                    category=self._plan_category if kind == "plan" else None,
                    thread_ts=thread,
                    day_label=self._day_label(),
                ),
                reply_to_workflow_id=workflow.info().workflow_id,
            ),
            type(None),
        )

    @workflow.signal
    def channel_posted(self, posted: ChannelPosted) -> None:
        self._posted_ts[posted.kind] = posted.ts
        if posted.kind not in self._view.posted:
            self._view.posted.append(posted.kind)

    async def _all_shared(self) -> None:
        """Before closing the day: every queued post is out, and the thread is recorded."""
        await workflow.wait_condition(lambda: all(k in self._posted_ts for k in self._shared))
        if "plan" in self._posted_ts:
            await self._set_state(self._view.state, channel_thread_ts=self._posted_ts["plan"])

    async def _flag_missed(self, kind: str, cutoff: dt.datetime) -> None:
        assert self._ctx is not None and self._view.date is not None
        flag_kind = f"missed_{kind}"
        flag_id = await self._activity(
            "record_flag",
            FlagRecord(
                person_id=self._ctx.person_id,
                learning_day_id=self._ctx.learning_day_id,
                kind=flag_kind,
                date=self._view.date,
                reason=f"No {kind} by the deadline plus grace ({cutoff:%H:%M} UTC).",
                at=workflow.now(),
                evidence={"cutoff": cutoff.isoformat(), "prompts": list(self._view.prompts_sent)},
            ),
            int,
        )
        if workflow.patched("notify-flag-email"):  # days flagged before this change replay as they ran
            await self._activity("notify_flag", FlagNotice(flag_id=flag_id), FlagNotified)
        # The marker comes first: days recorded before this change replay without the DM.
        if workflow.patched("manager-slack-dm") and self._ctx.policy.escalation.manager_slack_dm:
            await self._activity("dm_managers_about_flag", FlagNotice(flag_id=flag_id), int)
        self._view.flags.append(flag_kind)

    async def _record_skip(self, skip: checkins.Skip) -> None:
        self._view.skip_reason = skip.reason
        await self._set_state("skipped", skip_reason=skip.reason)

    async def _set_state(self, state: str, **change: str) -> None:
        assert self._ctx is not None
        self._view.state = state
        await self._activity(
            "record_day_state",
            DayStateChange(learning_day_id=self._ctx.learning_day_id, state=state, **change),
            type(None),
        )

    async def _activity(self, name: str, arg: object, result_type: type):  # type: ignore[no-untyped-def]
        timeout = VENDOR_TIMEOUT if name in VENDOR_ACTIVITIES else DATABASE_TIMEOUT
        if self._lean and name in LOCAL_ACTIVITIES:
            return await workflow.execute_local_activity(
                name, arg, result_type=result_type, start_to_close_timeout=timeout, retry_policy=RETRY
            )
        return await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=timeout, retry_policy=RETRY
        )
