"""Flags as Slack DMs to the managers, when the policy asks for it (`escalation.manager_slack_dm`).

The email path stays the record; this is a nudge where managers already are. Same recipients as
the flag email (decided by the workflow with policies.enforcement.flag_recipients), managers only
(the person hears by email), and the same rhythm: a Learning Day's flags in one DM per manager
at the day's end (`day-flags-dm:<person id>:<date>:<recipient id>`), the weekly audit's flag (and
a day that started before that rule) in one DM per flag (`flag-dm:<flag id>:<recipient id>`).
Exactly once: the key goes through the chat port's outbox, so a retried activity answers
"already sent" instead of posting again. A manager Slack cannot reach is a delivery problem for
that manager only; the email still went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat.activities import _delivering
from activities.chat.port import Chat, DirectMessage
from activities.mail.day_flags import unexcused_flags
from activities.records import enforcement as records
from activities.records.problems import record_problem_now
from learningday.contracts.flags import DayFlagsNotice, FlagNotice
from learningday.contracts.problems import ProblemReport
from learningday.db.engine import session_scope
from learningday.db.models import Flag, Person
from learningday.links.excuse import excuse_url
from policies.enforcement import FlagReader, reads_as_manager
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


def day_flags_dm_text(flags: list[Flag], person: Person, manager_id: int) -> str:
    """The day's flags in one message: who, which day, then each flag with why and its excuse link."""
    labels = [records.LABELS.get(f.kind.value, f.kind.value) for f in flags]
    lines = [f"{person.name}: {', '.join(labels)} ({flags[0].date:%a %d %b})."]
    for label, flag in zip(labels, flags):
        lines.append(f"• {label}: {flag.reason} Excuse it: {excuse_url(flag.id, manager_id)}")
    return "\n".join(lines)


def _managers(session: Session, readers: list[FlagReader]) -> list[Person]:
    return [
        reader
        for r in readers
        if reads_as_manager(r.level) and (reader := session.get(Person, r.person_id)) is not None
    ]


class FlagDmActivities:
    """Takes the chat port and the policy loader (read at each run: the option can change)."""

    def __init__(self, chat: Chat, policy_loader: Callable[[], Policy]) -> None:
        self._chat = chat
        self._policy_loader = policy_loader

    @activity.defn(name="dm_managers_about_flag")
    def dm_managers_about_flag(self, notice: FlagNotice) -> int:
        if not self._policy_loader().escalation.manager_slack_dm:
            return 0
        with session_scope() as session:
            flag = session.get(Flag, notice.flag_id)
            if flag is None:
                raise ApplicationError(f"flag {notice.flag_id} does not exist", non_retryable=True)
            if flag.excused_at is not None:
                return 0
            person = session.get(Person, flag.person_id)
            assert person is not None
            messages = [
                (
                    reader.id,
                    DirectMessage(
                        key=f"flag-dm:{flag.id}:{reader.id}",
                        person_email=reader.email,
                        slack_user_id=reader.slack_user_id,
                        text=flag_dm_text(flag, person, reader.id),
                    ),
                )
                for reader in _managers(session, notice.readers)
            ]
        return self._send(messages, "flag", str(notice.flag_id))

    @activity.defn(name="dm_managers_about_day_flags")
    def dm_managers_about_day_flags(self, notice: DayFlagsNotice) -> int:
        if not self._policy_loader().escalation.manager_slack_dm:
            return 0
        with session_scope() as session:
            flags = unexcused_flags(session, notice.flag_ids)
            if not flags:
                return 0
            person = session.get(Person, notice.person_id)
            assert person is not None
            messages = [
                (
                    reader.id,
                    DirectMessage(
                        key=f"day-flags-dm:{person.id}:{notice.date.isoformat()}:{reader.id}",
                        person_email=reader.email,
                        slack_user_id=reader.slack_user_id,
                        text=day_flags_dm_text(flags, person, reader.id),
                    ),
                )
                for reader in _managers(session, notice.readers)
            ]
        return self._send(messages, "learning_day", str(notice.learning_day_id))

    def _send(self, messages: list[tuple[int, DirectMessage]], subject_type: str, subject_id: str) -> int:
        """Send each DM once; a refusal for good is that manager's delivery problem, never the others'."""
        sent = 0
        for reader_id, message in messages:
            try:
                if not _delivering(partial(self._chat.send_direct_message, message)).already_sent:
                    sent += 1
            except ApplicationError as refused:  # for good (no Slack account, …); others retry
                record_problem_now(
                    ProblemReport(
                        key=message.key,
                        step="flag_dm",
                        subject_type=subject_type,
                        subject_id=subject_id,
                        person_id=reader_id,
                        reason=refused.message,
                        outcome="the flag was emailed but not sent by Slack DM",
                    )
                )
        return sent
