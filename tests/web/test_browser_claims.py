"""Approving a claim from its emailed link, in headless Chromium: the real ReimbursementWorkflow
on the Temporal dev server, the real SMTP mailer, the app served by uvicorn on the same event loop
as the Temporal client, and Playwright's async API driving the browser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from sqlalchemy.orm import Session

from activities.mail.factory import mailer_from_settings
from learningday.db.models import ClaimState, ExpenseClaim
from learningday.temporal.devserver import free_port
from learningday.web.app import create_app
from learningday.web.auth import login_url
from tests.reimbursement.conftest import Claims, claims, smtp  # noqa: F401 - fixtures
from tests.waiting import eventually
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, pytestmark  # noqa: F401 - its skip mark applies here

async_api = pytest.importorskip("playwright.async_api", reason="Playwright is not installed")


@pytest.fixture
async def served(claims: Claims) -> AsyncIterator[str]:
    app = create_app(claims.settings, gateway=None, mailer_for=mailer_from_settings)  # type: ignore[arg-type]
    app.state.temporal_client = claims.client
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())

    async def listening() -> bool:
        return bool(server.started)

    await eventually(listening, what="uvicorn listening")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_a_manager_approves_a_claim_from_the_emailed_link(claims: Claims, served: str, session: Session) -> None:
    filed = await claims.file("42.50")
    claim_id = filed.claim_id
    assert claim_id is not None

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="the approval email to Maria")
    token = claims.links_for(claims.org.maria)[-1]

    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        await page.goto(f"{served}/approve/{token}")
        assert "Deep Learning (Goodfellow)" in await page.inner_text("main")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "approve.png"), full_page=True)
        await page.fill("#comment", "Good pick")
        await page.click("button[value=approve]")
        assert "approved" in await page.inner_text("[role=status]")

        async def approved() -> bool:
            session.expire_all()
            claim = session.get(ExpenseClaim, claim_id)
            return claim is not None and claim.state == ClaimState.approved

        await eventually(approved, what="the claim recorded as approved")

        # The claimant sees it on their page, and their budget went down by the amount.
        await page.goto(login_url(claims.org.ada.id).replace("http://127.0.0.1:8000", served))
        await page.click("#sign-in")
        await page.wait_for_url(f"{served}/me")
        me = await page.inner_text("main")
        assert "approved" in me and "1,457.50" in me
        await browser.close()


async def test_a_manager_reviews_a_claim_from_the_team_page(claims: Claims, served: str) -> None:
    filed = await claims.file("42.50")
    assert filed.claim_id is not None

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="the approval email to Maria")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height in ((1366, 900), (390, 844)):
            page = await browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(15_000)
            await page.goto(login_url(claims.org.maria.id).replace("http://127.0.0.1:8000", served))
            await page.click("#sign-in")
            await page.wait_for_url(f"{served}/me")
            await page.goto(f"{served}/team")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"team-review-{width}.png"), full_page=True)
            await page.click(f"a[href='/claims/{filed.claim_id}/review']")
            await page.wait_for_url(f"{served}/approve/**")
            assert "Deep Learning (Goodfellow)" in await page.inner_text("main")
            assert await page.is_visible("button[value=approve]")
            await page.screenshot(path=str(ARTIFACTS / f"approve-from-team-{width}.png"), full_page=True)
            await page.close()
        await browser.close()
