"""Flags as Slack DMs to the managers, when the policy asks for it (`escalation.manager_slack_dm`).

The email path stays the record; this is a nudge where managers already are. Same recipients as
the flag email (decided by the workflow with policies.enforcement.flag_recipients), managers only
(the person hears by email). Exactly once per (flag, recipient): the key
`flag-dm:<flag id>:<recipient id>` goes through the chat port's outbox, so a retried activity
answers "already sent" instead of posting again. A manager Slack cannot reach is a delivery
problem for that manager only; the email still went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat.activities import _delivering
from activities.chat.port import Chat, DirectMessage
from activities.mail.activities import FlagNotice
from activities.records import enforcement as records
from activities.records.problems import ProblemReport, record_problem_now
from learningday.db.engine import session_scope
from learningday.db.models import Flag, Person
from learningday.web.excuse import excuse_url
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
            readers = [
                reader for r in notice.readers
                if r.level != "person" and (reader := session.get(Person, r.person_id)) is not None
            ]  # fmt: skip
            messages = [
                DirectMessage(key=f"flag-dm:{flag.id}:{reader.id}", person_email=reader.email,
                              slack_user_id=reader.slack_user_id, text=flag_dm_text(flag, person, reader.id))
                for reader in readers
            ]
            flag_id = flag.id
        sent = 0
        for reader, message in zip(readers, messages):
            try:
                if not _delivering(partial(self._chat.send_direct_message, message)).already_sent:
                    sent += 1
            except ApplicationError as refused:  # for good (no Slack account, …); others retry
                record_problem_now(ProblemReport(
                    key=message.key, step="flag_dm", subject_type="flag", subject_id=str(flag_id),
                    person_id=reader.id, reason=refused.message, outcome="the flag was emailed but not sent by Slack DM",
                ))  # fmt: skip
        return sent
