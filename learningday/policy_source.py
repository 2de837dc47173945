"""Where the running service gets its policy: `LEARNINGDAY_POLICY_FILE`, or the seed's defaults.

Read on every call rather than cached, so an admin's edit takes effect at the next weekly
kickoff or page view without a restart; a file that stops validating raises
`PolicyFileError` (naming file, line and field) instead of silently falling back to defaults.
"""

from __future__ import annotations

from learningday.settings import Settings, get_settings
from policies.loader import load_policy
from policies.policy import Policy


def current_policy(settings: Settings | None = None) -> Policy:
    """The policy in force: the configured policy file, or the defaults when none is set."""
    settings = settings or get_settings()
    if settings.policy_file is None:
        return Policy()
    return load_policy(settings.policy_file)
