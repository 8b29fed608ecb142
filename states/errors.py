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

Every error keeps a stable ``code`` (its class's, for the API and scripts) and its sentence as
a :class:`~states.text.Text` (``text``: an English msgid and its ``params``), which the edges
render in the reader's language; ``str(error)`` is the English sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from states.text import N_, Term, Text, as_text


class ProduzirError(Exception):
    """Base of every error Produzir raises on purpose."""

    exit_code = 1
    http_status = 500
    code = "error"

    def __init__(self, message: Text | str) -> None:
        self.text = as_text(message)
        self.message = self.text.english()
        super().__init__(self.message)

    @property
    def params(self) -> Mapping[str, Any]:
        return self.text.params

    def __str__(self) -> str:
        return self.message


class InvalidInput(ProduzirError):
    """Input that cannot be accepted: a wrong field, a bad code, a malformed file."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"

    def __init__(self, message: Text | str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ProduzirError):
    """A record that does not exist."""

    exit_code = 3
    http_status = 404
    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(N_("%(kind)s %(key)s does not exist", kind=Term("record", kind), key=key))
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
        who = _who(case_id)
        accepted = (
            Text(
                ", ".join(f"%(e{i})s" for i in range(len(allowed))),
                {f"e{i}": Term("event", e) for i, e in enumerate(allowed)},
            )
            if allowed
            else N_("no event")
        )
        super().__init__(
            N_(
                "%(event)s is not allowed: %(who)s is in state %(state)s, which accepts %(accepted)s",
                event=Term("event", event),
                who=who,
                state=Term("state", state),
                accepted=accepted,
            )
        )
        self.case_id = case_id
        self.event = event
        self.state = state
        self.allowed = allowed


class GuardFailed(NotAllowed):
    """The event is accepted in this state, but the evidence it needs is missing or short."""

    code = "guard_failed"

    def __init__(self, case_id: int | None, event: str, reason: Text | str) -> None:
        self.reason_text = as_text(reason)
        super().__init__(
            N_(
                "%(event)s refused for %(who)s: %(reason)s",
                event=Term("event", event),
                who=_who(case_id),
                reason=self.reason_text,
            )
        )
        self.case_id = case_id
        self.event = event
        self.reason = self.reason_text.english()


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
            N_(
                "case %(case_id)s was changed by %(changed_by)s at %(changed_at)s (now version "
                "%(current_version)s, you expected %(expected_version)s); reload it and try again",
                case_id=case_id,
                changed_by=changed_by,
                changed_at=changed_at,
                current_version=current_version,
                expected_version=expected_version,
            )
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

    def __init__(self, message: Text | str, *, transient: bool) -> None:
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

    def __init__(self, message: Text | str | None = None) -> None:
        super().__init__(
            message or N_("the database is busy with another write; try again shortly")
        )


class VersionNotLoaded(ProduzirError):
    """A case runs under a lifecycle version this installation has not loaded: a setting to fix
    (``PRODUZIR_LIFECYCLE_FILES``), not the case; nothing was written (exit 1, HTTP 503)."""

    http_status = 503
    code = "lifecycle_version_not_loaded"


def _who(case_id: int | None) -> Text:
    return N_("case %(case_id)s", case_id=case_id) if case_id is not None else N_("the case")
