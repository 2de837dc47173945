"""A failed side step never ends someone's day: each outside system says "never" in turn.

With the ports the worker is given: a person Slack cannot reach, a manager address the relay
refuses for good, a channel that does not exist, and one bad address in the weekly audit. Each
day (and the audit) still finishes, and the person or manager who could be reached still is.
tests/faults/test_permanent_failures.py plays them all at once over the real Slack, Google and
SMTP clients and checks what admins see.

A day runs at its real times on the time-skipping server: answers go in at 09:01 and 09:31
Berlin, and awaiting the result skips through the rest.
"""

from __future__ import annotations

import asyncio
import mailbox
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.mail.maildir import MaildirMailer
from activities.mail.smtp import MailRejected
from learningday.checkins import CheckInSubmission
from learningday.contracts.chat import ChannelPost, MessageRef, Prompt
from learningday.contracts.day import DayView
from learningday.db.models import CheckIn, Person
from learningday.temporal.gateway import TemporalCheckInGateway
from tests.enforcement.conftest import Org, Smtp, Workers, org, smtp, smtp_mailer, workers  # noqa: F401 - fixtures
from tests.enforcement.test_weekly_audit import ada_had_a_busy_week, run_audit
from tests.workflows.clock import advance_to, berlin
from tests.workflows.conftest import Harness, running_harness, skipping_harness  # noqa: F401 - fixtures
from tests.workflows.test_learning_day import add_person, plan, prompted, start_day_ahead, summary
from workflows.learning_day import LearningDayWorkflow

DAY_OVER = 90.0  # skipped through in about a second: a day still open after this never ends


def refuse_slack_for(harness: Harness, email: str) -> None:
    """Slack knows nobody by this email: every prompt to them is refused for good."""
    send = harness.chat.send_prompt

    def send_prompt(prompt: Prompt) -> MessageRef:
        if prompt.person_email == email:
            raise ApplicationError("Slack refused users.lookupByEmail: users_not_found", non_retryable=True)
        return send(prompt)

    harness.chat.send_prompt = send_prompt  # type: ignore[method-assign]


def maildir_messages(outbox: Path, to: str) -> list[str]:
    box = mailbox.Maildir(outbox, create=True)
    return [m["Subject"] for m in box if to in (m["To"] or "")]


async def test_a_person_slack_cannot_reach_is_prompted_by_email_and_checks_in_on_the_web(
    skipping_env: WorkflowEnvironment, engine: object, session: Session, tmp_path: Path
) -> None:
    person = add_person(session)
    async with running_harness(skipping_env, mailer=MaildirMailer(tmp_path / "outbox")) as harness:
        refuse_slack_for(harness, person.email)
        handle, date = await start_day_ahead(skipping_env, harness, person)
        await advance_to(skipping_env, berlin(date, 9, 1))
        await prompted(handle, "plan:prompt:0")
        accepted = await TemporalCheckInGateway(harness.client).submit(
            CheckInSubmission(
                person_email=person.email, kind="plan", text="Bayesian inference, chapter 1", source="web"
            )
        )
        assert accepted.accepted, accepted.message
        await advance_to(skipping_env, berlin(date, 9, 31))
        await prompted(handle, "summary:prompt:0")
        await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())
        view: DayView = await asyncio.wait_for(handle.result(), DAY_OVER)

    assert view.state == "completed" and view.flags == []
    prompts = maildir_messages(tmp_path / "outbox", person.email)
    day = f"{date:%A} {date.day} {date:%B}"
    assert sorted(prompts) == [f"Learning Day plan, {day}", f"Learning Day summary, {day}"]


class RefusingMailer:
    """Delivers to the Maildir, but the relay refuses one address for good (a 550)."""

    def __init__(self, real: object, refused: str) -> None:
        self.real, self.refused, self.refusals = real, refused, 0

    def send(self, email):  # type: ignore[no-untyped-def]
        if self.refused in email.to:
            self.refusals += 1
            raise MailRejected(f"550 mailbox unavailable for email {email.key}", code=550)
        return self.real.send(email)  # type: ignore[attr-defined]


async def test_a_refused_manager_address_does_not_end_the_day(
    skipping_env: WorkflowEnvironment, engine: object, session: Session, tmp_path: Path
) -> None:
    manager = Person(email="gone@example.com", name="Gone Manager", timezone="Europe/Berlin")
    session.add(manager)
    session.flush()
    person = add_person(session)
    person.manager_id = manager.id
    session.commit()
    mailer = RefusingMailer(MaildirMailer(tmp_path / "outbox"), refused=manager.email)
    async with running_harness(skipping_env, mailer=mailer) as harness:
        # Nobody answers: two flags, one email for the day to a dead address.
        handle, date = await start_day_ahead(skipping_env, harness, person)
        view: DayView = await asyncio.wait_for(handle.result(), DAY_OVER)

    assert view.state == "completed" and view.flags == ["missed_plan", "missed_summary"]
    assert mailer.refusals == 1  # one email for the day's flags: a refusal is not retried
    assert maildir_messages(tmp_path / "outbox", person.email) == [
        f"Ada Lovelace: No plan posted, No summary posted ({date:%a %d %b})",
    ]  # the person still hears of both flags


async def test_a_missing_channel_does_not_end_the_days_and_the_summary_is_posted_alone(
    skipping_env: WorkflowEnvironment, skipping_harness: Harness, session: Session
) -> None:
    def post_to_channel(post: ChannelPost) -> MessageRef:
        if post.kind == "plan":
            raise ApplicationError("Slack refused chat.postMessage: channel_not_found", non_retryable=True)
        return MessageRef(channel=post.channel, ts="2.000")

    skipping_harness.chat.post_to_channel = post_to_channel  # type: ignore[method-assign]
    person = add_person(session)
    handle, date = await start_day_ahead(skipping_env, skipping_harness, person)
    await advance_to(skipping_env, berlin(date, 9, 1))
    await prompted(handle, "plan:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, plan())
    await advance_to(skipping_env, berlin(date, 9, 31))
    await prompted(handle, "summary:prompt:0")
    await handle.execute_update(LearningDayWorkflow.submit_check_in, summary())

    view: DayView = await asyncio.wait_for(handle.result(), DAY_OVER)
    assert view.state == "completed" and view.posted == ["summary"]
    kinds = session.scalars(select(CheckIn.kind)).all()
    assert sorted(k.value for k in kinds) == ["plan", "summary"]


async def test_one_bad_address_does_not_stop_the_weekly_audit_before_the_digests(
    workers: Workers, org: Org, session: Session, smtp: Smtp
) -> None:
    ada_had_a_busy_week(session, org, workers)
    smtp.handler.refuse.add(org.maria.email)  # Ada's manager: her flags and her digest bounce
    async with workers.running(smtp_mailer(smtp)):
        result = await asyncio.wait_for(run_audit(workers, "bad-address"), DAY_OVER)

    assert result.flags == 2
    assert [r.message["Subject"] for r in smtp.to(org.grace.email)][-1].startswith("Learning Day digest")
    assert smtp.to(org.maria.email) == []
