"""Self-study expense rules: is a claim acceptable, who approves it, and when the clock runs out.

The seed: "reasonable self-study expenses (books, tutors, courses) are reimbursed; the manager
approves, someone above a threshold approves large ones; every decision is recorded". The policy
file's `[reimbursement]` section sets the numbers. Pure functions on dataclasses and Decimals:
safe inside workflows and in the web form alike, so both refuse the same things for the same reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from policies.policy import Policy

CENT = Decimal("0.01")
# An amount more than this many times the largest category cap is a typo (12500 for 125.00),
# not a claim: refused as absurd rather than as "over the cap", which invites splitting it.
ABSURD_FACTOR = 100
DESCRIPTION_MAX = 2000
LINK_MAX = 2000  # expense_claims.link
# Nobody types a NUL character, and PostgreSQL cannot store text holding one.
NUL = "\x00"
NUL_PROBLEM = "Remove the NUL character (\\0) from it: it cannot be stored."
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# An absolute http(s) address with a host: "https://" then at least one character that is not a
# path, query, fragment or backslash, and nothing a browser would strip or read specially
# (whitespace, control characters) anywhere in it.
_WEB_ADDRESS = re.compile(r"^https?://[^/?#\\\s]+[^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class ClaimDraft:
    """A claim as typed in a form, a modal or the CLI: raw text, not yet trusted."""

    amount: str
    currency: str
    category: str
    description: str
    has_receipt: bool = False
    link: str | None = None
    topic: str | None = None


def parse_amount(raw: object) -> Decimal | str:
    """The amount as a Decimal, or the reason it is not one (a message for the person).

    Rule: a positive number of the currency with at most two decimals (cents); never a float,
    so 0.1 + 0.2 is 0.30 and payroll adds up.
    """
    text = str(raw).strip().replace(",", "") if raw is not None else ""
    if not text:
        return "Enter an amount, e.g. 42.50."
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return f"{str(raw).strip()!r} is not a number: enter an amount like 42.50."
    if not amount.is_finite():
        return "Enter an amount like 42.50."
    if amount <= 0:
        return "The amount must be more than zero."
    if amount.adjusted() >= 9:  # a billion or more: no self-study expense, and no Numeric(12, 2)
        return f"{text} looks like a typo: no self-study expense is that large."
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT):
        return f"{text} has more than two decimals: amounts are in cents, e.g. 42.50."
    return amount.quantize(CENT)


def link_problem(raw: str | None) -> str | None:
    """Why `raw` cannot be a claim's link, or None when it can (an empty link is no link).

    Rule: a claim's link is where the thing was bought or the course page, so it is a web
    address: http:// or https:// and a host. Anything else (javascript:, data:, a path, a bare
    host name) would become a link on the approver's page and in the approval email that does
    something other than open a web page, so it is refused where it is typed.
    """
    link = (raw or "").strip()
    if not link:
        return None
    if len(link) > LINK_MAX:
        return f"Keep the link under {LINK_MAX} characters (the shop or course page is enough)."
    if not _WEB_ADDRESS.match(link) or not link.isprintable():
        return "The link must be a web address starting with https:// (or http://), e.g. https://example.com/book."
    return None


def in_base_currency(policy: Policy, amount: Decimal, currency: str) -> Decimal | None:
    """`amount` in the policy's currency at the policy's rate; None when there is no rate."""
    rules = policy.reimbursement
    if currency == rules.currency:
        return amount
    rate = rules.exchange_rates.get(currency)
    if rate is None or rate <= 0:
        return None
    return (amount * rate).quantize(CENT)


def claim_problems(policy: Policy, draft: ClaimDraft, spent_this_year: Decimal) -> dict[str, str]:
    """Every reason to refuse `draft`, by form field; empty when the claim can be filed.

    `spent_this_year` is what the person has already claimed this calendar year (approved and
    pending), in the policy's currency. Rules: a known category, an accepted currency, a positive
    amount in cents, not absurd, within the category's cap and the remaining annual budget, a
    receipt where the category requires one, a description saying what it is, and a link, if
    any, that is a web address (`link_problem`); no text holding a NUL character.
    """
    rules = policy.reimbursement
    problems: dict[str, str] = {}
    category = rules.categories.get(draft.category)
    if category is None:
        problems["category"] = (
            f"{draft.category!r} is not a category we reimburse; choose one of {', '.join(sorted(rules.categories))}."
        )
    currency = draft.currency.strip().upper()
    if not _CURRENCY_CODE.match(currency):
        problems["currency"] = f"{draft.currency!r} is not a currency code: use three letters, e.g. EUR."
    elif currency not in rules.accepted_currencies and currency != rules.currency:
        problems["currency"] = f"{currency} is not accepted; claim in one of {', '.join(rules.accepted_currencies)}."
    elif in_base_currency(policy, Decimal(1), currency) is None:
        problems["currency"] = (
            f"There is no exchange rate for {currency} in the policy "
            f"(reimbursement.exchange_rates): ask your Learning Day admin, or claim in {rules.currency}."
        )
    if not draft.description.strip():
        problems["description"] = "Say what the expense is, e.g. the book's title."
    elif len(draft.description) > DESCRIPTION_MAX:
        problems["description"] = f"Keep the description under {DESCRIPTION_MAX} characters."
    elif NUL in draft.description:
        problems["description"] = NUL_PROBLEM
    if draft.topic and NUL in draft.topic:
        problems["topic"] = NUL_PROBLEM
    link = link_problem(draft.link)
    if link:
        problems["link"] = link
    if category is not None and category.receipt_required and not draft.has_receipt:
        problems["receipt"] = f"A receipt is required for {draft.category}: attach a PDF, PNG or JPEG."

    amount = parse_amount(draft.amount)
    if isinstance(amount, str):
        problems["amount"] = amount
        return problems
    largest_cap = max((c.cap for c in rules.categories.values()), default=Decimal(0))
    base = in_base_currency(policy, amount, currency) if "currency" not in problems else None
    measured = base if base is not None else amount
    if measured > largest_cap * ABSURD_FACTOR:
        problems["amount"] = (
            f"{amount} {currency} looks like a typo: no self-study expense is that large. Check the decimal point."
        )
    elif base is not None and category is not None and base > category.cap:
        problems["amount"] = (
            f"{_money(base, rules.currency)} is over the {draft.category} cap of "
            f"{_money(category.cap, rules.currency)} per claim."
        )
    elif base is not None:
        remaining = remaining_budget(policy, spent_this_year)
        if base > remaining:
            problems["amount"] = (
                f"{_money(base, rules.currency)} is over your remaining budget for this year: "
                f"{_money(remaining, rules.currency)} of {_money(rules.annual_budget, rules.currency)}."
            )
    return problems


def remaining_budget(policy: Policy, spent_this_year: Decimal) -> Decimal:
    """What a person may still claim this calendar year (never negative)."""
    return max(policy.reimbursement.annual_budget - spent_this_year, Decimal(0))


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount.quantize(CENT)}"


# --- routing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approver:
    """Someone who may decide a claim. `delegate` stands in while `out_of_office`.

    Delegation choice: an absence recorded for the approver (the same `absences` rows that excuse
    Learning Days) marks them out of office; their delegate is the policy's
    `reimbursement.delegates[email]`, else their own manager. Resolving who that is needs the
    database, so the caller passes it in; this module only decides whether to use it.
    """

    person_id: int
    email: str
    name: str
    out_of_office: bool = False
    delegate: Approver | None = None


@dataclass(frozen=True)
class ApprovalStep:
    """One level of approval: who is asked, for whom, and who it escalates to if nobody answers."""

    level: int
    approver: Approver
    reason: str
    on_behalf_of: Approver | None = None  # the absent approver a delegate stands in for
    escalate_to: Approver | None = None


def may_decide(approver_id: int, claimant_id: int) -> bool:
    """Nobody approves or rejects their own claim, whatever link they hold: `approval_chain`
    never names the claimant, and a decision that names them anyway is refused."""
    return approver_id != claimant_id


def decision_outcome(approve: bool, level: int, levels: int) -> Literal["approved", "rejected"] | None:
    """What one level's decision makes of the claim: a rejection at any level ends it rejected,
    an approval at the last level approves it, and an approval before then passes it on to the
    next level (None: still pending)."""
    if not approve:
        return "rejected"
    return "approved" if level == levels else None


class NoApprover(ValueError):
    """Nobody may approve this claim: the org data needs fixing (a manager, finance_email)."""


def approval_chain(
    policy: Policy,
    amount: Decimal,
    claimant: Approver,
    manager: Approver | None,
    managers_manager: Approver | None,
    finance: Approver | None,
) -> list[ApprovalStep]:
    """Who approves a claim of `amount` (in the policy's currency), in order; [] = auto-approved.

    Rules: below `auto_approve_below` nobody needs to; otherwise the manager (level 1); above
    `second_approval_above` also the manager's manager or finance (level 2). Nobody approves their
    own claim or twice in one chain: a missing or ineligible approver passes to the next one up.
    An absent approver's delegate decides instead. Each level escalates to the next person up.
    """
    rules = policy.reimbursement
    if amount < rules.auto_approve_below:
        return []
    used = {claimant.person_id}

    def eligible(*candidates: Approver | None) -> Approver | None:
        return next((c for c in candidates if c is not None and c.person_id not in used), None)

    first = eligible(manager, managers_manager, finance)
    if first is None:
        raise NoApprover(
            "Nobody can approve this claim: you have no manager on record. "
            "Ask your Learning Day admin to set one (org import) or reimbursement.finance_email."
        )
    used.add(first.person_id)
    levels: list[tuple[Approver, str]] = [(first, "manager" if first == manager else "next approver up")]
    if amount > rules.second_approval_above:
        if rules.second_approver == "finance":
            second = eligible(finance, managers_manager)
        else:
            second = eligible(managers_manager, finance)
        if second is None:
            raise NoApprover(
                f"Claims over {_money(rules.second_approval_above, rules.currency)} need a second "
                "approver and there is none: ask your admin to set reimbursement.finance_email."
            )
        used.add(second.person_id)
        levels.append((second, f"over {_money(rules.second_approval_above, rules.currency)}"))

    steps = []
    for index, (approver, reason) in enumerate(levels, start=1):
        after = [a for a, _ in levels[index:]]
        up = eligible(*(c for c in (managers_manager, finance) if c not in after))
        steps.append(_with_delegate(index, approver, reason, up, claimant))
    return steps


def _with_delegate(
    level: int, approver: Approver, reason: str, escalate_to: Approver | None, claimant: Approver
) -> ApprovalStep:
    delegate = approver.delegate
    if approver.out_of_office and delegate is not None and delegate.person_id != claimant.person_id:
        return ApprovalStep(level, delegate, reason, on_behalf_of=approver, escalate_to=escalate_to)
    return ApprovalStep(level, approver, reason, escalate_to=escalate_to)


# --- timing ----------------------------------------------------------------------------------

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class LevelTimers:
    """When, for one approval level, to remind the approver, escalate, and give up on the claim."""

    reminder: dt.datetime
    escalation: dt.datetime
    expiry: dt.datetime


def level_timers(
    policy: Policy, submitted_at: dt.datetime, level_started_at: dt.datetime, time_scale: float = 1.0
) -> LevelTimers:
    """Reminder and escalation count from when the level was asked; expiry from submission.

    Rule: an approver is reminded after `reminder_after_days`, the claim escalates after
    `escalate_after_days`, and expires `expire_after_days` after it was filed — it never fails.
    `time_scale` > 1 shortens every day by that factor (tests, demos), like `schedule.compress`.
    """
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    rules, day = policy.reimbursement, DAY / time_scale
    return LevelTimers(
        reminder=level_started_at + rules.reminder_after_days * day,
        escalation=level_started_at + rules.escalate_after_days * day,
        expiry=submitted_at + rules.expire_after_days * day,
    )
