"""Approval links: a signed, expiring token bound to one claim, one approver, one level and one
nonce (the token id).

The signature (itsdangerous, the secret key, a salt of its own so no other signed link of ours
is accepted here) makes the token unforgeable and untamperable; the expiry is inside the signed
payload so it follows the claim's (possibly time-compressed) deadline. Single use is not in the
token: it is the `used_tokens` row the decision inserts, and the workflow's check that the token
is the current one for that approver.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from learningday.settings import get_settings

_SALT = "learningday.claim-approval"
_CSRF_CONTEXT = b"learningday.claim-approval.csrf"
# A hard cap on any link's age, whatever the payload says: no claim lives longer than this.
MAX_AGE_SECONDS = 400 * 24 * 3600


@dataclass(frozen=True)
class ApprovalLink:
    claim_id: int
    approver_id: int
    level: int
    token_id: str
    expires_at: dt.datetime


class LinkRefused(Exception):
    """Why a link cannot be used, in words for the person holding it."""


def _serializer(secret: str | None = None) -> URLSafeTimedSerializer:
    key = secret or get_settings().secret_key.get_secret_value()
    return URLSafeTimedSerializer(key, salt=_SALT)


def approval_token(link: ApprovalLink, secret: str | None = None) -> str:
    payload = [link.claim_id, link.approver_id, link.level, link.token_id, int(link.expires_at.timestamp())]
    return str(_serializer(secret).dumps(payload))


def read_approval_token(token: str, now: dt.datetime | None = None) -> ApprovalLink:
    """The link a token stands for; raises `LinkRefused` if forged, tampered with or expired."""
    try:
        claim_id, approver_id, level, token_id, expires = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
        expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
        link = ApprovalLink(int(claim_id), int(approver_id), int(level), str(token_id), expires_at)
    except (BadSignature, ValueError, TypeError):
        raise LinkRefused(
            "This approval link is not valid: it may have been altered or copied incompletely. "
            "Use the link from the most recent email."
        ) from None
    if (now or dt.datetime.now(dt.UTC)) >= link.expires_at:
        raise LinkRefused("This approval link has expired, and the claim with it. Nothing was changed.")
    return link


def approval_url(link: ApprovalLink) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/approve/{approval_token(link)}"


def csrf_token(link_token: str, nonce: str) -> str:
    """The form's CSRF token: an HMAC binding the page's cookie nonce to this very link.

    Double submit: the nonce travels in a cookie and the HMAC in the form; a cross-site page can
    make the browser send the cookie, but cannot read it to compute the matching form value.
    """
    key = hashlib.sha256(_CSRF_CONTEXT + get_settings().secret_key.get_secret_value().encode()).digest()
    return hmac.new(key, f"{nonce}:{link_token}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(link_token: str, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token(link_token, nonce), submitted)
