"""Slack's HTTP endpoints for the web app to mount: `/slack/events`, `/slack/interactivity`,
`/slack/commands`. The signature is checked first (a forged request learns nothing, not even
about its shape), then the shape Bolt and our listeners read (`shapes.py`), then Bolt."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from learningday.settings import Settings
from learningday.web.slack import shapes
from learningday.web.slack.app import build_bolt_app
from learningday.web.slack.checkins import GatewayFactory
from learningday.web.slack.door import SlackFrontDoor


def build_slack_router(
    gateway_factory: GatewayFactory, settings: Settings, *, front_door: SlackFrontDoor | None = None
) -> APIRouter:
    """With Socket Mode (an app token and no signing secret) Slack does not call us over HTTP:
    the router is empty and learningday.slack_socket serves the same app instead."""
    router = APIRouter(prefix="/slack", tags=["slack"])
    if settings.slack_signing_secret is None and settings.slack_app_token is not None:
        return router
    handler = AsyncSlackRequestHandler(build_bolt_app(gateway_factory, settings, front_door=front_door))
    assert settings.slack_signing_secret is not None  # build_bolt_app refuses to run without it
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())

    async def handle(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers.items())  # as Bolt reads them: the last of a repeated header
        if not signed_by_slack(verifier, body, headers):
            return JSONResponse({"error": "invalid signature or stale timestamp"}, status_code=401)
        malformed = shapes.problem(body, headers)
        if malformed:
            return JSONResponse({"error": malformed}, status_code=400)
        return await handler.handle(request)

    for path in ("/events", "/interactivity", "/commands"):
        router.add_api_route(path, handle, methods=["POST"], include_in_schema=False)
    return router


def signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 signature over the body's bytes, with a timestamp at most five minutes off.

    slack_sdk's check, made total: it raises on a timestamp that is not a number, and on a body
    that is not UTF-8 (it decodes the bytes before hashing them). Slack signs bytes, so a signed
    body is recognised as Slack's whatever it holds, and a malformed one is refused as such."""
    timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(verifier.clock.now() - int(timestamp)) > 5 * 60:
        return False
    basestring = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(verifier.signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
