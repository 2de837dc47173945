"""`learningday claims`: file a claim, export approved claims for payroll, show a budget."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import typer
from sqlalchemy import select

from learningday.claims.receipts import MAX_RECEIPT_BYTES
from learningday.claims.reports import approved_claims_csv, balance
from learningday.claims.service import ClaimSubmission, SubmitResult, submit_claim
from learningday.cli.out_file import check_out, write_out
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from learningday.temporal.client import connect

app = typer.Typer(no_args_is_help=True, help="Self-study expense claims.")


@app.command()
def submit(
    person: str = typer.Option(..., "--person", "-p", help="Email of the person claiming."),
    amount: str = typer.Option(..., help="e.g. 12.50 (in --currency)."),
    currency: str = typer.Option("", help="ISO 4217 code; default: the policy's currency."),
    category: str = typer.Option(..., help="A category of the policy, e.g. books."),
    description: str = typer.Option(..., help="What it is, e.g. the book's title."),
    link: str | None = typer.Option(None, help="Where it was bought or the course page."),
    topic: str | None = typer.Option(None, help="The Learning Day topic it serves."),
    receipt: Path | None = typer.Option(None, exists=True, dir_okay=False, help="PDF, PNG or JPEG, up to 10 MB."),
    time_scale: float = typer.Option(1.0, min=1.0, help="Run the approval timers faster (demos)."),
) -> None:
    """File a claim and start its approval (needs the service running: `learningday serve`)."""
    settings, policy = get_settings(), current_policy()
    data = None
    if receipt is not None:
        with receipt.open("rb") as handle:
            data = handle.read(MAX_RECEIPT_BYTES + 1)
    submission = ClaimSubmission(
        person_email=person,
        amount=amount,
        currency=currency or policy.reimbursement.currency,
        category=category,
        description=description,
        link=link,
        topic=topic,
        receipt=data,
    )

    async def go() -> SubmitResult:
        client = await connect(settings)
        return await submit_claim(
            client, settings.temporal_task_queue, submission, policy, settings.data_dir, time_scale
        )

    result = asyncio.run(go())
    if not result.ok:
        for field, problem in result.problems.items():
            typer.echo(f"--{field}: {problem}", err=True)
        typer.echo(f"Nothing was filed. Remaining budget: {result.currency} {result.remaining}.", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"Claim {result.claim_id} filed; its approver has been emailed.")


@app.command()
def export(
    year: int = typer.Option(dt.date.today().year, help="Claims approved in this year."),
    out: Path | None = typer.Option(None, help="Write the CSV here instead of to stdout."),
) -> None:
    """CSV of approved claims for payroll."""
    if out is not None:
        check_out(out)
    text = approved_claims_csv(current_policy(), year)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text)
        typer.echo(f"{text.count(chr(10)) - 1} approved claim(s) written to {out}")


@app.command("balance")
def show_balance(
    person: str = typer.Option(..., "--person", "-p", help="Email of the person."),
    year: int = typer.Option(dt.date.today().year),
) -> None:
    """A person's annual budget: approved, pending and remaining."""
    found = balance(current_policy(), person, year)
    if found is None:
        raise typer.BadParameter(f"nobody with email {person}", param_hint="--person")
    c = found.currency
    typer.echo(
        f"{found.email} {found.year}: budget {c} {found.budget}, approved {c} {found.approved}, "
        f"pending {c} {found.pending}, remaining {c} {found.remaining}"
    )


@app.command("link")
def form_link(person: str = typer.Option(..., "--person", "-p")) -> None:
    """Print a person's link to the claim form (it stands in for a sign-in)."""
    from learningday.web.claims import claim_form_url

    with session_scope() as session:
        found = session.scalar(select(Person.id).where(Person.email == person.strip().lower()))
    if found is None:
        raise typer.BadParameter(f"nobody with email {person}", param_hint="--person")
    typer.echo(claim_form_url(found))
