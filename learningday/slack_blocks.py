"""Block Kit for Learning Day: the prompt DM, the channel post and the check-in modal.

Pure functions shared by the outgoing side (activities/chat/slack.py) and the incoming side
(learningday/web/slack/), so the buttons we send and the handlers that answer them agree on
their ids. Every builder stays inside Slack's limits (50 blocks per message, 100 per modal,
3,000 characters per section, 24 per modal title) instead of letting Slack refuse the call.

Slack reads `<!channel>`, `<!here>`, `<@U…>`, `<#C…>` and `<https://…|label>` as markup both in
mrkdwn blocks and in a message's `text` (the notification and fallback). Whatever a person
typed (a plan, a name, a flag's reason) is escaped in both, so it reaches the channel as the
characters they typed: no ping, no mention, no link dressed up as something else.
"""

from __future__ import annotations

from typing import Any

from learningday.contracts.chat import ChannelPost, Prompt, PromptKind

OPEN_CHECKIN_ACTION = "open_checkin"
OPEN_IN_BROWSER_ACTION = "open_in_browser"
MODAL_CALLBACK_PREFIX = "checkin_"
CLAIM_CALLBACK = "claim"
CLAIM_RECEIPT_NOTE = (
    "A receipt cannot be attached here. Where the policy requires one, pick the category and "
    "I'll send you the link to the web form, where you can add it."
)
METADATA_EVENT_TYPE = "learningday_message"

MAX_MESSAGE_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FALLBACK_TEXT = 300  # the notification text; the blocks carry the whole message
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100

QUESTIONS: dict[str, str] = {
    "plan": "What will you learn today, and why?",
    "summary": "What did you learn today?",
}
BUTTON_LABELS: dict[str, str] = {"plan": "Write my plan", "summary": "Write my summary"}
BlockList = list[dict[str, Any]]


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: a plan containing `<!channel>` must not ping the channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_escaped(text: str, limit: int) -> str:
    """`text` (already escaped) cut to `limit` characters with an ellipsis, never inside an
    entity such as `&lt;` (a cut one would show as a stray `&l`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def unescape(text: str) -> str:
    """What Slack sends us back in message events, as the person typed it."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def policy_categories() -> dict[str, str]:
    """The check-in categories of the current policy file (the seed's list until one exists)."""
    try:
        from learningday.policy_source import current_policy
    except ImportError:
        from policies.policy import SEED_CATEGORIES

        return dict(SEED_CATEGORIES)
    return dict(current_policy().checkins.categories)


def message_metadata(key: str) -> dict[str, Any]:
    """Attached to every message we post, so a retry can find a post whose answer was lost."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}


def metadata_key(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    return (metadata.get("event_payload") or {}).get("key")


def chunk_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split on paragraph, then line, then word boundaries into pieces of at most `limit`."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def prompt_message(prompt: Prompt) -> tuple[str, BlockList]:
    """(fallback text, blocks) for the DM asking for a plan or summary."""
    question = QUESTIONS[prompt.kind]
    lead = f"Reminder: {question[0].lower()}{question[1:]}" if prompt.reminder else question
    fallback = f"{escape(lead)} ({escape(prompt.day_label)})"
    blocks: BlockList = [
        {
            "type": "section",
            "block_id": "question",
            "text": {"type": "mrkdwn", "text": f"*{escape(lead)}*\nYour Learning Day, {escape(prompt.day_label)}."},
        },
        {
            "type": "actions",
            "block_id": "checkin_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": OPEN_CHECKIN_ACTION,
                    "text": {"type": "plain_text", "text": BUTTON_LABELS[prompt.kind]},
                    "value": prompt.kind,
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": OPEN_IN_BROWSER_ACTION,
                    "text": {"type": "plain_text", "text": "Open in browser"},
                    "url": prompt.checkin_url,
                },
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "You can also just reply to this message."}],
        },
    ]
    return fallback, blocks


def channel_message(post: ChannelPost, category_label: str | None) -> tuple[str, BlockList]:
    """(fallback text, blocks) for a plan or summary shared in the channel.

    Long texts are split over several sections; beyond 50 blocks the rest is cut with a note
    (the web page keeps the whole text)."""
    what = "plan" if post.kind == "plan" else "summary"
    header = f"*{escape(post.person_name)}*'s {what}"
    if post.day_label:
        header += f" for {escape(post.day_label)}"
    footer: BlockList = []
    if category_label:
        footer.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Category: {escape(category_label)}"}]}
        )
    room = MAX_MESSAGE_BLOCKS - 1 - len(footer)
    pieces = chunk_text(escape(post.text)) or ["_(empty)_"]
    if len(pieces) > room:
        pieces = pieces[: room - 1] + ["… (too long for Slack; the full text is on the web page)"]
    blocks: BlockList = [{"type": "section", "text": {"type": "mrkdwn", "text": header}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in pieces]
    fallback = clip_escaped(f"{escape(post.person_name)}'s {what}: {escape(post.text)}", MAX_FALLBACK_TEXT)
    return fallback, blocks + footer


def direct_message(text: str) -> tuple[str, BlockList]:
    """(fallback text, blocks) for a plain DM (e.g. a flag to a manager): `text` is plain text,
    names and reasons people typed included, so it is escaped, never read as mentions or links.
    A bare web address in it still shows as a link (Slack links those itself)."""
    escaped = escape(text)
    pieces = chunk_text(escaped)[:MAX_MESSAGE_BLOCKS] or ["_(empty)_"]
    blocks: BlockList = [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in pieces]
    return clip_escaped(escaped, MAX_SECTION_TEXT), blocks


def checkin_modal(kind: PromptKind, categories: dict[str, str], private_metadata: str = "") -> dict[str, Any]:
    """The plan or summary form. Block ids are the field names the submission handler reads."""
    options = [
        {"text": {"type": "plain_text", "text": _clip(label or key, MAX_OPTION_TEXT)}, "value": key}
        for key, label in list(categories.items())[:MAX_OPTIONS]
    ]
    blocks: BlockList = [
        _text_input("what", QUESTIONS[kind], multiline=True, optional=False),
    ]
    if kind == "plan":
        blocks.append(_text_input("why", "Why this, and why now?", multiline=True, optional=False))
    blocks.append(
        {
            "type": "input",
            "block_id": "category",
            "optional": kind == "summary",
            "label": {"type": "plain_text", "text": "Category"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": options,
                "placeholder": {"type": "plain_text", "text": "Pick one"},
            },
        }
    )
    blocks.append(_text_input("resources", "Resources and links", multiline=True, optional=True))
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_PREFIX + kind,
        "title": {"type": "plain_text", "text": "Learning Day plan" if kind == "plan" else "Learning Day summary"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": private_metadata,
        "blocks": blocks,
    }


def claim_modal(currencies: list[str], default_currency: str, categories: dict[str, str]) -> dict[str, Any]:
    """The expense-claim form; `categories` maps each key to its label (cap, receipt rule).

    Block ids are the claim service's field names, so its refusals land under their fields."""

    def option(key: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": _clip(label or key, MAX_OPTION_TEXT)}, "value": key}

    currency_options = [option(code, code) for code in currencies[:MAX_OPTIONS]]
    currency_select: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": currency_options}
    default = next((o for o in currency_options if o["value"] == default_currency), None)
    if default is not None:
        currency_select["initial_option"] = default
    amount = _text_input("amount", "Amount", multiline=False, optional=False)
    amount["element"].update(max_length=20, placeholder={"type": "plain_text", "text": "e.g. 39.90"})
    blocks: BlockList = [
        amount,
        {
            "type": "input",
            "block_id": "currency",
            "label": {"type": "plain_text", "text": "Currency"},
            "element": currency_select,
        },
        {
            "type": "input",
            "block_id": "category",
            "label": {"type": "plain_text", "text": "Category"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [option(k, v) for k, v in list(categories.items())[:MAX_OPTIONS]],
                "placeholder": {"type": "plain_text", "text": "Pick one"},
            },
        },
        _text_input("description", "What is it? (e.g. the book's title)", multiline=True, optional=False),
        _text_input("link", "Link", multiline=False, optional=True),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": CLAIM_RECEIPT_NOTE}]},
    ]
    return {
        "type": "modal",
        "callback_id": CLAIM_CALLBACK,
        "title": {"type": "plain_text", "text": "Expense claim"},
        "submit": {"type": "plain_text", "text": "File claim"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def modal_values(view: dict[str, Any]) -> dict[str, str | None]:
    """{block id: value} from a view_submission's state (text inputs and the select)."""
    values: dict[str, str | None] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        action = actions.get("value") or {}
        if action.get("type") == "static_select":
            values[block_id] = (action.get("selected_option") or {}).get("value")
        else:
            text = action.get("value")
            values[block_id] = text.strip() if isinstance(text, str) and text.strip() else None
    return values


def _text_input(block_id: str, label: str, *, multiline: bool, optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": 3000},
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
