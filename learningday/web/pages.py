"""The web pages people use: Me, Team, a person's page, the days overview (admins), and the
check-in page reached by the signed link in a prompt or calendar hold.

Every page but the check-in link asks `auth.signed_in` who is looking and `access` what they
may see; a person outside the viewer's scope is a 404, like one who does not exist. Every form
carries the CSRF token of `csrf` (bound to the viewer, or to the check-in link).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from learningday.checkins import CheckInGateway, CheckInResult, CheckInSubmission
from learningday.db.engine import session_scope
from learningday.db.models import CheckIn, Flag, LearningDay, Person
from learningday.links.checkin import checkin_token, read_checkin_token
from learningday.policy_source import current_policy
from learningday.web import archive, channel, csrf, oidc, program, reports, signin
from learningday.web.access import (
    Viewer,
    require_visible,
    team_scope,
    visible_person_ids,
)
from learningday.web.actions import approval_link, excuse_link
from learningday.web.auth import signed_in, viewer_form_ok
from learningday.web.bounds import RecordId, no_nul_characters
from learningday.web.claims import claim_form_url
from learningday.web.evidence import evidence_for
from learningday.web.ics import feed_url
from learningday.web.my_day import local_today, read_my_day
from learningday.web.render import render, templates

__all__ = ["router", "templates"]

router = APIRouter(dependencies=[Depends(no_nul_characters)])  # and the routers included below
for _sub in (signin.router, oidc.router, program.router, archive.router, channel.router):
    router.include_router(_sub)


def _gateway(request: Request) -> CheckInGateway:
    gateway: CheckInGateway = request.app.state.gateway
    return gateway


@router.get("/")
def home(request: Request, date: dt.date | None = None, viewer: Viewer = Depends(signed_in)) -> Response:
    """Admins get every person's day for a date; everyone else their own page."""
    if not viewer.is_admin:
        return RedirectResponse("/me", status_code=303)
    with session_scope() as session:
        dates = session.scalars(
            select(LearningDay.date).group_by(LearningDay.date).order_by(LearningDay.date.desc()).limit(12)
        ).all()
        shown = date or (dates[0] if dates else None)
        days = session.scalars(
            select(LearningDay).where(LearningDay.date == shown).join(Person).order_by(Person.team, Person.name)
        ).all()
        rows = reports.day_rows(session, sorted({d.person_id for d in days}), since=shown) if shown else []
        rows = [r for r in rows if r.day.date == shown]
        people = reports.count_people(session)
    context = {
        "rows": rows,
        "dates": dates,
        "shown": shown,
        "people": people,
        "categories": current_policy().checkins.categories,
    }
    return render(request, "days.html", context, viewer)


def _me_context(viewer: Viewer) -> dict[str, object]:
    policy = current_policy()
    with session_scope() as session:
        person = session.get(Person, viewer.person_id)
        assert person is not None
        mine = read_my_day(session, person, policy)
        session.expunge_all()
    day = mine.day
    return {
        "person": person,
        "today": mine.today,
        "upcoming": mine.upcoming,
        "upcoming_day": mine.upcoming_day,
        "current": mine.current,
        "day": day,
        "history": mine.history,
        "streak": mine.streak,
        "topics": reports.topics(mine.history),
        "claims": mine.claims,
        "budget": mine.budget,
        "feed_url": feed_url(person.id),
        "categories": policy.checkins.categories,
        "expense_labels": policy.reimbursement.category_labels,
        "checkin_link": f"/checkin/{checkin_token(person.id, day.date)}" if day else None,
    }


@router.get("/me")
def me(request: Request, viewer: Viewer = Depends(signed_in)) -> Response:
    return render(request, "me.html", _me_context(viewer), viewer)


@router.get("/me/claim")
def me_claim(viewer: Viewer = Depends(signed_in)) -> Response:
    """File a claim: the signed-in person's own claim form, through a fresh signed link (the form
    is the one the emailed link opens; only the link differs in who asked for it)."""
    return RedirectResponse(urlsplit(claim_form_url(viewer.person_id)).path, status_code=303)


@router.post("/me/checkin/{kind}")
async def me_checkin(
    request: Request,
    kind: str,
    viewer: Viewer = Depends(signed_in),
    text: str = Form(""),
    why: str | None = Form(None),
    category: str | None = Form(None),
    resources: str | None = Form(None),
    date: dt.date | None = Form(None),
    submission: str = Form(""),
) -> Response:
    """Today's check-in from the Me page: the same update as Slack or the check-in link."""
    if not await viewer_form_ok(request, viewer):
        return csrf.refused_page(request, "/me")
    if kind not in ("plan", "summary"):
        raise HTTPException(status_code=404)
    result: CheckInResult = await _gateway(request).submit(
        CheckInSubmission(
            person_email=viewer.email,
            kind=kind,  # type: ignore[arg-type]  # a str, checked against ("plan", "summary") above
            text=text,
            source="web",
            why=why or None,
            category=category or None,
            resources=resources or None,
            date=date,
            key=form_key(submission),
        )
    )
    context = await run_in_threadpool(_me_context, viewer)  # off the loop Slack's acks share
    context["result"] = result
    context["draft"] = {"kind": kind, "text": text, "why": why, "category": category, "resources": resources}
    return render(request, "me.html", context, viewer, status_code=200 if result.accepted else 422)


@router.get("/team")
def team(request: Request, team: str | None = None, viewer: Viewer = Depends(signed_in)) -> Response:
    """Everyone below the viewer: eight weeks at a glance, open flags, claims awaiting them."""
    with session_scope() as session:
        scope = team_scope(session, viewer)
        me_person = session.get(Person, viewer.person_id)
        today = local_today(me_person) if me_person else dt.date.today()
        people = reports.people_in(session, scope, team=team)
        weeks = reports.weeks_ending(today, 8)
        grid = reports.team_grid(session, people, weeks)
        flags = reports.open_flags(session, scope, exclude=viewer.person_id)
        claims = reports.pending_claims(session, scope, exclude=viewer.person_id)
        teams = reports.teams_in(session, scope)
        flag_links = {f.id: excuse_link(session, f, viewer.person_id) for f in flags}
        zone = me_person.timezone if me_person else "UTC"
        evidence = {f.id: evidence_for(f, zone) for f in flags}
        claim_links = {c.id: approval_link(c) for c in claims}
        session.expunge_all()
    context = {
        "people": people,
        "weeks": weeks,
        "grid": grid,
        "flags": flags,
        "claims": claims,
        "teams": teams,
        "team": team,
        "flag_links": flag_links,
        "claim_links": claim_links,
        "evidence": evidence,
        "expense_labels": current_policy().reimbursement.category_labels,
    }
    return render(request, "team.html", context, viewer)


@router.get("/people/{person_id}")
def person_page(request: Request, person_id: RecordId, viewer: Viewer = Depends(signed_in)) -> Response:
    with session_scope() as session:
        require_visible(visible_person_ids(session, viewer), person_id)
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(status_code=404, detail="Not found.")
        history = reports.day_rows(session, [person_id], limit=52)
        claims = reports.claims_of(session, person_id)
        flags = session.scalars(select(Flag).where(Flag.person_id == person_id).order_by(Flag.date.desc())).all()
        manager = session.get(Person, person.manager_id) if person.manager_id else None
        session.expunge_all()
    policy = current_policy()
    context = {
        "person": person,
        "manager": manager,
        "history": history,
        "claims": claims,
        "flags": flags,
        "streak": reports.streak(history),
        "topics": reports.topics(history),
        "categories": policy.checkins.categories,
        "expense_labels": policy.reimbursement.category_labels,
    }
    return render(request, "person.html", context, viewer)


# --- the check-in link: the signed token is the authority, no sign-in needed ----------------


def _checkin_context(token: str) -> dict[str, Any]:
    parsed = read_checkin_token(token)
    if parsed is None:
        raise HTTPException(status_code=404, detail="This link is not valid.")
    person_id, date = parsed
    with session_scope() as session:
        person = session.get(Person, person_id)
        if person is None or not person.active:
            raise HTTPException(status_code=404, detail="This link is not valid.")
        day = session.scalar(select(LearningDay).where(LearningDay.person_id == person_id, LearningDay.date == date))
        check_ins = (
            {c.kind.value: c for c in session.scalars(select(CheckIn).where(CheckIn.learning_day_id == day.id))}
            if day
            else {}
        )
        session.expunge_all()
    return {
        "token": token,
        "person": person,
        "date": date,
        "day": day,
        "plan": check_ins.get("plan"),
        "summary": check_ins.get("summary"),
        "categories": current_policy().checkins.categories,
    }


def _checkin_scope(token: str) -> str:
    return csrf.link_scope("checkin", token)


@router.get("/checkin/{token}")
def checkin_page(request: Request, token: str) -> Response:
    return render(request, "checkin.html", _checkin_context(token), form_scope=_checkin_scope(token))


@router.post("/checkin/{token}/{kind}")
async def submit_checkin(
    request: Request,
    token: str,
    kind: str,
    text: str = Form(""),
    why: str | None = Form(None),
    category: str | None = Form(None),
    resources: str | None = Form(None),
    submission: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """The signed link is the credential; like every form, this one also needs the CSRF token of
    the page that showed it, so only a form rendered here for this link posts here."""
    context = await run_in_threadpool(_checkin_context, token)  # off the loop Slack's acks share
    if kind not in ("plan", "summary"):
        raise HTTPException(status_code=404)
    if not csrf.form_ok(request, _checkin_scope(token), csrf_token):
        return csrf.refused_page(request, f"/checkin/{token}")
    person: Person = context["person"]
    result = await _gateway(request).submit(
        CheckInSubmission(
            person_email=person.email,
            kind=kind,  # type: ignore[arg-type]  # a str, checked against ("plan", "summary") above
            text=text,
            source="web",
            why=why or None,
            category=category or None,
            resources=resources or None,
            date=context["date"],
            key=form_key(submission),
        )
    )
    context = await run_in_threadpool(_checkin_context, token)
    context["result"] = result
    context["draft"] = {"kind": kind, "text": text, "why": why, "category": category, "resources": resources}
    status = 200 if result.accepted else 422
    return render(request, "checkin.html", context, status_code=status, form_scope=_checkin_scope(token))


def form_key(nonce: str) -> str | None:
    """The idempotency key of a submitted form, from the nonce it was rendered with (if any)."""
    nonce = nonce.strip()
    if not nonce or len(nonce) > 64 or not nonce.replace("-", "").replace("_", "").isalnum():
        return None
    return f"web-form:{nonce}"
