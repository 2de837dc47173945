"""Signed links that stand in for a sign-in: a person's check-in page for one Learning Day.

The link carries the person id and date, signed with the secret key; it cannot be forged or
pointed at someone else's day, and it names nobody in the URL.
"""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, URLSafeSerializer

from learningday.settings import get_settings

_SALT = "learningday.checkin"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def checkin_token(person_id: int, date: dt.date) -> str:
    return str(_serializer().dumps([person_id, date.isoformat()]))


def read_checkin_token(token: str) -> tuple[int, dt.date] | None:
    try:
        person_id, date = _serializer().loads(token)
        return int(person_id), dt.date.fromisoformat(date)
    except (BadSignature, ValueError, TypeError):
        return None


def checkin_url(person_id: int, date: dt.date) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/checkin/{checkin_token(person_id, date)}"
