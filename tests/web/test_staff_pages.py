"""The case page names each training event's instructors from the staff roster (issue 12)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from tasks.runtime import Runtime
from tasks.staff import add_staff
from tasks.trainings import create_event
from tests.builders import QUIXADA, today_of
from tests.web.conftest import CE_CASE


def test_the_case_page_names_the_instructors_of_its_events(client_for, web_rt: Runtime) -> None:
    today = today_of(web_rt.clock)  # type: ignore[arg-type]
    rita = add_staff(
        web_rt,
        {"name": "Rita de Cássia Moura", "role": "instrutora", "organisation": "SEBRAE-CE"},
        actor="adm.admin",
    )
    lima = add_staff(web_rt, {"name": "João Lima", "role": "instrutor"}, actor="adm.admin")
    event_id = create_event(
        web_rt,
        {
            "kind": "ecc",
            "title": "ECC Sertão Central",
            "start_on": today.isoformat(),
            "end_on": (today + timedelta(days=40)).isoformat(),
            "venue": "Escola Municipal",
            "municipality_code": QUIXADA,
            "instructor_ids": [rita, lima],
            "capacity": 60,
            "case_ids": [CE_CASE],
        },
        actor="ana.coord",
    )

    page = unescape(client_for("ana.coord").get(f"/cases/{CE_CASE}").text)

    item = page[page.index(f'data-training="{event_id}"') :]
    item = item[: item.index("</li>")]
    assert "Instrutores: Rita de Cássia Moura (SEBRAE-CE); João Lima" in item
