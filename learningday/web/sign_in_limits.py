"""Rate limits on sign-in mail: at most `sign_in_limit_per_address` links asked for one address,
and `sign_in_limit_per_ip` asked from one client IP, within `sign_in_limit_window_minutes`.

Requests are counted in the database (`sign_in_requests`), so the limits hold however many web
replicas answer. Each request is written and committed first and the window counted after, all
requests included: two requests at the same moment each see the other, so a burst can only be
refused more, never sent more. The address is stored as a keyed digest (`tokens.keyed_digest`),
never in clear; rows older than the window are deleted as new ones come in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from learningday.db.engine import session_scope
from learningday.db.models import SignInRequest
from learningday.settings import get_settings
from learningday.tokens import keyed_digest

PER_ADDRESS = "per-address"
PER_IP = "per-IP"


def address_digest(address: str) -> str:
    return keyed_digest("sign-in-address", address.strip().lower())


def record_sign_in_request(address: str, client_ip: str, now: dt.datetime | None = None) -> tuple[int, str | None]:
    """Count this request: (its id, None) when a link may be sent, or (its id, the limit it is over)."""
    settings = get_settings()
    now = now or dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(minutes=settings.sign_in_limit_window_minutes)
    digest = address_digest(address)
    with session_scope() as session:
        session.execute(delete(SignInRequest).where(SignInRequest.requested_at < since))
        request = SignInRequest(address_hash=digest, client_ip=client_ip[:64], requested_at=now)
        session.add(request)
        session.flush()
        request_id = request.id
    with session_scope() as session:
        recent = select(func.count()).select_from(SignInRequest).where(SignInRequest.requested_at >= since)
        for_address = session.scalar(recent.where(SignInRequest.address_hash == digest)) or 0
        from_ip = session.scalar(recent.where(SignInRequest.client_ip == client_ip[:64])) or 0
    if for_address > settings.sign_in_limit_per_address:
        return request_id, PER_ADDRESS
    if from_ip > settings.sign_in_limit_per_ip:
        return request_id, PER_IP
    return request_id, None
