"""One root, `AfcError`, with subclasses grouped by what the caller does next.

Only the CLI maps them to exit codes: `exit_code` says which one.
"""

from __future__ import annotations

from datetime import datetime

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOTHING_DONE = 75  # quota exhausted or a lock held: systemd treats it as success


class AfcError(Exception):
    """Base of every error afc raises on purpose; the message is one line, safe to show."""

    exit_code = EXIT_FAILURE


class ConfigError(AfcError):
    """Settings, job files or command-line arguments are wrong: a person must fix them."""

    exit_code = EXIT_USAGE


class DatabaseError(AfcError):
    """The database is unreachable or refused a statement."""


class LockTimeout(DatabaseError):
    """A statement gave up waiting for a lock (PostgreSQL's lock_timeout); its transaction is rolled back."""


class DatabaseMissing(ConfigError):
    """No database is where the URL points: a mistyped URL, one never created (`afc db migrate` creates it), a
    directory or a file that is no database; nothing is created in its place, and waiting would not bring it."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached right now; waiting may help."""


class LockHeld(AfcError):
    """Another afc run holds the lock for this work; nothing was done."""

    exit_code = EXIT_NOTHING_DONE


class LockLost(LockHeld):
    """The lock this run held was freed under it (its PostgreSQL session ended) and another run holds it now."""


class ApiError(AfcError):
    """The API answered with something other than data."""

    def __init__(self, message: str, *, status: int | None = None, errors: object = None):
        super().__init__(message)
        self.status = status
        self.errors = errors


class FatalApiError(ApiError):
    """Retrying will not help: bad key, plan restriction, bad parameters, unknown endpoint."""


class AuthError(FatalApiError):
    """The key is missing, wrong, suspended or expired."""


class PlanError(FatalApiError):
    """The plan does not cover this season or date."""


class UnreadableBody(FatalApiError):
    """The body is JSON afc cannot hold (too deep, NaN, a lone surrogate…) or is over the size cap.

    Unlike a garbled body (MalformedResponse), asking again would get the same answer: no retry.
    """


class ParameterError(FatalApiError):
    """The API rejected the request's parameters."""


class QuotaExhausted(ApiError):
    """No calls left today (from the API or from our ledger's floor); resumes at `resume_at`."""

    exit_code = EXIT_NOTHING_DONE

    def __init__(self, message: str, *, resume_at: datetime | None = None, **kw: object):
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.resume_at = resume_at


class RetryableApiError(ApiError):
    """A transient failure: timeouts, 5xx, 499, the server-bug envelope, a malformed body."""


class RateLimited(RetryableApiError):
    """The per-minute limit was hit; wait for the window."""


class ServerError(RetryableApiError):
    """The API failed on its side (5xx, 499, the documented bug envelope)."""


class NetworkError(RetryableApiError):
    """Timeout, refused or dropped connection; `sent` is False when the request never reached the API."""

    def __init__(self, message: str, *, sent: bool = True, **kw: object):
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.sent = sent


class MalformedResponse(RetryableApiError):
    """The body is not the API's JSON envelope."""


class ItemInvalid(AfcError):
    """One API item could not be transformed; it is quarantined, the rest of the response lands."""


class CircuitOpen(AfcError):
    """Calls to this endpoint are paused after repeated failures; they resume after the cool-down."""
