"""Where a write comes from: its channel and, on the command line, the operating-system user.

The edges set it once per request or command (:func:`use_origin` or :func:`set_origin`); the
audit log records it with every entry, so an auditor sees whether a change came through the web
console, the JSON API, the command line, a Prefect flow or the system's own deadline sweep.
Nothing personal is kept: the operating-system user is an account name, as the actor is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

CHANNELS = ("web", "api", "cli", "flow", "system")


@dataclass(frozen=True)
class Origin:
    """The channel of a write (one of :data:`CHANNELS`) and, for ``cli``, the OS user."""

    channel: str = "system"
    os_user: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; one of {', '.join(CHANNELS)}")


_CURRENT: ContextVar[Origin] = ContextVar("produzir_origin", default=Origin())  # noqa: B039 - frozen


def current() -> Origin:
    """The origin of the write being made now (``system`` when no edge set one)."""
    return _CURRENT.get()


def set_origin(channel: str, os_user: str | None = None) -> Token[Origin]:
    """Set the origin for the rest of this context (a command's process, a request's task)."""
    return _CURRENT.set(Origin(channel, os_user))


def reset_origin(token: Token[Origin]) -> None:
    """Undo a :func:`set_origin`."""
    _CURRENT.reset(token)


@contextmanager
def use_origin(channel: str, os_user: str | None = None) -> Iterator[Origin]:
    """Within the block, writes are recorded as coming from ``channel``."""
    token = set_origin(channel, os_user)
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)
