"""The reimbursement rules on their own: which claims are refused and why, who approves, when."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from policies.policy import Policy, ReimbursementPolicy
from policies.reimbursement import (
    Approver,
    ClaimDraft,
    NoApprover,
    approval_chain,
    claim_problems,
    in_base_currency,
    level_timers,
    parse_amount,
)

POLICY = Policy()  # USD; books cap 200, courses 1000; budget 1500; second approval above 500


def draft(amount: str = "42.50", **overrides: object) -> ClaimDraft:
    values: dict[str, object] = dict(
        amount=amount,
        currency="USD",
        category="books",
        description="Deep Learning (Goodfellow)",
        has_receipt=True,
    )
    values.update(overrides)
    return ClaimDraft(**values)  # type: ignore[arg-type]


def test_a_reasonable_claim_has_no_problems() -> None:
    assert claim_problems(POLICY, draft(), spent_this_year=Decimal(0)) == {}


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("", "Enter an amount"),
        ("twelve", "not a number"),
        ("12,50.3x", "not a number"),
        ("NaN", "Enter an amount like"),
        ("Infinity", "Enter an amount like"),
        ("12.505", "more than two decimals"),
        ("0.001", "more than two decimals"),
        ("150000", "looks like a typo"),
        ("1e30", "looks like a typo"),
    ],
)
def test_every_bad_amount_is_refused_with_its_reason(amount: str, says: str) -> None:
    problems = claim_problems(POLICY, draft(amount), Decimal(0))
    assert says in problems["amount"]
    assert set(problems) == {"amount"}


def test_trailing_zeros_are_not_too_precise_and_amounts_are_cents() -> None:
    assert parse_amount("12.500") == Decimal("12.50")
    assert parse_amount(" 1,200 ") == Decimal("1200.00")


def test_an_amount_over_the_category_cap_names_the_cap() -> None:
    problems = claim_problems(POLICY, draft("200.01"), Decimal(0))
    assert problems == {"amount": "USD 200.01 is over the books cap of USD 200.00 per claim."}


def test_an_amount_over_the_remaining_budget_shows_what_is_left() -> None:
    problems = claim_problems(POLICY, draft("150", category="courses"), Decimal(1400))
    assert "USD 100.00 of USD 1500" in problems["amount"]


def test_a_foreign_currency_is_measured_at_the_policy_rate() -> None:
    # 190 EUR is 209 USD at 1.10: over the 200 USD books cap.
    assert in_base_currency(POLICY, Decimal(190), "EUR") == Decimal("209.00")
    assert "over the books cap" in claim_problems(POLICY, draft("190", currency="EUR"), Decimal(0))["amount"]
    assert claim_problems(POLICY, draft("180", currency="eur"), Decimal(0)) == {}


@pytest.mark.parametrize(
    ("currency", "says"), [("JPY", "not accepted"), ("EURO", "not a currency code"), ("", "not a currency code")]
)
def test_an_unknown_or_unaccepted_currency_is_refused(currency: str, says: str) -> None:
    assert says in claim_problems(POLICY, draft(currency=currency), Decimal(0))["currency"]


def test_an_accepted_currency_without_a_rate_names_the_policy_key() -> None:
    policy = Policy(reimbursement=ReimbursementPolicy(currency="EUR", exchange_rates={}))
    assert "reimbursement.exchange_rates" in claim_problems(policy, draft(currency="USD"), Decimal(0))["currency"]


def test_category_receipt_and_description_problems_are_all_reported_at_once() -> None:
    problems = claim_problems(POLICY, draft(category="snacks", description=" "), Decimal(0))
    assert set(problems) == {"category", "description"}
    assert "books, courses, tutors" in problems["category"]
    no_receipt = claim_problems(POLICY, draft(has_receipt=False), Decimal(0))
    assert no_receipt == {"receipt": "A receipt is required for books: attach a PDF, PNG or JPEG."}


# --- routing -------------------------------------------------------------------------------

ADA = Approver(1, "ada@example.com", "Ada")
MARIA = Approver(2, "maria@example.com", "Maria")
GRACE = Approver(3, "grace@example.com", "Grace")
FIN = Approver(4, "finance@example.com", "Finance")


def chain(amount: str, policy: Policy = POLICY, **people: Approver | None) -> list[tuple[int, str, str | None]]:
    who = dict(claimant=ADA, manager=MARIA, managers_manager=GRACE, finance=FIN)
    who.update(people)  # type: ignore[arg-type]
    steps = approval_chain(policy, Decimal(amount), **who)  # type: ignore[arg-type]
    return [(s.level, s.approver.name, s.escalate_to.name if s.escalate_to else None) for s in steps]


def test_a_small_claim_needs_the_manager_and_escalates_to_their_manager() -> None:
    assert chain("100") == [(1, "Maria", "Grace")]


def test_a_large_claim_needs_a_second_level_and_nobody_twice() -> None:
    # Level 2 is the manager's manager, so level 1 escalates past her, to finance.
    assert chain("600") == [(1, "Maria", "Finance"), (2, "Grace", "Finance")]


def test_finance_as_second_approver() -> None:
    policy = Policy(reimbursement=ReimbursementPolicy(second_approver="finance", finance_email="f@x"))
    assert chain("600", policy) == [(1, "Maria", "Grace"), (2, "Finance", "Grace")]


def test_below_the_auto_approval_amount_nobody_is_asked() -> None:
    policy = Policy(reimbursement=ReimbursementPolicy(auto_approve_below=Decimal(25)))
    assert chain("24.99", policy) == []
    assert chain("25", policy) == [(1, "Maria", "Grace")]


def test_nobody_approves_their_own_claim() -> None:
    # A manager claiming for herself when the org lists her as her own manager: next one up.
    assert chain("100", claimant=MARIA, manager=MARIA) == [(1, "Grace", "Finance")]


def test_without_anyone_to_approve_the_claim_cannot_be_routed() -> None:
    with pytest.raises(NoApprover, match="no manager on record"):
        chain("100", manager=None, managers_manager=None, finance=None)


def test_an_absent_approver_is_replaced_by_their_delegate() -> None:
    away = Approver(2, "maria@example.com", "Maria", out_of_office=True, delegate=GRACE)
    [step] = approval_chain(POLICY, Decimal(100), ADA, away, None, FIN)
    assert (step.approver, step.on_behalf_of) == (GRACE, away)


def test_a_delegate_who_is_the_claimant_does_not_approve() -> None:
    away = Approver(2, "maria@example.com", "Maria", out_of_office=True, delegate=ADA)
    [step] = approval_chain(POLICY, Decimal(100), ADA, away, None, FIN)
    assert step.approver == away and step.on_behalf_of is None


def test_timers_count_days_from_the_level_and_expiry_from_submission_compressed() -> None:
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    later = start + dt.timedelta(seconds=10)
    timers = level_timers(POLICY, start, later, time_scale=86400)  # a day per second
    assert timers.reminder == later + dt.timedelta(seconds=3)
    assert timers.escalation == later + dt.timedelta(seconds=7)
    assert timers.expiry == start + dt.timedelta(seconds=30)
