"""Vendors that say "never": no person's day dies of a side road.

With the real slack_sdk, googleapiclient and smtplib clients against the local peers, three
people have a Learning Day at the compact policy's real times on the time-skipping server (the
answers go in at 09:01 and 09:31 Berlin, however slow the machine) while every side road fails
for good:
- Nora has no Slack account (lookup by email answers `users_not_found`): her prompts come by
  email with the web check-in link, and the web check-in form takes her plan;
- Mia, everyone's manager, has an address the relay refuses (550) for every flag email;
- the policy's channel does not exist in Slack (`channel_not_found`) for every post;
- Lin's name holds a line break (stored before import refused such names) and Ada, her manager,
  gets the email about her day's two flags with a one-line subject.
Every day completes; every failure is recorded once, on /problems and in /metrics.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from learningday.contracts.day import DayView, LearningDayInput, workflow_id_for
from learningday.db.models import DeliveryProblem, Flag, Person, Role
from learningday.settings import Settings
from learningday.web.auth import login_token
from tests.integrations.test_day_end_to_end import run_stack
from tests.mail.smtp_peer import HOST, CollectingHandler, smtp_server
from tests.peers.google import GooglePeer
from tests.peers.slack import BOT_TOKEN, SlackPeer, running_slack_peer
from tests.peers.slack_requests import SECRET
from tests.waiting import eventually
from tests.workflows.clock import advance_to, berlin, thursday_ahead
from tests.workflows.test_learning_day import compact_policy, plan, summary
from workflows.learning_day import LearningDayWorkflow

ADA_SLACK, LIN_SLACK = "UADA00001", "ULIN00001"
CHECKIN_LINK = re.compile(r"https?://[^/\s]+(/checkin/[^\s]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def google() -> Iterator[GooglePeer]:
    with GooglePeer() as peer:
        yield peer


@pytest.fixture
def slack() -> Iterator[SlackPeer]:
    with running_slack_peer() as peer:  # no channel at all: every post is refused
        peer.add_user("ada@example.com", ADA_SLACK)
        peer.add_user("lin@example.com", LIN_SLACK)
        peer.add_user("mia@example.com", "UMIA00001")
        yield peer  # nora@example.com has no Slack account


@pytest.fixture
def relay() -> Iterator[tuple[CollectingHandler, int]]:
    handler = CollectingHandler(refuse={"mia@example.com"})
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
def settings(tmp_path: Path, google: GooglePeer, slack: SlackPeer, relay: tuple[CollectingHandler, int]) -> Settings:
    key_file = tmp_path / "service-account.json"
    google.write_key_file(key_file)
    queue = f"never-{uuid.uuid4().hex[:8]}"
    return Settings(
        temporal_task_queue=queue,
        temporal_channel_task_queue=f"{queue}-channel",
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack.base_url,
        google_service_account_file=key_file,
        google_api_endpoint=google.url,
        smtp_host=HOST,
        smtp_port=relay[1],
        smtp_tls="none",
    )


@pytest.fixture
def people(session: Session) -> dict[str, Person]:
    mia = Person(email="mia@example.com", name="Mia Manager", timezone="Europe/Berlin", role=Role.admin)
    session.add(mia)
    session.flush()
    ada = Person(
        email="ada@example.com",
        name="Ada Lovelace",
        timezone="Europe/Berlin",
        slack_user_id=ADA_SLACK,
        manager_id=mia.id,
    )
    nora = Person(email="nora@example.com", name="Nora Nobody", timezone="Europe/Berlin", manager_id=mia.id)
    session.add_all([ada, nora])
    session.flush()
    lin = Person(
        email="lin@example.com", name="Lin\nHo", timezone="Europe/Berlin", slack_user_id=LIN_SLACK, manager_id=ada.id
    )
    session.add(lin)
    session.commit()
    return {"mia": mia, "ada": ada, "nora": nora, "lin": lin}


async def test_every_day_completes_when_slack_mail_and_the_channel_all_say_never(
    skipping_env: WorkflowEnvironment,
    settings: Settings,
    google: GooglePeer,
    slack: SlackPeer,
    relay: tuple[CollectingHandler, int],
    people: dict[str, Person],
    session: Session,
) -> None:
    smtp = relay[0]
    ada, nora, lin, mia = people["ada"], people["nora"], people["lin"], people["mia"]
    date = thursday_ahead(await skipping_env.get_current_time(), compact_policy())
    async with run_stack(skipping_env, settings, google, slack, compact_policy(), []) as stack:
        handles = {
            name: await stack.client.start_workflow(
                LearningDayWorkflow.run,
                LearningDayInput(person_id=person.id, date=date),
                id=workflow_id_for(person.id, date),
                task_queue=settings.temporal_task_queue,
            )
            for name, person in (("ada", ada), ("nora", nora), ("lin", lin))
        }
        await advance_to(skipping_env, berlin(date, 9, 1))

        # Nora's plan prompt arrives by email; she answers on the web page it links to.
        async def emailed() -> bool:
            return any(nora.email in m.rcpt_tos for m in smtp.received)

        await eventually(emailed, timeout=60, what="Nora's prompt by email")
        prompt = next(m for m in smtp.received if nora.email in m.rcpt_tos)  # the first email she gets
        link = CHECKIN_LINK.search(prompt.message.get_body(preferencelist=("plain",)).get_content())
        assert link, "the emailed prompt carries the web check-in link"
        csrf = CSRF_FIELD.search((await stack.web.get(link.group(1))).text)  # she opens the page first
        assert csrf, "the check-in page's form carries a CSRF token"
        answered = await stack.web.post(
            f"{link.group(1)}/plan",
            data={"text": "Linear algebra, chapter 2", "category": "fundamentals", "csrf_token": csrf.group(1)},
        )
        assert answered.status_code == 200 and "Plan saved." in answered.text

        # Ada answers both: her posts meet the missing channel.
        await handles["ada"].execute_update(LearningDayWorkflow.submit_check_in, plan("Raft"))
        await advance_to(skipping_env, berlin(date, 9, 31))
        await eventually(lambda: _prompted(handles["ada"], "summary:prompt:0"), timeout=60, what="Ada's summary prompt")
        await handles["ada"].execute_update(LearningDayWorkflow.submit_check_in, summary("Raft, leader election"))
        views: dict[str, DayView] = {name: await handle.result() for name, handle in handles.items()}

        # Every day completed.
        assert {name: v.state for name, v in views.items()} == {
            "ada": "completed",
            "nora": "completed",
            "lin": "completed",
        }
        assert views["nora"].plan == "Linear algebra, chapter 2" and views["nora"].flags == ["missed_summary"]
        assert views["lin"].flags == ["missed_plan", "missed_summary"]
        assert views["ada"].posted == [] and {"channel:plan", "channel:summary"} <= set(views["ada"].problems)

        # Each failure recorded once, with what was done instead.
        session.expire_all()
        problems = session.scalars(select(DeliveryProblem)).all()
        by_step: dict[str, list[DeliveryProblem]] = {}
        for problem in problems:
            by_step.setdefault(problem.step, []).append(problem)
        assert [p.person_id for p in by_step["prompt"]] == [nora.id]  # once: the rest went by email at once
        assert "users_not_found" in by_step["prompt"][0].reason
        flagged_for_mia = set(
            session.scalars(
                select(Flag.person_id).join(Person, Flag.person_id == Person.id).where(Person.manager_id == mia.id)
            )
        )
        # One email per flagged day and reader: one problem per day Mia was to hear of.
        assert sorted(p.key for p in by_step["flag_email"]) == sorted(
            f"day-flags:{f}:{date}:{mia.id}" for f in flagged_for_mia
        )
        assert all(p.person_id == mia.id and "550" in p.reason for p in by_step["flag_email"])
        assert {step: len(found) for step, found in by_step.items()} == {
            "prompt": 1,
            "flag_email": 1,
            "channel_post": 3,
        }
        posts = sorted((p.person_id, p.key.rsplit(":", 1)[-1]) for p in by_step["channel_post"])
        assert posts == sorted([(ada.id, "plan"), (ada.id, "summary"), (nora.id, "plan")])
        assert (
            "channel_not_found" in by_step["channel_post"][0].reason or "not found" in by_step["channel_post"][0].reason
        )

        # Nora's prompts all came by email; Lin's two flags reached Ada in one email with a one-line subject.
        prompts_to_nora = [
            m
            for m in smtp.received
            if nora.email in m.rcpt_tos
            and "Learning Day plan" in m.message["Subject"]
            or nora.email in m.rcpt_tos
            and "Learning Day summary" in m.message["Subject"]
        ]
        assert len(prompts_to_nora) == len(views["nora"].prompts_sent)
        to_ada = [m.message["Subject"] for m in smtp.received if ada.email in m.rcpt_tos]
        assert len(to_ada) == 1 and all(s.startswith("Lin Ho: ") and "\n" not in s for s in to_ada)

        # …and an admin sees it all.
        sign_in_link = f"/auth/link/{login_token(mia.id)}"
        csrf = CSRF_FIELD.search((await stack.web.get(sign_in_link)).text)
        assert csrf, "the sign-in link's page carries a CSRF token"
        signed_in = await stack.web.post(sign_in_link, data={"next": "/problems", "csrf_token": csrf.group(1)})
        assert signed_in.status_code == 303
        page = await stack.web.get("/problems")
        assert page.status_code == 200
        for label in ("Slack prompt", "Flag email", "Channel post", "Nora Nobody", "Mia Manager"):
            assert label in page.text
        metrics = (await stack.web.get("/metrics")).text
        assert f'learningday_delivery_problems_recorded{{step="flag_email"}} {len(by_step["flag_email"])}.0' in metrics
        assert 'learningday_delivery_problems_recorded{step="prompt"} 1.0' in metrics


async def _prompted(handle, key: str) -> bool:  # type: ignore[no-untyped-def]
    return key in (await handle.query(LearningDayWorkflow.status)).prompts_sent
