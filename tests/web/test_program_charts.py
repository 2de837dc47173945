"""The Program page's numbers: participation counts misses exactly as the Team page does."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import DayState, FlagKind
from learningday.web.access import ALL
from learningday.web.program_report import ProgramFilter, program_tables
from learningday.web.reports import day_rows, week_of
from policies.policy import Policy
from tests.web.conftest import RANGE, THURSDAY, TODAY, WEEK, Org, add_day, add_flag, sign_in


def test_a_team_with_a_missed_plan_is_not_at_full_participation(session: Session, org: Org, client: TestClient) -> None:
    add_day(session, org.linus, THURSDAY - WEEK, plan="Rust ownership", summary="Lifetimes click now")
    missed = add_day(session, org.linus, THURSDAY, summary="Read about lifetimes anyway")  # no plan: flagged
    add_flag(session, missed, FlagKind.missed_plan)
    session.commit()

    rows = sign_in(client, org.ada).get("/program/teams.csv", params=RANGE).text.splitlines()

    assert rows == [
        "team,days,kept,plans,summaries,participation_rate,plan_rate,summary_rate",
        "Platform,2,1,1,2,0.5,0.5,1.0",
    ]


def test_participation_agrees_with_the_team_pages_kept_and_missed(session: Session, org: Org) -> None:
    earlier = THURSDAY - WEEK
    add_day(session, org.alan, earlier, plan="Raft", summary="Raft, done")  # kept
    add_flag(session, add_day(session, org.alan, THURSDAY, plan="Paxos"))  # missed summary
    add_day(session, org.margaret, earlier, plan="Coaching", summary="Coached", state=DayState.skipped)  # a holiday
    add_day(session, org.margaret, TODAY + WEEK, plan="Next week's plan", state=DayState.planning)  # still running
    add_flag(session, add_day(session, org.linus, earlier, state=DayState.planning), FlagKind.missed_plan)  # missed, running
    add_day(session, org.linus, THURSDAY, plan="Rust", summary="Rust, done")  # kept
    session.commit()

    chosen = ProgramFilter(THURSDAY - 4 * WEEK, TODAY + WEEK)
    tables = program_tables(session, ALL, chosen, Policy())
    marks = [(row.day.person.team, row.day.date, row.mark) for row in day_rows(session, [p.id for p in org.everyone()])]

    def kept_of_held(rows: list[tuple[str | None, object, str]]) -> list[int]:
        return [sum(mark == "kept" for *_, mark in rows), sum(mark in ("kept", "missed") for *_, mark in rows)]

    teams = {row[0]: row[1:3][::-1] for row in tables["teams"].rows}
    assert teams == {team: kept_of_held([m for m in marks if m[0] == team]) for team in ("Research", "Platform")}
    weeks = {row[0]: row[1:3][::-1] for row in tables["participation"].rows}
    for week, (kept, held) in weeks.items():
        assert [kept, held] == kept_of_held([m for m in marks if week_of(m[1]).isoformat() == week]), week  # type: ignore[arg-type]
    assert tables["teams"].column("participation_rate") == [0.5, 0.5]  # Platform, Research: one kept of two each
