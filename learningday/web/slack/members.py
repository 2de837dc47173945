"""Who is acting in a Slack request: the Slack user id, resolved through `people.slack_user_id`.

A button in a shared channel can be clicked by anyone, and acts for whoever clicked it; an id we
do not know (or a person no longer in the program) gets UNKNOWN_USER, never someone else's day."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select

from learningday.db.engine import session_scope
from learningday.db.models import Person

UNKNOWN_USER = (
    "Sorry, I don't know your Slack account yet, so I can't record a Learning Day check-in "
    "for you. Please ask your Learning Day admin to add your Slack id to your profile."
)


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    id: int | None = None


MemberFinder = Callable[[str], Awaitable[Member | None]]


def member_for_slack_id(slack_user_id: str) -> Member | None:
    with session_scope() as session:
        person = session.scalars(
            select(Person).where(Person.slack_user_id == slack_user_id, Person.active.is_(True))
        ).first()
        return Member(person.email, person.name, person.id) if person else None


async def find_member(slack_user_id: str) -> Member | None:
    """The member, read in a thread: the event loop answers Slack's other requests meanwhile."""
    return await asyncio.to_thread(member_for_slack_id, slack_user_id)
