"""Slack payloads and link tokens of every shape: the web process answers each with a 2xx or a
4xx page that says what is wrong, never a 500."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from activities.mail.factory import mailer_from_settings
from learningday.links.approval import ApprovalLink, approval_token
from learningday.links.checkin import checkin_token
from learningday.links.excuse import excuse_token
from learningday.settings import get_settings
from learningday.web.app import create_app
from learningday.web.auth import login_token
from learningday.web.ics import feed_token
from tests.integrations.test_slack_incoming import ADA, ada, gateway, slack  # noqa: F401 - fixtures
from tests.peers.slack import slack_peer  # noqa: F401 - fixture
from tests.peers.slack_requests import signed
from tests.properties.conftest import tried
from tests.web.conftest import FakeGateway

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Shapes Slack really sends, with any field replaced by anything.
slack_shapes = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["event_callback", "block_actions", "view_submission", "url_verification", "shortcut"])
        | st.text(max_size=8),
        "user": st.fixed_dictionaries({"id": st.sampled_from([ADA, "UNOBODY01"]) | st.text(max_size=12)}) | json_values,
        "event": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["message", "app_mention"]),
                "channel_type": st.just("im"),
                "user": st.sampled_from([ADA, "UNOBODY01"]),
                "text": st.text(max_size=40),
            }
        )
        | json_values,
        "actions": st.lists(
            st.fixed_dictionaries({"action_id": st.sampled_from(["open_checkin", "x"]), "value": json_values}),
            max_size=2,
        )
        | json_values,
        "view": json_values,
    },
    optional={"challenge": json_values, "event_id": st.text(max_size=10)},
)


@EXAMPLES
@given(payload=slack_shapes | json_values, where=st.sampled_from(["events", "interactivity", "commands"]))
async def test_any_correctly_signed_slack_request_gets_an_answer_not_a_crash(
    slack: httpx.AsyncClient, payload: object, where: str
) -> None:
    tried(f"Slack /slack/{where} body")
    if where == "events":
        body, kind = json.dumps(payload), "application/json"
    elif where == "interactivity":
        body, kind = urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    else:
        fields = payload if isinstance(payload, dict) else {"text": payload}
        body = urlencode({str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in fields.items()})
        kind = "application/x-www-form-urlencoded"
    response = await slack.post(f"/slack/{where}", content=body, headers=signed(body, content_type=kind))
    assert response.status_code < 500, (response.status_code, response.text[:300])


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    with TestClient(
        create_app(get_settings(), FakeGateway(), mailer_from_settings),
        base_url="http://127.0.0.1:8000",
        follow_redirects=False,
    ) as client:
        yield client


def valid_tokens() -> dict[str, str]:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    return {
        "/approve/{}": approval_token(ApprovalLink(1, 2, 1, "t0k3n", expires)),
        "/excuse/{}": excuse_token(1, 2),
        "/checkin/{}": checkin_token(1, dt.date(2026, 12, 3)),
        "/auth/link/{}": login_token(1),
        "/ics/{}.ics": feed_token(1),
        "/claims/new/{}": feed_token(1),
    }


def flipped(token: str, seed: int) -> str:
    """The token with one character changed, as a mail client or an attacker might."""
    rng = random.Random(seed)
    i = rng.randrange(len(token))
    return token[:i] + rng.choice([c for c in "AZaz09-_.~" if c != token[i]]) + token[i + 1 :]


@EXAMPLES
@given(
    route=st.sampled_from(sorted(valid_tokens())),
    raw=st.text(min_size=1, max_size=80) | st.integers(0, 2**31).map(str),
    flip=st.booleans(),
    seed=st.integers(0, 2**31),
    method=st.sampled_from(["GET", "POST"]),
)
def test_any_tampered_or_made_up_link_is_refused_with_a_page_not_a_crash(
    web: TestClient, route: str, raw: str, flip: bool, seed: int, method: str
) -> None:
    tried(f"link token {route.split('/')[1]}")
    token = flipped(valid_tokens()[route], seed) if flip else raw
    path = route.format(quote(token, safe=""))
    if path.startswith("/checkin/") and method == "POST":
        path += "/plan"
    response = web.request(method, path, data={"csrf": "x", "reason": "r", "text": "t", "decision": "approve"})
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    if 400 <= response.status_code < 500:
        assert response.text.strip(), "a refusal without a word of explanation"
