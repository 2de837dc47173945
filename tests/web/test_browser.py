"""The pages in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright
against the app served by uvicorn on a free port. Screenshots of the main pages are kept in
tests/artifacts/ for people to look at.

Nothing is installed at run time: without /usr/bin/chromium (or LEARNINGDAY_CHROMIUM) the tests
skip and say so; CI installs the Debian package.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session

from learningday.db.models import ClaimState, DayState
from learningday.temporal.devserver import free_port
from learningday.web.auth import login_url
from tests.web.conftest import (
    RANGE,
    THURSDAY,
    TODAY,
    WEEK,
    FakeGateway,
    Org,
    add_claim,
    add_day,
    add_flag,
)

CHROMIUM = os.environ.get("LEARNINGDAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM}: install Debian's `chromium` package (apt-get install chromium)",
)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot own signals
        return


@pytest.fixture
def live_server(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("LEARNINGDAY_PUBLIC_BASE_URL", url)
    from learningday.settings import get_settings

    get_settings.cache_clear()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    # uvicorn sets `started` once listening; wait on it rather than on a fixed delay.
    for _ in range(200):
        if server.started:
            ready.set()
            break
        thread.join(0.05)
    assert ready.is_set(), "uvicorn did not start"
    yield url
    server.should_exit = True
    thread.join(10)
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def on_screen(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """The element lies within the window's width: seen without scrolling sideways."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


def sign_in(page, base: str, person_id: int) -> None:  # type: ignore[no-untyped-def]
    """Open the sign-in link as from the email and press the button."""
    page.goto(login_url(person_id).replace("http://127.0.0.1:8000", base))
    page.click("#sign-in")
    page.wait_for_url(f"{base}/me")


@pytest.fixture
def program_history(session: Session, org: Org) -> Org:
    """A few weeks of Learning Days across two teams, a flag and claims."""
    weeks = [THURSDAY - n * WEEK for n in (3, 2, 1)]
    topics = [
        ("papers", "Reading the Attention paper"),
        ("engineering", "Rust ownership"),
        ("fundamentals", "Bayesian statistics"),
    ]
    for person in (org.alan, org.margaret, org.linus):
        for n, date in enumerate(weeks):
            category, text = topics[(n + person.id) % 3]
            summary = None if (person is org.linus and n == 2) else f"Learned a lot about {text.lower()}"
            day = add_day(session, person, date, plan=text, summary=summary, category=category)
            if summary is None:
                add_flag(session, day)
    add_day(session, org.alan, TODAY, state=DayState.planning)  # today's, still open
    add_claim(session, org.alan, "45.00")
    add_claim(session, org.linus, "120.00", ClaimState.approved, category="courses")
    session.commit()
    return org


def test_a_learner_signs_in_checks_in_and_finds_it_in_the_archive(
    live_server: str,
    page,
    program_history: Org,
    gateway: FakeGateway,  # type: ignore[no-untyped-def]
) -> None:
    sign_in(page, live_server, program_history.alan.id)
    assert page.inner_text("h1") == "Hello, Alan"
    shoot(page, "me")
    page.fill("#plan-text", "Implement a tiny SAT solver from the DPLL paper")
    page.fill("#plan-why", "Our scheduler needs a constraint solver")
    page.select_option("#plan-category", "papers")
    page.click("form[action='/me/checkin/plan'] button")
    assert "Plan saved." in page.inner_text("[role=status]")
    assert gateway.submissions[-1].text == "Implement a tiny SAT solver from the DPLL paper"

    page.click("nav >> text=Archive")
    page.fill("#q", "sat solver")
    page.click("form[role=search] button")
    hits = page.locator(".hit")
    assert hits.count() == 1
    assert "tiny SAT solver" in hits.first.inner_text()
    assert page.locator(".hit mark").count() >= 2  # both words highlighted
    page.goto(f"{live_server}/archive")
    shoot(page, "archive")


def test_an_admin_filters_the_program_charts_and_exports_csv(live_server: str, page, program_history: Org) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, program_history.ada.id)
    page.goto(f"{live_server}/program")
    page.fill("#start", RANGE["start"])
    page.fill("#end", RANGE["end"])
    page.click("#program-filters button")
    page.wait_for_url(f"**/program?start={RANGE['start']}&end={RANGE['end']}&team=")
    assert page.inner_text("#stat-days") == "9"  # 3 people × 3 weeks; Alan's open day is not over yet
    teams_chart = page.locator("#table-teams svg.chart-wide")
    assert "Platform" in teams_chart.text_content() and "Research" in teams_chart.text_content()
    shoot(page, "program")

    page.select_option("#team", "Platform")
    page.click("#program-filters button")
    page.wait_for_url("**team=Platform")
    assert page.inner_text("#stat-days") == "3"
    assert "Research" not in page.locator("#table-teams svg.chart-wide").text_content()

    with page.expect_download() as download_info:
        page.click("#table-teams h2 a")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert download.suggested_filename == f"learningday-teams-{RANGE['start']}-{RANGE['end']}.csv"
    assert rows == [
        ["team", "days", "kept", "plans", "summaries", "participation_rate", "plan_rate", "summary_rate"],
        ["Platform", "3", "2", "3", "2", "0.6667", "1.0", "0.6667"],  # a missed summary is a day not kept
    ]


def test_a_manager_sees_the_team_at_a_glance(live_server: str, page, program_history: Org) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server, program_history.barbara.id)
    page.goto(f"{live_server}/team")
    grid = page.inner_text("#team-grid")
    assert "Linus Learner" in grid and "Alan Learner" not in grid
    assert "No summary posted" in page.inner_text("#flags")
    shoot(page, "team")

    # On a phone the latest week and a flag's Excuse button are on screen, not in a sideways scroll.
    page.set_viewport_size({"width": 390, "height": 900})
    assert on_screen(page, "#team-grid thead th:last-child") and on_screen(page, "#flags a.button")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/people/{program_history.alan.id}")
    assert "Not found" in page.content()


def test_a_persons_flags_and_claims_read_on_a_phone_without_scrolling_sideways(  # type: ignore[no-untyped-def]
    live_server: str, page, program_history: Org
) -> None:
    sign_in(page, live_server, program_history.barbara.id)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/people/{program_history.linus.id}")
    assert "No summary posted" in page.inner_text("#person-flags") and "approved" in page.inner_text("#claims")
    shoot(page, "person-flags-and-claims-phone")
    # Each row's last cell (the flag's state, the claim's state) is on screen, not in a sideways scroll.
    assert on_screen(page, "#person-flags tbody td:last-child") and on_screen(page, "#claims tbody td:last-child")
    page.set_viewport_size({"width": 1366, "height": 900})
    shoot(page, "person-flags-and-claims-desktop")
