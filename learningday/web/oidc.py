"""Sign-in with the company's OpenID Connect provider (Google Workspace or any other issuer).

The authorization-code flow with PKCE, run by Authlib's OAuth 2 client over httpx:
`/auth/oidc/start` sends the browser to the provider with a fresh state, nonce and PKCE verifier
(kept in a short-lived signed cookie), and `/auth/oidc/callback` checks the state, then exchanges
the code at the token endpoint, authenticated with the client secret.

The ID token that comes back signs nobody in until it is verified, whatever channel it came
over (a token endpoint reached through a proxy, a mix-up or a bug must not be able to name a
person):

- its signature (joserfc), against the keys the provider publishes at its discovery document's
  `jwks_uri`, with a public-key algorithm only: never `none`, never HMAC (whose key would be our
  client secret). The keys are cached for `KEYS_MAX_AGE` and fetched again, once, when a token
  names a key we do not hold (the provider rotated its keys);
- its claims (Authlib's `CodeIDToken`): the issuer is the provider's, the audience holds our
  client id (and `azp`, if present, is us), it has not expired (`CLOCK_LEEWAY` of clock skew),
  it carries this sign-in's nonce, and `at_hash`, if present, matches the access token;
- then ours: the provider vouches for the email (`email_verified`) and, with
  LEARNINGDAY_OIDC_ALLOWED_DOMAIN, the account is in that Workspace (`hd` and the email's domain).

An answer that fails a check shows the sign-in page with the reason (400); a provider that is
not configured, does not answer or answers nonsense shows "Sign-in is not available" (503).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Generator
from functools import lru_cache
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.settings import Settings, get_settings
from learningday.tokens import Purpose, Signer
from learningday.web.auth import _safe_next, start_session
from learningday.web.render import render

router = APIRouter(prefix="/auth/oidc")
log = logging.getLogger(__name__)
FLOW_COOKIE = "learningday_oidc"
FLOW_MAX_AGE = 600
SCOPE = "openid email profile"
HTTP_TIMEOUT = 10
CLOCK_LEEWAY = 60  # seconds of clock skew tolerated on exp and iat
KEYS_MAX_AGE = 3600  # seconds before the provider's published keys are fetched again
# Public-key algorithms only: with `none` anyone could mint a token, with HS256 anyone holding the client secret.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_UNREACHABLE = (httpx.RequestError, httpx.InvalidURL)
_CLAIM_REFUSALS = {
    "iss": "the ID token comes from another issuer",
    "aud": "the ID token was issued to another client",
    "azp": "the ID token was issued to another client (azp)",
    "exp": "the ID token has expired",
    "iat": "the ID token is not valid yet (is this server's clock right?)",
    "nbf": "the ID token is not valid yet (is this server's clock right?)",
    "nonce": "the ID token does not belong to this sign-in (nonce mismatch)",
    "at_hash": "the ID token does not match its access token (at_hash)",
}


class OidcRefused(Exception):
    """Why the provider's answer does not sign anyone in (the sign-in page, 400)."""


class OidcUnavailable(Exception):
    """Why sign-in cannot run now: not configured, or the provider does not answer or answers nonsense (503)."""


def _config(settings: Settings) -> tuple[str, str, str]:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        raise OidcUnavailable(
            "OIDC sign-in needs LEARNINGDAY_OIDC_ISSUER, LEARNINGDAY_OIDC_CLIENT_ID and LEARNINGDAY_OIDC_CLIENT_SECRET"
        )
    return settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, settings.oidc_client_secret.get_secret_value()


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except _UNREACHABLE:
        raise OidcUnavailable("the identity provider does not answer; try again in a few minutes") from None
    except httpx.HTTPStatusError as error:
        raise OidcUnavailable(f"the identity provider's {what} answered {error.response.status_code}") from None
    except ValueError:
        raise OidcUnavailable(f"the identity provider's {what} is not JSON") from None
    if not isinstance(document, dict):
        raise OidcUnavailable(f"the identity provider's {what} is not a JSON object")
    return document


@lru_cache(maxsize=4)
def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata (endpoints, where its keys are), fetched once per process."""
    metadata = _get_json(f"{issuer}/.well-known/openid-configuration", "discovery document")
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise OidcUnavailable(f"the provider at {issuer} names itself {metadata.get('issuer')!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(name), str):
            raise OidcUnavailable(f"the provider's discovery document has no {name}")
    _algorithms(metadata)  # a provider whose ID tokens we could never verify is not worth a round trip
    return metadata


def _algorithms(metadata: dict[str, Any]) -> list[str]:
    """The public-key algorithms the provider says it signs ID tokens with (RS256 if it does not say)."""
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [name for name in SIGNING_ALGORITHMS if isinstance(offered, list) and name in offered]
    if not algorithms:
        raise OidcUnavailable(f"the provider signs ID tokens with none of {', '.join(SIGNING_ALGORITHMS)}")
    return algorithms


_key_sets: dict[str, tuple[float, KeySet]] = {}


def signing_keys(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    """The keys the provider signs ID tokens with, cached for `KEYS_MAX_AGE`; `refresh` fetches them now."""
    cached = _key_sets.get(jwks_uri)
    if cached and not refresh and time.monotonic() - cached[0] < KEYS_MAX_AGE:
        return cached[1]
    document = _get_json(jwks_uri, "signing keys (jwks_uri)")
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]  # the provider's JSON: import_key_set checks it, its errors are caught below
    except (JoseError, ValueError, KeyError, TypeError):
        raise OidcUnavailable("the identity provider's signing keys (jwks_uri) are not readable") from None
    _key_sets[jwks_uri] = (time.monotonic(), keys)
    return keys


def forget_providers() -> None:
    """Drop the cached metadata and keys (after changing the issuer; between tests)."""
    discover.cache_clear()
    _key_sets.clear()


def _flow_serializer() -> Signer:
    """The flow cookie's signer: `Purpose.OIDC_FLOW` of `learningday.tokens` (ten minutes)."""
    return Signer(Purpose.OIDC_FLOW)


def _redirect_uri(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/auth/oidc/callback"


class _ClientAuth(ClientAuth, httpx.Auth):
    """Authlib's client authentication at the token endpoint, applied to an httpx request.

    (Authlib's ready-made httpx client warns at import that it is moving to the httpx2 package.)"""

    requires_request_body = True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {key: value for key, value in request.headers.items() if key.lower() != "content-length"}
        url, headers, body = self.prepare(  # type: ignore[no-untyped-call]  # unannotated in types-Authlib
            request.method, str(request.url), headers, request.content.decode()
        )
        yield httpx.Request(request.method, url, headers=headers, content=body)


class _OAuthClient(OAuth2Client):
    client_auth_class = _ClientAuth


def _oauth_client(settings: Settings, metadata: dict[str, Any], http: httpx.Client | None = None) -> OAuth2Client:
    _, client_id, secret = _config(settings)
    methods = metadata.get("token_endpoint_auth_methods_supported")
    post = isinstance(methods, list) and "client_secret_post" in methods  # else the spec's default, basic
    return _OAuthClient(
        http,
        client_id=client_id,
        client_secret=secret,
        scope=SCOPE,
        redirect_uri=_redirect_uri(settings),
        token_endpoint_auth_method="client_secret_post" if post else "client_secret_basic",
        code_challenge_method="S256",
    )


def _unavailable(request: Request, reason: OidcUnavailable) -> Response:
    log.warning("oidc sign-in unavailable: %s", reason)
    return render(request, "signin_link.html", {"error": f"Sign-in is not available: {reason}"}, status_code=503)


@router.get("/start")
def start(request: Request, next: str | None = None) -> Response:
    settings = get_settings()
    try:
        issuer, _, _ = _config(settings)
        metadata = discover(issuer)
    except OidcUnavailable as down:
        return _unavailable(request, down)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # 64 characters; RFC 7636 asks for 43 to 128
    url, _ = _oauth_client(settings, metadata).create_authorization_url(
        metadata["authorization_endpoint"],
        state=state,
        code_verifier=verifier,
        nonce=nonce,
        hd=settings.oidc_allowed_domain or None,  # Google: pre-selects the Workspace account
    )
    response = RedirectResponse(url, status_code=303)
    flow = _flow_serializer().dumps({"s": state, "n": nonce, "v": verifier, "next": _safe_next(next)})
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=FLOW_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path="/auth/oidc",
    )
    return response


@router.get("/callback")
def callback(request: Request, code: str | None = None, state: str | None = None, error: str | None = None) -> Response:
    settings = get_settings()
    try:
        if error:
            raise OidcRefused(f"the provider refused: {error}")
        flow = _read_flow(request, state)
        if not code:
            raise OidcRefused("the provider sent no code; try again")
        issuer, client_id, _ = _config(settings)
        metadata = discover(issuer)
        token = _exchange(settings, metadata, code, flow["v"])
        claims = verify_id_token(token["id_token"], metadata, client_id, flow["n"], token.get("access_token"))
        email = _vouched_email(settings, claims)
    except OidcUnavailable as down:
        return _unavailable(request, down)
    except OidcRefused as refused:
        log.info("oidc sign-in refused: %s", refused)
        return render(request, "signin_link.html", {"error": f"Sign-in failed: {refused}"}, status_code=400)
    with session_scope() as session:
        person = session.scalar(select(Person).where(func.lower(Person.email) == email, Person.active.is_(True)))
        person_id = person.id if person else None
    if person_id is None:
        return render(
            request,
            "signin_link.html",
            {
                "error": "You are signed in with your company account, but you are not in the Learning Day directory. Ask the program owner."
            },
            status_code=403,
        )
    response = RedirectResponse(flow["next"], status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/auth/oidc")
    start_session(response, person_id)
    log.info("person %d signed in with oidc", person_id)
    return response


def _read_flow(request: Request, state: str | None) -> dict[str, str]:
    try:
        flow: dict[str, str] = _flow_serializer().loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadSignature:
        raise OidcRefused("the sign-in took too long or started elsewhere; try again") from None
    # compared as bytes: compare_digest refuses non-ASCII str, and the state comes from the URL
    if not state or not secrets.compare_digest(str(flow.get("s", "")).encode(), state.encode()):
        raise OidcRefused("the answer does not belong to this sign-in (state mismatch); try again")
    return flow


def _exchange(settings: Settings, metadata: dict[str, Any], code: str, verifier: str) -> dict[str, Any]:
    """The token endpoint's answer to this code, sent with the PKCE verifier and the client secret."""
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT) as http:
            token: dict[str, Any] = _oauth_client(settings, metadata, http).fetch_token(
                metadata["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=verifier
            )
    except _UNREACHABLE:
        raise OidcUnavailable("the identity provider does not answer; try again in a few minutes") from None
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        if status >= 500:
            raise OidcUnavailable(f"the identity provider's token endpoint answered {status}") from None
        raise OidcRefused(f"the token endpoint answered {status}") from None
    except AuthlibBaseError as refused:  # the provider's own error, e.g. invalid_grant for a spent code
        raise OidcRefused(f"the token endpoint refused the code ({refused.error})") from None
    except ValueError:
        raise OidcRefused("the token endpoint's answer is not readable") from None
    if not isinstance(token.get("id_token"), str):
        raise OidcRefused("the token endpoint sent no ID token")
    return token


def verify_id_token(
    id_token: str, metadata: dict[str, Any], client_id: str, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims once its signature and its issuer, audience, expiry and nonce check out."""
    algorithms = _algorithms(metadata)
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            token = jwt.decode(id_token, signing_keys(metadata["jwks_uri"]), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys since we fetched them
            token = jwt.decode(id_token, signing_keys(metadata["jwks_uri"], refresh=True), registry=registry)
    except InvalidKeyIdError:
        raise OidcRefused("the ID token is signed with a key the provider does not publish") from None
    except UnsupportedAlgorithmError:
        raise OidcRefused(f"the ID token is not signed with an algorithm we accept ({', '.join(algorithms)})") from None
    except (JoseError, ValueError):
        raise OidcRefused("the ID token's signature does not verify against the provider's published keys") from None
    claims = CodeIDToken(
        token.claims,
        token.header,
        {"iss": {"essential": True, "value": metadata["issuer"]}, "aud": {"essential": True, "value": client_id}},
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(leeway=CLOCK_LEEWAY)
    except ClaimError as wrong:
        raise OidcRefused(
            _CLAIM_REFUSALS.get(wrong.claim, f"the ID token's {wrong.claim} claim is missing or wrong")
        ) from None
    except (JoseError, ValueError, TypeError):
        raise OidcRefused("the ID token's claims are not readable") from None
    return dict(claims)


def _vouched_email(settings: Settings, claims: dict[str, Any]) -> str:
    """The email the provider vouches for, if its account may sign in here."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") not in (True, "true"):
        raise OidcRefused("the provider did not vouch for an email address")
    domain = settings.oidc_allowed_domain
    if domain and (claims.get("hd") != domain or not email.endswith(f"@{domain}")):
        raise OidcRefused(f"only {domain} accounts may sign in")
    return email
