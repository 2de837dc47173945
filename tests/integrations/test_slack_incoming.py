"""Slack's requests to us: signed events, button clicks, modal submissions and /learning, through
the FastAPI router (Bolt inside), with the real AsyncWebClient answering to the Slack peer."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learningday.checkins import CheckInResult, CheckInSubmission, DayStatus
from learningday.db.models import Person
from learningday.settings import Settings
from learningday.slack_socket import build_socket_mode_handler
from learningday.web.slack import UNKNOWN_USER, SlackFrontDoor, build_slack_router
from policies.policy import SEED_CATEGORIES
from tests.peers.slack import BOT_TOKEN, SlackPeer, slack_peer  # noqa: F401
from tests.peers.slack_requests import (  # noqa: F401
    SECRET,
    button_click,
    command,
    dm,
    interact,
    plan_submission,
    send_event,
    signed,
)

ADA, ZED = "UADA00001", "UZED00009"  # Zed has a Slack account but is not in our people table
DAY = dt.date(2026, 12, 3)


class FakeGateway:
    """Remembers what reached it; answers like the real one would for one person's day: a plain
    reply ("next") is the plan until there is one, then the summary, and a key already seen is
    answered like the first time without being recorded again (the workflow's part, tested
    against the real one in tests/integrations/test_redelivery.py)."""

    def __init__(self) -> None:
        self.submissions: list[CheckInSubmission] = []
        self.answers: dict[str, CheckInResult] = {}
        self.skips: list[tuple[str, str]] = []
        self.refuse_with: str | None = None
        self.hold: asyncio.Event | None = None  # set: submissions wait for it (a slow Temporal)
        self._changed = asyncio.Condition()

    async def submit(self, submission: CheckInSubmission) -> CheckInResult:
        if submission.key in self.answers:
            return self.answers[submission.key]  # type: ignore[index]
        if submission.kind == "next":
            has_plan = any(s.kind == "plan" for s in self.submissions)
            submission = dataclasses.replace(submission, kind="summary" if has_plan else "plan")
        async with self._changed:
            self.submissions.append(submission)
            self._changed.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        if self.refuse_with:
            return CheckInResult(accepted=False, message=self.refuse_with)
        result = CheckInResult(accepted=True, message=f"{submission.kind.capitalize()} saved", kind=submission.kind)
        if submission.key is not None:
            self.answers[submission.key] = result
        return result

    async def status(self, person_email: str) -> DayStatus:
        plan = next((s.text for s in self.submissions if s.kind == "plan"), None)
        return DayStatus(
            person_email,
            DAY,
            "learning" if plan else "planning",
            plan=plan,
            next_step="Summary due by 20:00" if plan else "Plan due by 12:00",
        )

    async def skip(self, person_email: str, reason: str, key: str | None = None) -> CheckInResult:
        self.skips.append((person_email, reason))
        return CheckInResult(accepted=True, message=f"Skipped: {reason}")

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout=5)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def ada(session: Session, engine: Engine) -> Person:
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/London", slack_user_id=ADA)
    session.add(person)
    session.commit()
    return person


ACK_BUDGET = 0.2  # the production budget is 2 s; short here so the slow-gateway test is quick


@pytest.fixture
async def slack(slack_peer: SlackPeer, gateway: FakeGateway, ada: Person) -> AsyncIterator[httpx.AsyncClient]:
    slack_peer.add_user("ada@example.com", ADA)
    slack_peer.add_user("zed@example.com", ZED)
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_base_url=slack_peer.base_url,
    )
    app = FastAPI()
    front_door = SlackFrontDoor(lambda: gateway, ack_budget=ACK_BUDGET)
    app.include_router(build_slack_router(lambda: gateway, settings, front_door=front_door))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def peer_sees(peer: SlackPeer, predicate: Callable[[], bool]) -> None:
    assert await asyncio.to_thread(peer.wait_for, predicate, 5.0), "the Slack peer never saw it"


async def test_url_verification_challenge_is_answered(slack: httpx.AsyncClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    response = await slack.post("/slack/events", content=body, headers=signed(body, content_type="application/json"))

    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_forged_signature_is_refused_and_reaches_nothing(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    response = await send_event(slack, dm(ADA, "my plan"), "Ev1", secret="not-our-secret")

    assert response.status_code == 401
    assert gateway.submissions == [] and slack_peer.calls == []


async def test_stale_timestamp_is_refused_even_when_correctly_signed(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    response = await send_event(slack, dm(ADA, "my plan"), "Ev1", timestamp=int(time.time()) - 6 * 60)

    assert response.status_code == 401
    assert gateway.submissions == [] and slack_peer.calls == []


async def test_dm_replies_become_the_plan_then_the_summary(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    first = await send_event(slack, dm(ADA, "Read the &lt;Attention&gt; paper"), "Ev1")
    assert first.status_code == 200
    await gateway.wait_for(lambda: len(gateway.submissions) == 1)
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages("DADA00001")) == 1)
    await send_event(slack, dm(ADA, "Reimplemented attention in numpy"), "Ev2")
    await gateway.wait_for(lambda: len(gateway.submissions) == 2)

    assert [(s.kind, s.text, s.source) for s in gateway.submissions] == [
        ("plan", "Read the <Attention> paper", "slack_dm"),
        ("summary", "Reimplemented attention in numpy", "slack_dm"),
    ]
    assert all(s.person_email == "ada@example.com" for s in gateway.submissions)
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages("DADA00001")) == 2)
    assert [m.text for m in slack_peer.channel_messages("DADA00001")] == ["Plan saved", "Summary saved"]


async def test_bot_messages_edits_and_redeliveries_are_not_check_ins(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    await send_event(slack, dm(ADA, "from a bot", bot_id="B999"), "Ev1")
    await send_event(slack, dm(ADA, "edited", subtype="message_changed"), "Ev2")
    await send_event(slack, dm(ADA, "the real plan"), "Ev3")
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    await send_event(slack, dm(ADA, "the real plan"), "Ev3")  # Slack retrying a delivery
    await send_event(slack, dm(ADA, "the summary"), "Ev4")

    await gateway.wait_for(lambda: any(s.text == "the summary" for s in gateway.submissions))
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 2)
    assert [(s.kind, s.text) for s in gateway.submissions] == [("plan", "the real plan"), ("summary", "the summary")]


async def test_unknown_slack_user_is_politely_refused_in_their_dm(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    await send_event(slack, dm(ZED, "my plan"), "Ev1")

    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ZED)) == 1)
    assert slack_peer.channel_messages(ZED)[0].text == UNKNOWN_USER
    assert gateway.submissions == []


async def test_button_click_opens_the_plan_modal_with_the_trigger_id(
    slack: httpx.AsyncClient, slack_peer: SlackPeer
) -> None:
    click = button_click(slack_peer, ADA)
    response = await interact(slack, click)

    assert response.status_code == 200
    await peer_sees(slack_peer, lambda: bool(slack_peer.calls_to("views.open")))
    [opened] = slack_peer.calls_to("views.open")
    assert (opened.status, opened.error, opened.args["trigger_id"]) == (200, None, click["trigger_id"])
    [view] = slack_peer.views.values()
    assert view["callback_id"] == "checkin_plan"
    assert [b["block_id"] for b in view["blocks"]] == ["what", "why", "category", "resources"]
    options = view["blocks"][2]["element"]["options"]
    assert [o["value"] for o in options] == list(SEED_CATEGORIES)


async def test_button_click_by_an_unknown_user_gets_a_private_note_and_no_modal(
    slack: httpx.AsyncClient, slack_peer: SlackPeer
) -> None:
    await interact(slack, button_click(slack_peer, ZED))

    await peer_sees(slack_peer, lambda: bool(slack_peer.ephemeral))
    assert slack_peer.ephemeral[0]["user"] == ZED and slack_peer.ephemeral[0]["text"] == UNKNOWN_USER
    assert slack_peer.calls_to("views.open") == []


async def test_plan_submitted_in_the_modal_reaches_the_gateway_with_its_category(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    response = await interact(slack, plan_submission(ADA))

    assert response.status_code == 200 and response.content in (b"", b"{}")  # closes the modal
    [submission] = gateway.submissions
    assert submission == CheckInSubmission(
        person_email="ada@example.com",
        kind="plan",
        text="Reimplement the Attention paper",
        source="slack_modal",
        why="We use transformers daily",
        category="papers",
        resources="https://arxiv.org/abs/1706.03762",
        key="slack-view:V1",
    )  # Slack's id of this modal: a redelivery is the same check-in
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    assert slack_peer.channel_messages(ADA)[0].text == "Plan saved"


async def test_slow_gateway_still_closes_the_modal_in_time_and_answers_by_dm(
    slack: httpx.AsyncClient, gateway: FakeGateway, slack_peer: SlackPeer
) -> None:
    gateway.hold = asyncio.Event()

    started = time.monotonic()
    response = await interact(slack, plan_submission(ADA))

    assert response.status_code == 200 and time.monotonic() - started < 1.0  # acked, not waiting
    assert len(gateway.submissions) == 1 and slack_peer.channel_messages(ADA) == []
    gateway.hold.set()
    await peer_sees(slack_peer, lambda: len(slack_peer.channel_messages(ADA)) == 1)
    assert slack_peer.channel_messages(ADA)[0].text == "Plan saved"


async def test_refused_submission_is_shown_on_the_form_under_its_field(
    slack: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.refuse_with = "Pick a category for your plan"

    response = await interact(slack, plan_submission(ADA, category=None))

    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {"category": "Pick a category for your plan"}}


async def test_submission_from_an_unknown_user_never_reaches_the_gateway(
    slack: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    response = await interact(slack, plan_submission(ZED))

    assert response.json() == {"response_action": "errors", "errors": {"what": UNKNOWN_USER}}
    assert gateway.submissions == []


async def test_learning_summary_command_opens_the_summary_modal(
    slack: httpx.AsyncClient, slack_peer: SlackPeer
) -> None:
    response = await command(slack, "summary", ADA, trigger_id=slack_peer.new_trigger_id())

    assert response.status_code == 200
    await peer_sees(slack_peer, lambda: bool(slack_peer.views))
    [view] = slack_peer.views.values()
    assert view["callback_id"] == "checkin_summary"
    assert "why" not in [b["block_id"] for b in view["blocks"]]


async def test_learning_status_command_answers_with_the_day(slack: httpx.AsyncClient) -> None:
    response = await command(slack, "status", ADA)

    assert response.status_code == 200
    assert response.text == (
        "Your Learning Day on Thursday 3 December: *planning*.\nPlan: not written yet.\nPlan due by 12:00"
    )


async def test_learning_skip_command_records_the_reason(slack: httpx.AsyncClient, gateway: FakeGateway) -> None:
    without_reason = await command(slack, "skip", ADA)
    response = await command(slack, "skip on holiday in Lisbon", ADA)

    assert "Tell me why" in without_reason.text
    assert response.text == "Skipped: on holiday in Lisbon"
    assert gateway.skips == [("ada@example.com", "on holiday in Lisbon")]


async def test_learning_command_from_an_unknown_user_is_refused(slack: httpx.AsyncClient, gateway: FakeGateway) -> None:
    response = await command(slack, "skip sick", ZED)

    assert response.text == UNKNOWN_USER
    assert gateway.skips == []


async def test_learning_help_lists_the_commands(slack: httpx.AsyncClient) -> None:
    response = await command(slack, "help", ADA)

    assert "/learning skip <reason>" in response.text


async def test_socket_mode_handler_is_built_from_the_same_app() -> None:
    """Constructed only: no Socket Mode peer exists, so connecting is not exercised here."""
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_app_token=SecretStr("xapp-1-test"),
        slack_signing_secret=None,
        slack_api_base_url="http://127.0.0.1:9/api/",
    )

    handler = build_socket_mode_handler(lambda: FakeGateway(), settings)

    assert handler.app_token == "xapp-1-test"
    assert handler.app.client.base_url == "http://127.0.0.1:9/api/"
    await handler.close_async()


def test_http_endpoints_refuse_to_start_without_a_signing_secret() -> None:
    settings = Settings(slack_bot_token=SecretStr(BOT_TOKEN), slack_signing_secret=None, slack_app_token=None)

    with pytest.raises(ValueError, match="LEARNINGDAY_SLACK_SIGNING_SECRET is not set"):
        build_slack_router(lambda: FakeGateway(), settings)


def test_socket_mode_install_mounts_no_http_endpoints() -> None:
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN), slack_signing_secret=None, slack_app_token=SecretStr("xapp-1-test")
    )

    assert build_slack_router(lambda: FakeGateway(), settings).routes == []


def _payload(**fields: object) -> str:
    return urlencode({"payload": json.dumps(fields)})


def _submission(**view: object) -> dict[str, object]:
    return {
        "type": "view_submission",
        "user": {"id": ADA},
        "team": {"id": "TTEAM0001"},
        "view": {"id": "V1", "type": "modal", "callback_id": "checkin_plan", "state": {"values": {}}, **view},
    }


FORM = "application/x-www-form-urlencoded"
DEEP = 100_000
MALFORMED = [  # (where, body, content type, what the refusal names)
    (
        "events",
        b'{"type": "event_callback", "event": {"type": "message", "text": "caf\xe9"}}',
        "application/json",
        "UTF-8",
    ),
    ("interactivity", b"payload=" + b'{"type": "block_actions"}\xff', FORM, "UTF-8"),
    ("commands", b"command=%2Flearning&text=\xff\xfe&user_id=UADA00001&trigger_id=t", FORM, "UTF-8"),
    ("events", "[" * DEEP + "]" * DEEP, "application/json", "nests"),
    (
        "events",
        '{"type": "event_callback", "event": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
        "application/json",
        "nests",
    ),
    ("interactivity", urlencode({"payload": "[" * DEEP + "]" * DEEP}), FORM, "nests"),
    ("interactivity", _payload(type="view_submission", user={"id": ADA}, view=7), FORM, "view"),
    ("interactivity", _payload(type="view_submission", user={"id": ADA}, view="checkin_plan"), FORM, "view"),
    (
        "interactivity",
        _payload(type="block_actions", user=7, trigger_id="t", actions=[{"action_id": "open_checkin"}]),
        FORM,
        "user",
    ),
    (
        "interactivity",
        _payload(
            type="block_actions",
            user="UADA00001",
            trigger_id="t",
            actions=[{"action_id": "open_checkin", "value": "plan"}],
        ),
        FORM,
        "user",
    ),
    # Bolt reads a body by what it holds, not by the URL it came to: the same checks apply at every door.
    (
        "commands",
        _payload(
            type="block_actions",
            user="UADA00001",
            trigger_id="t",
            actions=[{"action_id": "open_checkin", "value": "plan"}],
        ),
        FORM,
        "user",
    ),
    ("commands", _payload(type="view_submission", user={"id": ADA}, view=7), FORM, "view"),
    ("events", json.dumps({"type": "view_submission", "user": {"id": ADA}, "view": 7}), "application/json", "view"),
    (
        "events",
        json.dumps(
            {
                "type": "block_actions",
                "user": "UADA00001",
                "trigger_id": "t",
                "actions": [{"action_id": "open_checkin", "value": "plan"}],
            }
        ),
        "application/json",
        "user",
    ),
    (
        "events",
        json.dumps({"command": "/learning", "text": {"a": 1}, "user_id": ADA, "trigger_id": "t"}),
        "application/json",
        "text",
    ),
    (
        "interactivity",
        _payload(
            **_submission(
                state={
                    "values": {
                        "what": {"value": {"type": "plain_text_input", "value": "x"}},
                        "category": {"value": {"type": "static_select", "selected_option": "papers"}},
                    }
                }
            )
        ),
        FORM,
        "selected_option",
    ),
    (
        "interactivity",
        _payload(
            **_submission(
                state={
                    "values": {
                        "what": {"value": {"type": "plain_text_input", "value": "x"}},
                        "category": {"value": {"type": "static_select", "selected_option": {"value": ["papers"]}}},
                    }
                }
            )
        ),
        FORM,
        "selected_option",
    ),
    # Found by the fuzz run: Bolt reads view.type on every submission (a KeyError, then a 500).
    (
        "interactivity",
        _payload(
            type="view_submission",
            user={"id": ADA},
            view={"id": "V1", "callback_id": "checkin_plan", "state": {"values": {}}},
        ),
        FORM,
        "view.type",
    ),
    (
        "interactivity",
        _payload(
            **_submission(
                id="V" * 500, state={"values": {"what": {"value": {"type": "plain_text_input", "value": "x"}}}}
            )
        ),
        FORM,
        "view.id",
    ),
]


@pytest.mark.parametrize(
    ("where", "body", "content_type", "names"),
    MALFORMED,
    ids=[f"{w}-{n}-{i}" for i, (w, _, _, n) in enumerate(MALFORMED)],
)
async def test_a_signed_body_slack_would_never_send_is_refused_with_400_naming_what_is_wrong(
    slack: httpx.AsyncClient,
    gateway: FakeGateway,
    slack_peer: SlackPeer,
    where: str,
    body: str | bytes,
    content_type: str,
    names: str,
) -> None:
    response = await slack.post(f"/slack/{where}", content=body, headers=signed(body, content_type=content_type))

    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert names in response.json()["error"]
    assert gateway.submissions == [] and slack_peer.calls == []


@pytest.mark.parametrize("stamp", ["soon", "", "1e9", "-1", "9" * 5000])
async def test_a_timestamp_that_is_not_a_number_is_an_invalid_signature(
    slack: httpx.AsyncClient, gateway: FakeGateway, stamp: str
) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c"})
    headers = {**signed(body, content_type="application/json"), "X-Slack-Request-Timestamp": stamp}

    response = await slack.post("/slack/events", content=body, headers=headers)

    assert response.status_code == 401
