"""Is a signed request from Slack shaped the way Slack sends it? Checked before Bolt sees it.

A correctly signed body can still be malformed (a replayed capture edited by hand, a proxy
that mangles it, a new Slack payload version): Bolt and our listeners index into it, so a body
that is not the shape they read gets a 400 naming the field instead of a 500 from deep inside.

Bolt reads a body by what it holds, not by the URL it came to: JSON (or anything starting with
`{`) is parsed as JSON, a form holding `payload` as that payload, any other form as a slash
command; `command` makes it a command, `type` an event or an interaction. So it is read here
exactly the same way, at every door, and checked for what Bolt will take it to be. Only the
fields Bolt and our listeners read are checked; anything else Slack adds passes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

# Slack's payloads nest about a dozen levels (a modal's rich text at most); far deeper is not
# Slack, and would only make every reader of it recurse.
MAX_DEPTH = 32
# Slack's ids (view, event, trigger) are a few dozen characters; ours become idempotency keys.
ID_MAX = 100

_IDS = ("user", "team", "channel", "enterprise")  # a string, or an object with a string `id`
# Objects in which Bolt looks for who, where and which team (slack_bolt.request.internals).
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")


def problem(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why the body cannot be a request from Slack, or None. `headers` as Bolt gets them
    (lower-case names; the last Content-Type wins)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the body must be UTF-8 text (byte {error.start} is not)"
    content_type = (headers.get("content-type") or "").split(";")[0]
    try:
        payload, where = _as_bolt_reads_it(text, content_type)
    except RecursionError:
        return f"the body nests deeper than {MAX_DEPTH} levels"
    except ValueError as error:
        return f"the body is not valid JSON or form data: {error}"
    if _deeper_than(payload, MAX_DEPTH):
        return f"the body nests deeper than {MAX_DEPTH} levels"
    if not isinstance(payload, dict):
        return f"{where.rstrip('.') or 'the body'} must be a JSON object"
    return _payload_problem(payload, where)


def _as_bolt_reads_it(text: str, content_type: str) -> tuple[Any, str]:
    """The body parsed as slack_bolt.request.internals.parse_body parses it, and the name of
    what it holds in error messages ("payload." for an interaction's form field)."""
    if not text:
        return {}, ""
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text), ""
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return (json.loads(payload) if payload is not None else {}), "payload."
    return dict(parse_qsl(text, keep_blank_values=True)), ""


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def _payload_problem(payload: dict[str, Any], where: str) -> str | None:
    found = _top_level_problem(payload, where)
    if found:
        return found
    if "command" in payload:
        return _command_problem(payload, where)
    kind = payload.get("type")
    if kind in ("event_callback", "url_verification"):
        return _event_problem(payload, where)
    if kind in ("block_actions", "interactive_message", "view_submission", "view_closed"):
        return _interaction_problem(payload, where)
    return None


# Top-level fields Bolt itself reads from every request before any listener runs, with the
# types Slack sends (never null when present).
_OBJECT = (dict,)
_TEXT = (str,)
_OBJECT_OR_TEXT = (dict, str)
_TOP_LEVEL: dict[str, tuple[type, ...]] = {
    "type": _TEXT,
    "token": _TEXT,
    "team_id": _TEXT,
    "api_app_id": _TEXT,
    "event_id": _TEXT,
    "trigger_id": _TEXT,
    "user_id": _TEXT,
    "channel_id": _TEXT,
    "enterprise_id": _TEXT,
    "command": _TEXT,
    "text": _TEXT,
    "response_url": _TEXT,
    "user": _OBJECT_OR_TEXT,
    "team": _OBJECT_OR_TEXT,
    "enterprise": _OBJECT_OR_TEXT,
    "channel": _OBJECT_OR_TEXT,
    "view": _OBJECT,
    "container": _OBJECT,
    "message": _OBJECT,
    "previous_message": _OBJECT,
    "event": _OBJECT,
    "item": _OBJECT,
    "assistant_thread": _OBJECT,
    "function_data": _OBJECT,
    "actions": (list,),
    "authorizations": (list,),
    "response_urls": (list,),
    "is_enterprise_install": (bool,),
}


def _top_level_problem(payload: dict[str, Any], where: str) -> str | None:
    for key, types in _TOP_LEVEL.items():
        if key in payload and not isinstance(payload[key], types):
            return f"{where}{key} has the wrong type"
    for key in ("event_id", "trigger_id"):
        if len(payload.get(key) or "") > ID_MAX:
            return f"{where}{key} must be a Slack id (at most {ID_MAX} characters)"
    found = _ids_problem(payload, where)
    if found:
        return found
    for key in _NESTED:  # e.g. event, and event.message for an edited message
        nested = payload.get(key)
        if not isinstance(nested, dict):
            continue
        inner = [(f"{where}{key}.{k}.", nested[k]) for k in _NESTED if isinstance(nested.get(k), dict)]
        for name, obj in [(f"{where}{key}.", nested), *inner]:
            found = _ids_problem(obj, name)
            if found:
                return found
    actions = payload.get("actions")
    if actions is not None and not (actions and all(isinstance(a, dict) for a in actions)):
        return f"{where}actions must be a non-empty list of objects"
    for key in ("authorizations", "response_urls"):
        if any(not isinstance(a, dict) for a in payload.get(key) or []):
            return f"{where}{key} must be a list of objects"
    if any(_ids_problem(a, f"{where}authorizations[].") for a in payload.get("authorizations") or []):
        return f"{where}authorizations[].team must be a string or an object with a string id"
    return None


def _ids_problem(mapping: dict[str, Any], where: str) -> str | None:
    """`user`, `team`, `channel` and `enterprise` are a string or an object with a string id."""
    for key in _IDS:
        value = mapping.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict):
            return f"{where}{key} must be a string or an object"
        if not isinstance(value.get("id"), str):
            return f"{where}{key}.id must be a string"
    return None


def _text_or_absent(mapping: dict[str, Any], where: str, *keys: str) -> str | None:
    for key in keys:
        if key in mapping and mapping[key] is not None and not isinstance(mapping[key], str):
            return f"{where}{key} must be a string"
    return None


def _event_problem(payload: dict[str, Any], where: str) -> str | None:
    if payload["type"] == "url_verification":
        return None if isinstance(payload.get("challenge"), str) else f"{where}challenge must be a string"
    event = payload.get("event")
    if not isinstance(event, dict):
        return f"{where}event must be an object"
    if not isinstance(event.get("type"), str):
        return f"{where}event.type must be a string"
    if event["type"] == "message" and not isinstance(event.get("channel"), str):
        return f"{where}event.channel must be a string"
    return _text_or_absent(
        event,
        f"{where}event.",
        "user",
        "channel",
        "text",
        "channel_type",
        "subtype",
        "bot_id",
        "client_msg_id",
        "ts",
        "thread_ts",
    )


def _interaction_problem(payload: dict[str, Any], where: str) -> str | None:
    user = payload.get("user")
    if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return f"{where}user must be an object with a string id"
    if "channel" in payload and not isinstance(payload["channel"], dict):
        return f"{where}channel must be an object"
    if payload["type"] in ("block_actions", "interactive_message"):
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return f"{where}actions must be a non-empty list of objects"
        if any(not isinstance(a.get("action_id"), str) for a in actions):
            return f"{where}actions[].action_id must be a string"
        trigger = payload.get("trigger_id")
        return None if isinstance(trigger, str) else f"{where}trigger_id must be a string"
    return _view_problem(payload.get("view"), f"{where}view.")


def _view_problem(view: Any, where: str) -> str | None:
    if not (isinstance(view, dict) and isinstance(view.get("callback_id"), str)):
        return f"{where}callback_id must be a string"
    if not isinstance(view.get("type"), str):  # Bolt reads it on every submission ("modal")
        return f"{where}type must be a string"
    if "id" in view and not (isinstance(view["id"], str) and len(view["id"]) <= ID_MAX):
        return f"{where}id must be a Slack id (a string of at most {ID_MAX} characters)"
    found = _text_or_absent(view, where, "private_metadata", "team_id", "app_installed_team_id")
    if found:
        return found
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not (isinstance(values, dict) and all(isinstance(v, dict) for v in values.values())):
        return f"{where}state.values must be an object of objects"
    for block in values.values():
        for action in block.values():
            if not isinstance(action, dict):
                return f"{where}state.values.*.* must be objects"
            found = _text_or_absent(action, f"{where}state.values.*.*.", "type", "value")
            if found:
                return found
            option = action.get("selected_option")
            if option is not None and not (isinstance(option, dict) and isinstance(option.get("value"), str)):
                return f"{where}state.values.*.*.selected_option must be an object with a string value"
    return None


def _command_problem(form: dict[str, Any], where: str) -> str | None:
    for field in ("command", "user_id", "trigger_id"):
        if not form.get(field):
            return f"{where}{field} is required"
    if len(form["trigger_id"]) > ID_MAX:
        return f"{where}trigger_id must be a Slack id (at most {ID_MAX} characters)"
    return None
