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
from learningday.policy_source import current_policy
from learningday.web.access import Scope, Viewer, visible_person_ids
from learningday.web.auth import signed_in
from learningday.labels import expense_label, flag_label
from learningday.web.charts import bar_chart, line_chart
from learningday.web.program_report import TABLES, ProgramFilter, Table, program_tables
from learningday.web.render import render
from learningday.web.reports import teams_in

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


def _charts(tables: dict[str, Table]) -> dict[str, Markup]:
    weeks = tables["participation"].rows
    teams = tables["teams"].rows
    cats = tables["categories"].rows
    flags = tables["flags"].rows
    claims = tables["claims"].rows
    budget = tables["budget"].rows
    return {
        "participation": line_chart(
            [str(r[0]) for r in weeks],
            {"took part": [r[4] for r in weeks], "plan": [r[5] for r in weeks], "summary": [r[6] for r in weeks]},  # type: ignore[misc]
            title="Participation, plan and summary rate per week",
        ),
        "teams": bar_chart([str(r[0]) for r in teams], [r[4] for r in teams], title="Participation per team", percent=True),  # type: ignore[misc]
        "categories": bar_chart([str(r[1]) for r in cats], [float(r[2]) for r in cats], title="Plans per category", color="#2b8a3e"),  # type: ignore[arg-type]
        "flags": bar_chart([flag_label(r[0]) for r in flags], [float(r[3]) for r in flags], title="Open flags by kind", color="#c92a2a"),  # type: ignore[arg-type]
        "claims": bar_chart([expense_label(str(r[0])) for r in claims], [float(r[5]) for r in claims], title="Approved spend per category", color="#e8590c"),  # type: ignore[arg-type]
        "budget": bar_chart([str(r[0]) for r in budget], [r[4] for r in budget], title="Budget used per team", percent=True, color="#862e9c"),  # type: ignore[misc]
    }


@router.get("/program")
def program_page(
    request: Request, start: dt.date | None = None, end: dt.date | None = None, team: str | None = None,
    viewer: Viewer = Depends(signed_in),
) -> Response:  # fmt: skip
    scope = _scope(viewer)
    chosen = _filter(start, end, team)
    policy = current_policy()
    with session_scope() as session:
        tables = program_tables(session, scope, chosen, policy)
        teams = teams_in(session, scope)
    query = f"start={chosen.start}&end={chosen.end}" + (f"&team={chosen.team}" if chosen.team else "")
    context = {
        "tables": tables, "charts": _charts(tables), "filter": chosen, "teams": teams, "query": query,
        "currency": policy.reimbursement.currency,
    }  # fmt: skip
    return render(request, "program.html", context, viewer)


def table_csv(table: Table) -> str:
    """The table as CSV; team names and categories are user text, guarded by `to_csv`."""
    return to_csv(table.columns, table.rows)


@router.get("/program/{name}.csv")
def program_csv(
    name: str, start: dt.date | None = None, end: dt.date | None = None, team: str | None = None,
    viewer: Viewer = Depends(signed_in),
) -> Response:  # fmt: skip
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
