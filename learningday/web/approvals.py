"""Approving a claim from email: `GET /approve/{token}` shows the claim, `POST` decides.

Mail scanners open every link in an email before the person does, so the GET changes nothing: it
checks the link and shows the claim with Approve / Reject buttons. The POST carries the CSRF
token of `csrf` (the cookie the GET set, and a token bound to it and to this link) and sends the
decision to the claim's workflow as the `decide` update; the workflow's validator and the
`used_tokens` primary key make the link single-use, and the page shows what happened. A tampered,
expired, foreign, replaced or already used link, a link whose approver has been deactivated, or a
claim already decided, gets a page that says so and changes nothing.

The update id is the link's token and the answer (`decision_key`): the same POST twice, on one
replica or two, twenty at once, is one decision, and each repeat answers like the first. The
other answer on a spent link is refused with what the link decided.

`GET /approve/{token}/receipt` shows the claim's receipt to the link's approver, whenever the
page would show them the claim (the link reads, its approver is active and is not the claimant):
the only way to a receipt from outside the server, so it is as private as the claim itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from learningday.claims.receipts import receipt_type
from learningday.contracts.claims import ClaimView, Decision, DecisionOutcome, decision_key, workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import ClaimDecision, ExpenseClaim, Person, UsedToken
from learningday.links.approval import ApprovalLink, LinkRefused, read_approval_token
from learningday.web import csrf
from learningday.web.render import templates  # one environment: its filters and globals
from policies.reimbursement import may_decide
from workflows.reimbursement import ReimbursementWorkflow

router = APIRouter()
COMMENT_MAX = 2000
# The token is in the URL: keep it out of Referer headers, caches and frames.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@dataclass(frozen=True)
class ClaimPage:
    claim: ExpenseClaim
    claimant: Person
    approver: Person | None
    used: bool
    level_decided: bool
    token_verdict: str | None = None  # what this very link decided, if it did


async def temporal_client(request: Request) -> Client:
    """The app's Temporal client (set by tests or `serve`), else one connected from settings."""
    client = getattr(request.app.state, "temporal_client", None)
    if client is None:
        from learningday.temporal.client import connect

        client = request.app.state.temporal_client = await connect(request.app.state.settings)
    return client


def _load(link: ApprovalLink) -> ClaimPage | None:
    with session_scope() as session:
        claim = session.get(ExpenseClaim, link.claim_id)
        if claim is None:
            return None
        # The spent token first, its decision after: read in that order (SQLite reads are not
        # one snapshot here), a link seen as used always comes with what it decided.
        used = session.get(UsedToken, link.token_id) is not None
        decisions = list(session.query(ClaimDecision).filter_by(claim_id=claim.id))
        page = ClaimPage(
            claim=claim,
            claimant=claim.person,
            approver=session.get(Person, link.approver_id),
            used=used,
            level_decided=any(d.level == link.level for d in decisions),
            token_verdict=next((d.decision for d in decisions if d.token_id == link.token_id), None),
        )
        session.expunge_all()
        return page


def _page(request: Request, status: int, token: str | None = None, **context: object) -> HTMLResponse:
    page = context.get("page")
    if token is not None and isinstance(page, ClaimPage) and _may_see_receipt(page):
        context["receipt_url"] = f"/approve/{token}/receipt"
    return templates.TemplateResponse(
        request, "approve.html", {"token": token, **context}, status_code=status, headers=HEADERS
    )


def _refused(
    request: Request, message: str, status: int = 409, page: ClaimPage | None = None, token: str | None = None
) -> HTMLResponse:
    return _page(request, status, token=token, refused=message, page=page)


def _may_see_receipt(page: ClaimPage) -> bool:
    """The approver the link names sees the receipt, whatever became of the claim since."""
    approver = page.approver
    return (
        bool(page.claim.receipt_path)
        and approver is not None
        and approver.active
        and approver.id != page.claim.person_id
    )


def _stale(link: ApprovalLink, page: ClaimPage) -> str | None:
    """Why this link can no longer decide anything, from the database alone."""
    if page.approver is None:
        return "This approval link is not valid."
    if not page.approver.active:
        return "This approval link is for someone who is no longer in the program. Nothing was changed."
    if not may_decide(link.approver_id, page.claim.person_id):
        return "Nobody approves their own claim."
    if page.claim.state.value != "pending":
        return f"This claim is already {page.claim.state.value}. Nothing was changed."
    if page.used:
        return "This approval link was already used. Nothing was changed."
    if page.level_decided:
        return "This step of the claim was already decided. Nothing was changed."
    return None


async def _current(request: Request, link: ApprovalLink) -> str | None:
    """Whether the workflow still waits for this very link (a replaced or foreign one is refused)."""
    try:
        handle = (await temporal_client(request)).get_workflow_handle(workflow_id_for(link.claim_id))
        view: ClaimView = await handle.query(ReimbursementWorkflow.status)
    except RPCError:
        return None  # the POST's update decides; the page can still be shown
    if view.approvers.get(link.approver_id) != link.token_id:
        return "This link is not for the claim's current approval step (it may have been replaced by a newer email). Nothing was changed."
    return None


@router.get("/approve/{token}", response_class=HTMLResponse)
async def review(request: Request, token: str) -> HTMLResponse:
    try:
        link = read_approval_token(token)
    except LinkRefused as refusal:
        return _refused(request, str(refusal), status=400)
    page = await asyncio.to_thread(_load, link)
    if page is None:
        return _refused(request, "This claim no longer exists.", status=404)
    problem = _stale(link, page)
    if problem:
        status = 404 if page.approver is None or not page.approver.active else 409
        return _refused(request, problem, status=status, page=page, token=token)
    problem = await _current(request, link)
    if problem:
        return _refused(request, problem, page=page, token=token)
    response = _page(
        request, 200, page=page, token=token, csrf=csrf.form_token(request, _scope(token)), level=link.level
    )
    return csrf.keep_cookie(request, response)


def _scope(token: str) -> str:
    return csrf.link_scope("approve", token)


@router.post("/approve/{token}", response_class=HTMLResponse)
async def decide(
    request: Request,
    token: str,
    csrf_field: str = Form("", alias="csrf"),
    decision: str = Form(""),
    comment: str = Form(""),
) -> HTMLResponse:
    try:
        link = read_approval_token(token)
    except LinkRefused as refusal:
        return _refused(request, str(refusal), status=400)
    if not csrf.form_ok(request, _scope(token), csrf_field):
        return _refused(request, f"{csrf.REFUSED} Nothing was changed.", status=403)
    if decision not in ("approve", "reject"):
        return _refused(request, "Choose Approve or Reject. Nothing was changed.", status=400)
    if "\x00" in comment:
        return _refused(request, "Remove the NUL character from the comment. Nothing was changed.", status=400)
    if len(comment) > COMMENT_MAX:
        return _refused(request, f"Keep the comment under {COMMENT_MAX} characters. Nothing was changed.", status=400)
    page = await asyncio.to_thread(_load, link)
    if page is None:
        return _refused(request, "This claim no longer exists.", status=404)
    verdict = "approved" if decision == "approve" else "rejected"
    if page.token_verdict == verdict:
        return _page(request, 200, token=token, page=page, outcome=_recorded_outcome(page, link))  # a repeat
    if page.token_verdict is not None:
        return _refused(
            request,
            f"This approval link was already used (the answer was: {page.token_verdict}). Nothing was changed.",
            page=page,
        )
    problem = _stale(link, page)
    if problem:
        return _refused(request, problem, page=page)
    handle = (await temporal_client(request)).get_workflow_handle(workflow_id_for(link.claim_id))
    choice = Decision(
        approver_id=link.approver_id,
        token_id=link.token_id,
        approve=decision == "approve",
        comment=comment.strip() or None,
    )
    try:
        outcome = await handle.execute_update(ReimbursementWorkflow.decide, choice, id=decision_key(choice))
    except WorkflowUpdateFailedError as error:
        return _refused(request, _reason(error), page=page)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return _refused(request, BUSY, status=503, page=page)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            return _refused(request, BUSY, status=503, page=page)
        # The claim closed between our read and the update: a click deciding it as it closed
        # (the same link, the same answer, a moment earlier) is answered like that one.
        page = await asyncio.to_thread(_load, link) or page
        if page.token_verdict == verdict:
            return _page(request, 200, token=token, page=page, outcome=_recorded_outcome(page, link))
        return _refused(request, "This claim is closed. Nothing was changed.", page=page, token=token)
    return _page(request, 200, token=token, page=page, outcome=outcome)


# A receipt is shown as the file it is, in a document that can run nothing and reach nothing.
# An image opens in the browser; a PDF is downloaded: a browser's PDF viewer is not bound by
# this policy, and a receipt is whatever its claimant uploaded.
RECEIPT_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/approve/{token}/receipt")
async def receipt(request: Request, token: str) -> Response:
    def not_found(reason: str) -> Response:
        return PlainTextResponse(reason, status_code=404, headers=HEADERS)

    try:
        link = read_approval_token(token)
    except LinkRefused as refusal:
        return not_found(str(refusal))
    page = await asyncio.to_thread(_load, link)
    if page is None or not _may_see_receipt(page):
        return not_found("No receipt to show for this link.")
    data = await asyncio.to_thread(
        _read_receipt, Path(str(page.claim.receipt_path)), request.app.state.settings.data_dir
    )
    kind = receipt_type(data) if data is not None else None
    if data is None or kind is None:
        return not_found("The receipt file is missing on the server; ask the claimant to send it again.")
    content_type, extension = kind
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    headers = {
        **RECEIPT_HEADERS,
        "Content-Disposition": f'{disposition}; filename="receipt-{link.claim_id}.{extension}"',
    }
    return Response(data, media_type=content_type, headers=headers)


def _read_receipt(path: Path, data_dir: Path) -> bytes | None:
    """The stored file, only from the receipts folder (the path is ours, but a row is no proof)."""
    folder = (Path(data_dir) / "receipts").resolve()
    resolved = path.resolve()
    if resolved.parent != folder or not resolved.is_file():
        return None
    return resolved.read_bytes()


BUSY = "The approval service is busy and did not record this yet. Nothing was changed: please try again in a minute."


def _recorded_outcome(page: ClaimPage, link: ApprovalLink) -> DecisionOutcome:
    """What the first POST of this link was told, from the decision the database recorded."""
    state = page.claim.state.value
    if state == "pending":
        return DecisionOutcome("pending", link.level, "Approved. The claim now goes to the next approver.")
    return DecisionOutcome(state, link.level, f"The claim is {state}. The claimant has been told.")


def _reason(error: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = error.cause
    while cause is not None:
        message = getattr(cause, "message", "")
        if message:
            return str(message)
        cause = getattr(cause, "cause", None)
    return "The decision could not be recorded. Nothing was changed."
