"""What every operation needs: the database, the lifecycle definition, a clock and the
settings, each loaded once.

:meth:`Runtime.open` is how the edges get one (the command line, the web console, the flows):
from the ``PRODUZIR_*`` settings (:func:`states.settings.load`: a bad setting is refused naming
its variable) and, with ``check_migrated=True``, only over a database migrated to the code's
head revision (:meth:`Runtime.check_migrated`), so nothing runs against tables it does not
know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

import migrations
from states.calendar import configured_closures
from states.clock import Clock, SystemClock
from states.db import Database
from states.errors import InvalidInput, ProduzirError, VersionNotLoaded
from states.events import EventSpec
from states.lifecycle import Lifecycle, load_lifecycle, shipped_lifecycle_files
from states.settings import StatesSettings, load
from states.text import N_

if TYPE_CHECKING:
    from notifications.settings import NotificationSettings


@dataclass
class Runtime:
    """The collaborators of the operations, injected (tests give a fixed clock)."""

    db: Database
    #: the lifecycle new cases run under
    lifecycle: Lifecycle
    clock: Clock = field(default_factory=SystemClock)
    settings: StatesSettings = field(default_factory=lambda: load(StatesSettings))
    #: other lifecycle versions loaded, for the cases still under them (and migrations)
    others: tuple[Lifecycle, ...] = ()

    @classmethod
    def open(
        cls,
        settings: StatesSettings | None = None,
        *,
        clock: Clock | None = None,
        check_migrated: bool = False,
    ) -> Runtime:
        """The runtime of ``settings`` (default: the ``PRODUZIR_*`` settings; InvalidInput
        naming the variable when one is wrong). With ``check_migrated``, a database that is
        not at the code's migration head is refused (ProduzirError saying to run ``produzir
        db upgrade``) and its connections closed."""
        settings = settings if settings is not None else load(StatesSettings)
        configured_closures()  # PRODUZIR_OFFICE_CLOSURES: a wrong one stops at start
        rt = cls(
            db=Database.from_settings(settings),
            lifecycle=load_lifecycle(settings.lifecycle_file),
            clock=clock or SystemClock(),
            settings=settings,
            others=tuple(
                load_lifecycle(path)
                for path in (*shipped_lifecycle_files(), *settings.other_lifecycle_files())
            ),
        )
        if check_migrated:
            try:
                rt.check_migrated()
            except BaseException:
                rt.db.dispose()
                raise
        return rt

    def check_migrated(self) -> None:
        """Refuse (ProduzirError) a database that is not at the code's migration head."""
        current, head = migrations.current_revision(self.db.engine), migrations.head_revision()
        if current != head:
            raise ProduzirError(
                N_(
                    "the database is at revision %(value)s, the code needs %(head)s: run `produzir db upgrade`",
                    value=current or "none",
                    head=head,
                )
            )

    @cached_property
    def lifecycles(self) -> dict[str, Lifecycle]:
        """Every loaded lifecycle by version (the current one wins a repeated version)."""
        found: dict[str, Lifecycle] = {}
        for lc in (self.lifecycle, *self.others):
            same = found.setdefault(lc.version, lc)
            if same is not lc and (same.config, same.events, same.states) != (
                lc.config,
                lc.events,
                lc.states,
            ):
                raise InvalidInput(
                    N_(
                        "two lifecycle files say version %(version)s but differ: give each "
                        "change its own version",
                        version=lc.version,
                    )
                )
        return found

    def lifecycle_for(self, version: str) -> Lifecycle:
        """The lifecycle of ``version``; VersionNotLoaded (the settings lack it) otherwise."""
        found = self.lifecycles.get(version)
        if found is None:
            raise VersionNotLoaded(
                N_(
                    "lifecycle version %(version)s is not loaded (loaded: %(value)s); name its "
                    "file in PRODUZIR_LIFECYCLE_FILES",
                    version=version,
                    value=", ".join(self.lifecycles),
                )
            )
        return found

    @cached_property
    def all_events(self) -> dict[str, EventSpec]:
        """Every event of the loaded versions by name (the current version's declaration first)."""
        found: dict[str, EventSpec] = {}
        for lc in (self.lifecycle, *self.others):
            for spec in lc.events:
                found.setdefault(spec.name, spec)
        return found

    def event_spec(self, event: str) -> EventSpec | None:
        """The declaration of ``event`` in a loaded version (None when none has it)."""
        return self.all_events.get(event)

    def event_known(self, event: str) -> None:
        """InvalidInput unless some loaded lifecycle has ``event`` (checked before any read)."""
        if event not in self.all_events:
            self.lifecycle.spec(event)  # raises, naming the current version's events

    @cached_property
    def notifications(self) -> NotificationSettings:
        """The notification settings (``PRODUZIR_NOTIFY_*``, ...), read once, when first needed
        (the write path reads the Message-ID domain of the messages it queues)."""
        from notifications.settings import load_settings

        return load_settings()

    def today(self) -> date:
        """Today's date in Brasília time, for lists and filters that span municipalities."""
        from states.deadlines import local_date

        return local_date(self.clock.now(), "America/Sao_Paulo")
