"""Who sees what: learners their own records, managers everyone below them (however deep),
admins everyone; anything else is a 404 exactly like a record that does not exist."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from learningday.db.models import ClaimState, Person
from learningday.web.access import ALL, reports_below, viewer_for, visible_person_ids
from tests.web.conftest import (
    RANGE,
    THURSDAY,
    WEEK,
    Org,
    add_claim,
    add_day,
    add_flag,
    sign_in,
)

CSV_TABLES = ["participation", "teams", "categories", "flags", "claims", "budget"]


@pytest.fixture
def history(session: Session, org: Org) -> Org:
    """Each learner has a day; Alan and Linus each have an open flag and a pending claim."""
    for person, text in [
        (org.alan, "Reading the Attention paper"),
        (org.linus, "Rust ownership deep dive"),
        (org.margaret, "Coaching basics"),
    ]:
        add_day(session, person, THURSDAY, plan=text, summary=f"Finished: {text}")
    add_flag(session, add_day(session, org.alan, THURSDAY - WEEK, plan="Bayesian stats"))
    add_flag(session, add_day(session, org.linus, THURSDAY - WEEK, plan="Compilers"))
    add_claim(session, org.alan, "40.00")
    add_claim(session, org.linus, "55.00")
    add_claim(session, org.linus, "30.00", ClaimState.approved)
    session.commit()
    return org


def test_scopes_follow_the_manager_chain_transitively(session: Session, org: Org) -> None:
    def scope(person: Person) -> set[int]:
        return visible_person_ids(session, viewer_for(session, person))

    assert scope(org.alan) == {org.alan.id}
    assert scope(org.margaret) == {org.margaret.id, org.alan.id}
    assert scope(org.grace) == {org.grace.id, org.margaret.id, org.alan.id}  # skip-level sees Alan
    assert scope(org.barbara) == {org.barbara.id, org.linus.id}
    assert scope(org.ada) is ALL
    assert reports_below(session, org.linus.id) == set()


def test_a_manager_cycle_in_stored_data_does_not_hang(session: Session, org: Org) -> None:
    org.grace.manager_id = org.alan.id  # the importer refuses this; stored data might still hold it
    session.commit()
    assert reports_below(session, org.grace.id) == {org.margaret.id, org.alan.id}


def test_pages_need_a_sign_in(client: TestClient, org: Org) -> None:
    for path in [
        "/",
        "/me",
        "/team",
        "/program",
        "/archive",
        "/channel",
        f"/people/{org.alan.id}",
        "/program/flags.csv",
    ]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/auth/login?next=")


def test_a_learner_sees_only_their_own_person_page(client: TestClient, history: Org) -> None:
    sign_in(client, history.alan)
    assert client.get(f"/people/{history.alan.id}").status_code == 200
    for other in [history.margaret, history.grace, history.linus, history.ada]:
        assert client.get(f"/people/{other.id}").status_code == 404
    missing = client.get("/people/999999")
    refused = client.get(f"/people/{history.linus.id}")
    assert (missing.status_code, missing.text) == (refused.status_code, refused.text)


def test_a_learner_has_no_program_page_or_exports(client: TestClient, history: Org) -> None:
    sign_in(client, history.alan)
    assert client.get("/program").status_code == 404
    for table in CSV_TABLES:
        assert client.get(f"/program/{table}.csv").status_code == 404


def test_a_learners_me_page_shows_their_records_and_nobody_elses(client: TestClient, history: Org) -> None:
    page = sign_in(client, history.alan).get("/me").text
    assert "Reading the Attention paper" in page
    assert "40.00" in page  # Alan's claim
    assert "Rust ownership" not in page and "55.00" not in page


def test_a_skip_level_manager_sees_the_whole_chain(client: TestClient, history: Org) -> None:
    sign_in(client, history.grace)
    for person in [history.margaret, history.alan]:
        assert client.get(f"/people/{person.id}").status_code == 200
    team = client.get("/team").text
    assert "Alan Learner" in team and "Margaret Lead" in team
    assert "Linus Learner" not in team and "Rust ownership" not in team


def test_a_manager_trying_another_teams_person_by_id_gets_404_everywhere(client: TestClient, history: Org) -> None:
    sign_in(client, history.barbara)
    for person in [history.alan, history.margaret, history.grace, history.ada]:
        assert client.get(f"/people/{person.id}").status_code == 404
    assert client.get(f"/people/{history.linus.id}").status_code == 200
    team = client.get("/team").text
    assert "Linus Learner" in team and "Alan Learner" not in team and "40.00" not in team
    program = client.get("/program", params=RANGE).text
    assert "Research" not in program  # another team's figures never appear, not even its name
    for table in CSV_TABLES:
        body = client.get(f"/program/{table}.csv", params=RANGE).text
        assert "Research" not in body, table
    # Asking for the other team by name gives empty tables, not their numbers.
    research = client.get("/program/teams.csv", params={**RANGE, "team": "Research"})
    assert research.status_code == 200 and research.text.strip().splitlines()[1:] == []


def test_a_managers_csv_counts_only_their_people(client: TestClient, history: Org) -> None:
    sign_in(client, history.barbara)
    rows = client.get("/program/teams.csv", params=RANGE).text.splitlines()
    assert rows[0] == "team,days,kept,plans,summaries,participation_rate,plan_rate,summary_rate"
    assert rows[1:] == ["Platform,2,1,2,1,0.5,1.0,0.5"]  # Linus kept one day and missed a summary


def test_an_admin_sees_everyone(client: TestClient, history: Org) -> None:
    sign_in(client, history.ada)
    for person in history.everyone():
        assert client.get(f"/people/{person.id}").status_code == 200
    teams = client.get("/program/teams.csv", params=RANGE).text
    assert "Platform" in teams and "Research" in teams
    assert client.get("/").status_code == 200  # the days overview


def test_non_admins_are_sent_from_the_days_overview_to_their_page(client: TestClient, history: Org) -> None:
    response = sign_in(client, history.grace).get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/me")


def test_team_page_lists_open_flags_and_pending_claims_in_scope_only(client: TestClient, history: Org) -> None:
    team = sign_in(client, history.margaret).get("/team").text
    assert "No summary posted" in team and "No summary by the deadline" in team
    assert "40.00" in team and "55.00" not in team


def test_archive_search_is_company_wide_by_default_but_links_only_visible_people(
    client: TestClient, history: Org
) -> None:
    page = sign_in(client, history.alan).get("/archive", params={"q": "rust"}).text
    assert "ownership deep dive" in page  # shared in the channel to motivate others
    assert f'href="/people/{history.linus.id}"' not in page


def test_archive_follows_record_scope_when_configured(client: TestClient, history: Org, auth_mode) -> None:  # type: ignore[no-untyped-def]
    auth_mode(archive_visibility="scope")
    page = sign_in(client, history.alan).get("/archive", params={"q": "rust"}).text
    assert "ownership deep dive" not in page
    own = client.get("/archive", params={"q": "attention"}).text
    assert "<mark>Attention</mark> paper" in own


def test_the_channel_is_for_everyone_unless_the_archive_follows_record_scope(
    client: TestClient, history: Org, auth_mode
) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, history.alan).get("/channel").status_code == 200
    auth_mode(archive_visibility="scope")
    assert client.get("/channel").status_code == 404
    client.cookies.clear()
    assert sign_in(client, history.ada).get("/channel").status_code == 200
