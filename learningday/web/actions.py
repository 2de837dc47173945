"""Links from the Team page to the pages that act: excusing a flag, deciding a claim.

Those pages belong to enforcement (`excuse.py`) and reimbursements (`approvals.py`) and check
the link themselves; here we only decide whether the viewer should be offered one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from learningday.db.models import ExpenseClaim, Flag, Person
from learningday.web.review import review_path


def _managers_above(session: Session, person_id: int, levels: int) -> list[int]:
    chain: list[int] = []
    current = session.get(Person, person_id)
    while current is not None and current.manager_id is not None and len(chain) < levels:
        chain.append(current.manager_id)
        current = session.get(Person, current.manager_id)
    return chain


def excuse_link(session: Session, flag: Flag, viewer_id: int) -> str | None:
    """The excuse page for the person's manager or skip-level manager (who get the flag emails)."""
    if viewer_id not in _managers_above(session, flag.person_id, 2):
        return None
    try:
        from learningday.links.excuse import excuse_token
    except ImportError:
        return None
    return f"/excuse/{excuse_token(flag.id, viewer_id)}"


def approval_link(claim: ExpenseClaim) -> str:
    """The Team page's way to a pending claim's approval page. Whether the viewer may decide it
    now is the claim's workflow's to say (`review.review_from_team` asks it), not this page's."""
    return review_path(claim.id)
