"""Bounds on logins, so that they cannot be used to exhaust the server.

- **Concurrency**: a password check (argon2id) takes 64 MiB and a core for a moment; at most
  ``login_concurrency`` (about the number of cores) run at once. A login that finds none free
  waits up to ``login_wait_seconds``, then answers 429 with ``Retry-After``.
- **Rates**: at most ``login_rate_per_ip`` attempts a minute from one client address and
  ``login_rate_per_user`` for one user name (sliding windows, in memory: one process serves
  the console); over either, 429 with ``Retry-After`` before any password is checked.
- The lockout after repeated failures is counted atomically in the database
  (:func:`tasks.users.authenticate`).

The clock is the runtime's, so tests move it instead of sleeping.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from console.web.errors import ApiError

WINDOW = timedelta(minutes=1)
#: keys remembered per window before the oldest are forgotten (bounds the memory)
MAX_KEYS = 100_000

# the sentences of a throttled login (one place, to move into the catalogs)
_BUSY = "too many logins are being checked right now; try again in a moment"
_TOO_MANY = "too many login attempts; try again in a minute"


def too_many(message: str, retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        message,
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


class RateLimit:
    """At most ``limit`` events per key within :data:`WINDOW` (a sliding window)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._events: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> bool:
        """Count one event for ``key``; False (and not counted) when over the limit."""
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= MAX_KEYS:
                    self._events.pop(next(iter(self._events)))
                events = self._events[key] = deque()
            while events and now - events[0] >= WINDOW:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True


class LoginThrottle:
    """The bounds of one console process (``app.state.login_throttle``)."""

    def __init__(
        self,
        *,
        concurrency: int,
        wait_seconds: float,
        per_ip: int,
        per_user: int,
        now: Callable[[], datetime],
    ) -> None:
        self.wait_seconds = wait_seconds
        self._checks = threading.BoundedSemaphore(concurrency)
        self._per_ip = RateLimit(per_ip)
        self._per_user = RateLimit(per_user)
        self._now = now

    def admit(self, address: str, username: str) -> None:
        """Count an attempt; 429 when the address or the user name is over its rate."""
        now = self._now()
        if not self._per_ip.hit(f"ip:{address}", now):
            raise too_many(_TOO_MANY, int(WINDOW.total_seconds()))
        if not self._per_user.hit(f"user:{username.strip().lower()}", now):
            raise too_many(_TOO_MANY, int(WINDOW.total_seconds()))

    @contextmanager
    def checking(self) -> Iterator[None]:
        """Hold one of the password-check slots for the block; 429 when none frees up in
        time."""
        if not self._checks.acquire(timeout=self.wait_seconds):
            raise too_many(_BUSY, 1)
        try:
            yield
        finally:
            self._checks.release()
