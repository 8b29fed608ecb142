"""The errors of Produzir: one base class, a small tree, context kept in attributes.

    ProduzirError                   exit 1   (unexpected; never raised on purpose)
    ├── InvalidInput                exit 2   HTTP 422  malformed or missing data, bad codes
    ├── NotFound                    exit 3   HTTP 404  no such case / municipality
    ├── NotAllowed                  exit 4   HTTP 409
    │   ├── TransitionNotAllowed             the current state does not accept the event
    │   └── GuardFailed                      the evidence the event needs is missing or short
    │   └── Refused (console)       exit 4   HTTP 403  --by may not run this command
    ├── Conflict                    exit 5   HTTP 409  someone else changed the case first
    ├── DeliveryFailed              exit 6   HTTP 502  a message could not be delivered
    └── Busy                        exit 7   HTTP 503  the database stayed locked; retry later

Errors are mapped only at the edges (command line, HTTP, flows); everything inside raises
them with the context a caller needs to explain or retry.
"""

from __future__ import annotations

from datetime import datetime


class ProduzirError(Exception):
    """Base of every error Produzir raises on purpose."""

    exit_code = 1
    http_status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(ProduzirError):
    """Input that cannot be accepted: a wrong field, a bad code, a malformed file."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ProduzirError):
    """A record that does not exist."""

    exit_code = 3
    http_status = 404
    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} does not exist")
        self.kind = kind
        self.key = key


class NotAllowed(ProduzirError):
    """The lifecycle refuses the operation."""

    exit_code = 4
    http_status = 409
    code = "not_allowed"


class TransitionNotAllowed(NotAllowed):
    """The event is not accepted in the case's current state."""

    code = "transition_not_allowed"

    def __init__(self, case_id: int | None, event: str, state: str, allowed: list[str]) -> None:
        who = f"case {case_id}" if case_id is not None else "the case"
        accepted = ", ".join(allowed) if allowed else "no event"
        super().__init__(
            f"{event} is not allowed: {who} is in state {state}, which accepts {accepted}"
        )
        self.case_id = case_id
        self.event = event
        self.state = state
        self.allowed = allowed


class GuardFailed(NotAllowed):
    """The event is accepted in this state, but the evidence it needs is missing or short."""

    code = "guard_failed"

    def __init__(self, case_id: int | None, event: str, reason: str) -> None:
        who = f"case {case_id}" if case_id is not None else "the case"
        super().__init__(f"{event} refused for {who}: {reason}")
        self.case_id = case_id
        self.event = event
        self.reason = reason


class Conflict(ProduzirError):
    """Someone else changed the case after the caller read it; nothing was written."""

    exit_code = 5
    http_status = 409
    code = "conflict"

    def __init__(
        self,
        case_id: int,
        expected_version: int,
        current_version: int,
        changed_by: str,
        changed_at: datetime,
    ) -> None:
        super().__init__(
            f"case {case_id} was changed by {changed_by} at "
            f"{changed_at.isoformat(timespec='seconds')} (now version {current_version}, "
            f"you expected {expected_version}); reload it and try again"
        )
        self.case_id = case_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at


class DeliveryFailed(ProduzirError):
    """A notification could not be delivered."""

    exit_code = 6
    http_status = 502
    code = "delivery_failed"

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Busy(ProduzirError):
    """The database stayed locked by another writer for the whole busy timeout; nothing was
    written, and the same request may succeed a moment later (HTTP 503 with Retry-After)."""

    exit_code = 7
    http_status = 503
    code = "busy"
    #: seconds a client should wait before trying again
    retry_after = 2

    def __init__(
        self, message: str = "the database is busy with another write; try again shortly"
    ) -> None:
        super().__init__(message)
