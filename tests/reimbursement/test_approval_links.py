"""Approval links through the web app, on the dev server and a real SMTP server: a GET decides
nothing, the CSRF-protected POST decides once, and every bad link gets a clear page. Two
approvers of an escalated claim click on the time-skipping server, two policy days in."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import httpx
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from learningday.contracts.claims import workflow_id_for
from learningday.db.models import ClaimDecision, UsedToken
from learningday.links.approval import ApprovalLink, approval_token, read_approval_token
from learningday.links.checkin import checkin_token
from policies.policy import Policy, ReimbursementPolicy
from tests.reimbursement.conftest import Claims
from tests.waiting import eventually
from workflows.reimbursement import ReimbursementWorkflow

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def emailed_token(claims: Claims, claim_id: int, approver_email: str) -> str:
    person = next(p for p in vars(claims.org).values() if p.email == approver_email)

    async def arrived() -> bool:
        return any(read_approval_token(t).claim_id == claim_id for t in claims.links_for(person))

    await eventually(arrived, what=f"approval email to {approver_email}")
    return [t for t in claims.links_for(person) if read_approval_token(t).claim_id == claim_id][-1]


async def open_and_decide(
    web: httpx.AsyncClient, token: str, decision: str = "approve", comment: str = ""
) -> httpx.Response:
    page = await web.get(f"/approve/{token}")
    assert page.status_code == 200, page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    return await web.post(f"/approve/{token}", data={"csrf": csrf, "decision": decision, "comment": comment})


def decisions(session: Session, claim_id: int) -> int:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(ClaimDecision).where(ClaimDecision.claim_id == claim_id)) or 0
    )


async def status(claims: Claims, claim_id: int):  # type: ignore[no-untyped-def]
    return await claims.client.get_workflow_handle_for(ReimbursementWorkflow.run, workflow_id_for(claim_id)).query(
        ReimbursementWorkflow.status
    )


async def test_opening_the_link_shows_the_claim_and_changes_nothing(claims: Claims, session: Session) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        for _ in range(3):  # a mail scanner, a preview, the person
            page = await web.get(f"/approve/{token}")
            assert page.status_code == 200
    assert "Deep Learning (Goodfellow)" in page.text and "Approve" in page.text and "Reject" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert decisions(session, filed.claim_id) == 0  # type: ignore[arg-type]
    assert (await status(claims, filed.claim_id)).state == "pending"  # type: ignore[arg-type]


async def test_the_button_approves_through_the_workflow_and_the_page_shows_the_outcome(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        done = await open_and_decide(web, token, comment="Good pick")
        again = await web.post(f"/approve/{token}", data={"csrf": "x", "decision": "approve"})
        reopened = await web.get(f"/approve/{token}")

    assert done.status_code == 200 and "The claim is approved" in done.text
    assert again.status_code == 403  # a replay without the page's CSRF token
    assert reopened.status_code == 409 and "already approved" in reopened.text
    assert decisions(session, filed.claim_id) == 1  # type: ignore[arg-type]
    assert session.get(UsedToken, read_approval_token(token).token_id) is not None


async def test_a_second_click_with_a_fresh_form_is_refused_and_changes_nothing(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("600", category="courses")  # two levels: the claim stays pending
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        page = await web.get(f"/approve/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        first = await web.post(f"/approve/{token}", data={"csrf": csrf, "decision": "approve"})
        replay = await web.post(f"/approve/{token}", data={"csrf": csrf, "decision": "reject"})

    assert first.status_code == 200 and "next approver" in first.text
    assert replay.status_code == 409 and "already used" in replay.text
    assert decisions(session, filed.claim_id) == 1  # type: ignore[arg-type]

    async def at_level_two() -> bool:
        return (await status(claims, filed.claim_id)).level == 2  # type: ignore[arg-type]

    await eventually(at_level_two, what="the claim moving to level 2")


async def test_tampered_expired_and_foreign_links_get_a_clear_page_and_change_nothing(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    link = read_approval_token(token)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    expired = approval_token(
        ApprovalLink(
            link.claim_id,
            link.approver_id,
            link.level,
            link.token_id,
            dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
        )
    )
    other_key = URLSafeTimedSerializer("another-secret", salt="learningday.claim-approval").dumps(
        [link.claim_id, link.approver_id, link.level, link.token_id, int(link.expires_at.timestamp())]
    )
    a_checkin_link = checkin_token(claims.org.maria.id, dt.date.today())
    # Validly signed, but for someone who is not this claim's approver (Finn) or a made-up nonce.
    foreign_approver = approval_token(ApprovalLink(link.claim_id, claims.org.finn.id, 1, "f" * 32, link.expires_at))
    foreign_nonce = approval_token(ApprovalLink(link.claim_id, link.approver_id, 1, "e" * 32, link.expires_at))

    async with claims.web() as web:
        pages = {
            name: await web.get(f"/approve/{t}")
            for name, t in [
                ("tampered", tampered),
                ("expired", expired),
                ("other key", other_key),
                ("check-in link", a_checkin_link),
                ("foreign approver", foreign_approver),
                ("foreign nonce", foreign_nonce),
            ]
        }
        # Even a POST with a valid CSRF pair for the foreign link is refused by the workflow.
        good_page = await web.get(f"/approve/{token}")
        csrf_cookie = CSRF.search(good_page.text).group(1)  # type: ignore[union-attr]
        forged_post = await web.post(f"/approve/{foreign_approver}", data={"csrf": csrf_cookie, "decision": "approve"})

    for name in ("tampered", "other key", "check-in link"):
        assert pages[name].status_code == 400 and "not valid" in pages[name].text, name
    assert pages["expired"].status_code == 400 and "expired" in pages["expired"].text
    for name in ("foreign approver", "foreign nonce"):
        assert pages[name].status_code == 409 and "current approval step" in pages[name].text, name
    assert forged_post.status_code == 403  # its CSRF token is bound to the other link
    assert decisions(session, filed.claim_id) == 0  # type: ignore[arg-type]
    assert (await status(claims, filed.claim_id)).state == "pending"  # type: ignore[arg-type]


async def test_two_approvers_clicking_at_once_give_exactly_one_decision(
    skipping_env: WorkflowEnvironment, skipping_claims: Claims, session: Session
) -> None:
    # Escalation leaves both the manager and her manager holding a live link for level 1.
    claims = skipping_claims
    claims.policy = Policy(
        reimbursement=ReimbursementPolicy(reminder_after_days=1, escalate_after_days=2, expire_after_days=60)
    )
    filed = await claims.file("42.50")
    maria = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    await skipping_env.sleep(dt.timedelta(days=2, hours=1))  # escalated a day ago; 58 days before expiry
    grace = await emailed_token(claims, filed.claim_id, "grace@example.com")  # type: ignore[arg-type]
    async with claims.web() as one, claims.web() as two:
        pages = [await one.get(f"/approve/{maria}"), await two.get(f"/approve/{grace}")]
        forms = [CSRF.search(p.text).group(1) for p in pages]  # type: ignore[union-attr]
        results = await asyncio.gather(
            one.post(f"/approve/{maria}", data={"csrf": forms[0], "decision": "approve"}),
            two.post(f"/approve/{grace}", data={"csrf": forms[1], "decision": "reject"}),
        )

    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    assert decisions(session, filed.claim_id) == 1  # type: ignore[arg-type]
    loser = next(r for r in results if r.status_code == 409)
    assert "already" in loser.text
    view = await status(claims, filed.claim_id)  # type: ignore[arg-type]
    assert view.state in ("approved", "rejected") and len(view.decisions) == 1


async def test_the_same_approver_double_clicking_gives_one_decision_and_the_same_answer(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        page = await web.get(f"/approve/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        results = await asyncio.gather(
            *(web.post(f"/approve/{token}", data={"csrf": csrf, "decision": "approve"}) for _ in range(4))
        )
    # The same link and answer four times: one decision, and every click is told what it decided.
    assert [r.status_code for r in results] == [200, 200, 200, 200]
    assert len({_notice(r.text) for r in results}) == 1 and "approved" in _notice(results[0].text)
    assert decisions(session, filed.claim_id) == 1  # type: ignore[arg-type]


def _notice(page: str) -> str:
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', page)
    assert found, page
    return found.group(1)
