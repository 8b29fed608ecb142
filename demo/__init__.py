"""A realistic demo portfolio, built through the same operations a coordinator uses.

:func:`load_demo` is what ``produzir demo`` and ``produzir run`` do: on an empty database,
:func:`build_demo` registers about ``cases`` demands in real municipalities of the Northeast
semi-arid and the North and moves each one through the lifecycle with the programme's records
behind every step; then the portfolio's staff and the web console's demo users are added.

The demo sits above the operations (import-linter: ``console -> demo -> flows -> tasks``) and
nothing below imports it. Its tables are data files (``demo/data/``, read by
:mod:`demo.tables`); the code is in four steps:

- :mod:`demo.plan`: the drawing of the portfolio, each case's final state, twists and timeline;
- :mod:`demo.write`: the timelines turned into dated steps, with the records each state asks
  for and evidence that passes the guards;
- :mod:`demo.play`: the steps played through the operations of ``tasks/``;
- :mod:`demo.build`: the four together, under a moving clock, and :func:`load_demo`;

and :mod:`demo.staff` (the staff and web users), :mod:`demo.simulate` (days of the running
system under a moving clock, ``produzir demo --simulate-days``).

People are fictitious and evidence carries no person's name or CPF: people are referred to by
their record id. The same ``seed`` gives the same portfolio, down to the audit chain's hashes.
"""

from __future__ import annotations

from demo.build import DemoLoad, DemoReport, build_demo, demo_is_needed, load_demo
from demo.plan import DEMO_START, FINAL_AT, FINAL_DAY, START_DAY
from demo.staff import DEMO_PASSWORD, DEMO_USERS, add_demo_staff, add_demo_users
from demo.tables import COORDINATORS, MANAGER, SUPERVISORS

__all__ = [
    "COORDINATORS",
    "DEMO_PASSWORD",
    "DEMO_START",
    "DEMO_USERS",
    "FINAL_AT",
    "FINAL_DAY",
    "MANAGER",
    "START_DAY",
    "SUPERVISORS",
    "DemoLoad",
    "DemoReport",
    "add_demo_staff",
    "add_demo_users",
    "build_demo",
    "demo_is_needed",
    "load_demo",
]
