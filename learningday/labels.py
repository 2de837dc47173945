"""The words people read for the keys our records store: a flag's kind, a check-in category, an
expense category, a count of things.

Pages, emails and Slack show these, never the keys (`missed_summary`, `side_research`), so a
reader meets the program's language, not its database's. Both kinds of category are labelled by
the policy file: check-in categories in `[checkins.categories]`, expense categories by the
`label` of each `[reimbursement.categories.<key>]`; a key without a label (or one the file no
longer has) is written as words ("conference_travel" → "Conference travel").
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.policy import key_as_words

FLAG_LABELS: dict[str, str] = {
    "missed_plan": "No plan posted",
    "missed_summary": "No summary posted",
    "used_for_work": "Learning Day used for work",
    "spillover": "Learning spilled into other weekdays",
}


def flag_label(kind: object) -> str:
    """`missed_summary` (or FlagKind.missed_summary) → "No summary posted"."""
    key = str(getattr(kind, "value", kind))
    return FLAG_LABELS.get(key, key_as_words(key))


def category_label(key: str | None, categories: Mapping[str, str]) -> str:
    """A check-in category's label from the policy's `categories`; a key the policy no longer
    has (a record older than an edit of the file) as words."""
    if not key:
        return ""
    return categories.get(key) or key_as_words(key)


def expense_label(key: str | None, labels: Mapping[str, str]) -> str:
    """An expense category's label from the policy's `labels` (`ReimbursementPolicy.category_labels`);
    a key the policy no longer has (a claim older than an edit of the file) as words."""
    if not key:
        return ""
    return labels.get(key) or key_as_words(key)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`count(1, "thing")` → "1 thing", `count(2, "thing")` → "2 things", never "2 thing(s)"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
