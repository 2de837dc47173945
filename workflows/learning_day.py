"""One person's Learning Day, from calendar hold to summary, as a durable workflow.

Its id is `learning-day-<person id>-<date>`, so the weekly Schedule and any manual start can
never run the same day twice. The workflow decides (with policies/) and delegates every side
effect to an activity; answers arrive as the `submit_check_in` update.

One truth: a check-in is decided here (accepted, refused as too early or too late, which
revision) before anything is written, and the database row is written afterwards by a regular
activity, so it can only ever hold what this workflow accepted. Every request carries an
idempotency key (Slack `event_id` / `view.id`, a form nonce) that is also its update id: a
redelivery, on any replica, answers like the first and records nothing new.

At the day's end, once the summary's cutoff has passed, the day is judged for used for work
(its calendar's meetings, its plan and summary) and all of its flags are told at once: one email
per reader per person per day, not one per flag as each is raised (workflows/day_end.py says
why). Days started before that change keep telling each flag at once (patch `day-end-judgement`),
and the weekly audit judges their used for work.

The day's core is the hold, the prompts' timers, the check-ins and the flags. Everything else
(a prompt's delivery, flag emails, DMs to managers, channel posts) is a side road: it runs
beside the day with a bounded retry budget, and when it fails for good it has a fallback (a
prompt goes by email with the web check-in link, a summary is posted unthreaded) and is recorded
as a delivery problem for the admins. A side road never ends the day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.calendar.activities import CalendarActivities
    from activities.channel_queue import ChannelQueue
    from activities.chat.activities import ChatActivities
    from activities.chat.flag_dm import FlagDmActivities
    from activities.mail.activities import MailActivities
    from activities.mail.day_flags import DayFlagMail
    from activities.mail.prompt_mail import PromptMail
    from activities.records.day import DayRecords
    from activities.records.problems import record_delivery_problem
    from activities.records.work_judgement import record_work_judgement
    from learningday.contracts.calendar import EventQuery, HoldRemoval, HoldRequest
    from learningday.contracts.channel import ChannelPosted, EnqueueRequest
    from learningday.contracts.chat import ChannelPost, Prompt
    from learningday.contracts.day import (
        LEARNING_DAY_WORKFLOW,
        CheckInAccepted,
        CheckInRecord,
        CheckInUpdate,
        DayContext,
        DayKey,
        DayStateChange,
        DayView,
        ExcusedCheckIn,
        FlagRecord,
        LearningDayInput,
        SkipRequest,
        channel_post_key,
    )
    from learningday.contracts.flags import DayFlagsNotice, FlagNotice, FlagRecorded
    from learningday.contracts.problems import ProblemReport
    from policies import checkins
    from policies.enforcement import flag_recipients
    from policies.schedule import DayInstants, compress, compress_instant, day_instants
    from workflows import day_end
    from workflows.failures import FailureError, reason_of, refused_for_good
    from workflows.instants import wait_for_instant

# A database write takes milliseconds: if its worker dies, retry elsewhere soon. Calls to
# Google and Slack back off on 429/5xx inside the client, so they get longer.
DATABASE_TIMEOUT = dt.timedelta(seconds=15)
VENDOR_TIMEOUT = dt.timedelta(seconds=60)
RETRY = RetryPolicy(maximum_interval=dt.timedelta(minutes=1))
# Retry budgets of the side roads: past them the fallback runs and the problem is recorded.
PROMPT_BUDGET = dt.timedelta(minutes=10)  # a prompt hours late is no prompt: email it instead
NOTIFY_BUDGET = dt.timedelta(hours=6)  # flag emails and DMs: a relay down for an afternoon
# Waits on the channel's sequencer (another workflow), with their fallbacks.
PLAN_POST_WAIT = dt.timedelta(minutes=15)  # then the summary is posted unthreaded
ALL_POSTS_WAIT = dt.timedelta(hours=2)  # then the day closes and records the post as unconfirmed


@workflow.defn(name=LEARNING_DAY_WORKFLOW)
class LearningDayWorkflow:
    def __init__(self) -> None:
        self._view = DayView()
        self._ctx: DayContext | None = None
        self._skip: checkins.Skip | None = None
        self._policy_changed = False
        self._time_scale = 1.0
        self._origin = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._calendar_day: DayInstants | None = None  # the real day's times (not compressed)
        self._away: list[checkins.OutOfOffice] = []
        self._shared: list[str] = []  # kinds queued for the channel
        self._posted_ts: dict[str, str] = {}  # kind -> Slack ts, as the sequencer reports
        self._post_failed: dict[str, str] = {}  # kind -> why the sequencer could not post it
        self._plan_category: str | None = None
        # Check-ins are decided one at a time, in the order they are accepted.
        self._check_in_lock = asyncio.Lock()
        self._revisions: dict[str, int] = {}
        self._answers: dict[str, CheckInAccepted] = {}  # idempotency key -> the first answer
        self._skip_answers: dict[str, str] = {}
        self._closed: set[str] = set()  # check-ins whose cutoff passed unanswered
        self._slack_unreachable = False
        self._timer_for_past_instants = True
        self._judged_at_day_end = True
        self._day_flags: list[FlagRecorded] = []  # raised today, told together at the day's end
        self._side_roads: list[asyncio.Task[None]] = []

    # --- the day -------------------------------------------------------------------------

    @workflow.run
    async def run(self, day: LearningDayInput) -> DayView:
        # Days started before this change keep the branch their histories took.
        self._timer_for_past_instants = workflow.patched("timer-for-past-instants")
        self._judged_at_day_end = workflow.patched("day-end-judgement")
        self._view.date = day.date
        ctx = self._ctx = await workflow.execute_local_activity_method(
            DayRecords.load_day_context,
            DayKey(person_id=day.person_id, date=day.date, workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=RETRY,
        )
        self._time_scale, self._origin = day.time_scale, workflow.now()
        self._view.instants = self._instants_for(ctx)
        # The calendar always sees the real day; only the timers run compressed.
        calendar_day = self._calendar_day = day_instants(ctx.policy, ctx.timezone, day.date)

        skip = checkins.skip_before_start(ctx.policy, day.date, ctx.recorded_absence)
        if skip is None:
            away = await workflow.execute_activity_method(
                CalendarActivities.find_out_of_office,
                EventQuery(
                    person_email=ctx.person_email,
                    starts_at=calendar_day.day_start,
                    # to the summary's cutoff: an absence may cover its deadline after hours
                    ends_at=max(calendar_day.day_end, calendar_day.summary_cutoff),
                    timezone=ctx.timezone,
                ),
                start_to_close_timeout=VENDOR_TIMEOUT,
                retry_policy=RETRY,
            )
            self._away = away.events
            skip = checkins.skip_for_calendar(self._away, calendar_day)
        if skip is not None:
            await self._record_skip(skip)
            return self._view

        hold = await workflow.execute_activity_method(
            CalendarActivities.place_hold,
            self._hold_request(calendar_day),
            start_to_close_timeout=VENDOR_TIMEOUT,
            retry_policy=RETRY,
        )
        self._view.hold_event_id = hold.event_id
        await self._set_state("held", hold_event_id=hold.event_id)

        await self._check_in_phase("plan")
        if self._skip is None:
            await self._set_state("learning")
            await self._check_in_phase("summary")
        # Stay open until the cutoff even once answered, so the person can still edit.
        await self._wait_until(lambda: self._skip is not None, lambda i: i.summary_cutoff)
        if self._skip is not None:
            await workflow.execute_activity_method(
                CalendarActivities.remove_hold,
                HoldRemoval(person_email=ctx.person_email, date=day.date),
                start_to_close_timeout=VENDOR_TIMEOUT,
                retry_policy=RETRY,
            )
            self._tell_of_day()  # flags raised before the skip still stand
            await self._side_roads_done()
            await self._record_skip(self._skip)
            return self._view
        if self._judged_at_day_end:
            await self._judge_used_for_work()
            self._tell_of_day()
        await self._all_shared()
        await self._side_roads_done()
        await self._set_state("completed")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _check_in_phase(self, kind: Literal["plan", "summary"]) -> None:
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
            self._prompt(kind, reminder=False, index=0)
            index = 1
            while index <= len(reminders(self._instants)):
                if await self._wait_until(answered, reminder_at(index)):
                    break
                if index <= len(reminders(self._instants)):
                    self._prompt(kind, reminder=True, index=index)
                index += 1
        if not await self._wait_until(answered, cutoff):
            self._closed.add(kind)  # from here on a check-in of this kind is too late
        if self._skip is not None:
            return
        if self._submitted(kind):
            await self._share(kind)
        elif checkins.missed_check_in(kind, self._real_day, self._away) == "excused":
            await self._excuse(kind)
        else:
            await self._flag_missed(kind, cutoff(self._instants))

    # --- handlers ------------------------------------------------------------------------

    @workflow.update
    async def submit_check_in(self, update: CheckInUpdate) -> CheckInAccepted:
        if update.key in self._answers:
            return self._answers[update.key]
        await workflow.wait_condition(lambda: self._ctx is not None)
        assert self._ctx is not None
        async with self._check_in_lock:
            if update.key in self._answers:  # the same request, accepted while we waited
                return self._answers[update.key]
            # Judged again by the history alone, not the clock: this also runs on replay (see
            # policies.checkins.timing_once_accepted); the validator judged the clock.
            kind = self._kind_of(update, by_the_clock=False)
            timing = self._refuse_unless_acceptable(update, kind, by_the_clock=False)
            # The decision: made here, in memory and in history, before anything is written.
            now, text = workflow.now(), update.text.strip()
            edited = self._submitted(kind)
            revision = self._revisions[kind] = self._revisions.get(kind, 0) + 1
            if kind == "plan":
                self._view.plan, self._view.plan_at = text, now
                self._plan_category = update.category
            else:
                self._view.summary, self._view.summary_at = text, now
            accepted = CheckInAccepted(kind=kind, edited=edited, late=timing == "late")
            if update.key is not None:
                self._answers[update.key] = accepted
            record = CheckInRecord(
                learning_day_id=self._ctx.learning_day_id,
                kind=kind,
                text=text,
                source=update.source,
                at=now,
                why=update.why,
                category=update.category,
                resources=update.resources,
                revision=revision,
            )
            try:
                # A regular activity: it runs only once the decision is in the history.
                await workflow.execute_activity_method(
                    DayRecords.record_check_in, record, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
                )
            except ActivityError as error:
                # Only a bug gets here (the row holds another truth): stop the day, loudly.
                raise RuntimeError(
                    f"check-in {kind} revision {revision} could not be recorded: {error.cause}"
                ) from error
        return accepted

    @submit_check_in.validator
    def _validate_check_in(self, update: CheckInUpdate) -> None:
        if update.key in self._answers:
            return  # a redelivery: answered like the first
        if self._view.state in checkins.CLOSED_STATES:
            raise ApplicationError(f"This Learning Day is {self._view.state}.", type="DayClosed")
        if self._ctx is not None:
            self._refuse_unless_acceptable(update, self._kind_of(update))

    def _kind_of(self, update: CheckInUpdate, by_the_clock: bool = True) -> str:
        if update.kind != "next":
            return update.kind
        if not by_the_clock:
            return checkins.next_check_in_once_accepted(self._view.plan is not None, "plan" in self._closed)
        return checkins.next_check_in(self._view.plan is not None, workflow.now(), self._instants)

    def _refuse_unless_acceptable(
        self, update: CheckInUpdate, kind: str, by_the_clock: bool = True
    ) -> checkins.CheckInTiming:
        """Raise what the person is told when this check-in cannot be accepted now; else its timing.
        `by_the_clock` False (the update's handler): refuse only for what the history holds."""
        assert self._ctx is not None
        if self._view.state in checkins.CLOSED_STATES:
            raise ApplicationError(f"This Learning Day is {self._view.state}.", type="DayClosed")
        problems = checkins.check_in_problems(
            self._ctx.policy, kind, update.text, update.category, update.why, update.resources
        )
        if problems:
            raise ApplicationError(
                "; ".join(f"{name}: {message}" for name, message in problems.items()), problems, type="InvalidCheckIn"
            )
        timing = checkins.check_in_timing(kind, workflow.now(), self._opens_at, self._instants)
        if not by_the_clock:
            timing = checkins.timing_once_accepted(timing, kind in self._closed)
        else:
            timing = checkins.timing_on_arrival(timing, kind in self._closed)
        standing = checkins.standing_after_cutoff(self._submitted(kind), kind in self._view.excused)
        refusal = checkins.timing_refusal(kind, timing, self._day_label(), self._instants, self._ctx.timezone, standing)
        if refusal is not None:
            raise ApplicationError(refusal, type="TooEarly" if timing == "too_early" else "TooLate")
        return timing

    @workflow.update
    async def skip(self, request: SkipRequest) -> str:
        if request.key in self._skip_answers:
            return self._skip_answers[request.key]
        if self._skip is None:
            self._skip = checkins.Skip("requested", request.reason.strip() or "Skipped by the person")
        if request.key is not None:
            self._skip_answers[request.key] = self._skip.reason
        return self._skip.reason

    @skip.validator
    def _validate_skip(self, request: SkipRequest) -> None:
        if request.key in self._skip_answers:
            return
        if self._view.state in checkins.CLOSED_STATES or self._skip is not None:
            raise ApplicationError(
                f"This Learning Day is already {self._view.state if self._skip is None else 'skipped'}."
            )

    @workflow.query
    def status(self) -> DayView:
        return self._view

    # --- waiting ---------------------------------------------------------------------------

    def _submitted(self, kind: str) -> bool:
        return (self._view.plan if kind == "plan" else self._view.summary) is not None

    async def _wait_until(self, condition: Callable[[], bool], instant: Callable[[DayInstants], dt.datetime]) -> bool:
        """Wait for `condition` or the day's `instant`; True when the condition came first.

        A `policy_changed` signal wakes the wait, re-plans the day, and waits for the new
        instant instead.
        """
        while True:
            if condition():
                return True
            await self._apply_policy_change()
            if self._timer_for_past_instants:  # see workflows/instants.py
                if not await wait_for_instant(lambda: condition() or self._policy_changed, instant(self._instants)):
                    return False
                continue
            remaining = (instant(self._instants) - workflow.now()).total_seconds()
            if remaining <= 0:
                return False
            try:
                await workflow.wait_condition(lambda: condition() or self._policy_changed, timeout=remaining)
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
        ctx = self._ctx = await workflow.execute_local_activity_method(
            DayRecords.load_day_context,
            DayKey(person_id=self._ctx.person_id, date=self._view.date, workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=RETRY,
        )
        self._view.instants = self._instants_for(ctx)
        self._calendar_day = day_instants(ctx.policy, ctx.timezone, self._view.date)
        if self._view.hold_event_id is not None:
            # Same deterministic event id: the calendar updates the hold in place.
            await workflow.execute_activity_method(
                CalendarActivities.place_hold,
                self._hold_request(self._calendar_day),
                start_to_close_timeout=VENDOR_TIMEOUT,
                retry_policy=RETRY,
            )

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

    @property
    def _real_day(self) -> DayInstants:
        assert self._calendar_day is not None
        return self._calendar_day

    @property
    def _opens_at(self) -> dt.datetime:
        """When check-ins open: the day's first instant in the person's zone (on the day's clock)."""
        assert self._ctx is not None and self._view.date is not None
        opens = checkins.day_opens(self._view.date, self._ctx.timezone)
        if self._time_scale == 1.0:
            return opens
        return compress_instant(opens, self._real_day.day_start, self._origin, self._time_scale)

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

    # --- side roads --------------------------------------------------------------------------

    def _side_road(self, step: Awaitable[None]) -> None:
        """Run `step` beside the day; it handles its own failure (see `_optional`)."""
        self._side_roads.append(asyncio.ensure_future(step))

    async def _side_roads_done(self) -> None:
        while self._side_roads:
            running, self._side_roads = self._side_roads, []
            await asyncio.gather(*running)

    async def _problem(self, report: ProblemReport, label: str) -> None:
        self._view.problems.append(label)
        await workflow.execute_local_activity(
            record_delivery_problem, report, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )

    def _report(self, key: str, step: str, reason: str, outcome: str) -> ProblemReport:
        assert self._ctx is not None
        return ProblemReport(
            key=key,
            step=step,
            subject_type="learning_day",
            subject_id=str(self._ctx.learning_day_id),
            person_id=self._ctx.person_id,
            reason=reason,
            outcome=outcome,
            at=workflow.now(),
        )

    def _prompt(self, kind: Literal["plan", "summary"], reminder: bool, index: int) -> None:
        assert self._ctx is not None
        wf_id = workflow.info().workflow_id
        prompt = Prompt(
            key=f"prompt:{wf_id}:{kind}:{index}",
            person_email=self._ctx.person_email,
            slack_user_id=self._ctx.slack_user_id,
            kind=kind,
            reminder=reminder,
            day_label=self._day_label(),
            checkin_url=self._ctx.checkin_url,
            workflow_id=wf_id,
        )
        self._view.prompts_sent.append(f"{kind}:{'reminder' if reminder else 'prompt'}:{index}")
        self._side_road(self._deliver_prompt(prompt))

    async def _deliver_prompt(self, prompt: Prompt) -> None:
        """By Slack; when Slack cannot reach the person, by email with the web check-in link."""
        if not self._slack_unreachable:
            try:
                await workflow.execute_local_activity_method(
                    ChatActivities.send_prompt,
                    prompt,
                    start_to_close_timeout=VENDOR_TIMEOUT,
                    schedule_to_close_timeout=PROMPT_BUDGET,
                    retry_policy=RETRY,
                )
                return
            except FailureError as error:  # a local activity's failure comes unwrapped
                refused = refused_for_good(error)
                if refused:  # e.g. no Slack account: the rest of the day goes by email at once
                    self._slack_unreachable = True
                await self._problem(
                    self._report(
                        prompt.key, "prompt", reason_of(error), "sent by email with the check-in link instead"
                    ),
                    f"prompt:{'slack' if refused else 'slack-timeout'}",
                )
        try:
            await workflow.execute_activity_method(
                PromptMail.email_prompt,
                prompt,
                start_to_close_timeout=VENDOR_TIMEOUT,
                schedule_to_close_timeout=NOTIFY_BUDGET,
                retry_policy=RETRY,
            )
        except ActivityError as error:
            await self._problem(
                self._report(f"email:{prompt.key}", "prompt_email", reason_of(error), "the prompt was not delivered"),
                "prompt:email",
            )

    async def _optional(self, call: Callable[[], Awaitable[Any]], report: ProblemReport, label: str) -> None:
        """A side road with a bounded retry budget: its failure is recorded, never raised."""
        try:
            await call()
        except ActivityError as error:
            await self._problem(ProblemReport(**{**report.__dict__, "reason": reason_of(error)}), label)

    # --- steps ---------------------------------------------------------------------------

    async def _share(self, kind: Literal["plan", "summary"]) -> None:
        """Queue the check-in for the shared channel: the seed's accountability mechanism.

        The channel's sequencer posts it in turn and signals back its `ts`; the day does not
        wait for that (a long queue must not delay the summary prompt), except that a summary
        waits a while for its plan's `ts` so it can answer in the plan's thread, and is posted
        on its own when the plan's post does not come.
        """
        assert self._ctx is not None
        if not checkins.shared_in_channel(self._ctx.policy, kind):
            return
        channel = self._ctx.policy.channel
        thread = None
        if kind == "summary" and "plan" in self._shared:
            await self._wait_for_posts(["plan"], PLAN_POST_WAIT)
            thread = self._posted_ts.get("plan")
        self._shared.append(kind)
        key = channel_post_key(workflow.info().workflow_id, kind)
        post = ChannelPost(
            key=key,
            channel=channel.name,
            person_email=self._ctx.person_email,
            person_name=self._ctx.person_name,
            slack_user_id=self._ctx.slack_user_id,
            kind=kind,
            text=(self._view.plan if kind == "plan" else self._view.summary) or "",
            category=self._plan_category if kind == "plan" else None,
            thread_ts=thread,
            day_label=self._day_label(),
            learning_day_id=self._ctx.learning_day_id,
            person_id=self._ctx.person_id,
        )
        try:
            await workflow.execute_local_activity_method(
                ChannelQueue.enqueue_channel_post,
                EnqueueRequest(post=post, reply_to_workflow_id=workflow.info().workflow_id),
                start_to_close_timeout=DATABASE_TIMEOUT,
                schedule_to_close_timeout=PROMPT_BUDGET,
                retry_policy=RETRY,
            )
        except FailureError as error:  # a local activity's failure comes unwrapped
            self._post_failed[kind] = reason_of(error)
            await self._problem(
                self._report(key, "channel_post", reason_of(error), "not posted to the channel"), f"channel:{kind}"
            )

    @workflow.signal
    def channel_posted(self, posted: ChannelPosted) -> None:
        if posted.ts is None:
            self._post_failed[posted.kind] = posted.failed or "not posted"
            if f"channel:{posted.kind}" not in self._view.problems:
                self._view.problems.append(f"channel:{posted.kind}")  # the sequencer recorded it
            return
        self._posted_ts[posted.kind] = posted.ts
        if posted.kind not in self._view.posted:
            self._view.posted.append(posted.kind)

    async def _wait_for_posts(self, kinds: list[str], timeout: dt.timedelta) -> list[str]:
        """Wait for the sequencer's answer about `kinds`; the kinds still unanswered at `timeout`."""

        def unanswered() -> list[str]:
            return [k for k in kinds if k not in self._posted_ts and k not in self._post_failed]

        try:
            await workflow.wait_condition(lambda: not unanswered(), timeout=timeout)
        except TimeoutError:
            pass
        return unanswered()

    async def _all_shared(self) -> None:
        """Before closing the day: every queued post is out (or failed), and the thread recorded."""
        for kind in await self._wait_for_posts(list(self._shared), ALL_POSTS_WAIT):
            key = channel_post_key(workflow.info().workflow_id, kind)
            await self._problem(
                self._report(
                    f"{key}:unconfirmed",
                    "channel_post",
                    "the channel's sequencer did not answer in time",
                    "the day closed without the post's confirmation; it may still be posted",
                ),
                f"channel:{kind}:unconfirmed",
            )
        if "plan" in self._posted_ts:
            await self._set_state(self._view.state, channel_thread_ts=self._posted_ts["plan"])

    async def _flag_missed(self, kind: str, cutoff: dt.datetime) -> None:
        assert self._ctx is not None and self._view.date is not None
        ctx, flag_kind = self._ctx, f"missed_{kind}"
        recorded = await workflow.execute_local_activity_method(
            DayRecords.record_flag,
            FlagRecord(
                person_id=ctx.person_id,
                learning_day_id=ctx.learning_day_id,
                kind=flag_kind,
                date=self._view.date,
                reason=f"No {kind} by the deadline plus grace ({cutoff:%H:%M} UTC).",
                at=workflow.now(),
                evidence={"cutoff": cutoff.isoformat(), "prompts": list(self._view.prompts_sent)},
            ),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=RETRY,
        )
        self._view.flags.append(flag_kind)
        if self._judged_at_day_end:
            self._day_flags.append(recorded)  # told with the day's other flags, at its end
            return
        readers = flag_recipients(
            ctx.policy, recorded.missed_in_a_row, ctx.person_id, recorded.manager_id, recorded.managers_manager_id
        )
        notice = FlagNotice(flag_id=recorded.flag_id, readers=readers)
        self._tell_of_flag(
            MailActivities.notify_flag, notice, f"{flag_kind}:email", "flag_email", "the flag emails were not sent"
        )
        if ctx.policy.escalation.manager_slack_dm:
            self._tell_of_flag(
                FlagDmActivities.dm_managers_about_flag,
                notice,
                f"{flag_kind}:dm",
                "flag_dm",
                "the managers were not sent a Slack DM",
            )

    def _tell_of_flag(self, send: Callable[..., Any], notice: FlagNotice, label: str, step: str, outcome: str) -> None:
        """Email (or DM) one flag's readers at once: days started before `day-end-judgement`."""
        assert self._ctx is not None
        report = ProblemReport(
            key=f"flag:{notice.flag_id}:{label.rsplit(':', 1)[-1]}",
            step=step,
            subject_type="flag",
            subject_id=str(notice.flag_id),
            person_id=self._ctx.person_id,
            reason="",
            outcome=outcome,
            at=workflow.now(),
        )
        self._tell(send, notice, report, label)

    def _tell(
        self, send: Callable[..., Any], notice: FlagNotice | DayFlagsNotice, report: ProblemReport, label: str
    ) -> None:
        """Run a flag notification beside the day, within the notification budget."""
        self._side_road(
            self._optional(
                lambda: workflow.execute_activity_method(
                    send,
                    notice,
                    start_to_close_timeout=VENDOR_TIMEOUT,
                    schedule_to_close_timeout=NOTIFY_BUDGET,
                    retry_policy=RETRY,
                ),
                report,
                label,
            )
        )

    async def _judge_used_for_work(self) -> None:
        """Once the summary's cutoff has passed: the day's meetings, plan and summary against
        the used-for-work rule; a calendar that cannot be read is a problem, not a failure."""
        assert self._ctx is not None and self._view.date is not None
        events, unread = await day_end.read_day_calendar(self._ctx, self._real_day)
        if unread is not None:
            await self._problem(
                self._report(
                    f"calendar:{workflow.info().workflow_id}:day-end",
                    "day_end_calendar",
                    unread,
                    "used for work was judged on the plan and summary only: meetings were not counted",
                ),
                "calendar:day-end",
            )
        judgement = day_end.judge(
            self._ctx,
            self._view.date,
            self._real_day,
            events,
            self._view.plan,
            self._view.summary,
            self._plan_category,
            self._away,
            calendar_read=unread is None,
        )
        recorded = await workflow.execute_local_activity(
            record_work_judgement, judgement, start_to_close_timeout=DATABASE_TIMEOUT, retry_policy=RETRY
        )
        if recorded is not None:
            self._view.flags.append("used_for_work")
            self._day_flags.append(recorded)

    def _tell_of_day(self) -> None:
        """All of the day's flags in one email per reader (and one DM per manager, by policy)."""
        if not self._day_flags:
            return
        assert self._ctx is not None and self._view.date is not None
        notice = day_end.day_flags_notice(self._ctx, self._view.date, self._day_flags)
        key = f"day-flags:{workflow.info().workflow_id}"
        self._tell(
            DayFlagMail.notify_day_flags,
            notice,
            self._report(f"{key}:email", "flag_email", "", "the day's flag emails were not sent"),
            "flags:email",
        )
        if self._ctx.policy.escalation.manager_slack_dm:
            self._tell(
                FlagDmActivities.dm_managers_about_day_flags,
                notice,
                self._report(f"{key}:dm", "flag_dm", "", "the managers were not sent a Slack DM"),
                "flags:dm",
            )

    async def _excuse(self, kind: str) -> None:
        """An unanswered check-in whose deadline a partial absence covers: recorded, not flagged."""
        assert self._ctx is not None
        away = checkins.excusing_absence(kind, self._real_day, self._away)
        self._view.excused.append(kind)
        await workflow.execute_local_activity_method(
            DayRecords.record_excused_check_in,
            ExcusedCheckIn(
                learning_day_id=self._ctx.learning_day_id,
                kind=kind,
                reason=f"Out of office at the {kind} deadline ({away.title if away else 'no title'})",
            ),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _record_skip(self, skip: checkins.Skip) -> None:
        self._view.skip_reason = skip.reason
        await self._set_state("skipped", skip_reason=skip.reason)

    async def _set_state(self, state: str, **change: str) -> None:
        assert self._ctx is not None
        self._view.state = state
        await workflow.execute_local_activity_method(
            DayRecords.record_day_state,
            DayStateChange(learning_day_id=self._ctx.learning_day_id, state=state, **change),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=RETRY,
        )
