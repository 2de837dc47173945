"""Excusing a flag from the manager's email: a signed, expiring link bound to (flag, manager).

The link is signed for `Purpose.EXCUSE_LINK` (see `learningday.tokens`) and lasts 30 days.
Mail scanners open links before people do, so GET only shows the flag and a form; the excuse is
a POST carrying the CSRF token of `csrf` (the cookie the GET set, a token bound to this link).
The link is single use: the first excuse spends it (`used_tokens`), and a replayed, tampered,
expired or foreign link, or one whose manager has been deactivated, gets a clear page and
changes nothing.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learningday.db.engine import session_scope
from learningday.db.models import AuditEntry, Flag, Person, UsedToken
from learningday.labels import flag_label
from learningday.links.excuse import ExcuseLink, read_excuse_token
from learningday.web import csrf
from learningday.web.render import templates  # one environment: its filters and globals
from policies.enforcement import may_excuse

router = APIRouter()


def _scope(token: str) -> str:
    return csrf.link_scope("excuse", token)


def _load(session: Session, link: ExcuseLink) -> tuple[Flag, Person] | str:
    flag = session.get(Flag, link.flag_id)
    manager = session.get(Person, link.manager_id)
    if flag is None or manager is None:
        return "This flag no longer exists."
    if not manager.active:
        return "This link is for someone who is no longer in the program."
    person = session.get(Person, flag.person_id)
    boss = person.manager if person else None
    if person is None or not may_excuse(manager.id, person.manager_id, boss.manager_id if boss else None):
        return "This link is for someone who no longer manages this person."
    return flag, person


def _page(request: Request, status: int, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, "excuse.html", context, status_code=status)


@router.get("/excuse/{token}", response_class=HTMLResponse)
def show_flag(request: Request, token: str) -> HTMLResponse:
    """Show the flag and the form. Changes nothing (mail scanners open links too)."""
    link = read_excuse_token(token)
    if isinstance(link, str):
        return _page(request, 400, problem=link)
    with session_scope() as session:
        loaded = _load(session, link)
        if isinstance(loaded, str):
            return _page(request, 404, problem=loaded)
        flag, person = loaded
        response = _page(
            request,
            200,
            flag=flag,
            person=person,
            token=token,
            csrf=csrf.form_token(request, _scope(token)),
            label=_label(flag),
        )
        return csrf.keep_cookie(request, response)


@router.post("/excuse/{token}", response_class=HTMLResponse)
def excuse_flag(
    request: Request, token: str, csrf_field: str = Form("", alias="csrf"), reason: str = Form("")
) -> HTMLResponse:
    """Record the excuse once: excused_at/by/reason on the flag and an audit entry."""
    link = read_excuse_token(token)
    if isinstance(link, str):
        return _page(request, 400, problem=link)
    if not csrf.form_ok(request, _scope(token), csrf_field):
        return _page(request, 403, problem=csrf.REFUSED)
    reason = reason.replace("\x00", "").strip()  # no database we run on stores a NUL
    with session_scope() as session:
        loaded = _load(session, link)
        if isinstance(loaded, str):
            return _page(request, 404, problem=loaded)
        flag, person = loaded
        if not reason:
            return _page(
                request,
                422,
                flag=flag,
                person=person,
                token=token,
                csrf=csrf_field,
                label=_label(flag),
                error="Say in a few words why this flag is excused.",
            )
        if flag.excused_at is not None:
            return _page(
                request, 409, problem="This flag was already excused.", flag=flag, person=person, label=_label(flag)
            )
        now = dt.datetime.now(dt.UTC)
        try:
            with session.begin_nested():
                session.add(UsedToken(token_id=link.token_id, used_at=now))
        except IntegrityError:
            return _page(request, 409, problem="This link was already used.")
        flag.excused_at = now
        flag.excused_by_id = link.manager_id
        flag.excuse_reason = reason[:2000]
        manager = session.get(Person, link.manager_id)
        session.add(
            AuditEntry(
                actor=manager.email if manager else f"person:{link.manager_id}",
                action="flag_excused",
                subject_type="flag",
                subject_id=str(flag.id),
                details={"kind": flag.kind.value},
            )
        )
        return _page(request, 200, done=True, flag=flag, person=person, label=_label(flag))


def _label(flag: Flag) -> str:
    return flag_label(flag.kind)
