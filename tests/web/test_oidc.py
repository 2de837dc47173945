"""Sign-in through the company's OpenID Connect provider: the authorization-code flow with PKCE
against a local provider, and every way its answer can fail to sign anyone in. A refused answer
is a 4xx page that says why, a provider that is down or talks nonsense a 503; never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from learningday.web import oidc
from learningday.web.auth import SESSION_COOKIE
from learningday.web.oidc import forget_providers
from tests.web.conftest import Org
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, hmac_signed, new_key, signed, unsigned


@pytest.fixture
def provider(auth_mode, org: Org) -> Iterator[OidcProvider]:  # type: ignore[no-untyped-def]
    with OidcProvider() as provider:
        auth_mode(
            auth_mode="oidc",
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_allowed_domain="example.com",
        )
        forget_providers()
        yield provider
        forget_providers()


def through_provider(client: TestClient, next_path: str = "/team") -> httpx.Response:
    """Start at our site, let the provider sign the person in, come back with the code."""
    start = client.get("/auth/oidc/start", params={"next": next_path})
    assert start.status_code == 303
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    back = urlsplit(authorize.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def assert_signed_in(response: httpx.Response, client: TestClient) -> None:
    assert (response.status_code, response.headers.get("location")) == (303, "/team"), response.text
    assert client.get("/team").status_code == 200


def assert_refused(response: httpx.Response, client: TestClient, status: int, reason: str) -> None:
    assert response.status_code == status and reason in response.text, response.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/me").status_code == 303  # still signed out


def test_the_login_page_offers_the_company_account(client: TestClient, provider: OidcProvider) -> None:
    assert "/auth/oidc/start" in client.get("/auth/login").text


def test_a_verified_company_account_signs_in(client: TestClient, provider: OidcProvider) -> None:
    provider.email = "grace@example.com"
    assert_signed_in(through_provider(client), client)
    asked = parse_qs(urlsplit(client.get("/auth/oidc/start").headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["hd"] == ["example.com"]
    assert len(provider.token_requests[0]["code_verifier"]) >= 43  # PKCE: RFC 7636's shortest verifier
    assert provider.jwks_requests == 1  # the signature was checked against the published keys


def test_a_provider_that_takes_only_basic_client_authentication_signs_in(
    client: TestClient, provider: OidcProvider
) -> None:
    provider.auth_methods = ["client_secret_basic"]
    assert_signed_in(through_provider(client), client)
    assert "client_secret" not in provider.token_requests[0]


def test_a_forged_state_is_refused(client: TestClient, provider: OidcProvider) -> None:
    client.get("/auth/oidc/start")
    response = client.get("/auth/oidc/callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 400 and "state mismatch" in response.text
    assert SESSION_COOKIE not in client.cookies


def test_a_state_that_is_not_ascii_is_refused_not_a_crash(client: TestClient, provider: OidcProvider) -> None:
    client.get("/auth/oidc/start")
    assert_refused(client.get("/auth/oidc/callback", params={"code": "x", "state": "é"}), client, 400, "state mismatch")


def test_an_answer_without_a_code_is_refused(client: TestClient, provider: OidcProvider) -> None:
    start = client.get("/auth/oidc/start")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    assert_refused(client.get("/auth/oidc/callback", params={"state": state}), client, 400, "sent no code")


Forgery = Callable[[OidcProvider, dict[str, Any]], str]
FORGERIES: dict[str, tuple[Forgery, str]] = {
    "signed by another key under the provider's kid": (
        lambda provider, claims: signed(claims, new_key(), kid=provider.key.kid),
        "signature does not verify",
    ),
    "alg none": (lambda provider, claims: unsigned(claims, provider.key.kid), "not signed with an algorithm we accept"),
    "HS256 keyed with the client secret": (
        lambda provider, claims: hmac_signed(claims, CLIENT_SECRET, provider.key.kid),
        "not signed with an algorithm we accept",
    ),
    "signature cut off": (
        lambda provider, claims: signed(claims, provider.key).rsplit(".", 1)[0] + ".",
        "does not verify",
    ),
    "claims swapped under a good signature": (
        lambda provider, claims: _swap_payload(signed(claims, provider.key), {**claims, "email": "ada@example.com"}),
        "does not verify",
    ),
}


def _swap_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return ".".join([header, unsigned(claims, "").split(".")[1], signature])


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
def test_an_id_token_without_the_providers_signature_signs_nobody_in(
    client: TestClient, provider: OidcProvider, forgery: str
) -> None:
    mint, reason = FORGERIES[forgery]
    provider.mint = lambda claims: mint(provider, claims)
    assert_refused(through_provider(client), client, 400, reason)


def test_an_unknown_key_id_fetches_the_keys_once_more_then_is_refused(
    client: TestClient, provider: OidcProvider
) -> None:
    provider.mint = lambda claims: signed(claims, new_key("stranger"))
    assert_refused(through_provider(client), client, 400, "a key the provider does not publish")
    assert provider.jwks_requests == 2  # the first fetch, and one refresh in case the provider had rotated


def test_a_rotated_signing_key_is_fetched_once_and_then_cached(client: TestClient, provider: OidcProvider) -> None:
    assert_signed_in(through_provider(client), client)
    provider.rotate()
    assert_signed_in(through_provider(client), client)
    assert_signed_in(through_provider(client), client)
    assert provider.jwks_requests == 2  # once at the start, once for the new key; then from the cache


def test_the_signing_keys_are_fetched_again_once_they_are_old(
    client: TestClient, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oidc, "KEYS_MAX_AGE", 0)
    assert_signed_in(through_provider(client), client)
    assert_signed_in(through_provider(client), client)
    assert provider.jwks_requests == 2  # a key the provider withdrew is not trusted for ever


def test_a_token_that_expired_within_the_clock_leeway_still_signs_in(
    client: TestClient, provider: OidcProvider
) -> None:
    provider.claims = {"email_verified": True, "hd": "example.com", "exp": int(time.time()) - 20}
    assert_signed_in(through_provider(client), client)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email_verified": False, "hd": "example.com"}, "did not vouch for an email"),
        ({"email_verified": True, "hd": "gmail.com"}, "only example.com accounts"),
        ({"email_verified": True, "hd": "example.com", "aud": "another-client"}, "another client"),
        ({"email_verified": True, "hd": "example.com", "aud": ["another-client"], "azp": CLIENT_ID}, "another client"),
        ({"email_verified": True, "hd": "example.com", "iss": "http://evil.example"}, "another issuer"),
        ({"email_verified": True, "hd": "example.com", "nonce": "replayed"}, "nonce mismatch"),
        ({"email_verified": True, "hd": "example.com", "exp": 1}, "expired"),
        ({"email_verified": True, "hd": "example.com", "exp": int(time.time()) - 600}, "expired"),
        ({"email_verified": True, "hd": "example.com", "exp": "tomorrow"}, "expired"),
        ({"email_verified": True, "hd": "example.com", "at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "at_hash"),
    ],
)
def test_an_id_token_that_fails_a_check_signs_nobody_in(
    client: TestClient, provider: OidcProvider, claims: dict[str, object], reason: str
) -> None:
    provider.claims = claims
    assert_refused(through_provider(client), client, 400, reason)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ((200, b"<html>not json</html>"), "not readable"),
        ((200, ["a", "list"]), "not readable"),
        ((200, {"access_token": "at", "token_type": "Bearer"}), "sent no ID token"),
        ((200, {"access_token": "at", "token_type": "Bearer", "id_token": 42}), "sent no ID token"),
        ((200, {"access_token": "at", "token_type": "Bearer", "id_token": "a.b.c"}), "does not verify"),
        ((200, {"access_token": "at", "token_type": "Bearer", "id_token": "not a token"}), "does not verify"),
        ((400, {"error": "invalid_grant", "error_description": 'a "quoted" reason'}), "token endpoint"),
        ((403, b"forbidden"), "token endpoint answered 403"),
    ],
)
def test_a_token_endpoint_answer_that_is_not_a_token_is_refused(
    client: TestClient, provider: OidcProvider, reply: tuple[int, Any], reason: str
) -> None:
    provider.token_reply = reply
    assert_refused(through_provider(client), client, 400, reason)


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


# --- a provider that is down or talks nonsense: "not available" (503), never a 500 ------------------


def test_a_provider_that_is_down_makes_sign_in_unavailable(client: TestClient, provider: OidcProvider) -> None:
    provider.__exit__()
    response = client.get("/auth/oidc/start")
    assert response.status_code == 503 and "Sign-in is not available" in response.text


def test_a_provider_that_goes_down_mid_sign_in_makes_sign_in_unavailable(
    client: TestClient, provider: OidcProvider
) -> None:
    start = client.get("/auth/oidc/start")
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    provider.__exit__()
    assert_refused(client.get(f"{back.path}?{back.query}"), client, 503, "Sign-in is not available")


def test_a_provider_that_signs_only_with_hmac_or_none_makes_sign_in_unavailable(
    client: TestClient, provider: OidcProvider
) -> None:
    provider.algorithms = ["HS256", "none"]
    response = client.get("/auth/oidc/start")
    assert response.status_code == 503 and "signs ID tokens with none of RS256" in response.text


@pytest.mark.parametrize(
    ("token_reply", "jwks_reply", "reason"),
    [
        ((503, b"maintenance"), None, "token endpoint answered 503"),
        (None, (500, b"oops"), "signing keys (jwks_uri) answered 500"),
        (None, (200, b"not json"), "signing keys (jwks_uri) is not JSON"),
        (None, (200, {"keys": "none"}), "signing keys (jwks_uri) are not readable"),
        (None, (200, {"keys": [{"kty": "RSA", "n": "x"}]}), "signing keys (jwks_uri) are not readable"),
    ],
)
def test_a_provider_answering_nonsense_makes_sign_in_unavailable(
    client: TestClient, provider: OidcProvider, token_reply: Any, jwks_reply: Any, reason: str
) -> None:
    provider.token_reply, provider.jwks_reply = token_reply, jwks_reply
    assert_refused(through_provider(client), client, 503, reason)
