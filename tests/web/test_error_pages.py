"""Errors a person meets in a browser are pages in the site's layout that say what happened and
where to go; API clients, Slack, the probes and /metrics keep the JSON (or plain text) answers
they parse."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from tests.web.conftest import Org, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}


def test_a_browser_outside_its_scope_gets_a_not_found_page_with_the_way_back(client: TestClient, org: Org) -> None:
    sign_in(client, org.alan)
    response = client.get(f"/people/{org.linus.id}", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text
    assert "not yours to see" in response.text
    assert 'href="/me"' in response.text and "Go to your page" in response.text
    assert 'href="/static/app.css"' in response.text  # the site's layout
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_an_api_client_keeps_the_json_detail(client: TestClient, org: Org) -> None:
    sign_in(client, org.alan)
    response = client.get(f"/people/{org.linus.id}", headers=API)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}  # */* is not a browser


def test_slack_the_probes_and_metrics_never_answer_with_a_page(client: TestClient) -> None:
    for path in ("/slack/no-such-endpoint", "/metrics/nothing", "/healthz/nothing", "/readyz/nothing"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json", path


def test_a_signed_out_browser_is_told_to_sign_in_not_to_go_to_its_page(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=BROWSER)
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.text
    assert 'href="/auth/login"' in response.text and "Go to your page" not in response.text


def test_the_sign_in_redirect_stays_a_redirect_for_a_browser(client: TestClient) -> None:
    response = client.get("/me", headers=BROWSER)
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/login")


def test_an_unreadable_parameter_is_a_page_naming_the_field(client: TestClient, org: Org) -> None:
    sign_in(client, org.ada)
    response = client.get("/?date=next-thursday", headers=BROWSER)
    assert response.status_code == 422
    assert "<h1>Not understood</h1>" in response.text
    assert "date: Input should be a valid date" in response.text
    assert client.get("/?date=next-thursday", headers=API).json()["detail"][0]["loc"] == ["query", "date"]


def test_a_refusal_keeps_its_own_words_on_the_page(client: TestClient, org: Org) -> None:
    sign_in(client, org.ada)
    response = client.get("/program?start=2001-01-01&end=2026-01-01", headers=BROWSER)
    assert response.status_code == 422
    assert "Choose a range of at most three years." in response.text


def test_a_forbidden_action_is_a_page(app: FastAPI, client: TestClient) -> None:
    def forbidden() -> None:
        raise HTTPException(status_code=403, detail="Only the claim's approver may do this.")

    app.add_api_route("/forbidden", forbidden)
    response = client.get("/forbidden", headers=BROWSER)
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text and "Only the claim&#39;s approver may do this." in response.text
    assert client.get("/forbidden", headers=API).json() == {"detail": "Only the claim's approver may do this."}


def test_an_unhandled_error_is_a_page_for_a_browser_and_plain_text_otherwise(app: FastAPI) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    visitor = TestClient(app, raise_server_exceptions=False)
    page = visitor.get("/broken", headers=BROWSER)
    assert page.status_code == 500 and "<h1>Something went wrong</h1>" in page.text
    assert "a bug" not in page.text  # no internals shown
    assert "default-src 'none'" in page.headers["content-security-policy"]
    plain = visitor.get("/broken")
    assert plain.status_code == 500 and plain.text == "Internal Server Error"
