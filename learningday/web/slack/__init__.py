"""Slack's front door: events, interactivity and the `/learning` command, as a Bolt app.

Everything Slack sends is verified first (`http.py`: the signature over the body's bytes and a
timestamp at most five minutes off, refused with 401 before any listener runs; then the shape the
listeners read, `shapes.py`). Then, registered by `door.py`:
- a plain DM to the app is a check-in: the plan if the day has none yet, else the summary
  (`checkins.py`);
- the `open_checkin` button and `/learning plan|summary` open the check-in modal (ack, then
  `views.open` straight away: the trigger id lives three seconds); a modal submission goes to
  the check-in gateway and a refusal is shown on the form (`checkins.py`);
- `/learning status|skip <reason>|help` answer in place (`command.py`);
- `/learning claim` opens the expense-claim modal, filed through the claim service like the web
  form (`claims.py`);
- opening the app's Home tab publishes the person's day, the check-in due, their streak and
  claims, and a manager's team (`home.py`).
Who is acting is always the Slack user in the request (`members.py`). Every answer Slack waits
for is given within `acks.ACK_BUDGET_SECONDS`; slower work answers afterwards by DM.
"""

from __future__ import annotations

from learningday.web.slack.app import build_bolt_app
from learningday.web.slack.checkins import GatewayFactory
from learningday.web.slack.claims import TemporalClaimSubmitter
from learningday.web.slack.command import HELP
from learningday.web.slack.door import SlackFrontDoor
from learningday.web.slack.http import build_slack_router
from learningday.web.slack.members import UNKNOWN_USER, Member, find_member

__all__ = [
    "HELP",
    "UNKNOWN_USER",
    "GatewayFactory",
    "Member",
    "SlackFrontDoor",
    "TemporalClaimSubmitter",
    "build_bolt_app",
    "build_slack_router",
    "find_member",
]
