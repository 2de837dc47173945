"""Slack's front door: events, interactivity and the `/learning` command, as a Bolt app.

Everything Slack sends is verified first (Bolt checks `X-Slack-Signature` and refuses
timestamps more than five minutes off with 401, before any listener runs). Then:
- a plain DM to the app is a check-in: the plan if the day has none yet, else the summary;
- the `open_checkin` button and `/learning plan|summary` open the check-in modal (ack, then
  `views.open` straight away: the trigger id lives three seconds);
- a modal submission goes to the check-in gateway; a refusal is shown on the form;
- `/learning status|skip <reason>|help` answer in place;
- `/learning claim` opens the expense-claim modal, filed through the claim service like the web
  form (a category needing a receipt gets the web-form link instead: Slack modals take no files);
- opening the app's Home tab publishes the person's day, the check-in due (its button is the
  prompt's), their streak and claims, and a manager's team (built in web/slack_home.py).
Who is acting is always the Slack user in the request, resolved through `people.slack_user_id`:
a button in a shared channel can be clicked by anyone, and acts for whoever clicked it.

Slack redelivers what it thinks we missed, and a second replica shares no memory with the first,
so every check-in carries Slack's own idempotency key into the workflow (the event's `event_id`
for a DM, the modal's `view.id` for a form): a redelivery is answered like the first and saves
nothing new. A plain DM does not say whether it is the plan or the summary: the workflow decides
(the plan while it is missing and open, else the summary), so a retried plan never becomes the
summary.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from learningday.checkins import (
    CheckInGateway,
    CheckInResult,
    CheckInSubmission,
    DayStatus,
)
from learningday.claims.service import NOT_FILED, ClaimSubmission, SubmitResult, submit_claim
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.policy_source import current_policy
from learningday.settings import Settings, get_settings
from learningday.slack_blocks import (
    CLAIM_CALLBACK,
    MODAL_CALLBACK_PREFIX,
    OPEN_CHECKIN_ACTION,
    OPEN_IN_BROWSER_ACTION,
    checkin_modal,
    claim_modal,
    modal_values,
    policy_categories,
    unescape,
)
from learningday.web import slack_home, slack_shapes
from learningday.web.claims import claim_form_url
from policies.policy import Policy

UNKNOWN_USER = (
    "Sorry, I don't know your Slack account yet, so I can't record a Learning Day check-in "
    "for you. Please ask your Learning Day admin to add your Slack id to your profile."
)
HELP = (
    "*/learning plan* — write today's plan\n"
    "*/learning summary* — write today's summary\n"
    "*/learning status* — where your Learning Day stands\n"
    "*/learning skip <reason>* — skip this Learning Day (holiday, sick…)\n"
    "*/learning claim* — claim a learning expense (book, course…)\n"
    "Or just reply to my DM: your first reply is your plan, the next one your summary."
)
log = logging.getLogger(__name__)
ACK_BUDGET_SECONDS = 2.0  # Slack gives up after 3 s; keep room for the network
ANSWERED_EVENTS = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    id: int | None = None


MemberFinder = Callable[[str], Awaitable[Member | None]]
HomeViewer = Callable[[str], Awaitable[dict[str, Any]]]  # Slack user id -> the Home tab's view
GatewayFactory = Callable[[], CheckInGateway]
ClaimSubmitter = Callable[[ClaimSubmission], Awaitable[SubmitResult]]
CLAIM_BLOCKS = ("amount", "currency", "category", "description", "link")


class TemporalClaimSubmitter:
    """The claim service on a Temporal client connected from settings on first use (like the web
    form's), so a Slack claim is validated, stored and started exactly as a web one."""

    def __init__(self, settings: Settings, client: Any = None, policy: Callable[[], Policy] | None = None) -> None:
        self._settings = settings
        self._client = client
        self._policy = policy or (lambda: current_policy(settings))

    async def __call__(self, submission: ClaimSubmission) -> SubmitResult:
        if self._client is None:
            from learningday.temporal.client import connect

            try:
                self._client = await connect(self._settings)
            except RuntimeError:  # Temporal unreachable: refused like a workflow that cannot start
                log.exception("claim from Slack: connecting to Temporal failed; nothing was filed")
                return SubmitResult(None, {"service": NOT_FILED})
        return await submit_claim(
            self._client, self._settings.temporal_task_queue, submission, self._policy(), self._settings.data_dir
        )


def member_for_slack_id(slack_user_id: str) -> Member | None:
    with session_scope() as session:
        person = session.scalars(
            select(Person).where(Person.slack_user_id == slack_user_id, Person.active.is_(True))
        ).first()
        return Member(person.email, person.name, person.id) if person else None


async def find_member(slack_user_id: str) -> Member | None:
    return await asyncio.to_thread(member_for_slack_id, slack_user_id)


class SlackFrontDoor:
    """The listeners; the gateway, the people lookup and the categories are injected."""

    def __init__(
        self,
        gateway_factory: GatewayFactory,
        find: MemberFinder = find_member,
        categories: Callable[[], dict[str, str]] = policy_categories,
        ack_budget: float = ACK_BUDGET_SECONDS,
        submit_claim: ClaimSubmitter | None = None,
        policy: Callable[[], Policy] = current_policy,
        claim_link: Callable[[int], str] = claim_form_url,
        home: HomeViewer = slack_home.view_for,
    ) -> None:
        self._gateway = gateway_factory
        self._home = home
        self._submit_claim = submit_claim
        self._policy = policy
        self._claim_link = claim_link
        self._ack_budget = ack_budget
        self._find = find
        self._categories = categories
        self._answered: OrderedDict[str, None] = OrderedDict()

    def register(self, app: AsyncApp) -> None:
        app.event("message")(self.direct_message)
        app.event("app_home_opened")(self.home_opened)
        app.action(OPEN_CHECKIN_ACTION)(self.open_checkin)
        app.action(OPEN_IN_BROWSER_ACTION)(self.acknowledge)  # a url button still posts to us
        app.view(re.compile(f"^{MODAL_CALLBACK_PREFIX}(plan|summary)$"))(self.submit_checkin)
        app.view(CLAIM_CALLBACK)(self.submit_expense)
        app.command("/learning")(self.command)

    async def acknowledge(self, ack: Any) -> None:
        await ack()

    async def direct_message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, files and bots (ourselves included) are not check-ins
        key = body.get("event_id") or event.get("client_msg_id")
        if self._recently_answered(key):
            return  # this replica answered it already: spare the person a second reply
        member = await self._find(event["user"])
        if member is None:
            await client.chat_postMessage(channel=event["channel"], text=UNKNOWN_USER)
            return
        result = await self._gateway().submit(
            CheckInSubmission(
                person_email=member.email,
                kind="next",
                text=unescape(event.get("text") or "").strip(),
                source="slack_dm",
                key=f"slack-event:{key}" if key else None,
            )
        )
        await client.chat_postMessage(channel=event["channel"], text=result.message)

    async def home_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """Publish the Home tab, fresh each time it is opened (the event also comes for the
        Messages tab, which is the DM: nothing to publish there)."""
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str):
            return
        await client.views_publish(user_id=user, view=await self._home(user))

    async def open_checkin(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        kind = (body.get("actions") or [{}])[0].get("value")
        if kind not in ("plan", "summary"):
            return
        if await self._find(user) is None:
            await self._tell_privately(client, body, user, UNKNOWN_USER)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=checkin_modal(kind, self._categories()))

    async def submit_checkin(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        member = await self._find(user)
        if member is None:
            await ack(response_action="errors", errors={"what": UNKNOWN_USER})
            return
        kind = view["callback_id"][len(MODAL_CALLBACK_PREFIX) :]
        values = modal_values(view)
        if not values.get("what"):
            await ack(response_action="errors", errors={"what": "Please write a few words."})
            return
        task = asyncio.ensure_future(
            self._gateway().submit(
                CheckInSubmission(
                    person_email=member.email,
                    kind=kind,
                    text=values["what"] or "",
                    source="slack_modal",
                    why=values.get("why"),
                    category=values.get("category"),
                    resources=values.get("resources"),
                    key=f"slack-view:{view['id']}" if view.get("id") else None,
                )
            )
        )
        result = await _within(task, self._ack_budget)
        if result is not None and not result.accepted:
            await ack(response_action="errors", errors={_block_for(result.message, kind): result.message})
            return
        await ack()  # closes the modal; a slow gateway answers by DM when it is done
        result = result or await task
        await client.chat_postMessage(channel=user, text=result.message)

    async def command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        verb, _, rest = (body.get("text") or "").strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb in ("", "help"):
            await ack(HELP)
            return
        if verb not in ("plan", "summary", "status", "skip", "claim"):
            await ack(f"I don't know `{verb}`. Here is what I can do:\n{HELP}")
            return
        member = await self._find(body["user_id"])
        if member is None:
            await ack(UNKNOWN_USER)
            return
        if verb == "claim":
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=_claim_form(self._policy()))
            return
        if verb in ("plan", "summary"):
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=checkin_modal(verb, self._categories()))  # type: ignore[arg-type]  # verb is "plan" or "summary" here
            return
        if verb == "skip" and not rest:
            await ack("Tell me why, e.g. `/learning skip on holiday`.")
            return
        gateway = self._gateway()
        trigger = body.get("trigger_id")
        work = (
            gateway.status(member.email)
            if verb == "status"
            else gateway.skip(member.email, rest, key=f"slack-command:{trigger}" if trigger else None)
        )
        task: asyncio.Future[DayStatus | CheckInResult] = asyncio.ensure_future(work)
        answer = await _within(task, self._ack_budget)
        if answer is None:
            await ack("Working on it…")
            await respond(_describe(await task))
            return
        await ack(_describe(answer))

    async def submit_expense(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """File the claim; refusals go under their fields, success (or a slow answer) comes by DM."""
        user = body["user"]["id"]
        member = await self._find(user)
        if member is None:
            await ack(response_action="errors", errors={"amount": UNKNOWN_USER})
            return
        values = modal_values(view)
        category_key = values.get("category") or ""
        category = self._policy().reimbursement.categories.get(category_key)
        if category is not None and category.receipt_required and member.id is not None:
            await ack()
            await client.chat_postMessage(
                channel=user,
                text=(
                    f"A {category_key} claim needs a receipt, and a Slack form cannot take one: please file it "
                    f"on the web form, where you can attach it: {self._claim_link(member.id)}"
                ),
            )
            return
        submitter = self._submit_claim or TemporalClaimSubmitter(get_settings())
        self._submit_claim = submitter
        # Slack sends the same view again when it thinks we missed it, and a person may click
        # Submit again on a slow form: the view's id makes every delivery the one claim.
        task = asyncio.ensure_future(
            submitter(
                ClaimSubmission(
                    person_email=member.email,
                    amount=values.get("amount") or "",
                    currency=values.get("currency") or "",
                    category=category_key,
                    description=values.get("description") or "",
                    link=values.get("link"),
                    idempotency_key=f"slack-view:{view['id']}" if view.get("id") else None,
                )
            )
        )
        result = await _within(task, self._ack_budget)
        if result is not None and not result.ok:
            await ack(response_action="errors", errors=_claim_errors(result.problems))
            return
        await ack()
        result = result or await task
        await client.chat_postMessage(
            channel=user,
            text=(
                f"Claim {result.claim_id} filed; your approver has been emailed."
                if result.ok
                else "Your claim was not filed: " + " ".join(result.problems.values())
            ),
        )

    def _recently_answered(self, event_id: str | None) -> bool:
        """Whether this process has already handled `event_id`. Only a courtesy (no second reply
        in the DM): the event's key in the workflow is what makes a redelivery a no-op, on any
        replica."""
        if not event_id:
            return False
        if event_id in self._answered:
            return True
        self._answered[event_id] = None
        while len(self._answered) > ANSWERED_EVENTS:
            self._answered.popitem(last=False)
        return False

    async def _tell_privately(self, client: AsyncWebClient, body: dict[str, Any], user: str, text: str) -> None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            await client.chat_postMessage(channel=user, text=text)


def build_bolt_app(
    gateway_factory: GatewayFactory,
    settings: Settings,
    *,
    socket_mode: bool = False,
    front_door: SlackFrontDoor | None = None,
) -> AsyncApp:
    """The Bolt app both front doors run: HTTP (signed requests) or Socket Mode."""
    if settings.slack_bot_token is None:
        raise ValueError("LEARNINGDAY_SLACK_BOT_TOKEN is not set: Slack's endpoints need the bot token")
    if not socket_mode and settings.slack_signing_secret is None:
        raise ValueError(
            "LEARNINGDAY_SLACK_SIGNING_SECRET is not set: without it forged Slack requests cannot be "
            "told apart (or set LEARNINGDAY_SLACK_APP_TOKEN to use Socket Mode)"
        )
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
    )
    (front_door or SlackFrontDoor(gateway_factory, submit_claim=TemporalClaimSubmitter(settings))).register(app)
    return app


def build_slack_router(
    gateway_factory: GatewayFactory, settings: Settings, *, front_door: SlackFrontDoor | None = None
) -> APIRouter:
    """`/slack/events`, `/slack/interactivity`, `/slack/commands` for the web app to mount.

    With Socket Mode (an app token and no signing secret) Slack does not call us over HTTP:
    the router is empty and learningday.slack_socket serves the same app instead."""
    router = APIRouter(prefix="/slack", tags=["slack"])
    if settings.slack_signing_secret is None and settings.slack_app_token is not None:
        return router
    handler = AsyncSlackRequestHandler(build_bolt_app(gateway_factory, settings, front_door=front_door))
    assert settings.slack_signing_secret is not None  # build_bolt_app refuses to run without it
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())

    async def handle(request: Request) -> Response:
        # Signature first (a forged request learns nothing, not even about its shape), then
        # the shape Bolt and our listeners read, then Bolt.
        body = await request.body()
        headers = dict(request.headers.items())  # as Bolt reads them: the last of a repeated header
        if not _signed_by_slack(verifier, body, headers):
            return JSONResponse({"error": "invalid signature or stale timestamp"}, status_code=401)
        malformed = slack_shapes.problem(body, headers)
        if malformed:
            return JSONResponse({"error": malformed}, status_code=400)
        return await handler.handle(request)

    for path in ("/events", "/interactivity", "/commands"):
        router.add_api_route(path, handle, methods=["POST"], include_in_schema=False)
    return router


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
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


async def _within(task: asyncio.Future[T], seconds: float) -> T | None:
    """The task's result if it is ready in time (the task keeps running if not)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return task.result() if done else None


def _claim_form(policy: Policy) -> dict[str, Any]:
    rules = policy.reimbursement
    named = rules.category_labels
    labels = {
        key: f"{named[key]} (up to {c.cap} {rules.currency}{', receipt on the web form' if c.receipt_required else ''})"
        for key, c in rules.categories.items()
    }
    return claim_modal(sorted({rules.currency, *rules.accepted_currencies}), rules.currency, labels)


def _claim_errors(problems: dict[str, str]) -> dict[str, str]:
    """The service's problems by modal block; those about no field (approver, service) go on top."""
    errors: dict[str, str] = {}
    for field, message in problems.items():
        block = field if field in CLAIM_BLOCKS else "amount"
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors


def _block_for(message: str, kind: str) -> str:
    """Which field of the form a refusal is about, so Slack shows it under that field."""
    lowered = message.lower()
    if "category" in lowered:
        return "category"
    if kind == "plan" and "why" in lowered:
        return "why"
    return "what"


def _describe(answer: DayStatus | CheckInResult) -> str:
    if isinstance(answer, CheckInResult):
        return answer.message
    if answer.date is None or answer.state == "none":
        return "No Learning Day is scheduled for you right now."
    lines = [f"Your Learning Day on {answer.date:%A} {answer.date.day} {answer.date:%B}: *{answer.state}*."]
    lines.append(f"Plan: {answer.plan}" if answer.plan else "Plan: not written yet.")
    if answer.summary:
        lines.append(f"Summary: {answer.summary}")
    if answer.next_step:
        lines.append(answer.next_step)
    return "\n".join(lines)
