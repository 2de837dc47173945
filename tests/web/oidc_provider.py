"""A tiny OpenID Connect provider on 127.0.0.1: discovery, an authorize endpoint that signs in
whoever the test says, and a token endpoint that checks the client secret, redirect URI and PKCE
verifier before handing out an ID token. Enough to drive the authorization-code flow end to end."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "learningday-test"
CLIENT_SECRET = "s3cret"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class OidcProvider:
    email: str = "alan@example.com"
    claims: dict[str, Any] = field(default_factory=lambda: {"email_verified": True, "hd": "example.com"})
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __enter__(self) -> OidcProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode() if body is not None else b""
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
                    return self._reply(200, {
                        "issuer": provider.issuer, "authorization_endpoint": f"{provider.issuer}/authorize",
                        "token_endpoint": f"{provider.issuer}/token", "response_types_supported": ["code"],
                        "code_challenge_methods_supported": ["S256"],
                    })  # fmt: skip
                if parts.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                        return self._reply(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(8)
                    provider.codes[code] = query
                    target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                    return self._reply(302, None, {"Location": target})
                return self._reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                provider.token_requests.append(form)
                asked = provider.codes.pop(form.get("code", ""), None)
                challenge = _b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                if (
                    asked is None or form.get("client_secret") != CLIENT_SECRET or form.get("client_id") != CLIENT_ID
                    or form.get("redirect_uri") != asked["redirect_uri"] or challenge != asked["code_challenge"]
                ):  # fmt: skip
                    return self._reply(400, {"error": "invalid_grant"})
                claims = {
                    "iss": provider.issuer, "aud": CLIENT_ID, "sub": "1234", "email": provider.email,
                    "nonce": asked["nonce"], "iat": int(time.time()), "exp": int(time.time()) + 300, **provider.claims,
                }  # fmt: skip
                token = ".".join([_b64(b'{"alg":"RS256"}'), _b64(json.dumps(claims).encode()), _b64(b"signature")])
                return self._reply(200, {"access_token": "at", "token_type": "Bearer", "id_token": token})

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
