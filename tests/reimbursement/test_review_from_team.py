"""A manager reviews a claim from the Team page, not only from the email.

The Team page lists the pending claims of the viewer's people with a "Review…" button. Pressing it
asks the claim's workflow (the one truth about who may decide it now) and opens the very approval
page the approver was emailed. Someone the claim does not wait on is told whom it waits on, and
nothing is signed for them. The real ReimbursementWorkflow on the dev server, the real SMTP
mailer, the app over ASGI."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.orm import Session

from learningday.db.models import Person
from learningday.links.approval import read_approval_token
from learningday.web.auth import login_url
from tests.reimbursement.conftest import Claims
from tests.waiting import eventually

REVIEW = re.compile(r'href="(/claims/\d+/review)"')


async def signed_in(web: httpx.AsyncClient, person: Person) -> httpx.AsyncClient:
    path = "/auth/link/" + login_url(person.id).rsplit("/", 1)[1]
    page = (await web.get(path)).text
    field, token = re.search(r'name="(csrf_token|csrf)" value="([^"]+)"', page).groups()  # type: ignore[union-attr]
    answer = await web.post(path, data={"next": "/me", field: token})
    assert answer.status_code == 303, answer.text
    return web


async def filed_and_emailed(claims: Claims, amount: str) -> int:
    filed = await claims.file(amount)
    assert filed.claim_id is not None

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="the approval email to Maria")
    return filed.claim_id


async def test_the_manager_reviews_from_the_team_page_with_the_emailed_link(claims: Claims) -> None:
    claim_id = await filed_and_emailed(claims, "42.50")
    emailed = read_approval_token(claims.links_for(claims.org.maria)[-1])
    async with claims.web() as web:
        maria = await signed_in(web, claims.org.maria)
        team = (await maria.get("/team")).text
        assert REVIEW.findall(team) == [f"/claims/{claim_id}/review"]
        review = await maria.get(f"/claims/{claim_id}/review")
        assert review.status_code == 303
        opened = read_approval_token(review.headers["location"].rsplit("/", 1)[1])
        assert opened == emailed  # the same step, the same single-use token: no second truth
        page = await maria.get(review.headers["location"])
        assert page.status_code == 200 and 'value="approve"' in page.text


async def test_someone_the_claim_does_not_wait_on_is_told_whom_it_waits_on(claims: Claims, session: Session) -> None:
    claim_id = await filed_and_emailed(claims, "42.50")
    async with claims.web() as web:
        grace = await signed_in(web, claims.org.grace)  # Maria's manager: the claim is Maria's to decide
        assert f"/claims/{claim_id}/review" in (await grace.get("/team")).text
        review = await grace.get(f"/claims/{claim_id}/review")
        assert review.status_code == 409
        assert "Maria" in review.text and "/approve/" not in review.text


async def test_a_claim_outside_the_viewers_people_is_not_found(claims: Claims) -> None:
    claim_id = await filed_and_emailed(claims, "42.50")
    async with claims.web() as web:
        finn = await signed_in(web, claims.org.finn)  # finance, not Ada's manager: not on Finn's Team page
        assert "/review" not in (await finn.get("/team")).text
        assert (await finn.get(f"/claims/{claim_id}/review")).status_code == 404
