"""Links from the Team page to the pages that act: excusing a flag, deciding a claim.

Those pages belong to enforcement (`excuse.py`) and reimbursements (`approvals.py`) and check
the link themselves; here we only decide whether the viewer should be offered one. A feature
that is not installed simply offers no link.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from learningday.db.models import ExpenseClaim, Flag, Person


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


def approval_link(session: Session, claim: ExpenseClaim, viewer_id: int) -> str | None:
    """The approval page of a claim waiting on the viewer, when reimbursements offer one."""
    try:
        from learningday.web import approvals
    except ImportError:
        return None
    make = getattr(approvals, "approval_link_for", None)
    if make is None:
        return None
    link: str | None = make(session, claim, viewer_id)
    return link
