"""Links from the Team page to the pages that act: excusing a flag, deciding a claim.

Those pages belong to enforcement (`excuse.py`) and reimbursements (`approvals.py`) and check
the link themselves; here we only decide whether the viewer should be offered one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from learningday.db.models import ExpenseClaim, Flag, Person
from learningday.links.excuse import excuse_token
from learningday.web.review import review_path
from policies.enforcement import may_excuse


def excuse_link(session: Session, flag: Flag, viewer_id: int) -> str | None:
    """The excuse page for whoever may excuse the flag (`policies.enforcement.may_excuse`: the
    person's manager or skip-level manager, who get the flag emails), the rule the page checks."""
    person = session.get(Person, flag.person_id)
    manager = session.get(Person, person.manager_id) if person and person.manager_id else None
    if person is None or not may_excuse(viewer_id, person.manager_id, manager.manager_id if manager else None):
        return None
    return f"/excuse/{excuse_token(flag.id, viewer_id)}"


def approval_link(claim: ExpenseClaim) -> str:
    """The Team page's way to a pending claim's approval page. Whether the viewer may decide it
    now is the claim's workflow's to say (`review.review_from_team` asks it), not this page's."""
    return review_path(claim.id)
