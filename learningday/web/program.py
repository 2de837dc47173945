"""The Program page: the program's health as charts, filtered by date range and team, with every
table downloadable as CSV under the same filters and the same access rule.

Admins see everyone; a manager sees the same page for the people below them; for anyone else
the page does not exist (404).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Request
from markupsafe import Markup
from starlette.responses import Response

from learningday.csv_export import to_csv
from learningday.db.engine import session_scope
from learningday.labels import count, expense_label, flag_label
from learningday.policy_source import current_policy
from learningday.web.access import Scope, Viewer, visible_person_ids
from learningday.web.auth import signed_in
from learningday.web.charts import bar_chart, for_every_screen, line_chart
from learningday.web.program_report import TABLES, ProgramFilter, Table, program_tables
from learningday.web.render import render
from learningday.web.reports import teams_in
from policies.policy import ReimbursementPolicy

router = APIRouter()
MAX_RANGE = dt.timedelta(days=3 * 366)
# The calendar the program's figures can span (a week past the last day must still be a date).
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


def _scope(viewer: Viewer) -> Scope:
    if not viewer.is_manager:
        raise HTTPException(status_code=404, detail="Not found.")
    with session_scope() as session:
        return visible_person_ids(session, viewer)


def _filter(start: dt.date | None, end: dt.date | None, team: str | None) -> ProgramFilter:
    default = ProgramFilter.default(dt.date.today())
    start, end = start or default.start, end or default.end
    if start < EARLIEST or end > LATEST:
        raise HTTPException(status_code=422, detail=f"Choose dates between {EARLIEST} and {LATEST}.")
    if end < start:
        raise HTTPException(status_code=422, detail=f"The range ends ({end}) before it starts ({start}).")
    if end - start > MAX_RANGE:
        raise HTTPException(status_code=422, detail="Choose a range of at most three years.")
    return ProgramFilter(start, end, team or None)


SERIES = {  # the weekly chart's lines: the Table's column, and what the legend calls it
    "participation_rate": "Kept the day (nothing missed)",
    "plan_rate": "Wrote a plan",
    "summary_rate": "Wrote a summary",
}


def _weekly_chart(weeks: Table) -> Markup:
    """The finished weeks' rates as lines. A week with a day still running is left out and named
    below the chart: drawn, it would be a gap or a point made of the days that happen to be over."""
    running = {str(week): int(n) for week, n in zip(weeks.column("week"), weeks.column("running")) if n}  # type: ignore[call-overload]  # Table cells are objects; these are counts
    over = Table(weeks.name, weeks.title, weeks.columns, [row for row in weeks.rows if str(row[0]) not in running])
    chart = for_every_screen(
        line_chart,
        [str(week) for week in over.column("week")],
        {label: [None if v is None else float(v) for v in over.column(column)] for column, label in SERIES.items()},  # type: ignore[arg-type]  # Table cells are objects; rates are numbers or None
        title="Participation (days kept of days held), plan and summary rate per week",
    )
    notes = "".join(
        f'<p class="muted chart-note">The week of {dt.date.fromisoformat(week):%-d %b} is still running '
        f"({count(n, 'day')} open): it is drawn once its days are over.</p>"
        for week, n in running.items()
    )
    return chart + Markup(notes)


def _charts(tables: dict[str, Table], rules: ReimbursementPolicy) -> dict[str, Markup]:
    """Each table drawn from its own columns, by name: the chart shows what the CSV holds."""
    weeks, teams, cats = tables["participation"], tables["teams"], tables["categories"]
    flags, claims, budget = tables["flags"], tables["claims"], tables["budget"]

    def names(table: Table, column: str) -> list[str]:
        return [str(v) for v in table.column(column)]

    def numbers(table: Table, column: str) -> list[float | None]:
        return [None if v is None else float(v) for v in table.column(column)]  # type: ignore[arg-type]  # Table cells are objects; a charted column is numeric

    return {
        "participation": _weekly_chart(weeks),
        "teams": for_every_screen(
            bar_chart,
            names(teams, "team"),
            numbers(teams, "participation_rate"),
            title="Participation per team: days kept of days held",
            percent=True,
        ),
        "categories": for_every_screen(
            bar_chart, names(cats, "label"), numbers(cats, "plans"), title="Plans per category", color="#2b8a3e"
        ),
        "flags": for_every_screen(
            bar_chart,
            [flag_label(k) for k in names(flags, "kind")],
            numbers(flags, "open"),
            title="Open flags by kind",
            color="#c92a2a",
        ),
        "claims": for_every_screen(
            bar_chart,
            [expense_label(k, rules.category_labels) for k in names(claims, "category")],
            numbers(claims, f"approved_{rules.currency}"),
            title="Approved spend per category",
            color="#e8590c",
        ),
        "budget": for_every_screen(
            bar_chart,
            names(budget, "team"),
            numbers(budget, "used_share"),
            title="Budget used per team",
            percent=True,
            color="#862e9c",
        ),
    }


@router.get("/program")
def program_page(
    request: Request,
    start: dt.date | None = None,
    end: dt.date | None = None,
    team: str | None = None,
    viewer: Viewer = Depends(signed_in),
) -> Response:
    scope = _scope(viewer)
    chosen = _filter(start, end, team)
    policy = current_policy()
    with session_scope() as session:
        tables = program_tables(session, scope, chosen, policy)
        teams = teams_in(session, scope)
    query = f"start={chosen.start}&end={chosen.end}" + (f"&team={chosen.team}" if chosen.team else "")
    context = {
        "tables": tables,
        "charts": _charts(tables, policy.reimbursement),
        "filter": chosen,
        "teams": teams,
        "query": query,
        "currency": policy.reimbursement.currency,
    }
    return render(request, "program.html", context, viewer)


def table_csv(table: Table) -> str:
    """The table as CSV; team names and categories are user text, guarded by `to_csv`."""
    return to_csv(table.columns, table.rows)


@router.get("/program/{name}.csv")
def program_csv(
    name: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    team: str | None = None,
    viewer: Viewer = Depends(signed_in),
) -> Response:
    if name not in TABLES:
        raise HTTPException(status_code=404, detail="Not found.")
    scope = _scope(viewer)
    chosen = _filter(start, end, team)
    with session_scope() as session:
        table = program_tables(session, scope, chosen, current_policy())[name]
    filename = f"learningday-{name}-{chosen.start}-{chosen.end}.csv"
    return Response(
        table_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
