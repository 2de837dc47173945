"""Sign-in through the company's OpenID Connect provider: the authorization-code flow with PKCE
against a local provider, and every way its answer can fail to sign anyone in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from learningday.web.auth import SESSION_COOKIE
from learningday.web.oidc import discover
from tests.web.conftest import Org
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider


@pytest.fixture
def provider(auth_mode, org: Org) -> Iterator[OidcProvider]:  # type: ignore[no-untyped-def]
    with OidcProvider() as provider:
        auth_mode(
            auth_mode="oidc", oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET, oidc_allowed_domain="example.com",
        )  # fmt: skip
        discover.cache_clear()
        yield provider
        discover.cache_clear()


def through_provider(client: TestClient, next_path: str = "/team") -> httpx.Response:
    """Start at our site, let the provider sign the person in, come back with the code."""
    start = client.get("/auth/oidc/start", params={"next": next_path})
    assert start.status_code == 303
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    back = urlsplit(authorize.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def test_the_login_page_offers_the_company_account(client: TestClient, provider: OidcProvider) -> None:
    assert "/auth/oidc/start" in client.get("/auth/login").text


def test_a_verified_company_account_signs_in(client: TestClient, provider: OidcProvider) -> None:
    provider.email = "grace@example.com"
    done = through_provider(client)
    assert (done.status_code, done.headers["location"]) == (303, "/team")
    assert client.get("/team").status_code == 200
    asked = parse_qs(urlsplit(client.get("/auth/oidc/start").headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["hd"] == ["example.com"]
    assert provider.token_requests[0]["code_verifier"]  # PKCE: the verifier went to the token endpoint


def test_a_forged_state_is_refused(client: TestClient, provider: OidcProvider) -> None:
    client.get("/auth/oidc/start")
    response = client.get("/auth/oidc/callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 400 and "state mismatch" in response.text
    assert SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email_verified": False, "hd": "example.com"}, "did not vouch for an email"),
        ({"email_verified": True, "hd": "gmail.com"}, "only example.com accounts"),
        ({"email_verified": True, "hd": "example.com", "aud": "another-client"}, "another client"),
        ({"email_verified": True, "hd": "example.com", "iss": "http://evil.example"}, "another issuer"),
        ({"email_verified": True, "hd": "example.com", "nonce": "replayed"}, "nonce mismatch"),
        ({"email_verified": True, "hd": "example.com", "exp": 1}, "expired"),
    ],
)
def test_an_id_token_that_fails_a_check_signs_nobody_in(
    client: TestClient, provider: OidcProvider, claims: dict[str, object], reason: str
) -> None:
    provider.claims = claims
    response = through_provider(client)
    assert response.status_code == 400 and reason in response.text
    assert client.get("/me").status_code == 303


def test_a_company_account_outside_the_directory_is_told_so(client: TestClient, provider: OidcProvider) -> None:
    provider.email = "stranger@example.com"
    response = through_provider(client)
    assert response.status_code == 403 and "not in the Learning Day directory" in response.text


def test_a_callback_url_cannot_be_replayed(client: TestClient, provider: OidcProvider) -> None:
    start = client.get("/auth/oidc/start")
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 303
    client.cookies.delete(SESSION_COOKIE)
    replay = client.get(f"{back.path}?{back.query}")  # the flow is spent: its cookie is gone
    assert replay.status_code == 400 and SESSION_COOKIE not in client.cookies
    client.get("/auth/oidc/start")  # a new flow cannot adopt the old code and state either
    assert client.get(f"{back.path}?{back.query}").status_code == 400
