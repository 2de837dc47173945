"""The Slack app manifest (deploy/slack-manifest.yaml) asks for exactly the scopes the code uses.

Every Slack Web API method called anywhere in the service is found by reading the source (a call
of a `slack_sdk` WebClient method), and each must be in METHOD_SCOPES, the scopes Slack's method
reference lists for it. The manifest's bot scopes must then be exactly what those methods, the
subscribed events and the slash command need: a new call without its scope fails here before a
workspace answers `missing_scope`, and a scope nothing uses is a finding too.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient

from learningday.web.slack import HELP

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "slack-manifest.yaml"
SOURCES = ("activities", "learningday", "workflows")

# From Slack's method reference; the history methods serve a DM, a public and a private channel.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.open": {"im:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.list": {"channels:read", "groups:read"},
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "views.open": set(),  # authorised by the interaction's trigger_id
    "views.publish": set(),  # a person's Home tab: Slack lists no scope for it
}
# app_home_opened needs a bot user and no scope.
EVENT_SCOPES = {"message.im": {"im:history"}, "app_home_opened": set()}
SLASH_COMMAND_SCOPE = "commands"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def methods_called() -> dict[str, list[str]]:
    """Slack API method -> where it is used ("path:line"), for every use of a WebClient method."""
    web_methods = {name for name in dir(WebClient) if not name.startswith("_") and "_" in name}
    found: dict[str, list[str]] = {}
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                # A call (`client.chat_postMessage(...)`) or a method handed on to be called
                # (`partial(client.conversations_history, ...)`): any use of its attribute.
                if isinstance(node, ast.Attribute) and node.attr in web_methods:
                    method = node.attr.replace("_", ".")
                    found.setdefault(method, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_source_scan_finds_the_calls_we_know_are_there() -> None:
    """The scan itself works: a prompt opens a DM and posts, sync looks people up by email."""
    called = methods_called()
    assert {"conversations.open", "chat.postMessage", "users.lookupByEmail", "views.open"} <= set(called)


def test_every_slack_method_the_code_calls_has_its_scopes_on_record() -> None:
    unknown = {method: where for method, where in methods_called().items() if method not in METHOD_SCOPES}
    assert not unknown, f"add these methods and their scopes (Slack's method reference) to METHOD_SCOPES: {unknown}"


def test_the_manifest_asks_for_exactly_the_scopes_the_code_uses() -> None:
    app = manifest()
    events = app["settings"]["event_subscriptions"]["bot_events"]
    needed = set().union(*(METHOD_SCOPES[m] for m in methods_called()), *(EVENT_SCOPES[e] for e in events))
    needed.add(SLASH_COMMAND_SCOPE)

    granted = set(app["oauth_config"]["scopes"]["bot"])

    assert not needed - granted, f"missing from the manifest: {sorted(needed - granted)}"
    assert not granted - needed, f"asked for but never used: {sorted(granted - needed)}"


def test_the_manifest_points_slack_at_the_routes_the_service_serves() -> None:
    app = manifest()
    [command] = app["features"]["slash_commands"]
    assert command["command"] == "/learning" and command["url"].endswith("/slack/commands")
    assert app["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert app["settings"]["interactivity"]["request_url"].endswith("/slack/interactivity")
    for word in ("plan", "summary", "status", "skip", "claim"):  # the usage hint names what help does
        assert word in command["usage_hint"] and f"/learning {word}" in HELP


def test_the_home_tab_the_code_publishes_is_enabled_and_its_event_subscribed() -> None:
    """Without them Slack answers views.publish with `not_enabled` and never says the tab opened."""
    app = manifest()
    assert "views.publish" in methods_called()
    assert app["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in app["settings"]["event_subscriptions"]["bot_events"]


def test_the_readme_names_the_manifest_and_every_scope_in_it() -> None:
    readme = (ROOT / "README.md").read_text()
    slack_section = readme.split("### Slack", 1)[1].split("\n### ", 1)[0]
    assert "deploy/slack-manifest.yaml" in slack_section
    missing = [scope for scope in manifest()["oauth_config"]["scopes"]["bot"] if f"`{scope}`" not in slack_section]
    assert not missing, f"the README's Slack section does not list {missing}"
