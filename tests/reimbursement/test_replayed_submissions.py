"""A submission delivered twice is one claim: the front door's idempotency key (a web form's nonce,
Slack's `view.id`) finds the claim the first delivery filed, starts no second workflow and answers
with that claim — across replicas too, since the key lives in the database, not in memory."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any
from unittest import mock

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from learningday.claims import service
from learningday.db.models import ExpenseClaim
from learningday.web.claims import claim_form_url
from tests.reimbursement.conftest import PDF, Claims

NONCE = re.compile(r'name="nonce" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FILED = re.compile(r"Claim (\d+) filed")


def claim_ids(session: Session) -> list[int]:
    session.expire_all()
    return list(session.scalars(select(ExpenseClaim.id).order_by(ExpenseClaim.id)))


async def open_form(web: httpx.AsyncClient, token: str) -> tuple[str, str]:
    """Open the claim form as a browser does: its nonce and its CSRF token (and cookie)."""
    page = (await web.get(f"/claims/new/{token}")).text
    [nonce], [csrf] = NONCE.findall(page), CSRF.findall(page)
    return nonce, csrf


async def post_form(
    web: httpx.AsyncClient, token: str, nonce: str, amount: str = "12.50", csrf: str = ""
) -> httpx.Response:
    return await web.post(
        f"/claims/new/{token}",
        data={
            "amount": amount,
            "currency": "USD",
            "category": "books",
            "description": "SICP",
            "nonce": nonce,
            "csrf_token": csrf,
        },
        files={"receipt": ("receipt.pdf", PDF, "application/pdf")},
    )


@pytest.mark.parametrize("at_once", [False, True], ids=["one_after_another", "at_once"])
async def test_the_same_web_form_posted_twice_files_one_claim(claims: Claims, session: Session, at_once: bool) -> None:
    token = claim_form_url(claims.org.ada.id).rsplit("/", 1)[1]
    async with claims.web() as web:
        nonce, csrf = await open_form(web, token)
        if at_once:
            answers = await asyncio.gather(
                post_form(web, token, nonce, csrf=csrf), post_form(web, token, nonce, csrf=csrf)
            )
        else:
            answers = [await post_form(web, token, nonce, csrf=csrf), await post_form(web, token, nonce, csrf=csrf)]

    [claim_id] = claim_ids(session)
    claims.started.append(claim_id)
    assert [(a.status_code, FILED.findall(a.text)) for a in answers] == [(201, [str(claim_id)])] * 2


async def test_the_form_shown_after_a_refusal_or_a_filing_files_a_new_claim(claims: Claims, session: Session) -> None:
    token = claim_form_url(claims.org.ada.id).rsplit("/", 1)[1]
    async with claims.web() as web:
        first, csrf = await open_form(web, token)
        refused = await post_form(web, token, first, amount="ten", csrf=csrf)
        [fixed], [csrf] = NONCE.findall(refused.text), CSRF.findall(refused.text)
        filed = await post_form(web, token, fixed, csrf=csrf)
        [after], [csrf] = NONCE.findall(filed.text), CSRF.findall(filed.text)
        second = await post_form(web, token, after, amount="20", csrf=csrf)

    assert refused.status_code == 422 and len({first, fixed, after}) == 3
    assert (filed.status_code, second.status_code) == (201, 201)
    assert len(claim_ids(session)) == 2
    claims.started += claim_ids(session)


async def test_a_replayed_submission_starts_no_workflow_and_answers_with_the_first_claim(
    claims: Claims, session: Session
) -> None:
    first = await claims.file(idempotency_key="slack-view:V42")
    with mock.patch.object(claims.client, "start_workflow", side_effect=RuntimeError("must not start")) as start:
        again = await claims.file(idempotency_key="slack-view:V42")

    assert first.ok and (again.claim_id, again.problems, again.remaining) == (first.claim_id, {}, first.remaining)
    start.assert_not_called()
    assert claim_ids(session) == [first.claim_id]  # never undone: it is the first delivery's claim


async def test_submissions_with_one_key_at_the_same_moment_file_one_claim(claims: Claims, session: Session) -> None:
    answers = await asyncio.gather(*(claims.file(idempotency_key="web-form:same") for _ in range(4)))

    [claim_id] = claim_ids(session)
    assert [a.claim_id for a in answers] == [claim_id] * 4


async def test_when_the_unique_key_decides_the_loser_answers_with_the_winners_claim(
    claims: Claims, session: Session
) -> None:
    """Two replicas that both looked before either filed: the database's unique key lets one in."""
    first = await claims.file(idempotency_key="slack-view:V7")
    looked_up, misses = service._filed_with, [None]  # the loser's look came before the winner's commit

    def first_look_misses(session: Session, key: str) -> ExpenseClaim | None:
        return misses.pop() if misses else looked_up(session, key)

    with (
        mock.patch.object(service, "_filed_with", side_effect=first_look_misses),
        mock.patch.object(claims.client, "start_workflow", side_effect=RuntimeError("must not start")) as start,
    ):
        loser = await claims.file(idempotency_key="slack-view:V7")

    assert (loser.claim_id, loser.problems) == (first.claim_id, {})
    start.assert_not_called()
    assert claim_ids(session) == [first.claim_id]
    assert len(list((claims.data_dir / "receipts").glob("*"))) == 1  # the loser's receipt is not kept


async def test_a_submission_whose_workflow_failed_to_start_can_be_sent_again(claims: Claims, session: Session) -> None:
    with mock.patch.object(claims.client, "start_workflow", side_effect=RuntimeError("server down")):
        failed = await claims.file(idempotency_key="web-form:retry")
    retried = await claims.file(idempotency_key="web-form:retry")

    assert not failed.ok and retried.ok and claim_ids(session) == [retried.claim_id]


async def test_a_replay_while_the_first_delivery_fails_to_start_the_workflow_answers_the_failure_too(
    claims: Claims, session: Session
) -> None:
    """Slack redelivers because the first delivery is slow: if that one then fails to start the
    workflow and removes its claim, the redelivery must not have said "filed"."""
    looked_up, replay_found_it, server_gives_up = service._filed_with, threading.Event(), asyncio.Event()

    def signalling(session: Session, key: str) -> ExpenseClaim | None:
        found = looked_up(session, key)
        if found is not None:
            replay_found_it.set()
        return found

    async def slow_then_down(*_: Any, **__: Any) -> None:
        await server_gives_up.wait()
        raise RuntimeError("server down")

    with (
        mock.patch.object(service, "_filed_with", side_effect=signalling),
        mock.patch.object(claims.client, "start_workflow", side_effect=slow_then_down),
    ):
        first = asyncio.ensure_future(claims.file(idempotency_key="slack-view:V9"))
        replay = asyncio.ensure_future(claims.file(idempotency_key="slack-view:V9"))
        assert await asyncio.to_thread(replay_found_it.wait, 10)
        server_gives_up.set()
        answers = await asyncio.gather(first, replay)

    assert [(a.claim_id, "nothing was saved" in a.problems["service"]) for a in answers] == [(None, True)] * 2
    assert claim_ids(session) == []


async def test_a_key_used_by_someone_else_files_nothing(claims: Claims, session: Session) -> None:
    ada = await claims.file(idempotency_key="web-form:copied")
    maria = await claims.file(person=claims.org.maria, idempotency_key="web-form:copied")

    assert not maria.ok and "form" in maria.problems["service"]
    assert claim_ids(session) == [ada.claim_id]
