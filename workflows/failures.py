"""Reading an activity's failure inside a workflow: its message, and whether retrying can help.

Deterministic (no I/O): the failure comes from the workflow's history. Catch `FailureError`, not
`ActivityError`, around a *local* activity: the SDK raises its failure (an `ApplicationError`,
a timeout) as is, where a regular activity's comes wrapped in an `ActivityError`.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, FailureError

__all__ = ["FailureError", "reason_of", "refused_for_good"]


def reason_of(error: BaseException) -> str:
    """The innermost message, e.g. "Slack refused users.lookupByEmail: users_not_found (…)"."""
    cause: BaseException | None = error
    message = str(error)
    while cause is not None:
        message = getattr(cause, "message", None) or str(cause) or message
        cause = getattr(cause, "cause", None) or cause.__cause__
    return message


def refused_for_good(error: FailureError) -> bool:
    """The activity said retrying cannot help (a non-retryable application error)."""
    cause = error if isinstance(error, ApplicationError) else error.cause
    return isinstance(cause, ApplicationError) and cause.non_retryable
