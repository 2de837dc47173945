"""An SMTP relay (aiosmtpd, with AUTH) that can be stopped and started again on the same port,
as a real relay goes down for maintenance while the service keeps running."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.mail.smtp_peer import HOST, CollectingHandler, Credentials, free_port

USERNAME = "learning-day"
PASSWORD = "smtp-pa55word-never-logged"


@dataclass
class RestartableRelay:
    handler: CollectingHandler = field(default_factory=CollectingHandler)
    port: int = field(default_factory=free_port)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.handler,
            hostname=HOST,
            port=self.port,
            authenticator=Credentials(USERNAME, PASSWORD),
            auth_require_tls=False,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def recipients_of(self, subject_contains: str = "") -> list[str]:
        return sorted(
            rcpt for r in self.handler.received if subject_contains in str(r.message["Subject"]) for rcpt in r.rcpt_tos
        )
