"""One budget, however many front doors: claims filed at the same moment through the web form and
Slack are checked against the annual budget one at a time, so exactly those that fit are filed."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.db.models import ExpenseClaim
from learningday.web.claims import claim_form_url
from tests.integrations.test_slack_claims import ADA, claim_submission, real_slack
from tests.peers.slack import SlackPeer, slack_peer  # noqa: F401
from tests.peers.slack_requests import interact
from tests.reimbursement.conftest import PDF, Claims
from tests.reimbursement.test_replayed_submissions import CSRF
from tests.waiting import eventually

OVER_BUDGET = "is over your remaining budget for this year"
EACH_DOOR = 8  # claims per front door, all at once
FITS = 3  # USD 300 left, claims of USD 100


async def test_claims_filed_at_once_through_web_and_slack_never_overspend_the_budget(
    claims: Claims, slack_peer: SlackPeer, session: Session
) -> None:
    for amount, category in (("1000", "courses"), ("200", "books")):
        assert (await claims.file(amount, category=category)).ok  # USD 1200 of 1500 spent
    token = claim_form_url(claims.org.ada.id).rsplit("/", 1)[1]

    def by_web(web: httpx.AsyncClient, n: int, csrf: str) -> asyncio.Future[httpx.Response]:
        return asyncio.ensure_future(
            web.post(
                f"/claims/new/{token}",
                data={
                    "amount": "100",
                    "currency": "USD",
                    "category": "books",
                    "description": f"Book {n}",
                    "csrf_token": csrf,
                },
                files={"receipt": ("receipt.pdf", PDF, "application/pdf")},
            )
        )

    async with claims.web() as web, real_slack(claims, slack_peer, session) as slack:
        [csrf] = CSRF.findall((await web.get(f"/claims/new/{token}")).text)  # the form, opened once
        web_answers = [by_web(web, n, csrf) for n in range(EACH_DOOR)]
        slack_answers = [
            asyncio.ensure_future(interact(slack, claim_submission(ADA, amount="100", view_id=f"VRACE{n:04}")))
            for n in range(EACH_DOOR)
        ]
        await asyncio.gather(*web_answers, *slack_answers)

    session.expire_all()
    filed = session.scalars(select(ExpenseClaim).where(ExpenseClaim.amount == Decimal(100))).all()
    claims.started += [c.id for c in filed]
    assert len(filed) == FITS
    total = sum(c.base_amount or c.amount for c in session.scalars(select(ExpenseClaim)))
    assert total <= claims.policy.reimbursement.annual_budget

    web_refused = [a.result() for a in web_answers if a.result().status_code == 422]
    assert all(OVER_BUDGET in r.text for r in web_refused)
    slack_refused = [a.result().json() for a in slack_answers if a.result().content not in (b"", b"{}")]
    assert all(OVER_BUDGET in r["errors"]["amount"] for r in slack_refused)

    def refused_by_dm() -> list[str]:  # a Slack answer slower than the ack budget comes by DM
        return [m.text for m in slack_peer.channel_messages(ADA) if m.text.startswith("Your claim was not filed")]

    async def everyone_answered() -> bool:
        return len(web_refused) + len(slack_refused) + len(refused_by_dm()) == 2 * EACH_DOOR - FITS

    await eventually(everyone_answered, what="an answer to every refused claim")
    assert all(OVER_BUDGET in text for text in refused_by_dm())
