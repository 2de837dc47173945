"""The Program page's numbers and charts read at a glance: participation counts misses exactly as
the Team page does, no label is cut without its full text at hand, a single week still reads,
the weekly chart's legend names each series where it can be read, and a week still running is
named as running instead of drawn as an empty or partial point."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import DayState, FlagKind
from learningday.web.access import ALL
from learningday.web.charts import bar_chart, line_chart
from learningday.web.program_report import ProgramFilter, program_tables
from learningday.web.reports import day_rows, week_of
from policies.policy import SEED_CATEGORIES, Policy
from tests.web.conftest import RANGE, THURSDAY, TODAY, WEEK, Org, add_day, add_flag, sign_in

LABEL = re.compile(
    r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)" class="chart-label">(?:<title>([^<]*)</title>)?([^<]*)</text>'
)
LEGEND = re.compile(r'<g class="chart-legend-entry">.*?<text x="([\d.]+)"[^>]*>([^<]*)</text></g>')


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
    add_flag(
        session, add_day(session, org.linus, earlier, state=DayState.planning), FlagKind.missed_plan
    )  # missed, running
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


def test_a_category_label_cut_for_room_keeps_its_full_text_as_a_tooltip() -> None:
    labels = list(SEED_CATEGORIES.values())
    svg = str(bar_chart(labels, [3.0] * len(labels), title="Plans per category"))

    drawn = LABEL.findall(svg)
    assert len(drawn) == len(labels)
    for (_, _, tooltip, shown), label in zip(drawn, labels):
        if shown != label:
            assert shown.endswith("…") and tooltip == label
    first_bar = float(re.search(r'<rect x="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert first_bar >= 6 * max(len(shown) for *_, shown in drawn)  # the label column fits its longest label


def test_a_single_week_is_drawn_as_labelled_bars_not_a_lone_dot() -> None:
    svg = str(line_chart(["2026-11-23"], {"Kept the day": [0.5], "Wrote a plan": [1.0]}, title="Participation"))

    assert "<circle" not in svg
    assert svg.count('class="chart-value"') == 2
    assert ">50%<" in svg and ">100%<" in svg
    assert "Week of 2026-11-23" in svg and "Kept the day" in svg and "Wrote a plan" in svg


def test_the_legend_gives_each_series_room_for_its_name() -> None:
    series = {
        "Kept the day (plan and summary)": [0.5, 0.75],
        "Wrote a plan": [1.0, 1.0],
        "Wrote a summary": [0.5, 0.75],
    }
    svg = str(line_chart(["2026-11-16", "2026-11-23"], series, title="Participation"))

    entries = [(float(x), name) for x, name in LEGEND.findall(svg)]
    assert [name for _, name in entries] == list(series)
    for (x, name), (next_x, _) in zip(entries, entries[1:]):
        assert next_x > x + 7 * len(name) or next_x < x, f"{name!r} runs into the next entry"  # or wraps to a new row
    assert len(set(re.findall(r'stroke-dasharray="([^"]+)"', svg))) == 2  # with solid: three line styles


def test_the_running_week_is_named_as_running_not_drawn_as_an_empty_point(
    session: Session, org: Org, client: TestClient
) -> None:
    two_weeks_ago, last_week = THURSDAY - 2 * WEEK, THURSDAY - WEEK
    for date in (two_weeks_ago, last_week):
        add_day(session, org.alan, date, plan="Raft", summary="Raft, done")
        add_flag(session, add_day(session, org.linus, date, plan="Rust"))  # missed summary
    add_day(session, org.alan, THURSDAY, plan="Paxos", state=DayState.planning)  # still running
    add_day(session, org.linus, THURSDAY, state=DayState.planning)
    session.commit()
    admin = sign_in(client, org.ada)

    page = admin.get("/program", params=RANGE).text
    weekly = page[page.index('id="table-participation"') : page.index('id="table-teams"')]
    rows = admin.get("/program/participation.csv", params=RANGE).text.splitlines()

    laptop = re.search(r'<svg class="chart chart-wide".*?</svg>', weekly)
    assert laptop is not None
    axis = re.findall(r'class="chart-axis">(\d\d-\d\d)</text>', laptop.group(0))
    assert axis == [week_of(two_weeks_ago).isoformat()[5:], week_of(last_week).isoformat()[5:]]
    assert f"The week of {week_of(THURSDAY):%-d %b} is still running (2 days open)" in weekly
    assert rows[0].endswith(",running") and rows[-1].startswith(week_of(THURSDAY).isoformat())
    assert rows[-1].endswith(",2") and rows[1].endswith(",0")


def test_on_a_phone_each_chart_is_drawn_at_phone_width_with_its_labels_above_the_bars(
    session: Session, org: Org, client: TestClient
) -> None:
    for n in (3, 2, 1):
        add_day(session, org.alan, THURSDAY - n * WEEK, plan="Bell Labs", summary="Read it", category="management")
    session.commit()

    page = sign_in(client, org.ada).get("/program", params=RANGE).text

    for name in ("participation", "teams", "categories", "flags", "budget"):
        section = page[page.index(f'id="table-{name}"') :].split("</section>", 1)[0]
        [laptop] = re.findall(r'<svg class="chart chart-wide"[^>]*viewBox="0 0 (\d+) ', section)
        [phone] = re.findall(r'<svg class="chart chart-phone"[^>]*viewBox="0 0 (\d+) ', section)
        # In a 300 px card (a 360 px screen), 12-unit text is 5.6 px in the laptop drawing, 12 px in the phone's.
        assert (int(laptop), int(phone)) == (640, 300), name
    categories = page[page.index('id="table-categories"') :].split("</section>", 1)[0]
    phone_chart = re.search(r'<svg class="chart chart-phone".*?</svg>', categories)
    assert phone_chart is not None
    lines = LABEL.findall(phone_chart.group(0))
    assert [(x, anchor, tooltip) for x, anchor, tooltip, _ in lines] == [
        ("0.0", "start", "")
    ] * 2  # above its bar, from the left edge
    assert " ".join(shown for *_, shown in lines) == SEED_CATEGORIES["management"]  # on two lines, uncut


def test_an_excused_check_in_is_kept_and_a_day_used_for_work_missed_as_the_flag_emails_count_them(
    session: Session, org: Org
) -> None:
    """One truth: the Team page's marks and the Program's rates count a day as its unexcused
    flags do (`day_status`, which the flag emails and escalation use)."""
    earlier = THURSDAY - WEEK
    excused = add_flag(session, add_day(session, org.alan, earlier, plan="Raft"))  # no summary: an absence
    excused.excused_at = excused.raised_at
    add_flag(session, add_day(session, org.alan, THURSDAY, plan="Paxos", summary="Paxos"), FlagKind.used_for_work)
    session.commit()

    marks = {row.day.date: row.mark for row in day_rows(session, [org.alan.id])}
    assert marks == {earlier: "kept", THURSDAY: "missed"}
    tables = program_tables(session, ALL, ProgramFilter(THURSDAY - 4 * WEEK, TODAY), Policy())
    assert tables["teams"].rows == [["Research", 2, 1, 2, 1, 0.5, 1.0, 0.5]]
