"""The worker: which implementation of each port to use, and the two task queues.

The main queue runs the workflows and every activity but channel posts; channel posts have a
queue of their own, one post at a time per worker. Their order and pace per channel are the
channel sequencer's (workflows/channel_poster.py), the one place that decides across workers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.calendar.activities import CalendarActivities
from activities.calendar.port import Calendar
from activities.channel_queue import ChannelQueue
from activities.chat.activities import ChatActivities
from activities.chat.flag_dm import FlagDmActivities
from activities.chat.port import Chat
from activities.kickoff import Kickoff
from activities.mail.activities import DigestActivities, MailActivities
from activities.mail.day_flags import DayFlagMail
from activities.mail.factory import mailer_from_settings
from activities.mail.prompt_mail import PromptMail
from activities.records.audit import AuditActivities
from activities.records.day import DayRecords
from activities.records.problems import record_delivery_problem
from activities.records.work_judgement import record_work_judgement
from learningday.contracts.mail import Mailer
from learningday.links.checkin import checkin_url
from learningday.policy_source import current_policy
from learningday.settings import Settings
from learningday.temporal.retry_metrics import CountRetries
from policies.policy import Policy
from workflows.channel_poster import ChannelPosterWorkflow
from workflows.learning_day import LearningDayWorkflow
from workflows.reimbursement import ReimbursementWorkflow
from workflows.weekly_audit import WeeklyAuditWorkflow
from workflows.weekly_kickoff import WeeklyKickoffWorkflow

log = logging.getLogger(__name__)

# policies/ is pure and deterministic, and so are the payload dataclasses in learningday.contracts:
# loading them once, outside the per-workflow sandbox, is both safe and much cheaper. activities/
# too: a workflow names the activity methods it calls, and a module defining a workflow may
# import them outside an `imports_passed_through` block (tests/replay's reordered workflow does).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "policies",
        "learningday.contracts",
        "activities",
        "holidays",
        # Process-wide metrics: importing them again inside a sandbox would be refused
        # (prometheus_client touches urllib) and would register every counter twice.
        "prometheus_client",
        "learningday.metrics",
        # One cache of type adapters for every workflow instance (see the module).
        "learningday.temporal.converter",
    )
)


@dataclass
class Ports:
    calendar: Calendar
    chat: Chat
    mailer: Mailer | None = None  # None: from settings (SMTP, Gmail or the local Maildir)


def calendar_from_settings(settings: Settings) -> Calendar:
    """Google Calendar where a service account is configured, the local calendar otherwise."""
    if settings.google_configured:
        from activities.calendar.google import GoogleCalendar

        return GoogleCalendar(
            service_account_file=settings.google_service_account_file,
            api_endpoint=settings.google_api_endpoint,
        )
    from activities.calendar.local import LocalCalendar

    return LocalCalendar()


def ports_from_settings(settings: Settings) -> Ports:
    """Vendor implementations where configured, the local ones otherwise (never a crash)."""
    calendar = calendar_from_settings(settings)
    if settings.slack_configured:
        from activities.chat.slack import SlackChat

        assert settings.slack_bot_token is not None
        chat: Chat = SlackChat(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_base_url,
            channel=settings.slack_channel or None,
            min_post_interval=1 / settings.channel_posts_per_second,  # the channel rate, not 1/s always
        )
    else:
        from activities.chat.local import LocalChat

        chat = LocalChat()
    return Ports(calendar=calendar, chat=chat)


# Channels whose turns (a burst posted at the channel's rate, up to a minute or more) one worker
# process runs at once: one long turn must not hold another channel's posts back.
CHANNEL_TURNS_AT_ONCE = 4


def build_workers(
    client: Client,
    settings: Settings,
    ports: Ports | None = None,
    policy_loader: Callable[[], Policy] = current_policy,
    channel_posts_per_second: float | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> list[Worker]:
    """The main and channel-post workers, tuned from settings (concurrency, sticky cache,
    threads, channel rate, graceful shutdown); `channel_posts_per_second` overrides the setting."""
    ports = ports or ports_from_settings(settings)
    _warm_up_holidays(policy_loader)
    interceptors = [CountRetries(), *interceptors]
    shutdown = dt.timedelta(seconds=settings.graceful_shutdown_seconds)
    records = DayRecords(policy_loader, checkin_url)
    calendar = CalendarActivities(ports.calendar)
    chat = ChatActivities(ports.chat)
    kickoff = Kickoff(client, settings.temporal_task_queue, policy_loader)
    mailer = ports.mailer or mailer_from_settings(settings)
    mail = MailActivities(mailer, policy_loader, ports.calendar)
    digests = DigestActivities(mailer)
    flag_dms = FlagDmActivities(ports.chat, policy_loader)
    audit = AuditActivities(ports.calendar, policy_loader)
    channel_queue = ChannelQueue(
        client,
        settings.temporal_task_queue,
        settings.temporal_channel_task_queue,
        channel_posts_per_second or settings.channel_posts_per_second,
    )
    # Local activities (the database writes) share the threads: enough for every slot, so a
    # database write never waits behind emails for a thread, plus those of the channel turns.
    threads = (
        settings.worker_max_concurrent_activities
        + settings.worker_max_concurrent_local_activities
        + CHANNEL_TURNS_AT_ONCE
    )
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=settings.worker_activity_threads or threads,
        thread_name_prefix="activity",
    )
    main = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[
            LearningDayWorkflow,
            ChannelPosterWorkflow,
            WeeklyKickoffWorkflow,
            ReimbursementWorkflow,
            WeeklyAuditWorkflow,
        ],
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=interceptors,
        activities=[
            records.load_day_context,
            records.record_day_state,
            records.record_check_in,
            records.record_flag,
            records.record_excused_check_in,
            record_work_judgement,
            record_delivery_problem,
            calendar.place_hold,
            calendar.remove_hold,
            calendar.find_out_of_office,
            calendar.read_day_events,
            chat.send_prompt,
            PromptMail(mailer).email_prompt,
            channel_queue.enqueue_channel_post,
            kickoff.start_learning_days,
            *claim_activities(settings, policy_loader),
            mail.notify_flag,
            DayFlagMail(mailer, ports.calendar).notify_day_flags,
            flag_dms.dm_managers_about_flag,
            flag_dms.dm_managers_about_day_flags,
            digests.send_digests_page,
            audit.audit_people_page,
        ],
        activity_executor=executor,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=shutdown,
    )
    channel = Worker(
        client,
        task_queue=settings.temporal_channel_task_queue,
        activities=[chat.post_to_channel, chat.post_to_channel_in_turn],
        interceptors=interceptors,
        activity_executor=executor,
        # Pacing and order per channel are the sequencer's (workflows/channel_poster.py): it has
        # one turn in flight at a time, so the turns of different channels may run side by side.
        max_concurrent_activities=CHANNEL_TURNS_AT_ONCE,
        graceful_shutdown_timeout=shutdown,
    )
    return [main, channel]


def _warm_up_holidays(policy_loader: Callable[[], Policy]) -> None:
    """The holiday calendars, loaded before the first workflow task needs them (see `warm_up`)."""
    from policies.holidays import warm_up

    try:
        warm_up(policy_loader(), dt.date.today())
    except Exception:  # noqa: BLE001 - a policy that cannot load now is reported where it is used
        log.warning("could not load the holiday calendars ahead of the first Learning Day", exc_info=True)


def claim_activities(
    settings: Settings, policy_loader: Callable[[], Policy], mailer: Mailer | None = None
) -> list[Callable[..., object]]:
    """Expense-claim activities: the records and the emails (mailer from settings unless given)."""
    from activities.mail.claim_mail import ClaimMail
    from activities.mail.factory import mailer_from_settings
    from activities.records.claims import ClaimRecords
    from learningday.links.approval import approval_url

    records = ClaimRecords(policy_loader)
    mail = ClaimMail(mailer or mailer_from_settings(settings), approval_url, policy_loader)
    return [
        records.load_claim_context,
        records.record_decision,
        records.record_event,
        mail.send_approval_request,
        mail.send_update,
    ]


async def run_workers(workers: list[Worker]) -> None:
    """Run until cancelled; then shut down gracefully, letting in-flight activities finish."""
    await asyncio.gather(*(worker.run() for worker in workers))
