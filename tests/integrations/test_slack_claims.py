"""Expense claims from Slack: `/learning claim` opens the claim modal, its submission reaches the
claim submitter, refusals come back under their fields, and receipt categories go to the web form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from learningday.claims.service import ClaimSubmission, SubmitResult
from learningday.contracts.claims import workflow_id_for
from learningday.db.models import ExpenseClaim, Person
from learningday.settings import Settings
from learningday.web.slack import (
    UNKNOWN_USER,
    SlackFrontDoor,
    TemporalClaimSubmitter,
    build_slack_router,
)
from policies.policy import ExpenseCategory, Policy, ReimbursementPolicy
from policies.reimbursement import parse_amount
from tests.peers.slack import BOT_TOKEN, SlackPeer, slack_peer  # noqa: F401
from tests.peers.slack_requests import SECRET, command, interact
from tests.reimbursement.conftest import Claims, claims, smtp  # noqa: F401
from tests.waiting import eventually

ADA, ZED = "UADA00001", "UZED00009"  # Zed has a Slack account but is not in our people table
POLICY = Policy(
    reimbursement=ReimbursementPolicy(
        currency="EUR",
        accepted_currencies=["EUR", "USD"],
        exchange_rates={"USD": Decimal("0.9")},
        categories={
            "books": ExpenseCategory(cap=Decimal(200), receipt_required=False),
            "courses": ExpenseCategory(cap=Decimal(1000), receipt_required=True),
        },
    )
)


class FakeSubmitter:
    """Refuses a bad amount the way the service does (same parser); files anything else."""

    def __init__(self) -> None:
        self.received: list[ClaimSubmission] = []

    async def __call__(self, submission: ClaimSubmission) -> SubmitResult:
        self.received.append(submission)
        amount = parse_amount(submission.amount)
        if isinstance(amount, str):
            return SubmitResult(None, {"amount": amount})
        return SubmitResult(41 + len(self.received))


@pytest.fixture
def submitter() -> FakeSubmitter:
    return FakeSubmitter()


@pytest.fixture
def ada(session: Session, engine: Engine) -> Person:
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/London", slack_user_id=ADA)
    session.add(person)
    session.commit()
    return person


@pytest.fixture
async def slack(slack_peer: SlackPeer, submitter: FakeSubmitter, ada: Person) -> AsyncIterator[httpx.AsyncClient]:
    slack_peer.add_user("ada@example.com", ADA)
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack_peer.base_url,
    )
    front_door = SlackFrontDoor(
        lambda: None,
        submit_claim=submitter,
        policy=lambda: POLICY,  # type: ignore[arg-type,return-value]
        claim_link=lambda person_id: f"https://ld.example/claims/new/signed-{person_id}",
        ack_budget=0.5,
    )
    app = FastAPI()
    app.include_router(build_slack_router(lambda: None, settings, front_door=front_door))  # type: ignore[arg-type,return-value]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def claim_submission(
    user: str, amount: str = "39.90", category: str = "books", view_id: str = "V1", link: str | None = None
) -> dict[str, Any]:
    def text(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    def select(value: str) -> dict[str, Any]:
        return {"value": {"type": "static_select", "selected_option": {"value": value}}}

    values = {
        "amount": text(amount),
        "currency": select("USD"),
        "category": select(category),
        "description": text("Designing Data-Intensive Applications"),
        "link": text(link),
    }
    return {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "TTEAM0001"},
        "view": {"id": view_id, "type": "modal", "callback_id": "claim", "state": {"values": values}},
    }


async def peer_sees(peer: SlackPeer, predicate: Callable[[], bool]) -> None:
    assert await asyncio.to_thread(peer.wait_for, predicate, 5.0), "the Slack peer never saw it"


async def test_learning_claim_opens_the_claim_modal_with_the_policy_choices(
    slack: httpx.AsyncClient, slack_peer: SlackPeer
) -> None:
    trigger = slack_peer.new_trigger_id()
    response = await command(slack, "claim", ADA, trigger_id=trigger)

    assert response.status_code == 200
    await peer_sees(slack_peer, lambda: bool(slack_peer.views))
    [opened] = slack_peer.calls_to("views.open")
    assert (opened.status, opened.error, opened.args["trigger_id"]) == (200, None, trigger)
    [view] = slack_peer.views.values()
    assert view["callback_id"] == "claim"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["amount", "currency", "category", "description", "link"]
    currency = inputs["currency"]["element"]
    assert [o["value"] for o in currency["options"]] == ["EUR", "USD"]
    assert currency["initial_option"]["value"] == "EUR"
    assert [o["value"] for o in inputs["category"]["element"]["options"]] == ["books", "courses"]
    shown = [o["text"]["text"] for o in inputs["category"]["element"]["options"]]
    assert [text.split(" (")[0] for text in shown] == ["Books", "Courses"]  # the policy's labels, not its keys
    assert inputs["link"]["optional"] is True and inputs["description"]["element"]["multiline"] is True
    assert "web form" in view["blocks"][-1]["elements"][0]["text"]


async def test_valid_claim_reaches_the_submitter_closes_the_modal_and_is_confirmed_by_dm(
    slack: httpx.AsyncClient, submitter: FakeSubmitter, slack_peer: SlackPeer
) -> None:
    response = await interact(slack, claim_submission(ADA))

    assert response.status_code == 200 and response.content in (b"", b"{}")
    [filed] = submitter.received
    assert (filed.person_email, parse_amount(filed.amount), filed.currency, filed.category, filed.link) == (
        "ada@example.com",
        Decimal("39.90"),
        "USD",
        "books",
        None,
    )
    assert filed.idempotency_key == "slack-view:V1"  # the view's id: a redelivery is the same claim
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    assert slack_peer.channel_messages(ADA)[0].text == "Claim 42 filed; your approver has been emailed."


async def test_bad_amount_comes_back_under_the_amount_field_and_files_nothing(
    slack: httpx.AsyncClient, submitter: FakeSubmitter, slack_peer: SlackPeer
) -> None:
    response = await interact(slack, claim_submission(ADA, amount="lots"))

    body = response.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["amount"]
    assert body["errors"]["amount"] == parse_amount("lots")
    assert slack_peer.channel_messages(ADA) == []


async def test_unknown_slack_user_is_refused_and_nothing_reaches_the_submitter(
    slack: httpx.AsyncClient, submitter: FakeSubmitter, slack_peer: SlackPeer
) -> None:
    opening = await command(slack, "claim", ZED, trigger_id=slack_peer.new_trigger_id())
    submitting = await interact(slack, claim_submission(ZED))

    assert opening.text == UNKNOWN_USER and slack_peer.calls_to("views.open") == []
    assert submitting.json() == {"response_action": "errors", "errors": {"amount": UNKNOWN_USER}}
    assert submitter.received == []


async def test_category_needing_a_receipt_gets_the_web_form_link_instead_of_being_filed(
    slack: httpx.AsyncClient, submitter: FakeSubmitter, slack_peer: SlackPeer, ada: Person
) -> None:
    response = await interact(slack, claim_submission(ADA, amount="300", category="courses"))

    assert response.status_code == 200 and response.content in (b"", b"{}")
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    assert f"https://ld.example/claims/new/signed-{ada.id}" in slack_peer.channel_messages(ADA)[0].text
    assert submitter.received == []


async def test_a_claim_while_temporal_is_unreachable_is_refused_on_the_form_not_a_server_error(
    slack_peer: SlackPeer, ada: Person, session: Session
) -> None:
    """Found by the fuzz run: connecting the claim service's Temporal client raised out of the
    listener, and Slack got a 500. The form now says nothing was filed, as the web form does."""
    slack_peer.add_user("ada@example.com", ADA)
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack_peer.base_url,
        temporal_address="127.0.0.1:9",
    )
    front_door = SlackFrontDoor(
        lambda: None,
        submit_claim=TemporalClaimSubmitter(settings, policy=lambda: POLICY),  # type: ignore[arg-type,return-value]
        policy=lambda: POLICY,
        ack_budget=10.0,
    )
    app = FastAPI()
    app.include_router(build_slack_router(lambda: None, settings, front_door=front_door))  # type: ignore[arg-type,return-value]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as slack:
        response = await interact(slack, claim_submission(ADA))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_action"] == "errors" and "nothing was saved" in body["errors"]["amount"]
    assert session.scalars(select(ExpenseClaim)).all() == []


async def test_help_lists_the_claim_command(slack: httpx.AsyncClient) -> None:
    response = await command(slack, "help", ADA)

    assert "/learning claim" in response.text


@asynccontextmanager
async def real_slack(
    claims: Claims, slack_peer: SlackPeer, session: Session, ack_budget: float = 2.0
) -> AsyncIterator[httpx.AsyncClient]:
    """Slack's front door (signed requests) on the real claim service, the claims harness's
    Temporal worker and SMTP server; Ada has a Slack account and books need no receipt."""
    claims.org.ada.slack_user_id = ADA
    session.commit()
    slack_peer.add_user("ada@example.com", ADA)
    claims.policy.reimbursement.categories["books"] = ExpenseCategory(cap=Decimal(200), receipt_required=False)
    settings = claims.settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_base_url": slack_peer.base_url,
            "data_dir": claims.data_dir,
        }
    )
    submitter = TemporalClaimSubmitter(settings, client=claims.client, policy=lambda: claims.policy)
    front_door = SlackFrontDoor(
        lambda: None,
        submit_claim=submitter,
        policy=lambda: claims.policy,  # type: ignore[arg-type,return-value]
        ack_budget=ack_budget,
    )
    app = FastAPI()
    app.include_router(build_slack_router(lambda: None, settings, front_door=front_door))  # type: ignore[arg-type,return-value]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as slack:
        yield slack


async def test_a_slack_claim_is_filed_by_the_real_service_and_its_approver_emailed(
    claims: Claims, slack_peer: SlackPeer, session: Session
) -> None:
    """The real claim service on the real Temporal dev server: the row, the workflow, the email."""
    async with real_slack(claims, slack_peer, session) as slack:
        response = await interact(slack, claim_submission(ADA))

    assert response.status_code == 200 and response.content in (b"", b"{}")
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    [claim] = session.scalars(select(ExpenseClaim)).all()
    claims.started.append(claim.id)
    assert slack_peer.channel_messages(ADA)[0].text == f"Claim {claim.id} filed; your approver has been emailed."
    assert (claim.person_id, claim.amount, claim.currency, claim.category, claim.receipt_path) == (
        claims.org.ada.id,
        Decimal("39.90"),
        "USD",
        "books",
        None,
    )

    async def maria_emailed() -> bool:
        return bool(claims.mails_to(claims.org.maria))

    await eventually(maria_emailed, what="the approval email to Ada's manager")


async def test_a_link_that_is_not_a_web_address_comes_back_under_the_link_field_and_files_nothing(
    claims: Claims, slack_peer: SlackPeer, session: Session
) -> None:
    """The real claim service: a `javascript:` link would be a live link on the approver's page."""
    async with real_slack(claims, slack_peer, session) as slack:
        response = await interact(slack, claim_submission(ADA, link="javascript:alert(document.domain)"))

    body = response.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["link"]
    assert "https://" in body["errors"]["link"]
    assert session.scalars(select(ExpenseClaim)).all() == [] and claims.smtp.received == []


@pytest.mark.parametrize("at_once", [False, True], ids=["one_after_another", "at_once"])
async def test_a_claim_form_delivered_three_times_files_one_claim_and_answers_the_same_each_time(
    claims: Claims, slack_peer: SlackPeer, session: Session, at_once: bool
) -> None:
    """Slack redelivers a submission it thinks we missed, and a person clicks Submit again on a
    slow form: the same `view.id` is one claim, one workflow, one approval email."""
    form = claim_submission(ADA, view_id="VREPLAY01")
    async with real_slack(claims, slack_peer, session) as slack:
        if at_once:
            responses = await asyncio.gather(*(interact(slack, form) for _ in range(3)))
        else:
            responses = [await interact(slack, form) for _ in range(3)]

    assert [(r.status_code, r.content in (b"", b"{}")) for r in responses] == [(200, True)] * 3
    [claim] = session.scalars(select(ExpenseClaim)).all()
    claims.started.append(claim.id)
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 3)
    assert {m.text for m in slack_peer.channel_messages(ADA)} == {
        f"Claim {claim.id} filed; your approver has been emailed."
    }

    async def maria_emailed() -> bool:
        return bool(claims.mails_to(claims.org.maria))

    await eventually(maria_emailed, what="the approval email to Ada's manager")
    assert await workflows_on(claims) == [workflow_id_for(claim.id)]
    assert len(claims.mails_to(claims.org.maria)) == 1


async def workflows_on(claims: Claims) -> list[str]:
    """Ids of every workflow started on the harness's task queue, once visibility has them all."""
    query = f"TaskQueue = '{claims.settings.temporal_task_queue}'"
    ids: list[str] = []

    async def listed() -> bool:
        ids[:] = sorted([w.id async for w in claims.client.list_workflows(query)])
        return bool(ids)

    await eventually(listed, what="the claim workflows in Temporal's visibility")
    return ids
