"""Flags as Slack DMs to the managers, when the policy asks for it (`escalation.manager_slack_dm`).

The email path stays the record; this is a nudge where managers already are. Same recipients as
the flag email, managers only (the person hears by email): the manager, and the manager's
manager once the misses in a row reach the escalation level. Exactly once per (flag, recipient):
the key `flag-dm:<flag id>:<recipient id>` goes through the chat port's outbox, so a retried
activity answers "already sent" instead of posting again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat.activities import _delivering
from activities.chat.port import Chat, DirectMessage
from activities.mail.activities import FlagNotice
from activities.records import enforcement as records
from learningday.db.engine import session_scope
from learningday.db.models import Flag, Person
from learningday.web.excuse import excuse_url
from policies.enforcement import escalation_recipients
from policies.policy import Policy

log = logging.getLogger(__name__)


def flag_dm_text(flag: Flag, person: Person, manager_id: int) -> str:
    """Short: who, what, when, why, and the same excuse link the email carries."""
    label = records.LABELS.get(flag.kind.value, flag.kind.value)
    return (
        f"{person.name}: {label} ({flag.date:%a %d %b}).\n"
        f"{flag.reason}\n"
        f"If there was a good reason, excuse it: {excuse_url(flag.id, manager_id)}"
    )


class FlagDmActivities:
    """Takes the chat port and the policy loader (read at each run: the option can change)."""

    def __init__(self, chat: Chat, policy_loader: Callable[[], Policy]) -> None:
        self._chat = chat
        self._policy_loader = policy_loader

    @activity.defn(name="dm_managers_about_flag")
    def dm_managers_about_flag(self, notice: FlagNotice) -> int:
        policy = self._policy_loader()
        if not policy.escalation.manager_slack_dm:
            return 0
        with session_scope() as session:
            flag = session.get(Flag, notice.flag_id)
            if flag is None:
                raise ApplicationError(f"flag {notice.flag_id} does not exist", non_retryable=True)
            if flag.excused_at is not None:
                return 0
            person = session.get(Person, flag.person_id)
            assert person is not None
            manager = person.manager
            if manager is None:
                log.warning("flag %s: person %s has no manager; no DM", flag.id, person.id)
                return 0
            levels = escalation_recipients(records.missed_in_a_row(session, person.id, flag.date), policy)
            readers = [manager]
            if "manager_of_manager" in levels and manager.manager is not None:
                readers.append(manager.manager)
            messages = [
                DirectMessage(key=f"flag-dm:{flag.id}:{reader.id}", person_email=reader.email,
                              slack_user_id=reader.slack_user_id, text=flag_dm_text(flag, person, reader.id))
                for reader in readers
            ]
        sent = 0
        for message in messages:  # a refusal waiting cannot fix fails for good, as for prompts
            if not _delivering(lambda: self._chat.send_direct_message(message)).already_sent:
                sent += 1
        return sent
