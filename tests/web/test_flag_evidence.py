"""A flag's evidence on the Team page reads like the flag email: sentences, times in the
viewer's timezone, the meetings as a list of titles, the words that matched; never a Python
repr of the stored record."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import Flag, FlagKind
from tests.web.conftest import NOW, THURSDAY, Org, add_day, sign_in


def test_a_managers_team_page_shows_evidence_in_words_and_in_their_timezone(
    client: TestClient, session: Session, org: Org
) -> None:
    org.barbara.timezone = "America/New_York"
    day = add_day(session, org.linus, THURSDAY)
    start = dt.datetime.combine(THURSDAY, dt.time(14, 0), dt.UTC)
    session.add_all(
        [
            Flag(
                person_id=org.linus.id,
                learning_day_id=day.id,
                kind=FlagKind.used_for_work,
                date=THURSDAY,
                reason="Learning Day used for work: the plan reads as project work.",
                raised_at=NOW,
                evidence={
                    "facts": [
                        "Meeting accepted: Sprint planning (6 attendees)",
                        "Work words in the plan: sprint, ticket",
                    ],
                    "events": [
                        {
                            "title": "Sprint planning",
                            "start": start.isoformat(),
                            "end": (start + dt.timedelta(minutes=90)).isoformat(),
                            "why": "meeting accepted",
                        }
                    ],
                },
            ),
            Flag(
                person_id=org.linus.id,
                learning_day_id=day.id,
                kind=FlagKind.missed_plan,
                date=THURSDAY,
                reason="No plan by the deadline plus grace (12:30 UTC).",
                raised_at=NOW,
                evidence={
                    "cutoff": dt.datetime.combine(THURSDAY, dt.time(12, 30), dt.UTC).isoformat(),
                    "prompts": ["plan:prompt:0", "plan:reminder:0"],
                },
            ),
        ]
    )
    session.commit()

    flags = sign_in(client, org.barbara).get("/team").text.split('id="flags"')[1].split("</table>")[0]

    assert "Work words in the plan: sprint, ticket" in flags
    assert "Calendar (America/New_York)" in flags
    local = start.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%a %d %b %H:%M}–{local + dt.timedelta(minutes=90):%H:%M}</span> Sprint planning" in flags
    assert "Deadline plus grace:" in flags and "(America/New_York)" in flags
    assert "Prompts and reminders sent: 2" in flags
    for repr_ in ("plan:prompt:0", "[&#39;", "{&#39;", "[{", "&#39;title&#39;"):
        assert repr_ not in flags, repr_
