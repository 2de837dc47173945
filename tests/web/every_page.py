"""Something on every page: an org with a few weeks of Learning Days, flags, claims, a channel
post, a delivery problem, an email in the local outbox, and the signed links a person gets by
email (check-in, claim form, approval, excuse, sign-in, calendar feed).

`build_site` returns the paths of every page, so tests that must visit all of them (security
headers, the Content-Security-Policy in a real browser) share one list.
"""

from __future__ import annotations

import datetime as dt
import mailbox
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.mail.message import build_message
from learningday.db.models import ClaimState, DayState, DeliveryProblem, Flag
from learningday.links.approval import ApprovalLink, approval_url
from learningday.links.checkin import checkin_url
from learningday.links.excuse import excuse_url
from learningday.mail_render import render_email
from learningday.settings import get_settings
from learningday.web.auth import login_url
from learningday.web.claims import claim_form_url
from learningday.web.ics import feed_url
from tests.mail.test_templates import flag_context
from tests.web.conftest import RANGE, THURSDAY, TODAY, WEEK, Org, add_channel_post, add_claim, add_day, add_flag


class FakeTemporal:
    """Answers the approval page's one question (is this link the claim's current one?) with yes."""

    def __init__(self, approvers: dict[int, str]) -> None:
        self.approvers = approvers

    def get_workflow_handle(self, workflow_id: str) -> FakeTemporal:
        return self

    async def query(self, *args: object, **kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(approvers=self.approvers)


@dataclass(frozen=True)
class Site:
    """Paths (no scheme or host) of the pages, keyed by a short name."""

    signed_in: dict[str, str]  # pages for a signed-in admin
    links: dict[str, str]  # pages opened from an emailed link, signed in or not
    signed_out: dict[str, str]  # the sign-in pages, shown to someone not signed in
    files: dict[str, str]  # not pages: the ICS feed, a CSV export, the stylesheet
    errors: dict[str, tuple[str, int]]  # error pages a signed-in browser meets: path, status


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def build_site(session: Session, org: Org, app: FastAPI) -> Site:
    weeks = [THURSDAY - n * WEEK for n in (3, 2, 1)]
    topics = [
        ("papers", "Reading the Attention paper"),
        ("engineering", "Rust ownership"),
        ("ml_fundamentals", "Bayesian statistics"),
    ]
    for person in (org.ada, org.alan, org.margaret, org.linus):
        for n, date in enumerate(weeks):
            category, text = topics[(n + person.id) % 3]
            summary = None if (person is org.linus and n == 2) else f"Learned a lot about {text.lower()}"
            day = add_day(session, person, date, plan=text, summary=summary, category=category)
            if summary is None:
                add_flag(session, day)
    add_day(session, org.alan, TODAY, state=DayState.planning)  # today's, still open
    add_day(session, org.ada, TODAY, plan="Property-based testing", state=DayState.planning)
    pending = add_claim(session, org.alan, "45.00")
    add_claim(session, org.linus, "120.00", ClaimState.approved, category="courses")
    add_claim(session, org.ada, "380.00", ClaimState.approved, category="courses")
    channel = [
        (org.alan, "plan", "Reading the Attention paper\n\nWhy: our ranking model uses it."),
        (org.alan, "summary", "Multi-head attention is several small attentions side by side."),
        (org.linus, "plan", "Rust ownership: the borrow checker, from the book's chapter 4"),
    ]
    for person, kind, text in channel:  # a thread with its summary, and a plan still waiting for one
        add_channel_post(session, person, THURSDAY, kind, text)
    session.add(
        DeliveryProblem(
            key="prompt:site:1",
            step="prompt",
            subject_type="learning_day",
            subject_id="1",
            person_id=org.linus.id,
            reason="Slack answered user_not_found for linus@example.com, a long reason that has to wrap on a phone",
            outcome="emailed instead",
            at=dt.datetime.combine(THURSDAY, dt.time(9, 0)),
        )
    )
    session.commit()
    flag = session.scalar(select(Flag).where(Flag.person_id == org.linus.id))
    assert flag is not None

    email = render_email(
        "prompt",
        {
            "question": "What will you learn today, and why?",
            "reminder": False,
            "day_label": "Thursday",
            "checkin_url": checkin_url(org.alan.id, TODAY),
        },
        key="prompt:site:alan",
        to=[org.alan.email],
        subject="What will you learn today, and why?",
    )
    maildir = mailbox.Maildir(get_settings().maildir_path, create=True)
    key = maildir.add(build_message(email, "Learning Day <ld@example.com>", "0123456789abcdef0123456789abcdef"))
    # The tallest email we send: a flag to a manager, its Excuse button at the very end.
    flag_email = render_email(
        "flag",
        flag_context(
            manager_name=org.barbara.name, person_name=org.linus.name, excuse_url=excuse_url(flag.id, org.barbara.id)
        ),
        key=f"flag:{flag.id}:{org.barbara.id}",
        to=[org.barbara.email],
        subject=f"{org.linus.name}: No summary posted",
    )
    flag_key = maildir.add(
        build_message(flag_email, "Learning Day <ld@example.com>", "0123456789abcdef0123456789abcdef")
    )

    link = ApprovalLink(
        claim_id=pending.id,
        approver_id=org.margaret.id,
        level=1,
        token_id="site-approval",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
    )
    app.state.temporal_client = FakeTemporal({org.margaret.id: link.token_id})

    return Site(
        signed_in={
            "me": "/me",
            "team": "/team",
            "person": f"/people/{org.alan.id}",
            "program": f"/program?start={RANGE['start']}&end={RANGE['end']}",
            "archive": "/archive?q=attention",
            "channel": "/channel",
            "days": f"/?date={THURSDAY - WEEK}",
            "outbox": "/outbox",
            "outbox-message": f"/outbox/{quote(key)}",
            "outbox-flag-email": f"/outbox/{quote(flag_key)}",
            "problems": "/problems",
        },
        links={
            "checkin": _path(checkin_url(org.alan.id, TODAY)),
            "approve": _path(approval_url(link)),
            "claim-form": _path(claim_form_url(org.alan.id)),
            "excuse": _path(excuse_url(flag.id, org.barbara.id)),
        },
        signed_out={
            "login": "/auth/login",
            "signin-link": _path(login_url(org.alan.id)),
        },
        files={
            "ics": _path(feed_url(org.alan.id)),
            "csv": f"/program/participation.csv?start={RANGE['start']}&end={RANGE['end']}",
            "css": "/static/app.css",
            "favicon": "/static/favicon.svg",
            "email-html": f"/outbox/{quote(key)}/html",
        },
        errors={
            "not-found": ("/people/999999", 404),
            "not-understood": ("/?date=next-thursday", 422),
        },
    )
