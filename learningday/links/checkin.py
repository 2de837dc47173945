"""Signed links that stand in for a sign-in: a person's check-in page for one Learning Day.

The link carries the person id and date, signed for `Purpose.CHECKIN_LINK` (see
`learningday.tokens`); it cannot be forged or pointed at someone else's day, and it names nobody
in the URL. It expires two weeks after it was made: it is made when the day is set up (at most
a week ahead) and put in the prompts and the calendar hold, and is needed until the day's grace
has run out; the Me page shows a fresh one for the open day.
"""

from __future__ import annotations

import datetime as dt

from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign


def checkin_token(person_id: int, date: dt.date) -> str:
    return sign(Purpose.CHECKIN_LINK, [person_id, date.isoformat()])


def read_checkin_token(token: str) -> tuple[int, dt.date] | None:
    """The (person id, date) of a valid, unexpired check-in link; None otherwise."""
    try:
        person_id, date = read(Purpose.CHECKIN_LINK, token)
        if type(person_id) is not int:
            return None
        return person_id, dt.date.fromisoformat(date)
    except (TokenRefused, ValueError, TypeError):
        return None


def checkin_url(person_id: int, date: dt.date) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/checkin/{checkin_token(person_id, date)}"
