"""Is a signed request from Slack shaped the way Slack sends it? Checked before Bolt sees it.

A correctly signed body can still be malformed (a replayed capture edited by hand, a proxy
that mangles it, a new Slack payload version): the listeners index into it, so a body that is
not the shape they read gets a 400 naming the field instead of a 500 from deep inside.
Only the fields our listeners read are checked; anything else Slack adds passes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs


def problem(path: str, body: bytes, content_type: str) -> str | None:
    """Why the body cannot be a Slack request for `path` (events | interactivity | commands)."""
    try:
        if path == "events":
            return _event_problem(json.loads(body))
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if path == "interactivity":
            return _interaction_problem(json.loads(form.get("payload", "null")))
        return _command_problem(form)
    except (ValueError, UnicodeDecodeError) as error:
        return f"body is not valid {'JSON' if path == 'events' else 'form data'}: {error}"


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _text_or_absent(mapping: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        if key in mapping and mapping[key] is not None and not isinstance(mapping[key], str):
            return f"{key} must be a string"
    return None


# Top-level fields Bolt itself reads from every request before any listener runs, with the
# types Slack sends (never null when present).
_OBJECT = (dict,)
_OBJECT_OR_TEXT = (dict, str)
_TOP_LEVEL: dict[str, tuple[type, ...]] = {
    "type": (str,), "token": (str,), "team_id": (str,), "api_app_id": (str,), "event_id": (str,),
    "trigger_id": (str,), "user": _OBJECT_OR_TEXT, "team": _OBJECT_OR_TEXT,
    "enterprise": _OBJECT_OR_TEXT, "channel": _OBJECT_OR_TEXT, "view": _OBJECT,
    "container": _OBJECT, "message": _OBJECT, "event": _OBJECT, "actions": (list,),
    "authorizations": (list,), "is_enterprise_install": (bool,),
}  # fmt: skip


def _top_level_problem(payload: dict[str, Any], where: str) -> str | None:
    for key, types in _TOP_LEVEL.items():
        if key in payload and not isinstance(payload[key], types):
            return f"{where}{key} has the wrong type"
    for key in ("user", "team", "enterprise", "channel"):
        value = payload.get(key)
        if isinstance(value, dict) and not isinstance(value.get("id"), str):
            return f"{where}{key}.id must be a string"
    actions = payload.get("actions")
    if actions is not None and not (actions and all(_is_object(a) for a in actions)):
        return f"{where}actions must be a non-empty list of objects"
    if any(not _is_object(a) for a in payload.get("authorizations") or []):
        return f"{where}authorizations must be objects"
    return None


def _event_problem(payload: Any) -> str | None:
    if not _is_object(payload):
        return "the body must be a JSON object"
    if not isinstance(payload.get("type"), str):
        return "type must be a string"
    top = _top_level_problem(payload, "")
    if top:
        return top
    if payload["type"] == "url_verification":
        return None if isinstance(payload.get("challenge"), str) else "challenge must be a string"
    if payload["type"] == "event_callback":
        event = payload.get("event")
        if not _is_object(event):
            return "event must be an object"
        if event.get("type") == "message" and not isinstance(event.get("channel"), str):
            return "event.channel must be a string"
        return _text_or_absent(event, "type", "user", "channel", "text", "channel_type", "subtype", "bot_id")
    return None


def _interaction_problem(payload: Any) -> str | None:
    if not _is_object(payload):
        return "payload must be a JSON object"
    if not isinstance(payload.get("type"), str):
        return "payload.type must be a string"
    top = _top_level_problem(payload, "payload.")
    if top:
        return top
    user = payload.get("user")
    if not (_is_object(user) and isinstance(user.get("id"), str)):
        return "payload.user.id must be a string"
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list):
            return "payload.actions must be a list of objects"
        if any(not isinstance(a.get("action_id"), str) for a in actions):
            return "payload.actions[].action_id must be a string"
        return None if isinstance(payload.get("trigger_id"), str) else "payload.trigger_id must be a string"
    if payload["type"] in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not (_is_object(view) and isinstance(view.get("callback_id"), str)):
            return "payload.view.callback_id must be a string"
        state = view.get("state", {})
        values = state.get("values", {}) if _is_object(state) else None
        if not (_is_object(values) and all(_is_object(v) for v in values.values())):
            return "payload.view.state.values must be an object of objects"
        if any(not _is_object(action) for block in values.values() for action in block.values()):
            return "payload.view.state.values.*.* must be objects"
    return None


def _command_problem(form: dict[str, str]) -> str | None:
    for field in ("command", "user_id", "trigger_id"):
        if not form.get(field):
            return f"{field} is required"
    return None
