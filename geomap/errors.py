"""Domain errors. Services raise these; :mod:`geomap.api.errors` maps them to HTTP responses.

Each error carries a user-facing message (safe to show) and, where it concerns input, the
offending field and feature index, so a client or a CLI user knows exactly what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of one feature (index None for single-feature input)."""

    field: str
    reason: str
    index: int | None = None

    def describe(self) -> str:
        """A one-line English description."""
        where = f"feature {self.index}: " if self.index is not None else ""
        return f"{where}{self.field}: {self.reason}"

    def as_dict(self) -> dict:
        """JSON-ready form used in problem+json bodies."""
        out: dict = {"field": self.field, "reason": self.reason}
        if self.index is not None:
            out["index"] = self.index
        return out


class GeomapError(Exception):
    """Base of every error geomap raises on purpose.

    ``message`` is for the client (safe to show, says what to do); ``log_detail`` — a library's or
    the driver's own words, for instance — goes to the log and the command line, never to an HTTP client.
    """

    title = "Error"

    def __init__(self, message: str, *, log_detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.log_detail = log_detail


class InvalidInput(GeomapError):
    """Input failed validation; ``problems`` lists every field at fault."""

    title = "Invalid input"

    def __init__(self, problems: list[FieldProblem], source: str | None = None, message: str | None = None) -> None:
        self.problems = problems
        self.source = source
        if message is None:
            shown = "; ".join(p.describe() for p in problems[:10])
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            message = f"{source + ': ' if source else ''}{shown}{more}"
        super().__init__(message)


class NotFound(GeomapError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    title = "Not found"


class UnknownLayerError(NotFound):
    """The layer name is not in the registry."""

    title = "Unknown layer"


class Conflict(GeomapError):
    """The request conflicts with the current state (duplicate id or code, nearby asset...)."""

    title = "Conflict"

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class LoadError(GeomapError):
    """A file could not be read at all (missing, empty, malformed)."""

    title = "Cannot read file"


class Unauthorized(GeomapError):
    """Credentials are missing, wrong, expired or revoked."""

    title = "Unauthorized"


class Forbidden(GeomapError):
    """The caller is known but may not do this."""

    title = "Forbidden"


class PreconditionFailed(GeomapError):
    """The ``If-Match`` version is not the current one (someone else changed the asset)."""

    title = "Precondition failed"

    def __init__(self, message: str, current_etag: str | None = None) -> None:
        super().__init__(message)
        self.current_etag = current_etag


class PreconditionRequired(GeomapError):
    """A write that needs ``If-Match`` came without it."""

    title = "Precondition required"


class BadRequest(GeomapError):
    """The request cannot be parsed (malformed JSON, wrong structure)."""

    title = "Bad request"


class TooManyRequests(GeomapError):
    """The caller sent too many of these lately; ``retry_after`` seconds until it may again."""

    title = "Too many requests"

    def __init__(self, message: str, retry_after: int = 60, field: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.field = field
