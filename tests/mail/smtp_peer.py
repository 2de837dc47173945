"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it accepts.

It speaks the real protocol (EHLO, STARTTLS, AUTH, RCPT refusals, DATA replies), so the mailer is
tested through `smtplib` exactly as it talks to a production relay.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    """Accepts mail and keeps it; refuses the recipients in `refuse` (550), defers those in `defer`
    (450), and answers DATA with `data_reply` when set (e.g. "451 ..." for a busy relay)."""

    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=BytesParser(policy=policy.default).parsebytes(content),  # type: ignore[arg-type]
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        # handled=False: let aiosmtpd answer a failure with its 535 (else it answers nothing).
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    # aiosmtpd's Controller must know its port before it starts (it connects to it to check).
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: CollectingHandler, **smtp_options: Any) -> Iterator[int]:
    """Runs aiosmtpd on 127.0.0.1 for the block; yields its port."""
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, **smtp_options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass(frozen=True)
class SelfSigned:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed_certificate(directory: Path) -> SelfSigned:
    """A certificate for 127.0.0.1 and localhost, valid for a day, written into `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "smtp-cert.pem"
    key_path = directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SelfSigned(cert=cert_path, key=key_path)
