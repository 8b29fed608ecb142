"""What every operation needs: the database, the lifecycle definition, a clock and the
settings, each loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from notifications.settings import NotificationSettings, load_settings
from states.clock import Clock, SystemClock
from states.db import Database
from states.lifecycle import Lifecycle, load_lifecycle
from states.settings import StatesSettings


@dataclass
class Runtime:
    """The collaborators of the operations, injected (tests give a fixed clock)."""

    db: Database
    lifecycle: Lifecycle
    clock: Clock = field(default_factory=SystemClock)
    settings: StatesSettings = field(default_factory=StatesSettings)

    @classmethod
    def from_settings(
        cls, settings: StatesSettings | None = None, clock: Clock | None = None
    ) -> Runtime:
        settings = settings or StatesSettings()
        return cls(
            db=Database.from_settings(settings),
            lifecycle=load_lifecycle(settings.lifecycle_file),
            clock=clock or SystemClock(),
            settings=settings,
        )

    @cached_property
    def notifications(self) -> NotificationSettings:
        """The notification settings (``PRODUZIR_NOTIFY_*``, ...), read once, when first needed
        (the write path reads the Message-ID domain of the messages it queues)."""
        return load_settings()

    def today(self) -> date:
        """Today's date in Brasília time, for lists and filters that span municipalities."""
        from states.deadlines import local_date

        return local_date(self.clock.now(), "America/Sao_Paulo")
