"""Filing claims from the web form, the CLI and the service: every bad claim is refused with its
reason and leaves nothing behind; a good one is filed, its approver emailed; payroll export and
budget balance from the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from learningday.claims.receipts import MAX_RECEIPT_BYTES
from learningday.cli import app as cli
from learningday.contracts.claims import Decision, workflow_id_for
from learningday.db.models import AuditEntry, ExpenseClaim
from learningday.web.claims import claim_form_url
from tests.conftest import reset_caches
from tests.reimbursement.conftest import PDF, Claims
from tests.waiting import eventually
from workflows.reimbursement import ReimbursementWorkflow

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def nothing_stored(session: Session, data_dir: Path) -> bool:
    session.expire_all()
    claims = session.scalar(select(func.count()).select_from(ExpenseClaim))
    audits = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_type == "expense_claim")
    )
    receipts = list((data_dir / "receipts").glob("*")) if (data_dir / "receipts").exists() else []
    return claims == 0 and audits == 0 and receipts == []


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"amount": "-3"}, "amount", "more than zero"),
        ({"amount": "0"}, "amount", "more than zero"),
        ({"amount": "abc"}, "amount", "not a number"),
        ({"amount": "12.345"}, "amount", "more than two decimals"),
        ({"amount": "99999999"}, "amount", "looks like a typo"),
        ({"amount": "250"}, "amount", "over the books cap"),
        ({"currency": "XYZ"}, "currency", "not accepted"),
        ({"category": "snacks"}, "category", "not a category"),
        ({"receipt": None}, "receipt", "receipt is required"),
        ({"receipt": b"MZ\x90\x00 an exe named receipt.pdf"}, "receipt", "PDF, PNG or JPEG"),
        ({"receipt": b"%PDF-" + b"0" * MAX_RECEIPT_BYTES}, "receipt", "limit is 10 MB"),
    ],
)
async def test_a_bad_claim_is_refused_with_its_reason_and_nothing_is_stored(
    claims: Claims, session: Session, fields: dict[str, object], field: str, says: str
) -> None:
    result = await claims.file(**fields)  # type: ignore[arg-type]
    assert not result.ok and says in result.problems[field]
    assert nothing_stored(session, claims.data_dir)
    assert claims.smtp.received == []


async def test_a_claim_over_the_remaining_budget_shows_what_is_left(claims: Claims) -> None:
    for _ in range(2):
        assert (await claims.file("700", category="courses")).ok
    refused = await claims.file("150", category="courses")
    assert "USD 100.00 of USD 1500.00" in refused.problems["amount"]
    assert str(refused.remaining) == "100.00"


async def test_if_the_workflow_cannot_start_nothing_is_half_created(claims: Claims, session: Session) -> None:
    with mock.patch.object(claims.client, "start_workflow", side_effect=RuntimeError("server down")):
        result = await claims.file("42.50")
    assert not result.ok and "nothing was saved" in result.problems["service"]
    assert nothing_stored(session, claims.data_dir)


async def test_the_receipt_is_stored_by_its_content_type(claims: Claims, session: Session) -> None:
    filed = await claims.file("42.50", receipt=PNG)
    claim = session.get(ExpenseClaim, filed.claim_id)
    assert claim is not None and claim.receipt_content_type == "image/png" and claim.receipt_size == len(PNG)
    assert (
        Path(claim.receipt_path).read_bytes() == PNG and Path(claim.receipt_path).parent == claims.data_dir / "receipts"
    )  # type: ignore[arg-type]


async def test_the_web_form_shows_the_budget_refuses_with_reasons_and_files_a_claim(
    claims: Claims, session: Session
) -> None:
    token = claim_form_url(claims.org.ada.id).rsplit("/", 1)[1]
    async with claims.web() as web:
        form = await web.get(f"/claims/new/{token}")
        [csrf] = CSRF.findall(form.text)
        bad = await web.post(
            f"/claims/new/{token}",
            data={
                "amount": "12.505",
                "currency": "USD",
                "category": "books",
                "description": "SICP",
                "csrf_token": csrf,
            },
            files={"receipt": ("receipt.pdf", PDF, "application/pdf")},
        )
        good = await web.post(
            f"/claims/new/{token}",
            data={
                "amount": "12.50",
                "currency": "EUR",
                "category": "books",
                "description": "SICP",
                "topic": "Lisp",
                "csrf_token": csrf,
            },
            files={"receipt": ("scan.bin", PDF, "application/octet-stream")},
        )
        forged = await web.get(f"/claims/new/{token}x")

    assert form.status_code == 200 and "USD 1500.00" in form.text
    assert bad.status_code == 422 and "more than two decimals" in bad.text and "12.505" in bad.text
    assert good.status_code == 201 and "filed" in good.text
    claim = session.scalars(select(ExpenseClaim)).one()
    assert (claim.amount, claim.currency, str(claim.base_amount), claim.topic) == (12.5, "EUR", "13.75", "Lisp")
    assert forged.status_code == 404

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="approval email to Maria")


@pytest.fixture
def cli_env(claims: Claims, temporal_env) -> object:  # type: ignore[no-untyped-def]
    """Point the CLI's settings at the test dev server and the harness's task queue."""
    target = temporal_env.client.service_client.config.target_host
    with mock.patch.dict(
        os.environ,
        {
            "LEARNINGDAY_TEMPORAL_ADDRESS": target,
            "LEARNINGDAY_TEMPORAL_TASK_QUEUE": claims.settings.temporal_task_queue,
        },
    ):
        reset_caches()
        yield claims
    reset_caches()


async def test_the_cli_files_a_claim_then_exports_it_once_approved_and_shows_the_balance(
    cli_env: Claims, tmp_path: Path
) -> None:
    claims = cli_env
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    runner = CliRunner()
    refused = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "claims",
            "submit",
            "-p",
            "ada@example.com",
            "--amount",
            "ten",
            "--category",
            "books",
            "--description",
            "SICP",
            "--receipt",
            str(receipt),
        ],
    )
    filed = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "claims",
            "submit",
            "-p",
            "ada@example.com",
            "--amount",
            "=12.50".lstrip("="),
            "--category",
            "books",
            "--description",
            "=SUM(A1) SICP",
            "--receipt",
            str(receipt),
        ],
    )
    assert refused.exit_code == 1 and "--amount: 'ten' is not a number" in refused.output
    assert filed.exit_code == 0, filed.output
    claim_id = int(re.search(r"Claim (\d+) filed", filed.output).group(1))  # type: ignore[union-attr]
    claims.started.append(claim_id)

    pending = await asyncio.to_thread(runner.invoke, cli, ["claims", "balance", "-p", "ada@example.com"])
    assert "approved USD 0.00, pending USD 12.50, remaining USD 1487.50" in pending.output

    async def emailed() -> bool:
        return bool(claims.links_for(claims.org.maria))

    await eventually(emailed, what="approval email to Maria")
    from learningday.links.approval import read_approval_token

    link = read_approval_token(claims.links_for(claims.org.maria)[0])
    handle = claims.client.get_workflow_handle_for(ReimbursementWorkflow.run, workflow_id_for(claim_id))
    await handle.execute_update(ReimbursementWorkflow.decide, Decision(link.approver_id, link.token_id, True))
    await handle.result()

    out = tmp_path / "payroll.csv"
    exported = await asyncio.to_thread(runner.invoke, cli, ["claims", "export", "--out", str(out)])
    assert exported.exit_code == 0 and "1 approved claim(s)" in exported.output
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["email"], row["amount"], row["currency"], row["amount_in_base"]) == (
        "ada@example.com",
        "12.50",
        "USD",
        "12.50",
    )
    assert row["description"] == "'=SUM(A1) SICP"  # never a live spreadsheet formula
    approved = await asyncio.to_thread(runner.invoke, cli, ["claims", "balance", "-p", "ada@example.com"])
    assert "approved USD 12.50, pending USD 0.00, remaining USD 1487.50" in approved.output
