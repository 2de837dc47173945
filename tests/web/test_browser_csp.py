"""Every page under its Content-Security-Policy in a real browser: headless Chromium opens each
one and the test fails on any violation the browser reports (a console error or a
`securitypolicyviolation` event), on a page whose stylesheet did not load, and on an outbox email
that lost its own inline styles.

Every page also fits a phone: at 360 and 390 px the document is no wider than the screen (the
navigation and tables scroll inside their own boxes). Every chart's text, measured by the
browser on a laptop and on a phone, lies inside its chart and over no other text (no label is
clipped, no legend overlaps), and on a phone is no smaller than 10 px. Screenshots of every page
at 1366 and 390 px go to tests/artifacts/pages/ for people to compare by eye.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from learningday.web.auth import login_url
from tests.web.conftest import Org
from tests.web.every_page import Site, build_site
from tests.web.test_browser import ARTIFACTS, browser, live_server, pytestmark  # noqa: F401 (fixtures, skip mark)

WIDTHS = (1366, 390)  # every page is shot at both, into tests/artifacts/pages/
PHONES = (360, 390)  # no page may be wider than these screens
# Set on <header> by /static/app.css (var(--soft)): proof that the stylesheet loaded and applied.
HEADER_BACKGROUND = "rgb(245, 247, 251)"
# The email's own inline style on its <body>: proof that the outbox shows it as it was sent.
EMAIL_BACKGROUND = "rgb(244, 245, 247)"
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${document.URL}`);
});
"""

# Each shown chart's text as the browser lays it out (getBBox, in the chart's own units): a label
# that runs outside the viewBox is clipped, two that intersect are unreadable.
CHART_TEXT_PROBLEMS = """
() => [...document.querySelectorAll("svg.chart")].filter((svg) => svg.getBoundingClientRect().width > 0).flatMap((svg, n) => {
  const view = svg.viewBox.baseVal;
  const boxes = [...svg.querySelectorAll("text")].map((text) => [text.textContent, text.getBBox()]);
  const problems = boxes
    .filter(([, b]) => b.x < 0 || b.y < 0 || b.x + b.width > view.width || b.y + b.height > view.height)
    .map(([label]) => `chart ${n}: "${label}" runs outside the chart`);
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height) {
      problems.push(`chart ${n}: "${a}" overlaps "${b}"`);
    }
  }));
  return problems;
})
"""

# Each shown chart's text at the size it reaches the screen: its font size in the chart's units,
# scaled as the chart is.
CHART_TEXT_TOO_SMALL = """
(least) => [...document.querySelectorAll("svg.chart")].filter((svg) => svg.getBoundingClientRect().width > 0).flatMap((svg) => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")]
    .map((text) => [text.textContent, parseFloat(getComputedStyle(text).fontSize) * scale])
    .filter(([, px]) => px < least)
    .map(([label, px]) => `"${label}" at ${px.toFixed(1)} px`);
})
"""
PHONE_TEXT_PX = 10

# Inside an email's frame: is this element wholly within the frame's view, is the email wholly
# within the frame (nothing to scroll to)?
IN_VIEW = "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight ? 'in view' : `${r.bottom} of ${innerHeight}`; }"
FITS = "body => document.documentElement.scrollHeight <= innerHeight ? 'fits' : `${document.documentElement.scrollHeight} of ${innerHeight}`"


@pytest.fixture
def site(session: Session, org: Org, app: FastAPI) -> Site:
    return build_site(session, org, app)


@pytest.fixture
def csp_page(browser) -> Iterator[tuple[object, list[str]]]:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        text = message.text
        if "Content Security Policy" in text or "securitypolicyviolation" in text:
            violations.append(f"{message.location.get('url')}: {text}")

    page.on("console", on_console)
    yield page, violations
    context.close()


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_every_page_passes_its_content_security_policy(
    live_server: str,
    csp_page: tuple[object, list[str]],
    site: Site,
    org: Org,  # noqa: F811
) -> None:
    page, violations = csp_page
    policies: dict[str, str | None] = {}
    too_wide: list[str] = []
    unreadable_charts: list[str] = []
    charts = 0

    def visit(name: str, path: str, status: int = 200) -> None:
        nonlocal charts
        response = page.goto(f"{live_server}{path}")  # type: ignore[attr-defined]
        assert response is not None and response.status == status, f"{name}: {response and response.status}"
        policies[name] = response.headers.get("content-security-policy")
        background = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")  # type: ignore[attr-defined]
        assert background == HEADER_BACKGROUND, f"{name}: the stylesheet did not apply"
        unreadable_charts.extend(f"{name}: {problem}" for problem in page.evaluate(CHART_TEXT_PROBLEMS))  # type: ignore[attr-defined]
        charts += page.locator("svg.chart").count()  # type: ignore[attr-defined]
        for width in PHONES:
            page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
            wide = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
            if wide > width:
                too_wide.append(f"{name} at {width} px: {wide} px")
            unreadable_charts.extend(f"{name} at {width} px: {p}" for p in page.evaluate(CHART_TEXT_PROBLEMS))  # type: ignore[attr-defined]
            unreadable_charts.extend(
                f"{name} at {width} px: {p}"
                for p in page.evaluate(CHART_TEXT_TOO_SMALL, PHONE_TEXT_PX)  # type: ignore[attr-defined]
            )
        shoot(page, name)

    for name, path in {**site.signed_out, **site.links}.items():
        visit(name, path)

    page.goto(login_url(org.ada.id).replace("http://127.0.0.1:8000", live_server))  # type: ignore[attr-defined]
    page.click("#sign-in")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live_server}/me")  # type: ignore[attr-defined]
    for name, path in site.signed_in.items():
        if name.startswith("outbox-"):
            continue  # below, with their frames
        visit(name, path)
    for name, (path, status) in site.errors.items():
        visit(name, path, status)

    visit("outbox-message", site.signed_in["outbox-message"])  # its load event waits for the frame
    email = page.frame_locator("iframe")  # type: ignore[attr-defined]
    assert "Write it here" in email.locator("body").inner_text()
    assert email.locator("body").evaluate("body => getComputedStyle(body).backgroundColor") == EMAIL_BACKGROUND
    assert email.locator("body").evaluate(FITS) == "fits", "the email scrolls inside its frame at 1366 px"

    visit("outbox-flag-email", site.signed_in["outbox-flag-email"])  # at 1366 px, as visit leaves it
    flag_email = page.frame_locator("iframe")  # type: ignore[attr-defined]
    button = flag_email.get_by_role("link", name="Excuse this flag")
    assert button.evaluate(IN_VIEW) == "in view", "the frame cuts off the email's Excuse button"
    assert flag_email.locator("body").evaluate(FITS) == "fits", "the email scrolls inside its frame at 1366 px"

    icon = page.evaluate("document.querySelector('link[rel=icon]').href")  # type: ignore[attr-defined]
    assert icon == f"{live_server}/static/favicon.svg"
    assert page.request.get(icon).headers["content-type"].startswith("image/svg+xml")  # type: ignore[attr-defined]
    assert violations == []
    assert too_wide == [], f"pages wider than a phone: {too_wide}"
    assert unreadable_charts == []
    assert charts >= 6, "the program page's charts were measured"
    unprotected = sorted(name for name, policy in policies.items() if not policy or "default-src 'none'" not in policy)
    assert unprotected == [], f"pages without a strict Content-Security-Policy: {unprotected}"
