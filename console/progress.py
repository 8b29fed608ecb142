"""Progress bars of the long commands (Rich), on standard error and only on a terminal.

:func:`progress_bar` gives the command a callback ``(done, total)`` to hand to the operation
(tasks/ and states/ know nothing of Rich: they call what they are given); piped or captured
(tests, ``make run | tee``), it gives None and nothing is drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from states.text import Text

#: told how much is done, and of how much
Update = Callable[[int, int], None]


@contextmanager
def progress_bar(label: Text, unit: Text | None = None) -> Iterator[Update | None]:
    """A bar named ``label`` counting ``unit`` (a plural noun: "steps", "entries"; None: a
    percentage) while the block runs, on standard error when it is a terminal; None
    otherwise. The bar is gone when the block ends."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from notifications.i18n import language_for_cli, render

    language = language_for_cli()
    bar = Progress(
        TextColumn(render(label, language).replace("[", r"\[")),
        BarColumn(),
        *(
            (TaskProgressColumn(),)
            if unit is None
            else (MofNCompleteColumn(), TextColumn(render(unit, language).replace("[", r"\[")))
        ),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def fraction(update: Update | None) -> Callable[[float], None] | None:
    """``update`` told a fraction done (0 to 1) instead of a count, for a percentage bar."""
    if update is None:
        return None
    return lambda done: update(round(done * 1000), 1000)
