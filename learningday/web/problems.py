"""`/problems`: the admins' list of steps outside a day's core that failed for good.

A person Slack cannot reach (prompted by email instead), a manager address the relay refuses, a
channel that does not exist, a digest that could not go out: each is recorded once, by the step
that failed, with what was done instead. Nothing here ended anyone's day; this page is where an
admin learns what to fix (a Slack id, an address, the channel setting). Admins only.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import DeliveryProblem
from learningday.web.access import Viewer
from learningday.web.auth import signed_in_admin
from learningday.web.render import render

router = APIRouter()
LIMIT = 200

STEPS = {
    "prompt": "Slack prompt",
    "prompt_email": "Prompt by email",
    "flag_email": "Flag email",
    "flag_dm": "Flag DM to a manager",
    "channel_post": "Channel post",
    "digest": "Weekly digest",
    "claim_email": "Claim email",
    "audit_calendar": "Weekly audit: calendar",
}


@dataclass(frozen=True)
class ProblemRow:
    problem: DeliveryProblem
    step: str
    person_name: str | None


@router.get("/problems")
def problems(request: Request, viewer: Viewer = Depends(signed_in_admin)) -> Response:
    with session_scope() as session:
        rows = [
            ProblemRow(p, STEPS.get(p.step, p.step), p.person.name if p.person else None)
            for p in session.scalars(
                select(DeliveryProblem).order_by(DeliveryProblem.at.desc(), DeliveryProblem.id.desc()).limit(LIMIT)
            )
        ]
        counts = {
            STEPS.get(step, step): count
            for step, count in session.execute(
                select(DeliveryProblem.step, func.count()).group_by(DeliveryProblem.step).order_by(DeliveryProblem.step)
            ).all()
        }
        session.expunge_all()
    return render(request, "problems.html", {"rows": rows, "counts": counts, "limit": LIMIT}, viewer)
