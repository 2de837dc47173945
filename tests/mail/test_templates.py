"""Email templates: both parts carry the facts, HTML escapes what people typed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from learningday.mail_render import render_email

UTC = dt.UTC
THURSDAY = dt.date(2026, 11, 19)


def flag_context(**overrides: Any) -> dict[str, Any]:
    history = ["kept", "kept", "missed", "off", "kept", "spillover", "kept", "missed"]
    context: dict[str, Any] = {
        "manager_name": "Maria",
        "manager_timezone": "Asia/Tokyo",
        "person_name": "Bob",
        "flag_label": "Used for work",
        "date": THURSDAY,
        "reason": "Work meetings were accepted over the Learning Day hold.",
        "evidence": ["Accepted 'Sprint planning' at 10:00", "Accepted 'Incident review' at 14:00"],
        "plan": "Read the Raft paper",
        "summary": "Fixed the billing bug",
        "events": [
            {
                "title": "Sprint planning",
                "start": dt.datetime(2026, 11, 19, 1, 0, tzinfo=UTC),
                "end": dt.datetime(2026, 11, 19, 2, 30, tzinfo=UTC),
            }
        ],
        "history": [
            {"date": THURSDAY - dt.timedelta(weeks=7 - i), "status": status} for i, status in enumerate(history)
        ],
        "excuse_url": "https://ld.example.com/flags/17/excuse?token=abc&x=1",
    }
    context.update(overrides)
    return context


def render_flag(**overrides: Any):  # type: ignore[no-untyped-def]
    return render_email(
        "flag", flag_context(**overrides), "flag:17:manager", ["maria@example.com"], "Bob: used for work"
    )


def test_flag_email_carries_reason_evidence_plan_summary_and_excuse_link_in_both_parts() -> None:
    email = render_flag()
    assert (email.key, email.to, email.subject) == ("flag:17:manager", ["maria@example.com"], "Bob: used for work")
    for part in (email.text, email.html):
        assert "Work meetings were accepted over the Learning Day hold." in part
        assert "Sprint planning" in part and "Incident review" in part
        assert "Read the Raft paper" in part
        assert "Fixed the billing bug" in part
    assert "https://ld.example.com/flags/17/excuse?token=abc&x=1" in email.text
    assert 'href="https://ld.example.com/flags/17/excuse?token=abc&amp;x=1"' in email.html
    assert "Excuse this flag" in email.html


def test_flag_email_shows_event_times_in_the_managers_timezone() -> None:
    email = render_flag()
    # 01:00–02:30 UTC is 10:00–11:30 in Tokyo.
    assert "Thu 19 Nov 10:00-11:30  Sprint planning" in email.text
    assert "Thu 19 Nov 10:00 – 11:30" in email.html


def test_flag_email_shows_eight_weeks_as_marks_oldest_first() -> None:
    email = render_flag()
    assert "Last 8 weeks: ✓ ✓ ✗ – ✓ ! ✓ ✗" in email.text
    cells = [line.strip() for line in email.html.splitlines() if 'border:1px solid #d0d7de;">' in line]
    assert [c.split(">")[1].split("<")[0] for c in cells] == ["✓", "✓", "✗", "–", "✓", "!", "✓", "✗"]


def test_a_missing_plan_and_summary_say_none_posted() -> None:
    email = render_flag(plan=None, summary=None, flag_label="No plan, no summary")
    assert email.text.count("(none posted)") == 2
    assert email.html.count("(none posted)") == 2


def test_user_text_is_escaped_in_html_and_left_as_typed_in_text() -> None:
    email = render_flag(
        plan="<script>alert('x')</script> & more",
        summary='<img src=x onerror="steal()">',
        evidence=["<b>bold claim</b>"],
        person_name="Eve <eve@evil>",
    )
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in email.html
    assert "<img" not in email.html and "&lt;img src=x onerror=&#34;steal()&#34;&gt;" in email.html
    assert "&lt;b&gt;bold claim&lt;/b&gt;" in email.html
    assert "Eve &lt;eve@evil&gt;" in email.html
    assert "<script>alert('x')</script> & more" in email.text


def test_a_missing_context_key_names_the_key_and_the_template() -> None:
    context = flag_context()
    del context["excuse_url"]
    with pytest.raises(ValueError, match=r"'flag'.*excuse_url"):
        render_email("flag", context, "k", ["m@example.com"], "s")


def test_digest_has_a_row_per_person_with_day_marks_and_lists_flags_topics_claims() -> None:
    monday = dt.date(2026, 11, 16)
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    email = render_email(
        "digest",
        {
            "manager_name": "Maria",
            "week_of": monday,
            "days": days,
            "rows": [
                {"name": "Bob", "cells": ["off", "spillover", "off", "kept", "off"]},
                {"name": "Ana", "cells": ["off", "off", "off", "missed", "off"]},
            ],
            "flags": [
                {"person_name": "Bob", "label": "Spillover", "date": days[1], "reason": "A learning block on Tuesday."}
            ],
            "topics": [{"person_name": "Bob", "topic": "Rust ownership"}],
            "claims": [
                {
                    "person_name": "Ana",
                    "description": "Designing Data-Intensive Applications",
                    "amount": Decimal("39.9"),
                    "currency": "EUR",
                    "state": "pending",
                }
            ],
            "dashboard_url": "https://ld.example.com/team",
        },
        "digest:2026-11-16:maria",
        ["maria@example.com"],
        "Learning Day digest",
    )
    text_rows = {
        line.split()[0]: line.split()[1:] for line in email.text.splitlines() if line.startswith(("Bob ", "Ana "))
    }
    assert text_rows == {"Bob": ["–", "!", "–", "✓", "–"], "Ana": ["–", "–", "–", "✗", "–"]}
    assert "Thu 19 Nov" in email.text and "Thu 19 Nov" in email.html
    for part in (email.text, email.html):
        assert "A learning block on Tuesday." in part
        assert "Rust ownership" in part
        assert "EUR 39.90" in part
        assert "https://ld.example.com/team" in part


def test_claim_approval_shows_the_claim_the_level_and_the_link() -> None:
    claim = {
        "amount": Decimal("450"),
        "currency": "EUR",
        "category": "course",
        "description": "Distributed systems course",
        "link": "https://courses.example.com/ds",
        "topic": "Consensus",
        "submitted_at": dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    }
    email = render_email(
        "claim_approval",
        {
            "approver_name": "Fin",
            "claimant_name": "Bob",
            "claim": claim,
            "level": 2,
            "level_reason": "over EUR 300",
            "approve_url": "https://ld.example.com/approve/tok",
        },
        "claim:5:level:2",
        ["fin@example.com"],
        "Approve Bob's claim",
    )
    for part in (email.text, email.html):
        assert "EUR 450.00" in part
        assert "Distributed systems course" in part
        assert "level 2 (over EUR 300)" in part
        assert "https://ld.example.com/approve/tok" in part
        assert "https://courses.example.com/ds" in part


def test_claim_update_tells_the_claimant_the_decision_and_comment() -> None:
    email = render_email(
        "claim_update",
        {
            "claimant_name": "Bob",
            "claim": {"amount": 20, "currency": "USD", "category": "book", "description": "SICP"},
            "decision": "rejected",
            "decided_by": "Maria",
            "comment": "We have it in the library <3",
        },
        "claim:6:update",
        ["bob@example.com"],
        "Your claim was rejected",
    )
    assert 'Your claim "SICP" (USD 20.00, book) is rejected by Maria.' in email.text
    assert "We have it in the library <3" in email.text
    assert "We have it in the library &lt;3" in email.html
    assert "<strong>rejected</strong> by Maria" in email.html


def test_a_claim_approved_at_one_level_says_so_and_that_it_waits_for_the_next() -> None:
    email = render_email(
        "claim_update",
        {
            "claimant_name": "Bob",
            "claim": {"amount": 600, "currency": "USD", "category": "Courses", "description": "ML course"},
            "decision": "pending",
            "decided_by": "Maria",
            "next_step": "Grace approves it next.",
        },
        "claim:7:update:approved-1",
        ["bob@example.com"],
        "Your claim USD 600.00: pending",
    )
    assert (
        'Your claim "ML course" (USD 600.00, Courses) is approved by Maria and waits for the next approval.'
        in email.text
    )
    assert "pending by" not in email.text and "pending</strong> by" not in email.html
    assert "<strong>approved</strong> by Maria and waits for the next approval" in email.html
    assert "<title>Your claim is approved, waiting for the next approval" in email.html


def test_claim_emails_name_the_expense_category_in_words() -> None:
    import datetime as dt
    from decimal import Decimal

    from activities.mail.claim_mail import _claim_context
    from learningday.contracts.claims import ClaimSummary
    from policies.policy import Policy

    claim = ClaimSummary(
        claim_id=1,
        person_id=1,
        claimant_name="Bob",
        claimant_email="bob@example.com",
        amount=Decimal("20"),
        currency="USD",
        base_amount=Decimal("20"),
        category="books",
        description="SICP",
        submitted_at=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
    )
    assert _claim_context(claim, Policy())["category"] == "Books"
