"""Review a claim from the Team page: the approval link the approver was emailed, found again.

The claim's workflow is the one truth about who may decide it now (its current approvers and the
single-use token each was sent). This route asks it and sends a current approver to that very
approval page, where the decision is made as from the email. Anyone else on the Team page is told
whom the claim waits on; nothing is signed here that the workflow did not issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from temporalio.service import RPCError

from learningday.contracts.claims import ClaimView, workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import ClaimState, ExpenseClaim, Person
from learningday.links.approval import ApprovalLink, approval_token
from learningday.web.access import Viewer, can_see, team_scope
from learningday.web.approvals import temporal_client
from learningday.web.auth import signed_in
from learningday.web.bounds import RecordId
from learningday.web.errors import error_page
from workflows.reimbursement import ReimbursementWorkflow

router = APIRouter()


def review_path(claim_id: int) -> str:
    return f"/claims/{claim_id}/review"


@dataclass(frozen=True)
class _Pending:
    claimant: str


def _pending_in_team(claim_id: int, viewer: Viewer) -> _Pending:
    """The claim, if it is pending and its claimant is on the viewer's Team page; else 404."""
    with session_scope() as session:
        claim = session.get(ExpenseClaim, claim_id)
        if claim is None or not can_see(team_scope(session, viewer), claim.person_id):
            raise HTTPException(status_code=404, detail="Not found.")
        if claim.state != ClaimState.pending:
            raise HTTPException(status_code=404, detail=f"This claim is already {claim.state.value}.")
        return _Pending(claimant=claim.person.name)


def _names(person_ids: list[int]) -> list[str]:
    with session_scope() as session:
        return sorted(person.name for person_id in person_ids if (person := session.get(Person, person_id)))


@router.get("/claims/{claim_id}/review")
async def review_from_team(request: Request, claim_id: RecordId, viewer: Viewer = Depends(signed_in)) -> Response:
    pending = await run_in_threadpool(_pending_in_team, claim_id, viewer)
    try:
        client = await temporal_client(request)
        view: ClaimView = await client.get_workflow_handle(workflow_id_for(claim_id)).query(
            ReimbursementWorkflow.status
        )
    except (RPCError, RuntimeError):  # RuntimeError: Temporal not reachable to connect to
        return error_page(
            request,
            503,
            ["The claim's approval steps cannot be read right now; the emailed link still works."],
            viewer=viewer,
        )
    if view.state != "pending":  # decided since the page was drawn; the database follows
        return error_page(request, 409, [f"{pending.claimant}'s claim is already {view.state}."], viewer=viewer)
    token_id = view.approvers.get(viewer.person_id)
    if token_id is None or view.expires_at is None:
        waiting = await run_in_threadpool(_names, list(view.approvers))
        on = " or ".join(waiting) if waiting else "nobody at the moment"
        message = f"{pending.claimant}'s claim waits on {on} (step {view.level} of {view.levels}), not on you."
        return error_page(request, 409, [message], viewer=viewer)
    link = ApprovalLink(claim_id, viewer.person_id, view.level, token_id, view.expires_at)
    return RedirectResponse(f"/approve/{approval_token(link)}", status_code=303)
