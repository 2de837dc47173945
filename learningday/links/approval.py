"""Approval links: a signed, expiring token bound to one claim, one approver, one level and one
nonce (the token id).

The token is signed for `Purpose.APPROVAL_LINK` (see `learningday.tokens`: the secret key, a
salt of its own so no other signed link of ours is accepted here), which makes it unforgeable
and untamperable and caps its age; the link's own expiry is inside the signed payload too, so it
follows the claim's (possibly time-compressed) deadline. Single use is not in the token: it is
the `used_tokens` row the decision inserts, and the workflow's check that the token is the
current one for that approver. The approval page's form carries the CSRF token of `web.csrf`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign


@dataclass(frozen=True)
class ApprovalLink:
    claim_id: int
    approver_id: int
    level: int
    token_id: str
    expires_at: dt.datetime


class LinkRefused(Exception):
    """Why a link cannot be used, in words for the person holding it."""


def approval_token(link: ApprovalLink) -> str:
    payload = [link.claim_id, link.approver_id, link.level, link.token_id, int(link.expires_at.timestamp())]
    return sign(Purpose.APPROVAL_LINK, payload)


def read_approval_token(token: str, now: dt.datetime | None = None) -> ApprovalLink:
    """The link a token stands for; raises `LinkRefused` if forged, tampered with or expired."""
    try:
        claim_id, approver_id, level, token_id, expires = read(Purpose.APPROVAL_LINK, token)
        expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
        link = ApprovalLink(int(claim_id), int(approver_id), int(level), str(token_id), expires_at)
    except TokenRefused as refused:
        if refused.expired:  # older than any claim lives
            raise LinkRefused("This approval link has expired, and the claim with it. Nothing was changed.") from None
        raise _not_valid() from None
    except (ValueError, TypeError, OverflowError, OSError):
        raise _not_valid() from None
    if (now or dt.datetime.now(dt.UTC)) >= link.expires_at:
        raise LinkRefused("This approval link has expired, and the claim with it. Nothing was changed.")
    return link


def _not_valid() -> LinkRefused:
    return LinkRefused(
        "This approval link is not valid: it may have been altered or copied incompletely. "
        "Use the link from the most recent email."
    )


def approval_url(link: ApprovalLink) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/approve/{approval_token(link)}"
