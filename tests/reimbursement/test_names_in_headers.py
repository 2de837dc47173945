"""A claimant whose stored name holds a line break (imported before such names were refused) is
still emailed about, and so is their approver: the Subject is made one line, never refused."""

from __future__ import annotations

from sqlalchemy.orm import Session

from learningday.contracts.claims import workflow_id_for
from learningday.db.models import Person
from tests.reimbursement.conftest import Claims
from tests.reimbursement.test_approval_links import emailed_token, open_and_decide
from workflows.reimbursement import ReimbursementWorkflow


async def test_a_line_break_in_the_claimants_name_does_not_stop_the_approval_request(
    claims: Claims, session: Session
) -> None:
    ada = session.get(Person, claims.org.ada.id)
    assert ada is not None
    ada.name = "Ada\r\nLovelace"
    session.commit()

    filed = await claims.file("42.50")
    assert filed.claim_id is not None
    token = await emailed_token(claims, filed.claim_id, "maria@example.com")
    async with claims.web() as web:
        decided = await open_and_decide(web, token)
    assert decided.status_code == 200
    view = await claims.client.get_workflow_handle_for(
        ReimbursementWorkflow.run, workflow_id_for(filed.claim_id)
    ).result()

    assert view.state == "approved"
    [request] = claims.mails_to(claims.org.maria)
    assert request.message["Subject"] == "Approve Ada Lovelace's claim: USD 42.50"
    assert [m.message["Subject"] for m in claims.mails_to(claims.org.ada)] == [
        "Your claim USD 42.50: pending",
        "Your claim USD 42.50: approved",
    ]
