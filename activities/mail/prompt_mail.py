"""A check-in prompt by email: the fallback for a person Slack cannot reach.

A person without a Slack account (lookup by email answers `users_not_found`), or a Slack that
keeps failing past the prompt's retry budget, must still be asked for their plan and summary:
the day workflow then sends the same prompt here, with the web check-in link. Same key as the
DM with an `email:` prefix, so a retry sends nothing twice.
"""

from __future__ import annotations

from temporalio import activity

from activities.mail.delivery import send_or_raise
from learningday.contracts.chat import Prompt
from learningday.contracts.mail import Mailer
from learningday.mail_render import render_email
from learningday.slack_blocks import QUESTIONS


class PromptMail:
    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    @activity.defn(name="email_prompt")
    def email_prompt(self, prompt: Prompt) -> None:
        question = QUESTIONS[prompt.kind]
        subject = f"{'Reminder: ' if prompt.reminder else ''}Learning Day {prompt.kind}, {prompt.day_label}"
        email = render_email(
            "prompt",
            {
                "question": question,
                "reminder": prompt.reminder,
                "day_label": prompt.day_label,
                "checkin_url": prompt.checkin_url,
            },
            key=f"email:{prompt.key}",
            to=[prompt.person_email],
            subject=subject,
        )
        send_or_raise(self._mailer, email)
