"""Every response carries the security headers: a strict Content-Security-Policy, nosniff, no
framing, a referrer policy, and HSTS when the site is served over https. Checked on every route
the app has (a real page where the route has one, else an error), a 404, a redirect, refused
POSTs and an unhandled exception's 500."""

from __future__ import annotations

import re
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from activities.mail.factory import mailer_from_settings
from learningday.settings import get_settings
from learningday.web.app import create_app
from tests.web.conftest import FakeGateway, Org, sign_in
from tests.web.every_page import Site, build_site

# Routes with nothing to show in this org: reached, they answer an error, with the headers.
NO_PAGE = {"/healthz": "/healthz", "/readyz": "/readyz", "/metrics": "/metrics"}
EMAIL_FRAME = re.compile(r"^/outbox/[^/]+/html$")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def assert_page_headers(response: Response, what: str) -> None:
    """The headers every page, file, redirect and error carries."""
    headers = response.headers
    policy = directives(headers.get("content-security-policy", ""))
    assert policy.get("default-src") == ["'none'"], what
    assert "script-src" not in policy, what  # no page runs a script, inline or not
    assert policy.get("style-src") == ["'self'"], what
    assert policy.get("img-src") == ["'self'", "data:"], what
    assert policy.get("form-action") == ["'self'"], what
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("base-uri") == ["'none'"], what
    assert not any("unsafe" in value for values in policy.values() for value in values), what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("referrer-policy") in {"strict-origin-when-cross-origin", "no-referrer"}, what
    assert "strict-transport-security" not in headers, what  # the test site is http://


def assert_email_frame_headers(response: Response, what: str) -> None:
    """The outbox's framed email: its own policy, sandboxed, framed by this origin only."""
    policy = directives(response.headers["content-security-policy"])
    assert "sandbox" in policy and policy["sandbox"] == [], what
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy, what
    assert policy["style-src"] == ["'unsafe-inline'"], what
    assert policy["frame-ancestors"] == ["'self'"], what
    assert response.headers["x-frame-options"] == "SAMEORIGIN", what
    assert response.headers["x-content-type-options"] == "nosniff", what


def every_route(app: FastAPI) -> list[Any]:
    """Each route of the app, those of included routers too (FastAPI ≥ 0.16x keeps an included
    router as one entry of `app.routes`; `iter_route_contexts` opens it)."""
    opened = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(opened(app.routes)) if opened else list(app.routes)


def requests_for(route: Any, site: Site) -> list[tuple[str, str]]:
    """(method, path) pairs reaching `route`: the site's real pages, else the route with dummy values."""
    methods = sorted(set(getattr(route, "methods", None) or {"GET"}) - {"HEAD"})  # a mount has none
    every = {**site.signed_in, **site.links, **site.signed_out, **site.files, **NO_PAGE}
    paths = [path for path in every.values() if route.path_regex.match(path.split("?")[0])]
    return [(method, path) for method in methods for path in paths or [re.sub(r"\{[^}]+\}", "nothing", route.path)]]


@pytest.fixture
def site(session: Session, org: Org, app: FastAPI) -> Site:
    return build_site(session, org, app)


def test_every_route_answers_with_the_security_headers(app: FastAPI, client: TestClient, site: Site, org: Org) -> None:
    admin = sign_in(client, org.ada)
    visitor = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False, raise_server_exceptions=False)
    routes = every_route(app)
    requests = [request for route in routes for request in requests_for(route, site)]
    seen = 0
    # Every GET first: a POST can sign the admin out (a sign-in link's button signs in its person).
    for method, path in sorted(requests, key=lambda request: request[0] != "GET"):
        for who, browser in (("admin", admin), ("visitor", visitor)):
            response = browser.request(method, path)  # a POST without its form or CSRF token
            what = f"{who} {method} {path} → {response.status_code}"
            assert response.status_code != 500, what  # a 503 (no Temporal, no OIDC provider) is an answer
            if EMAIL_FRAME.match(path) and response.status_code == 200:
                assert_email_frame_headers(response, what)
            else:
                assert_page_headers(response, what)
            seen += 1
    assert {"/me", "/approve/{token}", "/outbox/{key}/html", "/static", "/metrics"} <= {route.path for route in routes}
    assert seen > 50


def test_the_pages_themselves_open_with_their_own_headers_kept(client: TestClient, site: Site, org: Org) -> None:
    sign_in(client, org.ada)
    for name, path in {**site.signed_in, **site.links}.items():
        response = client.get(path)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        assert_page_headers(response, name)
    approval = client.get(site.links["approve"])  # the token is in the URL: no Referer, no cache
    assert approval.headers["referrer-policy"] == "no-referrer"
    assert approval.headers["cache-control"] == "no-store"
    assert client.get(site.signed_in["me"]).headers["referrer-policy"] == "strict-origin-when-cross-origin"
    stylesheet = client.get(site.files["css"])
    assert stylesheet.status_code == 200 and stylesheet.headers["content-type"].startswith("text/css")
    frame = client.get(site.files["email-html"])
    assert frame.status_code == 200 and "Write it here" in frame.text
    assert_email_frame_headers(frame, "email-html")


def test_a_404_a_redirect_and_a_refused_post_carry_the_headers(client: TestClient, org: Org) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_page_headers(missing, "404")

    to_sign_in = client.get("/me")
    assert to_sign_in.status_code == 303 and to_sign_in.headers["location"].startswith("/auth/login")
    assert_page_headers(to_sign_in, "redirect")

    sign_in(client, org.alan)
    forged = client.post("/me/checkin/plan", data={"text": "no CSRF token"})
    assert 400 <= forged.status_code < 500
    assert_page_headers(forged, "refused POST")


def test_an_unhandled_error_is_a_500_with_the_headers(app: FastAPI) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert response.status_code == 500 and response.text == "Internal Server Error"
    assert_page_headers(response, "500")


def test_hsts_only_when_the_public_address_is_https(engine: object) -> None:
    plain = TestClient(create_app(get_settings(), FakeGateway(), mailer_from_settings))
    assert "strict-transport-security" not in plain.get("/healthz").headers

    https = get_settings().model_copy(update={"public_base_url": "https://learningday.example.com"})
    secure = TestClient(create_app(https, FakeGateway(), mailer_from_settings))
    response = secure.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert response.headers["x-content-type-options"] == "nosniff"
