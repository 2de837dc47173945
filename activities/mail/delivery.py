"""How a mail activity reports a refusal: retrying cannot fix a rejected address, so it is
never retried for hours. An activity sending one email fails for good at once (its caller
records the problem); one sending a batch records the problem for that email and goes on."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from activities.mail.smtp import MailRejected
from activities.records.problems import record_problem_now
from learningday.contracts.mail import Email, Mailer, Sent
from learningday.contracts.problems import ProblemReport


def send_or_raise(mailer: Mailer, email: Email) -> Sent:
    """Send `email`; a refusal for good becomes a non-retryable `MailRejected` activity error."""
    try:
        return mailer.send(email)
    except MailRejected as error:
        raise ApplicationError(str(error), type="MailRejected", non_retryable=True) from error


def deliver_or_record(mailer: Mailer, email: Email, problem: ProblemReport) -> bool:
    """Send one email of a batch; a refusal for good is recorded as `problem` (with the relay's
    reason) instead of failing the whole batch. Temporary failures still raise, to be retried."""
    try:
        mailer.send(email)
    except MailRejected as error:
        record_problem_now(ProblemReport(**{**problem.__dict__, "reason": str(error)}))
        return False
    return True
