"""An anonymised person (LGPD art. 18 IV/VI) is named nowhere on the case page: the list of
people shows their number and the word "anonymised" in the reader's language, never a name."""

from __future__ import annotations

import re

from tasks.person_rights import anonymise_person
from tests.builders import add_participants
from tests.web.conftest import CE_CASE


def test_the_case_page_names_an_anonymised_person_by_number_only(client_for, web_rt) -> None:
    gone, kept = add_participants(web_rt, CE_CASE, 2, first=700)
    anonymise_person(web_rt, gone, ground="consent_withdrawn", actor="system")
    page = client_for("ana.coord").get(f"/cases/{CE_CASE}?people=1").text
    assert "Participante 700" not in page
    assert "Participante 701" in page
    items = dict(re.findall(r'<li data-person="(\d+)">(.*?)</li>', page))
    assert "Participante 701" in items[str(kept)]
    assert re.match(r"<em>(anonimizado|anonymised)</em>", items[str(gone)])
    assert "None" not in items[str(gone)]
