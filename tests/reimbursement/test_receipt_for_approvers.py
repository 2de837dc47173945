"""The approver sees the receipt they approve, through their signed approval link and nothing else:
on the dev server and a real SMTP server, as in test_approval_links."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from learningday.db.models import ExpenseClaim, Person
from learningday.links.approval import ApprovalLink, approval_token, read_approval_token
from tests.reimbursement.conftest import PDF, Claims
from tests.reimbursement.test_approval_links import emailed_token, open_and_decide

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_the_approval_page_links_the_receipt_and_the_link_downloads_the_pdf_as_filed(claims: Claims) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        page = await web.get(f"/approve/{token}")
        receipt = await web.get(f"/approve/{token}/receipt")

    assert f'href="/approve/{token}/receipt"' in page.text and "Download the PDF" in page.text
    assert receipt.status_code == 200 and receipt.content == PDF
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.headers["content-disposition"] == f'attachment; filename="receipt-{filed.claim_id}.pdf"'
    assert receipt.headers["x-content-type-options"] == "nosniff"
    assert receipt.headers["cache-control"] == "no-store" and receipt.headers["referrer-policy"] == "no-referrer"
    assert receipt.headers["content-security-policy"].startswith("sandbox;")


async def test_an_image_receipt_opens_in_the_browser(claims: Claims) -> None:
    filed = await claims.file("12.00", receipt=PNG)
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        page = await web.get(f"/approve/{token}")
        receipt = await web.get(f"/approve/{token}/receipt")

    assert "View the image" in page.text
    assert receipt.content == PNG and receipt.headers["content-type"] == "image/png"
    assert receipt.headers["content-disposition"].startswith("inline;")


async def test_the_approver_can_still_see_what_they_approved(claims: Claims) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    async with claims.web() as web:
        decided = await open_and_decide(web, token)
        receipt = await web.get(f"/approve/{token}/receipt")

    assert f"/approve/{token}/receipt" in decided.text
    assert receipt.status_code == 200 and receipt.content == PDF


async def test_no_receipt_for_a_tampered_link_a_forged_approver_or_a_deactivated_one(
    claims: Claims, session: Session
) -> None:
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    link = read_approval_token(token)
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    # A validly signed link naming the claimant herself: nobody sees a receipt through their own claim.
    own = approval_token(ApprovalLink(link.claim_id, claims.org.ada.id, link.level, "o" * 32, expiry))
    async with claims.web() as web:
        tampered = await web.get(f"/approve/{token[:-2]}xx/receipt")
        as_claimant = await web.get(f"/approve/{own}/receipt")
        maria = session.get(Person, claims.org.maria.id)
        maria.active = False  # type: ignore[union-attr]
        session.commit()
        deactivated = await web.get(f"/approve/{token}/receipt")

    assert [tampered.status_code, as_claimant.status_code, deactivated.status_code] == [404, 404, 404]
    assert PDF not in tampered.content + as_claimant.content + deactivated.content


async def test_a_receipt_path_outside_the_receipts_folder_is_never_served(claims: Claims, session: Session) -> None:
    """The row is ours, but a row is no proof: only files in <data dir>/receipts/ are read."""
    filed = await claims.file("42.50")
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")  # type: ignore[arg-type]
    secret = claims.data_dir / "learningday.db.bak"
    secret.write_bytes(PDF + b"not a receipt")
    claim = session.get(ExpenseClaim, filed.claim_id)
    claim.receipt_path = str(claims.data_dir / "receipts" / ".." / secret.name)  # type: ignore[union-attr]
    session.commit()
    async with claims.web() as web:
        answer = await web.get(f"/approve/{token}/receipt")

    assert answer.status_code == 404 and b"not a receipt" not in answer.content
