"""Directory sync: the people directory from Google Workspace (and Slack ids by email), as an
alternative to importing an org file.

The directory becomes the same rows an org file does, so sync and `org import` apply exactly the
same checks (`validate`), the same rules for what changes (`plan`) and the same writes and audit
entries (`importer`). Suspended and archived accounts are left out (with `deactivate_missing`
their people are deactivated). A manager outside the synced accounts is dropped with a warning
rather than failing everyone's sync.

Google: Admin SDK Directory API `users.list` (customer `my_customer`, projection `full`, every
page) through googleapiclient, as a service account acting for `google_admin_subject`
(domain-wide delegation, scope admin.directory.user.readonly). Manager: the `relations` entry of
type `manager`. Team: the primary organization's department, else the last org-unit segment.
Timezone: the custom schema field `directory_timezone_field` (`Schema.field`), else
`directory_default_timezone`. Slack: `users.lookupByEmail` for each person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from learningday.org.importer import _apply, _people_by_email, _stored
from learningday.org.plan import PersonChange, plan_import
from learningday.org.rows import OrgProblem, OrgRow
from learningday.org.validate import normalise_email, validate_rows
from learningday.settings import Settings

ACTOR = "cli:org-sync"
DIRECTORY_SCOPES = ["https://www.googleapis.com/auth/admin.directory.user.readonly"]
SOURCE = "Google Workspace directory"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectoryUser:
    email: str
    name: str
    manager_email: str | None
    team: str | None
    timezone: str


@dataclass
class SyncReport:
    dry_run: bool
    changes: list[PersonChange] = field(default_factory=list)
    problems: list[OrgProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0  # suspended or archived accounts

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str) -> int:
        return sum(change.kind == kind for change in self.changes)

    def summary(self) -> str:
        parts = [
            f"created {self.count('create')}",
            f"updated {self.count('update')}",
            f"unchanged {self.count('unchanged')}",
        ]
        if self.count("deactivate"):
            parts.append(f"deactivated {self.count('deactivate')}")
        if self.skipped:
            parts.append(f"left out {self.skipped} suspended or archived")
        text = ", ".join(parts)
        return f"dry run, nothing written: would have {text}" if self.dry_run else text

    def describe(self) -> list[str]:
        """One line per change: what a dry run shows an admin before they apply it."""
        lines = []
        for change in self.changes:
            if change.kind == "unchanged":
                continue
            values = ", ".join(f"{k}={_shown(v)}" for k, v in sorted(change.values.items()))
            lines.append(f"{change.kind:<10} {change.email}" + (f"  {values}" if values else ""))
        return lines


def _shown(value: object) -> str:
    return "-" if value is None else str(getattr(value, "value", value))


# --- reading Google ------------------------------------------------------------------------


def directory_service(settings: Settings) -> Any:
    """googleapiclient's Directory API client, acting as the configured admin."""
    from google.oauth2 import service_account
    from googleapiclient.discovery import build

    if not settings.google_service_account_file or not settings.google_admin_subject:
        raise ValueError(
            "directory sync needs LEARNINGDAY_GOOGLE_SERVICE_ACCOUNT_FILE (a key with domain-wide "
            "delegation for admin.directory.user.readonly) and LEARNINGDAY_GOOGLE_ADMIN_SUBJECT (an admin's email)"
        )
    credentials = service_account.Credentials.from_service_account_file(
        str(settings.google_service_account_file), scopes=DIRECTORY_SCOPES
    ).with_subject(settings.google_admin_subject)
    options = {"api_endpoint": settings.google_api_endpoint} if settings.google_api_endpoint else None
    return build(
        "admin",
        "directory_v1",
        credentials=credentials,
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )


def list_users(service: Any, settings: Settings) -> tuple[list[DirectoryUser], int]:
    """Every active account (and how many suspended or archived ones were left out)."""
    users: list[DirectoryUser] = []
    skipped = 0
    request = service.users().list(customer="my_customer", projection="full", maxResults=500, orderBy="email")
    while request is not None:
        page = request.execute(num_retries=3)
        for raw in page.get("users", []):
            if raw.get("suspended") or raw.get("archived"):
                skipped += 1
                continue
            users.append(_user(raw, settings))
        request = service.users().list_next(request, page)
    return users, skipped


def _user(raw: dict[str, Any], settings: Settings) -> DirectoryUser:
    manager = next(
        (r.get("value") for r in raw.get("relations") or [] if r.get("type") == "manager" and r.get("value")), None
    )
    organizations = raw.get("organizations") or []
    primary = next((o for o in organizations if o.get("primary")), organizations[0] if organizations else {})
    team = primary.get("department") or (raw.get("orgUnitPath") or "/").rstrip("/").rsplit("/", 1)[-1] or None
    schema, _, name = settings.directory_timezone_field.partition(".")
    timezone = (raw.get("customSchemas") or {}).get(schema, {}).get(name) or settings.directory_default_timezone
    full_name = (raw.get("name") or {}).get("fullName") or raw["primaryEmail"]
    return DirectoryUser(normalise_email(raw["primaryEmail"]), full_name, manager, team, timezone)


def slack_lookup(settings: Settings) -> Callable[[str], str | None] | None:
    """`users.lookupByEmail` through slack_sdk, or None when Slack is not configured."""
    if settings.slack_bot_token is None:
        return None
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
    )

    def lookup(email: str) -> str | None:
        try:
            return str(client.users_lookupByEmail(email=email)["user"]["id"])
        except SlackApiError as error:
            if error.response.get("error") == "users_not_found":
                return None
            raise

    return lookup


# --- applying ------------------------------------------------------------------------------


def rows_from_directory(
    users: Iterable[DirectoryUser], slack: Callable[[str], str | None] | None, warnings: list[str]
) -> list[OrgRow]:
    users = list(users)
    synced = {u.email for u in users}
    rows = []
    for user in users:
        manager = normalise_email(user.manager_email) if user.manager_email else None
        if manager is not None and manager not in synced:
            warnings.append(
                f"{user.email}: manager {manager} is not an active account in the directory; left without a manager"
            )
            manager = None
        values: dict[str, str | None] = {
            "email": user.email,
            "name": user.name,
            "timezone": user.timezone,
            "manager_email": manager,
            "team": user.team,
        }
        if slack is not None:
            slack_id = slack(user.email)
            if slack_id is None:
                warnings.append(f"{user.email}: no Slack account with this email; check-ins will use the web page")
            else:
                values["slack_id"] = slack_id  # a person Slack does not know keeps any id stored
        rows.append(OrgRow(f"{SOURCE} user {user.email}", 0, values))
    return rows


def sync_org(
    session: Session,
    users: list[DirectoryUser],
    slack: Callable[[str], str | None] | None = None,
    *,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    skipped: int = 0,
    actor: str = ACTOR,
) -> SyncReport:
    """Plan (and unless `dry_run`, apply) the directory inside the caller's transaction."""
    report = SyncReport(dry_run=dry_run, skipped=skipped)
    if not users:
        report.problems.append(
            OrgProblem(SOURCE, 0, "", "lists nobody; check the admin subject and the delegation's scope")
        )
        return report
    rows = rows_from_directory(users, slack, report.warnings)
    people = _people_by_email(session)
    emails_by_id = {person.id: email for email, person in people.items()}
    stored = {email: _stored(person, emails_by_id) for email, person in people.items()}
    problems = validate_rows(rows, {e: p.manager for e, p in stored.items()}, deactivate_missing=deactivate_missing)
    if problems:
        report.problems = problems
        return report
    report.changes = plan_import(rows, stored, deactivate_missing=deactivate_missing)
    if not dry_run:
        _apply(session, report.changes, people, actor)
    log.info("org sync %s: %s", "planned" if dry_run else "applied", report.summary())
    return report
