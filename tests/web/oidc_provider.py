"""A tiny OpenID Connect provider on 127.0.0.1: discovery, an authorize endpoint that signs in
whoever the test says, a token endpoint that checks the client secret (basic or post), redirect
URI and PKCE verifier before handing out an ID token signed with its RSA key, and the JWKS that
publishes that key. Enough to drive the authorization-code flow end to end, and to hand out the
forged, expired and misaddressed ID tokens a relying party must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "learningday-test"
CLIENT_SECRET = "s3cret"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def new_key(kid: str | None = None) -> RSAKey:
    """A fresh RSA signing key (2048 bits, like Google's)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid or secrets.token_hex(4), "use": "sig", "alg": "RS256"})


def signed(claims: dict[str, Any], key: RSAKey, kid: str | None = None) -> str:
    """An RS256 ID token signed with `key`, naming `kid` (the key's own unless given)."""
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid, "typ": "JWT"}, claims, key)


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """`alg: none`: no signature at all."""
    return ".".join([_b64(json.dumps({"alg": "none", "kid": kid}).encode()), _b64(json.dumps(claims).encode()), ""])


def hmac_signed(claims: dict[str, Any], secret: str, kid: str) -> str:
    """HS256 keyed with `secret`: the client secret is no signing key, whoever holds it."""
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())}"


@dataclass
class OidcProvider:
    email: str = "alan@example.com"
    claims: dict[str, Any] = field(default_factory=lambda: {"email_verified": True, "hd": "example.com"})
    key: RSAKey = field(default_factory=new_key)  # signs the ID tokens; published in the JWKS
    retired_keys: list[RSAKey] = field(default_factory=list)  # still published after a rotation
    mint: Callable[[dict[str, Any]], str] | None = (
        None  # a test's own ID token from the claims, in place of a signed one
    )
    token_reply: tuple[int, Any] | None = None  # a test's own token endpoint answer (status, JSON or bytes)
    jwks_reply: tuple[int, Any] | None = None  # a test's own JWKS answer
    auth_methods: list[str] = field(default_factory=lambda: ["client_secret_post", "client_secret_basic"])
    algorithms: list[str] = field(default_factory=lambda: ["RS256"])  # what discovery says ID tokens are signed with
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    jwks_requests: int = 0

    def rotate(self) -> None:
        """Sign with a new key from now on, as providers do every few days (the old one stays published)."""
        self.retired_keys.append(self.key)
        self.key = new_key()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) for key in [self.key, *self.retired_keys]]}

    def __enter__(self) -> OidcProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                payload = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    return self._reply(
                        200,
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": f"{provider.issuer}/authorize",
                            "token_endpoint": f"{provider.issuer}/token",
                            "jwks_uri": f"{provider.issuer}/jwks",
                            "response_types_supported": ["code"],
                            "code_challenge_methods_supported": ["S256"],
                            "id_token_signing_alg_values_supported": provider.algorithms,
                            "token_endpoint_auth_methods_supported": provider.auth_methods,
                        },
                    )
                if parts.path == "/jwks":
                    provider.jwks_requests += 1
                    return self._reply(*(provider.jwks_reply or (200, provider.jwks())))
                if parts.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                        return self._reply(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(8)
                    provider.codes[code] = query
                    target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                    return self._reply(302, None, {"Location": target})
                return self._reply(404, {"error": "not_found"})

            def _client(self, form: dict[str, str]) -> tuple[str, str]:
                """The client id and secret, from the Authorization header (basic) or the form (post)."""
                scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
                if scheme.lower() == "basic" and "client_secret_basic" in provider.auth_methods:
                    client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
                    return unquote(client_id), unquote(secret)
                if "client_secret_post" in provider.auth_methods:
                    return form.get("client_id", ""), form.get("client_secret", "")
                return "", ""

            def do_POST(self) -> None:
                form = {
                    k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()
                }
                provider.token_requests.append(form)
                asked = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = _b64(hashlib.sha256(verifier.encode()).digest())
                if (
                    asked is None
                    or self._client(form) != (CLIENT_ID, CLIENT_SECRET)
                    or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != asked["redirect_uri"]
                    or not 43 <= len(verifier) <= 128
                    or challenge != asked["code_challenge"]
                ):
                    return self._reply(400, {"error": "invalid_grant"})
                if provider.token_reply:
                    return self._reply(*provider.token_reply)
                access_token = secrets.token_urlsafe(16)
                claims = {
                    "iss": provider.issuer,
                    "aud": CLIENT_ID,
                    "sub": "1234",
                    "email": provider.email,
                    "nonce": asked["nonce"],
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 300,
                    "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16]),
                    **provider.claims,
                }
                token = provider.mint(claims) if provider.mint else signed(claims, provider.key)
                return self._reply(200, {"access_token": access_token, "token_type": "Bearer", "id_token": token})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"
