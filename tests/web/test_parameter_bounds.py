"""Numbers and dates in paths and queries at and beyond their ends (an id past 64 bits, a page
past any offset, the first and last day a date can name) get a 404 or a 422 saying what is
wrong, never a 500: PostgreSQL refuses to bind an integer beyond its column, SQLite beyond 64
bits, and a date cannot step past year 9999."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import THURSDAY, Org, add_day, sign_in

BEYOND_64_BITS = "99999999999999999999"


@pytest.fixture
def web(app: FastAPI, org: Org, session: object) -> Iterator[TestClient]:
    add_day(session, org.alan, THURSDAY, plan="Read the Raft paper")  # type: ignore[arg-type]
    session.commit()  # type: ignore[attr-defined]
    with TestClient(
        app, base_url="http://127.0.0.1:8000", follow_redirects=False, raise_server_exceptions=False
    ) as client:
        yield sign_in(client, org.ada)  # an admin: every id reaches the database


@pytest.mark.parametrize(
    "person_id",
    [
        BEYOND_64_BITS,
        "9223372036854775808",
        "9223372036854775807",
        "2147483648",
        "2147483647",
        "0",
        "-1",
        "-9223372036854775809",
    ],
)
def test_a_person_id_past_what_the_database_holds_is_not_found(web: TestClient, person_id: str) -> None:
    response = web.get(f"/people/{person_id}")

    assert response.status_code in (404, 422), (response.status_code, response.text[:300])


@pytest.mark.parametrize(
    "page", [BEYOND_64_BITS, "9223372036854775807", "184467440737095516", "1000000000000", "-5", "0"]
)
def test_an_archive_page_past_any_offset_is_refused_or_empty_never_a_crash(web: TestClient, page: str) -> None:
    response = web.get("/archive", params={"q": "raft", "page": page})

    assert response.status_code in (200, 422), (response.status_code, response.text[:300])


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01", "end": "0001-01-07"},
        {"start": "9999-12-25", "end": "9999-12-31"},
        {"start": "9999-12-31"},
        {"end": "0001-01-01"},
        {"start": "0001-01-01", "end": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("path", ["/program", "/program/participation.csv", "/program/budget.csv"])
def test_a_program_range_at_the_ends_of_the_calendar_is_answered_never_a_crash(
    web: TestClient, path: str, query: dict[str, str]
) -> None:
    response = web.get(path, params=query)

    assert response.status_code in (200, 422), (response.status_code, response.text[:300])


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_the_days_overview_at_the_ends_of_the_calendar_is_answered(web: TestClient, date: str) -> None:
    response = web.get("/", params={"date": date})

    assert response.status_code in (200, 422), (response.status_code, response.text[:300])


@pytest.mark.parametrize(
    "path",
    [
        "/team?team=Research%00",
        "/archive?q=raft%00",
        "/archive?team=%00",
        "/archive?category=a%00b",
        "/program?team=%00",
        "/program/teams.csv?team=%00x",
        "/people/1%00",
    ],
)
def test_a_nul_character_in_a_path_or_query_is_refused_naming_it(web: TestClient, path: str) -> None:
    """Found by the fuzz run on PostgreSQL, which cannot compare or store text holding NUL."""
    response = web.get(path)

    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert "NUL" in response.text or "person_id" in response.text


def test_a_nul_character_in_a_check_in_form_is_refused_naming_the_field(web: TestClient) -> None:
    found = re.search(r'name="(csrf_token|csrf)" value="([^"]+)"', web.get("/me").text)
    assert found, "the Me page's form carries no CSRF token"

    response = web.post("/me/checkin/plan", data={"text": "Read\x00 the paper", found.group(1): found.group(2)})

    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert "text" in response.text and "NUL" in response.text
