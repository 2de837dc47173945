"""A claim's link is a web address or nothing. Anything else is refused where it is typed (the
claim service, so the web form, the Slack modal and the CLI alike, under the link field), and a
row stored before that rule is shown as plain text, never made into a link: not on the
approver's page, not in the approval email."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learningday.contracts.claims import ReimbursementInput, workflow_id_for
from learningday.db.models import AuditEntry, ClaimState, ExpenseClaim
from learningday.links.approval import read_approval_token
from learningday.mail_render import render_email
from learningday.web.claims import claim_form_url
from policies.policy import Policy
from policies.reimbursement import ClaimDraft, claim_problems
from tests.reimbursement.conftest import Claims
from tests.reimbursement.test_submission import cli_env  # noqa: F401 - fixture
from tests.waiting import eventually
from workflows.reimbursement import ReimbursementWorkflow

XSS = "javascript:alert(document.domain)"
LINK_MAX = ExpenseClaim.__table__.c.link.type.length  # what the column keeps
NOT_WEB_ADDRESSES = [
    XSS,
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/book",
    "/claims/new/x",
    "https:evil.example",
    "https://",
    "https:// spaced.example",
    "https://evil.example/\nline",
    "www.example.com/book",
]

# What rendering must never make a link of: everything above that is not even http(s). (An
# http(s) address that is malformed, like "https://", is refused when typed; shown, it is harmless.)
NOT_HTTP = [link for link in NOT_WEB_ADDRESSES if not link.lower().startswith(("http://", "https://"))]


class Hrefs(HTMLParser):
    """Every href in a page or an email, as the browser reads it (entities decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name == "href"]


def only_web_hrefs(html: str, link: str = XSS) -> bool:
    """No href is `link`, and every href is a web address or one of our own pages."""
    found = Hrefs(html).found
    return link not in found and all(
        h.lower().startswith(("http://", "https://")) or (h.startswith("/") and not h.startswith("//")) for h in found
    )


def draft(link: str | None) -> ClaimDraft:
    return ClaimDraft(amount="10", currency="USD", category="books", description="SICP", has_receipt=True, link=link)


@pytest.mark.parametrize("link", NOT_WEB_ADDRESSES)
def test_a_link_that_is_not_a_web_address_is_refused_under_the_link_field(link: str) -> None:
    problems = claim_problems(Policy(), draft(link), Decimal(0))

    assert list(problems) == ["link"], problems
    assert "https://" in problems["link"]


@pytest.mark.parametrize(
    "link",
    [
        "https://example.com/book",
        "http://example.com",
        "HTTPS://Shop.Example/a?b=c&d=e#f",
        "https://example.com:8443/x",
        "  https://example.com/padded  ",
        "",
        None,
    ],
)
def test_a_web_address_or_no_link_is_accepted(link: str | None) -> None:
    assert claim_problems(Policy(), draft(link), Decimal(0)) == {}


def test_a_link_longer_than_the_database_keeps_is_refused_not_a_crash() -> None:
    problems = claim_problems(Policy(), draft("https://example.com/" + "a" * LINK_MAX), Decimal(0))

    assert f"{LINK_MAX} characters" in problems["link"]


def nothing_stored(session: Session) -> bool:
    session.expire_all()
    claims = session.scalar(select(func.count()).select_from(ExpenseClaim))
    audits = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_type == "expense_claim")
    )
    return claims == 0 and audits == 0


async def test_the_claim_service_refuses_a_javascript_link_and_stores_nothing(claims: Claims, session: Session) -> None:
    result = await claims.file("42.50", link=XSS)

    assert not result.ok and list(result.problems) == ["link"]
    assert nothing_stored(session) and claims.smtp.received == []


async def test_the_web_form_shows_the_link_error_under_the_link_field(claims: Claims, session: Session) -> None:
    token = claim_form_url(claims.org.ada.id).rsplit("/", 1)[1]
    async with claims.web() as web:
        form = (await web.get(f"/claims/new/{token}")).text  # opened first, as a browser does (CSRF)
        csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        refused = await web.post(
            f"/claims/new/{token}",
            data={
                "amount": "12.50",
                "currency": "USD",
                "category": "books",
                "description": "SICP",
                "link": XSS,
                "csrf_token": csrf,
            },
            files={"receipt": ("receipt.pdf", b"%PDF-1.4\n", "application/pdf")},
        )

    assert refused.status_code == 422
    link_field = refused.text.split('id="link"', 1)[1].split("<label", 1)[0]
    assert 'class="error-text"' in link_field and "https://" in link_field
    assert only_web_hrefs(refused.text)
    assert nothing_stored(session)


async def test_the_cli_refuses_a_javascript_link_naming_the_option(
    cli_env: Claims, session: Session, tmp_path: Path
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from learningday.cli import app as cli

    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4\n")
    refused = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "claims",
            "submit",
            "-p",
            "ada@example.com",
            "--amount",
            "12.50",
            "--category",
            "books",
            "--description",
            "SICP",
            "--receipt",
            str(receipt),
            "--link",
            XSS,
        ],
    )

    assert refused.exit_code == 1 and "--link: " in refused.output and "https://" in refused.output
    assert nothing_stored(session)


async def test_a_javascript_link_stored_before_the_rule_is_plain_text_in_the_email_and_on_the_page(
    claims: Claims, session: Session
) -> None:
    claim = ExpenseClaim(
        person_id=claims.org.ada.id,
        amount=Decimal("42.50"),
        currency="USD",
        base_amount=Decimal("42.50"),
        category="books",
        description="Deep Learning (Goodfellow)",
        link=XSS,
        state=ClaimState.pending,
        submitted_at=dt.datetime.now(dt.UTC),
    )
    session.add(claim)
    session.commit()
    claims.started.append(claim.id)
    await claims.client.start_workflow(
        ReimbursementWorkflow.run,
        ReimbursementInput(claim_id=claim.id),
        id=workflow_id_for(claim.id),
        task_queue=claims.settings.temporal_task_queue,
    )

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="the approval email to Maria")
    [mail] = claims.mails_to(claims.org.maria)
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    text = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert "javascript:alert(document.domain)" in html and XSS in text  # shown, as text
    assert only_web_hrefs(html), Hrefs(html).found

    token = claims.links_for(claims.org.maria)[0]
    assert read_approval_token(token).claim_id == claim.id
    async with claims.web() as web:
        page = await web.get(f"/approve/{token}")
    assert page.status_code == 200
    assert "javascript:alert(document.domain)" in page.text
    assert only_web_hrefs(page.text), Hrefs(page.text).found


@pytest.mark.parametrize("link", NOT_HTTP)
def test_the_approval_email_makes_a_link_of_a_web_address_only(link: str) -> None:
    def email(url: str) -> str:
        claim = {
            "amount": Decimal("12"),
            "currency": "EUR",
            "category": "books",
            "description": "SICP",
            "link": url,
            "topic": None,
            "submitted_at": dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        }
        return render_email(
            "claim_approval",
            {
                "approver_name": "Fin",
                "claimant_name": "Bob",
                "claim": claim,
                "level": 1,
                "approve_url": "https://ld.example.com/approve/tok",
            },
            "k",
            ["fin@example.com"],
            "s",
        ).html

    assert only_web_hrefs(email(link), link), Hrefs(email(link)).found
    assert "https://shop.example/sicp?a=1&b=2" in Hrefs(email("https://shop.example/sicp?a=1&b=2")).found


@pytest.mark.parametrize("field", ["description", "topic"])
def test_claim_text_holding_a_nul_character_is_refused_under_its_field(field: str) -> None:
    """PostgreSQL cannot store text holding NUL: refused where it is typed, not a 500 at the insert."""
    claim = ClaimDraft(
        amount="10",
        currency="USD",
        category="books",
        has_receipt=True,
        **{"description": "SICP", field: "SICP\x00 2nd edition"},
    )  # type: ignore[arg-type]

    problems = claim_problems(Policy(), claim, Decimal(0))

    assert list(problems) == [field] and "NUL" in problems[field]


async def test_the_service_refuses_a_topic_holding_a_nul_character(claims: Claims, session: Session) -> None:
    result = await claims.file("42.50", topic="Lisp\x00")

    assert not result.ok and list(result.problems) == ["topic"]
    assert nothing_stored(session)
