"""Excuse links: a manager's signed, expiring link to excuse one flag, bound to (flag, manager).

The link is signed for `Purpose.EXCUSE_LINK` (see `learningday.tokens`) and lasts 30 days; the
flag emails and DMs carry it, and the excuse page (learningday/web/excuse.py) reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign


def excuse_token(flag_id: int, manager_id: int) -> str:
    return sign(Purpose.EXCUSE_LINK, [flag_id, manager_id])


def excuse_url(flag_id: int, manager_id: int) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/excuse/{excuse_token(flag_id, manager_id)}"


@dataclass(frozen=True)
class ExcuseLink:
    flag_id: int
    manager_id: int

    @property
    def token_id(self) -> str:
        return f"excuse:{self.flag_id}:{self.manager_id}"


def read_excuse_token(token: str) -> ExcuseLink | str:
    """The link's (flag, manager), or why it cannot be used."""
    try:
        flag_id, manager_id = read(Purpose.EXCUSE_LINK, token)
        return ExcuseLink(int(flag_id), int(manager_id))
    except TokenRefused as refused:
        if refused.expired:
            return "This link has expired. Excuse the flag from a newer email, or ask the program owner."
        return "This link is not valid. Use the link exactly as it arrived in the email."
    except (ValueError, TypeError):
        return "This link is not valid. Use the link exactly as it arrived in the email."
