"""The fuzz run: no request gets a 5xx. A fixed budget and seed, so every run (and CI) sends the
same requests, and the summary at the end says how many.

- Every operation of the web app's OpenAPI schema (what FastAPI serves at /openapi.json), with
  requests schemathesis generates from it, valid and invalid, as a signed-in admin (the widest
  scope: every query runs) on an org with days, flags and claims; many with a valid signed
  link, `kind` or table name in the path and the form's CSRF token, to reach past the first
  refusal.
- Signed Slack bodies: real payloads (a DM, a button, a check-in and a claim form, a command)
  with fields replaced by anything, removed, nested deep, sent as JSON or a form to any of
  the three doors, sometimes not UTF-8, sometimes with a broken timestamp.

Any 5xx fails, except the documented 503s (ALLOWED_503): each says, to the person, to try
again or what to set up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.orm import Session
from temporalio.service import RPCError, RPCStatusCode

from activities.mail.factory import mailer_from_settings
from learningday.db.models import ClaimState, Role
from learningday.links.approval import ApprovalLink, approval_token
from learningday.links.checkin import checkin_token
from learningday.links.excuse import excuse_token
from learningday.settings import get_settings
from learningday.web.app import create_app
from learningday.web.claims import claim_form_url
from learningday.web.ics import feed_token
from learningday.web.program_report import TABLES
from tests.integrations.test_slack_incoming import ADA, ada, gateway, slack  # noqa: F401 - fixtures
from tests.peers.slack import SlackPeer, slack_peer  # noqa: F401 - fixture
from tests.peers.slack_requests import button_click, plan_submission, signed
from tests.properties.conftest import tried
from tests.web.conftest import THURSDAY, WEEK, FakeGateway, add_claim, add_day, add_flag, add_person, sign_in

SEED = 20261203
# Examples per schema operation and generation mode: the run's budget (about 1,700 requests).
POSITIVE, NEGATIVE = 50, 25
SLACK_BODIES = 1500
BASE = "http://127.0.0.1:8000"
# The 5xx a person may see, each with a page that says why: not a crash.
ALLOWED_503 = {
    ("GET", "/auth/oidc/start"): "sign-in by OIDC is not set up here",
    ("GET", "/approve/{token}"): "the approval service is busy: try again",
    ("POST", "/approve/{token}"): "the approval service is busy: try again",
    ("GET", "/claims/{claim_id}/review"): "the claim's steps cannot be read now: the emailed link still works",
    ("GET", "/readyz"): "not ready: the database or Temporal is unreachable (health checks)",
}
PATH_CHOICES = {"kind": ["plan", "summary"], "name": list(TABLES)}
CSRF = re.compile(r'name="(csrf_token|csrf)" value="([^"]+)"')
FUZZ = settings(
    database=None, deadline=None, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck)
)


class NoTemporal:
    """No Temporal in the fuzz run: every call fails the way an unreachable server does (a claim
    is not filed and the form says so, an approval is "busy, try again"), at once instead of
    after the client's retries."""

    def get_workflow_handle(self, *args: object, **kwargs: object) -> NoTemporal:
        return self

    get_workflow_handle_for = get_workflow_handle

    def __getattr__(self, name: str) -> Any:
        async def unavailable(*args: object, **kwargs: object) -> None:
            raise RPCError(f"no Temporal in the fuzz run ({name})", RPCStatusCode.UNAVAILABLE, b"")

        return unavailable


def fuzz_org(session: Session) -> dict[str, Any]:
    """An admin, a manager and two learners with weeks of days, flags and claims."""
    admin = add_person(session, "root@example.com", "Root Admin", "Ops", role=Role.admin)
    lead = add_person(session, "lead@example.com", "Lena Lead", "Research")
    alan = add_person(session, "alan@example.com", "Alan Learner", "Research", lead)
    linus = add_person(session, "linus@example.com", "Linus <b>Learner</b>", "=Platform", lead)
    for week in range(4):
        day = add_day(session, alan, THURSDAY - week * WEEK, plan=f"Paper {week}", summary=f"Read paper {week}")
        add_day(session, linus, THURSDAY - week * WEEK, plan="Rust ownership <!channel>")
    flag = add_flag(session, day)
    claim = add_claim(session, alan, "40.00")
    add_claim(session, linus, "25.00", ClaimState.approved)
    session.commit()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    return {
        "admin": admin,
        "tokens": {  # a valid signed link for each link path, so a request reaches past the signature
            "/checkin/{token}": checkin_token(alan.id, THURSDAY),
            "/checkin/{token}/{kind}": checkin_token(alan.id, THURSDAY),
            "/excuse/{token}": excuse_token(flag.id, lead.id),
            "/claims/new/{token}": claim_form_url(alan.id).rsplit("/", 1)[1],
            "/ics/{token}.ics": feed_token(alan.id),
            "/approve/{token}": approval_token(ApprovalLink(claim.id, lead.id, 1, "t0k3n", expires)),
        },
    }


def _send(web: TestClient, case: Any) -> httpx.Response:
    """The case as schemathesis serialises it (requests' encoding of forms and multipart), sent
    through the app's test client, which answers a crash with a 500 like a server would."""
    prepared = requests.Request(**case.as_transport_kwargs(base_url=BASE)).prepare()
    return web.request(
        prepared.method or "GET", prepared.url or BASE, headers=dict(prepared.headers), content=prepared.body
    )


def _server_error(method: str, path: str, response: httpx.Response) -> str | None:
    if response.status_code < 500 or (response.status_code == 503 and (method, path) in ALLOWED_503):
        return None
    return f"{method} {path} -> {response.status_code}: {response.request.url} {response.text[:200]!r}"


@pytest.mark.slow
def test_no_request_from_the_openapi_schema_gets_a_server_error(engine: object, session: Session) -> None:
    site = fuzz_org(session)
    app = create_app(get_settings(), FakeGateway(), mailer_from_settings)  # type: ignore[arg-type]
    app.state.temporal_client = NoTemporal()
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    sent: Counter[str] = Counter()
    with TestClient(app, base_url=BASE, follow_redirects=False, raise_server_exceptions=False) as web:
        sign_in(web, site["admin"])
        found = CSRF.search(web.get("/me").text)
        viewer_csrf = {found.group(1): found.group(2)} if found else {}
        link_csrf: dict[str, dict[str, str]] = {}  # a link page's forms carry a token for that link
        for path, token in site["tokens"].items():
            if path.count("{") == 1 and not path.endswith(".ics"):
                found = CSRF.search(web.get(path.replace("{token}", token)).text)
                link_csrf[path] = {found.group(1): found.group(2)} if found else {}
        link_csrf["/checkin/{token}/{kind}"] = link_csrf.get("/checkin/{token}", {})
        for result in schema.get_all_operations():
            operation = result.ok()
            method, path = operation.method.upper(), operation.path
            # Besides anything in the path: a valid signed link, `kind` or table name, to get past them.
            valid: dict[str, Any] = {"token": site["tokens"][path]} if path in site["tokens"] else {}
            csrf = link_csrf.get(path, viewer_csrf)
            fixed = [valid]
            for name, choices in PATH_CHOICES.items():
                if f"{{{name}}}" in path:
                    fixed = [{**params, name: choice} for params in fixed for choice in choices]
            for mode, examples in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):
                strategies = [operation.as_strategy(generation_mode=mode)] + [
                    operation.as_strategy(generation_mode=mode, path_parameters=params) for params in fixed if params
                ]

                @seed(SEED)
                @settings(FUZZ, max_examples=examples)
                @given(case=st.one_of(strategies), with_csrf=st.booleans())
                def run(case: Any, with_csrf: bool) -> None:
                    if with_csrf and csrf and isinstance(case.body, dict) and mode is GenerationMode.POSITIVE:
                        case.body.update({k: v for k, v in csrf.items() if k in case.body} or csrf)
                    response = _send(web, case)
                    sent[f"{method} {path}"] += 1
                    tried("fuzz: requests from the OpenAPI schema")
                    problem = _server_error(method, path, response)
                    if problem:
                        failures.append(problem)
                    if path.startswith("/auth/") and method == "POST":
                        sign_in(web, site["admin"])  # a sign-out or another sign-in ends this session

                try:
                    run()
                except Unsatisfiable:  # no invalid request exists (no parameters, no body): nothing to send
                    assert mode is GenerationMode.NEGATIVE, f"{method} {path}: no request could be generated"
        for path in ("/healthz", "/readyz", "/metrics"):  # outside the schema (probes), once each
            response = web.get(path)
            tried("fuzz: requests from the OpenAPI schema")
            failures += [p for p in [_server_error("GET", path, response)] if p]

    assert len(sent) >= 20, f"the schema lost operations: {sorted(sent)}"
    assert not failures, f"{len(failures)} server error(s) in {sum(sent.values())} requests:\n" + "\n".join(
        sorted(set(failures))[:40]
    )


# --- Slack ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)


def _claim_form() -> dict[str, Any]:
    def text(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    values = {
        "amount": text("39.90"),
        "currency": {"value": {"type": "static_select", "selected_option": {"value": "USD"}}},
        "category": {"value": {"type": "static_select", "selected_option": {"value": "books"}}},
        "description": text("SICP"),
        "link": text("https://example.com/sicp"),
    }
    return {
        "type": "view_submission",
        "user": {"id": ADA},
        "team": {"id": "TTEAM0001"},
        "view": {"id": "VCLAIM01", "type": "modal", "callback_id": "claim", "state": {"values": values}},
    }


# Replaced by a trigger id the Slack peer issued, once the body is drawn: with one it never
# issued, views.open fails right after the listener's ack, and Bolt then waits 3 s and answers
# 404 (a race in slack_bolt's listener runner), which only slows the run down.
TRIGGER = "TRIGGERPLACEHOLDER"


def _real_bodies() -> list[tuple[str, str, Any]]:
    """(door, encoding, body) as Slack sends them."""

    class Peer:  # button_click wants a trigger id
        @staticmethod
        def new_trigger_id() -> str:
            return TRIGGER

    dm = {
        "type": "event_callback",
        "team_id": "TTEAM0001",
        "api_app_id": "A1",
        "event_id": "Ev1",
        "event_time": 1,
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": "DADA00001",
            "user": ADA,
            "text": "my plan",
            "ts": "1.2",
            "client_msg_id": "m1",
        },
    }
    command = {
        "command": "/learning",
        "text": "status",
        "user_id": ADA,
        "team_id": "TTEAM0001",
        "channel_id": "DADA00001",
        "trigger_id": TRIGGER,
        "response_url": "http://127.0.0.1:9/x",
    }
    return [
        ("events", "json", dm),
        ("events", "json", {"type": "url_verification", "challenge": "abc"}),
        ("interactivity", "payload", button_click(Peer(), ADA)),  # type: ignore[arg-type]
        ("interactivity", "payload", plan_submission(ADA)),
        ("interactivity", "payload", _claim_form()),
        ("commands", "form", command),
        ("commands", "form", {**command, "text": "skip on holiday"}),
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    head, rest = path[0], path[1:]
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


@st.composite
def slack_requests(draw: st.DrawFn) -> tuple[str, bytes, str, str | None]:
    """(door, body, content type, a timestamp header to send instead of a valid one)."""
    door, encoding, body = draw(st.sampled_from(_real_bodies()))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(body)))
        kind = draw(st.sampled_from(["replace", "delete", "nest"]))
        if kind == "delete" and path:
            body = _replace(body, path, None, delete=True)
        elif kind == "nest":
            body = _replace(body, path, _nested(draw(st.integers(20, 200))), False)
        else:
            body = _replace(body, path, draw(json_values), False)
    door = draw(st.sampled_from([door, door, door, "events", "interactivity", "commands"]))
    encoding = draw(st.sampled_from([encoding, encoding, "json", "payload", "form"]))
    if encoding == "json":
        raw, content_type = json.dumps(body), "application/json"
    elif encoding == "payload":
        raw, content_type = urlencode({"payload": json.dumps(body)}), "application/x-www-form-urlencoded"
    else:
        fields = body if isinstance(body, dict) else {"text": body}
        raw = urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})
        content_type = "application/x-www-form-urlencoded"
    data = raw.encode()
    if draw(st.integers(0, 9)) == 0:  # not UTF-8
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + data[at:]
    if draw(st.integers(0, 19)) == 0:  # nested far beyond any payload
        depth = draw(st.integers(1000, 200_000))
        data = b"[" * depth + b"]" * depth if content_type == "application/json" else b"payload=" + b"%5B" * depth
    content_type = draw(st.sampled_from([content_type] * 4 + ["text/plain", "application/json; charset=utf-8", ""]))
    stamp = (
        draw(st.sampled_from(["", "soon", "-1", "1e9", "9" * 5000, "0x1F", " 17"]))
        if draw(st.integers(0, 19)) == 0
        else None
    )
    return door, data, content_type, stamp


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"v": value}
    return value


@seed(SEED)
@settings(FUZZ, max_examples=SLACK_BODIES)
@given(request=slack_requests())
async def test_no_signed_slack_body_gets_a_server_error(
    slack: httpx.AsyncClient,
    slack_peer: SlackPeer,
    request: tuple[str, bytes, str, str | None],  # noqa: F811
) -> None:
    door, body, content_type, stamp = request
    body = body.replace(TRIGGER.encode(), slack_peer.new_trigger_id().encode())
    headers = signed(body, content_type=content_type)
    if stamp is not None:
        headers["X-Slack-Request-Timestamp"] = stamp
    tried("fuzz: signed Slack bodies")
    response = await slack.post(f"/slack/{door}", content=body, headers=headers)

    assert response.status_code < 500, (door, body[:300], response.status_code, response.text[:300])
    if response.status_code == 400:
        assert response.json()["error"], "a refusal that does not say what is wrong"
