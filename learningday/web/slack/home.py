"""The Slack App Home tab: my day, the check-in due now, my streak and my claims, and for a
manager their direct reports' day, published with `views.publish` when a person opens the tab.

Slack shows a person the Home tab we last published for them and never asks for a fresh one,
so the view is rebuilt from the database each time the tab is opened (the `app_home_opened`
event); a redelivered event publishes the same view again, which is harmless. What it shows is
read by `my_day`, like the Me page, so the two never disagree. The check-in button is the prompt
DM's button (same action id and value), so it opens the same modal as `/learning plan`.

Everything a person typed (names, plans, summaries, skip reasons, claim descriptions) and the
labels of the policy file is escaped for mrkdwn, and every mrkdwn text is `verbatim`: nothing
becomes a mention, a channel link or a link. Slack's limits are kept here rather than found by a
refused call: at most 100 blocks, 3,000 characters per section.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from learningday import labels
from learningday.db.engine import session_scope
from learningday.db.models import Person
from learningday.mail_render import money
from learningday.policy_source import current_policy
from learningday.slack_blocks import (
    BUTTON_LABELS,
    MAX_SECTION_TEXT,
    OPEN_CHECKIN_ACTION,
    BlockList,
    clip_escaped,
    escape,
)
from learningday.web.my_day import MyDay, ReportDay, read_my_day, read_team_today

MAX_VIEW_BLOCKS = 100
RECENT_CLAIMS = 5
TEXT_PREVIEW = 600  # escaped characters of a plan or summary; the whole text is on the Me page
DESCRIPTION_PREVIEW = 120
CHECKIN_BLOCK = "home_checkin"
TITLE = "Your Learning Day"
UNKNOWN_PERSON = (
    "Hello! I don't know your Slack account yet, so there is nothing to show you here. Ask your "
    "Learning Day admin to add your Slack id to your profile: this tab will then show your Learning "
    "Day, your streak and your expense claims."
)


@dataclass
class Home:
    """What one person's Home tab shows, read from the database."""

    mine: MyDay
    team: list[ReportDay]
    check_in_labels: dict[str, str]  # the policy's check-in categories, key → label
    expense_labels: dict[str, str]  # the policy's expense categories, key → label


def read_home(slack_user_id: str) -> Home | None:
    """The Home tab's content for an active person with this Slack id, or None for someone we
    do not know. Blocking database reads: call it in a worker thread."""
    policy = current_policy()
    with session_scope() as session:
        person = session.scalars(
            select(Person).where(Person.slack_user_id == slack_user_id, Person.active.is_(True))
        ).first()
        if person is None:
            return None
        mine = read_my_day(session, person, policy)
        team = read_team_today(session, person)
        session.expunge_all()
    return Home(mine, team, dict(policy.checkins.categories), dict(policy.reimbursement.category_labels))


def home_view(home: Home | None) -> dict[str, Any]:
    """The `home` view to publish; a short friendly one for a person we do not know."""
    blocks: BlockList = [{"type": "header", "text": {"type": "plain_text", "text": TITLE}}]
    if home is None:
        return _view(blocks + [_section(UNKNOWN_PERSON)])
    blocks += _my_day(home) + [_section(_streak(home.mine))] + _claims(home.mine, home.expense_labels)
    if home.team:
        room = MAX_VIEW_BLOCKS - len(blocks) - 2
        blocks += [{"type": "divider"}, _section("*My team today*")] + _sections(_team_lines(home.team), room)
    return _view(blocks[:MAX_VIEW_BLOCKS])


def _view(blocks: BlockList) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    """A mrkdwn section; `text` holds only escaped input. `verbatim` stops Slack from turning a
    bare address or #channel in it into a link."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip_escaped(text, MAX_SECTION_TEXT), "verbatim": True},
    }


def _my_day(home: Home) -> BlockList:
    mine = home.mine
    day = mine.day
    if day is None:
        ahead = (mine.upcoming - mine.today).days
        when = "today" if ahead == 0 else f"in {labels.count(ahead, 'day')}"
        text = (
            f"*My day*\nNo Learning Day is running for you right now. Your next one is "
            f"*{mine.upcoming:%A %-d %B}* ({when})"
        )
        if mine.upcoming_day is not None:
            text += f" · {mine.upcoming_day.state.value}"
        return [_section(text + ".")]
    lines = [f"*My day: {day.date:%A %-d %B}* · {day.state.value}"]
    if day.skip_reason:
        lines.append(f"Reason: {_inline(day.skip_reason, DESCRIPTION_PREVIEW)}")
    plan = mine.current.plan if mine.current else None
    summary = mine.current.summary if mine.current else None
    if plan is not None:
        category = labels.category_label(plan.category, home.check_in_labels)
        labelled = f" ({escape(category)})" if category else ""
        lines.append(f"*Plan*{labelled}: {_preview(plan.text, TEXT_PREVIEW)}")
    else:
        lines.append("*Plan*: not written yet.")
    lines.append(f"*Summary*: {_preview(summary.text, TEXT_PREVIEW)}" if summary else "*Summary*: not written yet.")
    blocks = [_section("\n".join(lines))]
    if mine.due is not None:
        blocks.append(
            {
                "type": "actions",
                "block_id": CHECKIN_BLOCK,
                "elements": [
                    {
                        "type": "button",
                        "action_id": OPEN_CHECKIN_ACTION,
                        "value": mine.due,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": BUTTON_LABELS[mine.due]},
                    }
                ],
            }
        )
    return blocks


def _streak(mine: MyDay) -> str:
    return f"*Streak*: {labels.count(mine.streak, 'Learning Day')} kept in a row"


def _claims(mine: MyDay, expense_labels: dict[str, str]) -> BlockList:
    budget = mine.budget
    left = (
        f"{money(budget.remaining, budget.currency)} left of {money(budget.annual, budget.currency)} "
        f"in your {budget.year} learning budget"
    )
    if budget.pending:
        left += f"; {money(budget.pending, budget.currency)} waiting for approval"
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": left + ".", "verbatim": True}]}
    if not mine.claims:
        return [
            {"type": "divider"},
            _section(
                "*My claims*\nNo expense claims yet. Books, tutors and courses for your Learning Day can be "
                "reimbursed: `/learning claim` files one."
            ),
            context,
        ]
    lines = ["*My claims*"]
    for claim in mine.claims[:RECENT_CLAIMS]:
        lines.append(
            f"• {claim.submitted_at:%-d %b %Y} · {escape(labels.expense_label(claim.category, expense_labels))} · "
            f"{money(claim.amount, claim.currency)} · {claim.state.value}\n"
            f"    {_inline(claim.description, DESCRIPTION_PREVIEW)}"
        )
    if len(mine.claims) > RECENT_CLAIMS:
        lines.append(f"…and {labels.count(len(mine.claims) - RECENT_CLAIMS, 'earlier claim')} on your Me page.")
    return [{"type": "divider"}, _section("\n".join(lines)), context]


def _team_lines(team: list[ReportDay]) -> list[str]:
    lines = []
    for row in team:
        name = _inline(row.person.name, DESCRIPTION_PREVIEW)
        if row.day is None:
            lines.append(f"• {name}: no Learning Day running")
            continue
        marks = f"plan {'✓' if row.has_plan else '–'} · summary {'✓' if row.has_summary else '–'}"
        lines.append(f"• {name}: {row.day.date:%a %-d %b} · {row.day.state.value} · {marks}")
    return lines


def _sections(lines: list[str], room: int) -> BlockList:
    """`lines` packed into as few sections as Slack's 3,000 characters allow, in at most `room`
    blocks; the lines that do not fit are counted in a last one pointing to the Team page."""
    packed: list[list[str]] = []
    for line in lines:
        if packed and sum(len(piece) + 1 for piece in packed[-1]) + len(line) <= MAX_SECTION_TEXT:
            packed[-1].append(line)
        else:
            packed.append([line])
    if len(packed) > room:
        packed = packed[: max(room - 1, 0)]
        left = len(lines) - sum(len(pieces) for pieces in packed)
        packed.append([f"…and {labels.count(left, 'more person', 'more people')} on the Team page."])
    return [_section("\n".join(pieces)) for pieces in packed[: max(room, 0)]]


def _preview(text: str, limit: int) -> str:
    """What a person typed, escaped for mrkdwn and cut to `limit` characters."""
    return clip_escaped(escape(text.strip()), limit) or "–"


def _inline(text: str, limit: int) -> str:
    """As `_preview`, on one line: a name or a description in a list."""
    return _preview(" ".join(text.split()), limit)


async def view_for(slack_user_id: str) -> dict[str, Any]:
    """The Home view for this Slack user, read off the event loop (the reads block)."""
    return home_view(await asyncio.to_thread(read_home, slack_user_id))
