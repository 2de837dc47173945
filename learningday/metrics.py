"""Our own Prometheus metrics: what the program did, as opposed to how Temporal is doing.

The Temporal SDK's runtime metrics (task latencies, slots, sticky cache, polls) come from its
own Prometheus exporter (`temporal_metrics_port`); these counters live in the process-wide
`prometheus_client` registry and are served at `/metrics` by the web app and by a worker's
health server. Each is incremented where the side effect is recorded, once per new row, so an
activity retried after a crash does not count twice. Labels carry kinds, never people.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

days_started = Counter("learningday_days_started", "Learning Days begun (a new day row recorded by a worker).")
check_ins = Counter(
    "learningday_check_ins", "Check-ins recorded, by kind (plan, summary) and whether an edit.", ["kind", "edited"]
)
flags = Counter("learningday_flags", "Flags raised, by kind (missed_plan, missed_summary, …).", ["kind"])
claims = Counter(
    "learningday_claims", "Expense claims recorded, by event (submitted, approved, rejected, …).", ["event"]
)
activity_retries = Counter(
    "learningday_activity_retries",
    "Activity attempts after the first (a vendor or the database failed and Temporal retried), by activity.",
    ["activity"],
)
emails_sent = Counter("learningday_emails_sent", "Emails recorded as sent in the outbox, by channel.", ["channel"])


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


delivery_problems = Counter(
    "learningday_delivery_problems",
    "Steps outside a day's core that failed for good (recorded on /problems), by step.",
    ["step"],
)
