"""The demo's tables (``demo/data/``) agree with each other and with the lifecycle they feed."""

from __future__ import annotations

from demo import tables
from states.directory import LANGUAGES, ROLES
from states.evidence import CHOOSABLE_FORMS, MIN_MEMBERS, LegalForm
from states.states import ALL, MAIN_PATH, State


def test_every_place_has_known_activities_and_two_communities() -> None:
    assert len(tables.PLACES) == len({p.code for p in tables.PLACES}) > 60
    for place in tables.PLACES:
        assert set(place.activities) <= set(tables.ACTIVITIES), place.name
        assert len(place.communities) == 2, place.name
        assert all(kind and name for kind, name in place.communities), place.name


def test_every_uf_has_a_coordinator_of_the_staff_and_partners() -> None:
    coordinators = set(tables.COORDINATORS)
    for uf, row in tables.UFS.items():
        assert row.coordinator in coordinators, uf
        assert row.sebrae == f"SEBRAE/{uf}"
        assert 11 <= row.ddd <= 99
    assert {row.coordinator for row in tables.UFS.values()} == coordinators


def test_the_staff_are_set_up_per_region() -> None:
    regions = set(tables.COORDINATORS_OF_REGION)
    assert set(tables.SUPERVISORS) == set(tables.TIMEZONES) == regions == {"Nordeste", "Norte"}
    staff = {*tables.COORDINATORS, *tables.SUPERVISORS.values(), tables.MANAGER}
    assert staff >= tables.DIGEST_READERS
    assert staff >= tables.ENGLISH_READERS


def test_the_demo_users_are_one_per_role() -> None:
    roles = [user["role"] for user in tables.DEMO_USERS]
    assert set(roles) == set(ROLES)
    assert all(user.get("language", "pt-BR") in LANGUAGES for user in tables.DEMO_USERS)
    assert len(tables.DEMO_PASSWORD) >= 12


def test_the_portfolio_ends_in_every_state_but_archived_and_forms_fit_the_guards() -> None:
    assert list(tables.MIX) == [s for s in ALL if s is not State.ARQUIVADA]
    assert set(tables.DWELL) <= set(MAIN_PATH)
    assert all(low <= high for low, high in tables.DWELL.values())
    assert set(tables.FORMS) <= {f.value for f in CHOOSABLE_FORMS}
    for form, shape in tables.FORMS.items():
        assert MIN_MEMBERS.get(LegalForm(form), 1) <= shape.fewest <= shape.most, form
    assert set(tables.REGISTRIES) == set(tables.FORMS) - {LegalForm.MEI.value}
    codes = {p.code for p in tables.PLACES}
    assert all(
        ecm.municipality in codes and ecm.region in tables.SUPERVISORS for ecm in tables.ECMS
    )


def test_the_texts_are_there() -> None:
    assert set(tables.ACTIONS) == {"prefeitura", "sebrae", "agency", "institute", "bank"}
    assert all(tables.ACTIONS.values())
    assert any("{registry}" in text for text in tables.NO_CNPJ_PENDING)
    assert set(tables.PNDR_LABELS) == {"baixa_renda", "estagnada", "dinamica"}
