"""A claims harness: the real Temporal dev server (or the time-skipping test server), a worker running ReimbursementWorkflow with the
real activities, a real SMTP server (aiosmtpd) behind the SmtpMailer, and the web app's
approval pages on top. An org in one line: Ada (claimant) → Maria (manager) → Grace; Finn is finance."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.mail.factory import mailer_from_settings
from activities.mail.smtp import SmtpMailer
from learningday.claims.service import ClaimSubmission, SubmitResult, submit_claim
from learningday.contracts.claims import workflow_id_for
from learningday.db.engine import session_scope
from learningday.db.models import ExpenseClaim, Person
from learningday.settings import Settings
from learningday.temporal.worker import WORKFLOW_RUNNER, claim_activities
from learningday.web.app import create_app
from policies.policy import Policy, ReimbursementPolicy
from tests.mail.smtp_peer import HOST, CollectingHandler, Received, smtp_server
from workflows.reimbursement import ReimbursementWorkflow

PDF = b"%PDF-1.4\n% a receipt\n"
APPROVE_LINK = re.compile(r"/approve/([A-Za-z0-9_\-.]+)")


@dataclass
class Org:
    ada: Person
    maria: Person
    grace: Person
    finn: Person


@dataclass
class Claims:
    client: Client
    settings: Settings
    smtp: CollectingHandler
    org: Org
    data_dir: Path
    policy: Policy = field(default_factory=Policy)
    time_scale: float = 1.0
    started: list[int] = field(default_factory=list)

    async def file(self, amount: str = "42.50", person: Person | None = None, **fields: object) -> SubmitResult:
        values: dict[str, object] = dict(
            person_email=(person or self.org.ada).email,
            amount=amount,
            currency="USD",
            category="books",
            description="Deep Learning (Goodfellow)",
            receipt=PDF,
        )
        values.update(fields)
        result = await submit_claim(
            self.client,
            self.settings.temporal_task_queue,
            ClaimSubmission(**values),  # type: ignore[arg-type]
            self.policy,
            self.data_dir,
            time_scale=self.time_scale,
        )
        if result.claim_id is not None:
            self.started.append(result.claim_id)
        return result

    async def close(self) -> None:
        """Claim ids restart with the emptied tables: end this test's workflows, freeing their ids."""
        with session_scope() as session:
            filed = session.scalars(select(ExpenseClaim.id)).all()
        for claim_id in {*self.started, *filed}:
            try:
                await self.client.get_workflow_handle(workflow_id_for(claim_id)).terminate("test over")
            except RPCError:
                pass  # already closed

    def mails_to(self, person: Person) -> list[Received]:
        return [r for r in self.smtp.received if person.email in r.rcpt_tos]

    def links_for(self, person: Person) -> list[str]:
        """Approval tokens emailed to `person`, oldest first (reminders repeat a token)."""
        tokens: list[str] = []
        for received in self.mails_to(person):
            text = received.message.get_body(preferencelist=("plain",)).get_content()
            tokens += [t for t in APPROVE_LINK.findall(text) if t not in tokens]
        return tokens

    def web(self) -> httpx.AsyncClient:
        # The web app reads receipts from the data dir the claims were filed into.
        app = create_app(
            self.settings.model_copy(update={"data_dir": self.data_dir}), gateway=None, mailer_for=mailer_from_settings
        )  # type: ignore[arg-type]
        app.state.temporal_client = self.client
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def make_org(session: Session) -> Org:
    grace = Person(email="grace@example.com", name="Grace", timezone="Europe/Berlin")
    session.add(grace)
    session.flush()
    maria = Person(email="maria@example.com", name="Maria", timezone="Europe/Berlin", manager_id=grace.id)
    finn = Person(email="finn@example.com", name="Finn", timezone="Europe/Berlin")
    session.add_all([maria, finn])
    session.flush()
    ada = Person(email="ada@example.com", name="Ada", timezone="Europe/Berlin", manager_id=maria.id)
    session.add(ada)
    session.commit()
    return Org(ada=ada, maria=maria, grace=grace, finn=finn)


@pytest.fixture
def smtp() -> Iterator[tuple[CollectingHandler, int]]:
    handler = CollectingHandler()
    with smtp_server(handler) as port:
        yield handler, port


@contextlib.asynccontextmanager
async def running_claims(
    env: WorkflowEnvironment, session: Session, tmp_path: Path, smtp: tuple[CollectingHandler, int]
) -> AsyncIterator[Claims]:
    data_dir = tmp_path / "data"
    handler, port = smtp
    queue = f"claims-{uuid.uuid4().hex[:8]}"
    settings = Settings(temporal_task_queue=queue)
    box = Claims(env.client, settings, handler, make_org(session), data_dir)
    box.policy = Policy(reimbursement=ReimbursementPolicy(finance_email="finn@example.com"))
    mailer = SmtpMailer(HOST, port, tls="none", sender="Learning Day <ld@example.com>", timeout=5)
    worker = Worker(
        env.client,
        task_queue=queue,
        workflows=[ReimbursementWorkflow],
        activities=claim_activities(settings, lambda: box.policy, mailer),
        workflow_runner=WORKFLOW_RUNNER,
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=8),
    )
    async with worker:
        try:
            yield box
        finally:
            await box.close()


@pytest.fixture
async def claims(
    temporal_env: WorkflowEnvironment, session: Session, tmp_path: Path, smtp: tuple[CollectingHandler, int]
) -> AsyncIterator[Claims]:
    async with running_claims(temporal_env, session, tmp_path, smtp) as box:
        yield box


@pytest.fixture
async def skipping_claims(
    skipping_env: WorkflowEnvironment, session: Session, tmp_path: Path, smtp: tuple[CollectingHandler, int]
) -> AsyncIterator[Claims]:
    """On the time-skipping test server: the test moves its clock through the policy's real days."""
    async with running_claims(skipping_env, session, tmp_path, smtp) as box:
        yield box


__all__ = ["PDF", "Claims", "Decimal", "asyncio"]
