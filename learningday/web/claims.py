"""The claim form: `GET/POST /claims/new/{token}`, reached by a signed per-person link.

Who is claiming comes from `claimant_for(request, token)` — today the signed link (like the
check-in links), later a sign-in: swap that one function. The link is signed for
`Purpose.CLAIM_FORM_LINK` and expires a week after it was made (the form accepts uploads: a link
found in an old message must not keep doing so); a deactivated person's link shows the refusal.
The form shows the person's remaining budget; a refusal shows every problem next to its field
and saves nothing. The form carries the CSRF token of `csrf`, bound to the link.

Each rendered form carries a random nonce, the claim's idempotency key: a form posted twice
(a double click, a browser retry, two replicas behind the load balancer) files one claim and
answers both posts with it. Every form shown, refused or blank after a filing, has a new nonce,
so what is posted from it next is a new claim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from learningday.claims.receipts import MAX_RECEIPT_BYTES
from learningday.claims.service import ClaimSubmission, submit_claim
from learningday.db.claims import spent_this_year
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.policy_source import current_policy
from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign
from learningday.web import csrf
from learningday.web.approvals import temporal_client
from learningday.web.render import templates  # one environment: its filters and globals
from policies.reimbursement import remaining_budget

router = APIRouter()
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def claim_form_url(person_id: int) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/claims/new/{sign(Purpose.CLAIM_FORM_LINK, person_id)}"


def claimant_for(request: Request, token: str) -> Person | None:
    """The person filing the claim: the one the signed, unexpired link names, if active."""
    try:
        person_id = read(Purpose.CLAIM_FORM_LINK, token)
    except TokenRefused:
        return None
    if type(person_id) is not int:
        return None
    with session_scope() as session:
        person = session.get(Person, person_id)
        if person is None or not person.active:
            return None
        session.expunge(person)
        return person


def _submission_key(nonce: str) -> str | None:
    """The claim's idempotency key from the form's nonce; none for a form without a sound one."""
    return f"web-form:{nonce}" if _NONCE.fullmatch(nonce) else None


def _scope(token: str) -> str:
    return csrf.link_scope("claim-form", token)


def _form(request: Request, context: dict[str, object], status_code: int = 200) -> HTMLResponse:
    """The form, with this browser's CSRF token for this link."""
    context["csrf"] = csrf.form_token(request, _scope(str(context["token"])))
    response = templates.TemplateResponse(request, "claim_form.html", context, status_code=status_code)
    csrf.keep_cookie(request, response)
    return response


def _context(person: Person, token: str) -> dict[str, object]:
    policy = current_policy()
    with session_scope() as session:
        spent = spent_this_year(session, person.id, dt.datetime.now(dt.UTC).year)
    rules = policy.reimbursement
    return {
        "person": person,
        "token": token,
        "categories": rules.categories,
        "currencies": sorted({rules.currency, *rules.accepted_currencies}),
        "base": rules.currency,
        "remaining": remaining_budget(policy, spent),
        "budget": rules.annual_budget,
        "draft": {},
        "problems": {},
        "nonce": secrets.token_urlsafe(18),
    }


def _not_found(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "claim_form.html", {"invalid": True}, status_code=404)


@router.get("/claims/new/{token}", response_class=HTMLResponse)
async def claim_form(request: Request, token: str) -> HTMLResponse:
    person = await asyncio.to_thread(claimant_for, request, token)
    if person is None:
        return _not_found(request)
    context = await asyncio.to_thread(_context, person, token)
    return _form(request, context)


@router.post("/claims/new/{token}", response_class=HTMLResponse)
async def file_claim(
    request: Request,
    token: str,
    amount: str = Form(""),
    currency: str = Form(""),
    category: str = Form(""),
    description: str = Form(""),
    link: str = Form(""),
    topic: str = Form(""),
    nonce: str = Form(""),
    csrf_token: str = Form(""),
    receipt: UploadFile | None = None,
) -> HTMLResponse:
    person = await asyncio.to_thread(claimant_for, request, token)
    if person is None:
        return _not_found(request)
    if not csrf.form_ok(request, _scope(token), csrf_token):
        return csrf.refused_page(request, request.url.path)
    data = await receipt.read(MAX_RECEIPT_BYTES + 1) if receipt is not None and receipt.filename else None
    settings = request.app.state.settings
    result = await submit_claim(
        await temporal_client(request),
        settings.temporal_task_queue,
        ClaimSubmission(
            person_email=person.email,
            amount=amount,
            currency=currency,
            category=category,
            description=description,
            link=link or None,
            topic=topic or None,
            receipt=data or None,
            idempotency_key=_submission_key(nonce),
        ),
        current_policy(),
        settings.data_dir,
    )
    context = await asyncio.to_thread(_context, person, token)
    if not result.ok:
        context.update(
            problems=result.problems,
            draft={
                "amount": amount,
                "currency": currency,
                "category": category,
                "description": description,
                "link": link,
                "topic": topic,
            },
        )
        return _form(request, context, status_code=422)
    context["filed"] = result.claim_id
    return _form(request, context, status_code=201)
