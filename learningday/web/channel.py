"""The local channel page: plans and summaries shared without Slack, threaded as Slack threads them.

In Slack a person's summary is posted in their plan's thread, so the channel reads as one thread
per person per Learning Day. The local chat records each post in the outbox under the key the
day's workflow gave it, `channel:learning-day-<person id>-<date>:<kind>`, which names whose day
it is: that key, not the post's text, is what places a post in its thread.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from starlette.responses import Response

from learningday.contracts.chat import LOCAL_CHANNEL
from learningday.db.engine import session_scope
from learningday.db.models import OutboxMessage, Person
from learningday.settings import get_settings
from learningday.web.access import Viewer
from learningday.web.auth import signed_in
from learningday.web.render import render

router = APIRouter()

POST_LIMIT = 200  # the newest posts; older ones are in the archive
# The key a day gives its post, "channel:<workflow id>:<kind>" with the workflow id
# "learning-day-<person id>-<date>" (learningday.contracts.day.channel_post_key and
# workflow_id_for; the tests build their posts with those, so a change of format fails them).
POST_KEY = re.compile(r"channel:learning-day-(?P<person>\d+)-(?P<date>\d{4}-\d{2}-\d{2}):(?P<kind>plan|summary)")


@dataclass(frozen=True)
class Post:
    """One message in the channel: its text without the header line the thread already shows."""

    text: str
    at: dt.datetime


@dataclass
class Thread:
    """A person's Learning Day in the channel: the plan, and the summary posted in its thread.

    A post whose key names no day (one not made by a day's workflow) is a thread of its own,
    `loose`, so nothing posted disappears from the page."""

    date: dt.date
    person_id: int | None
    person_name: str
    plan: Post | None = None
    summary: Post | None = None
    loose: Post | None = None

    @property
    def anchor(self) -> str:
        return f"thread-{self.person_id}-{self.date}" if self.person_id is not None else f"thread-post-{id(self)}"


def _post(message: OutboxMessage) -> Post:
    body = message.body
    if message.subject and body.startswith(message.subject):
        body = body[len(message.subject) :].lstrip("\n")
    return Post(body, message.created_at)


def threads(messages: list[OutboxMessage], names: dict[int, str]) -> list[tuple[dt.date, list[Thread]]]:
    """The posts as threads grouped by day, newest day first; within a day, people by name."""
    by_day: dict[tuple[int, dt.date], Thread] = {}
    loose: list[Thread] = []
    for message in messages:
        key = POST_KEY.fullmatch(message.idempotency_key)
        if key is None:
            name = message.subject or message.recipient
            loose.append(Thread(message.created_at.date(), None, name, loose=_post(message)))
            continue
        person_id, date = int(key["person"]), dt.date.fromisoformat(key["date"])
        thread = by_day.setdefault(
            (person_id, date), Thread(date, person_id, names.get(person_id) or (message.subject or "").split("'s ")[0])
        )
        setattr(thread, key["kind"], _post(message))
    days: dict[dt.date, list[Thread]] = {}
    for thread in [*by_day.values(), *loose]:
        days.setdefault(thread.date, []).append(thread)
    return [
        (date, sorted(days[date], key=lambda t: (t.person_id is None, t.person_name.casefold())))
        for date in sorted(days, reverse=True)
    ]


@router.get("/channel")
def channel_page(request: Request, viewer: Viewer = Depends(signed_in)) -> Response:
    """The shared channel of the embedded default.

    Its posts are not scoped per person, so with archive_visibility=scope only admins see it."""
    if get_settings().archive_visibility != "company" and not viewer.is_admin:
        raise HTTPException(status_code=404, detail="Not found.")
    with session_scope() as session:
        messages = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == LOCAL_CHANNEL)
            .order_by(OutboxMessage.id.desc())
            .limit(POST_LIMIT)
        ).all()
        ids = {int(m["person"]) for m in (POST_KEY.fullmatch(p.idempotency_key) for p in messages) if m}
        names = {pid: name for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))}
        days = threads(list(messages), names)
    return render(request, "channel.html", {"days": days}, viewer)
