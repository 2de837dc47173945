"""Sign-in with the company's OpenID Connect provider (Google Workspace or any other issuer).

The authorization-code flow with PKCE, by hand over httpx: `/auth/oidc/start` sends the browser
to the provider with a fresh state and nonce (kept in a short-lived signed cookie), and
`/auth/oidc/callback` exchanges the code at the token endpoint, authenticated with the client
secret. The ID token therefore comes straight from the issuer over TLS, which OpenID Connect
Core (3.1.3.7) accepts in place of checking its signature; we still check its issuer, audience,
expiry, nonce, that the email is verified and, when configured, the Workspace domain (`hd`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from starlette.responses import Response

from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.settings import Settings, get_settings
from learningday.web.auth import _safe_next, start_session
from learningday.web.render import render

router = APIRouter(prefix="/auth/oidc")
log = logging.getLogger(__name__)
FLOW_COOKIE = "learningday_oidc"
FLOW_MAX_AGE = 600


class OidcRefused(Exception):
    """Why the provider's answer does not sign anyone in."""


def _config(settings: Settings) -> tuple[str, str, str]:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        raise OidcRefused(
            "OIDC sign-in needs LEARNINGDAY_OIDC_ISSUER, LEARNINGDAY_OIDC_CLIENT_ID and LEARNINGDAY_OIDC_CLIENT_SECRET"
        )
    return settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, settings.oidc_client_secret.get_secret_value()


@lru_cache(maxsize=4)
def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata (endpoints), fetched once per process."""
    response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise OidcRefused(f"the provider at {issuer} names itself {metadata.get('issuer')!r}")
    return metadata


def _flow_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt="learningday.oidc")


def _redirect_uri(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/auth/oidc/callback"


@router.get("/start")
def start(request: Request, next: str | None = None) -> Response:
    settings = get_settings()
    try:
        issuer, client_id, _ = _config(settings)
        metadata = discover(issuer)
    except (OidcRefused, httpx.HTTPError) as error:
        return render(request, "signin_link.html", {"error": f"Sign-in is not available: {error}"}, status_code=503)
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": _redirect_uri(settings),
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if settings.oidc_allowed_domain:
        params["hd"] = settings.oidc_allowed_domain  # Google: pre-selects the Workspace account
    response = RedirectResponse(f"{metadata['authorization_endpoint']}?{urlencode(params)}", status_code=303)
    flow = _flow_serializer().dumps({"s": state, "n": nonce, "v": verifier, "next": _safe_next(next)})
    response.set_cookie(
        FLOW_COOKIE, flow, max_age=FLOW_MAX_AGE, httponly=True, samesite="lax",
        secure=settings.public_base_url.startswith("https://"), path="/auth/oidc",
    )  # fmt: skip
    return response


@router.get("/callback")
def callback(request: Request, code: str | None = None, state: str | None = None, error: str | None = None) -> Response:
    settings = get_settings()
    try:
        if error:
            raise OidcRefused(f"the provider refused: {error}")
        flow = _read_flow(request, state)
        claims = _exchange(settings, code or "", flow["v"])
        email = _check_claims(settings, claims, flow["n"])
    except (OidcRefused, httpx.HTTPError) as refused:
        log.info("oidc sign-in refused: %s", type(refused).__name__)
        return render(request, "signin_link.html", {"error": f"Sign-in failed: {refused}"}, status_code=400)
    with session_scope() as session:
        person = session.scalar(select(Person).where(func.lower(Person.email) == email, Person.active.is_(True)))
        person_id = person.id if person else None
    if person_id is None:
        return render(
            request, "signin_link.html",
            {"error": "You are signed in with your company account, but you are not in the Learning Day directory. Ask the program owner."},
            status_code=403,
        )  # fmt: skip
    response = RedirectResponse(flow["next"], status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/auth/oidc")
    start_session(response, person_id)
    log.info("person %d signed in with oidc", person_id)
    return response


def _read_flow(request: Request, state: str | None) -> dict[str, str]:
    try:
        flow = _flow_serializer().loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadSignature:
        raise OidcRefused("the sign-in took too long or started elsewhere; try again") from None
    if not state or not secrets.compare_digest(str(flow.get("s", "")), state):
        raise OidcRefused("the answer does not belong to this sign-in (state mismatch); try again")
    return flow  # type: ignore[no-any-return]


def _exchange(settings: Settings, code: str, verifier: str) -> dict[str, Any]:
    issuer, client_id, secret = _config(settings)
    response = httpx.post(
        discover(issuer)["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _redirect_uri(settings),
            "client_id": client_id,
            "client_secret": secret,
            "code_verifier": verifier,
        },
        headers={"Accept": "application/json"},
        timeout=10,
    )
    if response.status_code != 200:
        raise OidcRefused(f"the token endpoint answered {response.status_code}")
    id_token = response.json().get("id_token")
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise OidcRefused("the token endpoint sent no ID token")
    payload = id_token.split(".")[1]
    try:
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        raise OidcRefused("the ID token is not readable") from None
    return claims


def _check_claims(settings: Settings, claims: dict[str, Any], nonce: str) -> str:
    issuer, client_id, _ = _config(settings)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if str(claims.get("iss", "")).rstrip("/") != issuer:
        raise OidcRefused("the ID token comes from another issuer")
    if client_id not in audiences:
        raise OidcRefused("the ID token was issued to another client")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
        raise OidcRefused("the ID token has expired")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise OidcRefused("the ID token does not belong to this sign-in (nonce mismatch)")
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") not in (True, "true"):
        raise OidcRefused("the provider did not vouch for an email address")
    domain = settings.oidc_allowed_domain
    if domain and (claims.get("hd") != domain or not email.endswith(f"@{domain}")):
        raise OidcRefused(f"only {domain} accounts may sign in")
    return email
