"""The territory: PNDR typologies and priority areas imported as data, and eligibility read from
the typology in force (Decreto 11.962/2024: the classification is the ministry's, never typed).

- a good typology file is stored with its source, audited once, and is in force;
- a file with bad lines is refused naming each line and field, and nothing is written;
- the same name and version twice is refused (a revision is a new version);
- eligibility under two typology versions: each decision records the version it read;
- a microregion without a class in the typology in force is refused, naming it;
- priority areas and the module show on the case (detail, ``case show``, the command line).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from notifications.i18n import render
from states import indicators as figures
from states import queries
from states.clock import FixedClock
from states.errors import GuardFailed, InvalidInput
from states.models import AuditEvent, Case
from states.records import PriorityArea, PriorityAreaMunicipality, Typology, TypologyClass
from states.territory import load_modules
from tasks import territory
from tasks.cases import advance
from tasks.people import ImportRejected
from tasks.runtime import Runtime
from tasks.users import add_user
from tests.builders import QUIXADA, cli_users, drive, evidence_for, new_case, today_of
from tests.integration.helpers import verify

QUIXADA_MICRO = 23019  # Sertão de Quixeramobim (CE)
RECIFE = 2611606
SOURCE = "Decreto 11.962/2024; Portaria MIDR (tipologia publicada)"


def typology_csv(*rows: tuple[int, str]) -> str:
    return "microregion_code,microregion,pndr_class\n" + "".join(
        f"{code},Microrregião {code},{cls}\n" for code, cls in rows
    )


def territory_rows(rt: Runtime) -> dict[str, int]:
    with rt.db.read() as session:
        return {
            model.__tablename__: int(
                session.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (
                Typology,
                TypologyClass,
                PriorityArea,
                PriorityAreaMunicipality,
                AuditEvent,
            )
        }


def in_review(rt: Runtime, clock: FixedClock, **overrides: object) -> int:
    case_id = new_case(rt, **overrides)
    advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    return case_id


def approve(rt: Runtime, clock: FixedClock, case_id: int) -> dict[str, object]:
    advance(
        rt,
        case_id,
        "aprovar_elegibilidade",
        evidence_for("aprovar_elegibilidade", today_of(clock)),
        actor="bia",
    )
    with rt.db.read() as session:
        events = queries.history(session, case_id)
    checked = events[-1]["evidence"]["records_checked"]["typology"]
    assert isinstance(checked, dict)
    return checked


# --- importing a typology --------------------------------------------------------------------


def test_a_good_typology_is_stored_with_its_source_audited_once_and_in_force(
    any_rt: Runtime,
) -> None:
    rt = any_rt
    before = territory_rows(rt)
    result = territory.import_typology(
        rt,
        typology_csv((QUIXADA_MICRO, "estagnada"), (26017, "dinamica"), (11002, "baixa_renda")),
        name="PNDR",
        version="2024",
        source=SOURCE,
        actor="admin",
    )
    assert (result.name, result.version, result.microregions) == ("PNDR", "2024", 3)
    assert result.classes == {"baixa_renda": 1, "dinamica": 1, "estagnada": 1}
    assert result.replaced is None
    after = territory_rows(rt)
    assert after["typologies"] == before["typologies"] + 1
    assert after["typology_classes"] == before["typology_classes"] + 3
    assert after["audit_events"] == before["audit_events"] + 1
    with rt.db.read() as session:
        entry = session.execute(
            select(AuditEvent).where(AuditEvent.event == "tipologia_importada")
        ).scalar_one()
        typology = session.get(Typology, result.typology_id)
        assert typology is not None
        assert (typology.source, typology.illustrative) == (SOURCE, False)
        assert (entry.record_type, entry.record_id, entry.actor) == (
            "typology",
            result.typology_id,
            "admin",
        )
        assert entry.evidence["version"] == "2024"
        assert entry.evidence["source"] == SOURCE
        assert len(entry.evidence["file_sha256"]) == 64
    assert verify(rt.db).ok

    # Portuguese headers, ';' and a BOM are accepted
    second = territory.import_typology(
        rt,
        "\ufeffmicrorregiao;classe\n23019;Baixa_Renda\n".encode(),
        name="PNDR",
        version="2025",
        source=SOURCE,
        actor="admin",
    )
    assert second.replaced == "PNDR 2024"
    assert second.classes == {"baixa_renda": 1}


def test_bad_lines_are_refused_naming_line_and_field_and_nothing_is_written(
    any_rt: Runtime,
) -> None:
    rt = any_rt
    before = territory_rows(rt)
    bad = (
        typology_csv(
            (QUIXADA_MICRO, "estagnada"),
            (99999, "estagnada"),  # line 3: not an IBGE microregion
            (QUIXADA_MICRO, "dinamica"),  # line 4: twice
        )
        + "2301,x,estagnada\n26017,x,Alta Renda!\n"
    )  # line 5: 4 digits; line 6: not a code
    with pytest.raises(ImportRejected) as refused:
        territory.import_typology(rt, bad, name="PNDR", version="x", source=SOURCE, actor="admin")
    problems = dict(refused.value.problems)
    assert set(problems) == {3, 4, 5, 6}
    assert problems[3] == "microregion_code: 99999 is not an IBGE microregion"
    assert problems[4] == f"microregion_code: {QUIXADA_MICRO} already on line 2"
    assert problems[5].startswith("microregion_code: '2301' is not a 5-digit")
    assert problems[6].startswith("pndr_class: 'Alta Renda!' is not a class code")
    assert "nothing was imported" in str(refused.value)
    assert territory_rows(rt) == before

    with pytest.raises(ImportRejected, match="line 1: missing column pndr_class"):
        territory.import_typology(
            rt, "microregion_code\n23019\n", name="PNDR", version="x", source=SOURCE, actor="admin"
        )
    with pytest.raises(InvalidInput, match="no rows after the header"):
        territory.import_typology(
            rt, "microregion_code,pndr_class\n", name="P", version="x", source=SOURCE, actor="admin"
        )
    with pytest.raises(InvalidInput, match="source"):
        territory.import_typology(
            rt, typology_csv((QUIXADA_MICRO, "estagnada")), name="P", version="x", source="",
            actor="admin",
        )  # fmt: skip
    assert territory_rows(rt) == before


def test_the_same_version_twice_is_refused(rt: Runtime) -> None:
    data = typology_csv((QUIXADA_MICRO, "estagnada"))
    territory.import_typology(rt, data, name="PNDR", version="2024", source=SOURCE, actor="admin")
    before = territory_rows(rt)
    with pytest.raises(InvalidInput, match="PNDR version 2024 was already imported"):
        territory.import_typology(
            rt, data, name="PNDR", version="2024", source=SOURCE, actor="admin"
        )
    assert territory_rows(rt) == before


def test_a_file_over_its_bounds_is_refused(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tasks.people.IMPORT_MAX_ROWS", 2)
    before = territory_rows(rt)
    data = typology_csv((QUIXADA_MICRO, "estagnada"), (26017, "dinamica"), (11002, "baixa_renda"))
    with pytest.raises(InvalidInput, match="more than 2 rows"):
        territory.import_typology(rt, data, name="P", version="x", source=SOURCE, actor="admin")
    assert territory_rows(rt) == before


# --- eligibility reads the typology in force --------------------------------------------------


def test_eligibility_under_two_typology_versions_records_the_version_used(
    any_rt: Runtime, clock: FixedClock
) -> None:
    rt = any_rt
    first, second = in_review(rt, clock), in_review(rt, clock)
    territory.import_typology(
        rt, typology_csv((QUIXADA_MICRO, "estagnada")), name="PNDR", version="2024",
        source=SOURCE, actor="admin",
    )  # fmt: skip
    checked = approve(rt, clock, first)
    assert (checked["name"], checked["version"], checked["pndr_class"]) == (
        "PNDR",
        "2024",
        "estagnada",
    )
    assert checked["microregion_code"] == QUIXADA_MICRO
    assert checked["source"] == SOURCE

    # the ministry revises it: the microregion is now of high income, not eligible
    territory.import_typology(
        rt, typology_csv((QUIXADA_MICRO, "alta_renda")), name="PNDR", version="2026",
        source=SOURCE, actor="admin",
    )  # fmt: skip
    with pytest.raises(GuardFailed) as refused:
        approve(rt, clock, second)
    assert refused.value.reason.startswith(
        f"microregion {QUIXADA_MICRO} is of PNDR class alta_renda in the typology in force "
        "(PNDR 2026), which is not eligible"
    )
    # a third version classifies it eligible again: the decision records that version
    territory.import_typology(
        rt, typology_csv((QUIXADA_MICRO, "baixa_renda")), name="PNDR", version="2026.1",
        source=SOURCE, actor="admin",
    )  # fmt: skip
    checked = approve(rt, clock, second)
    assert (checked["version"], checked["pndr_class"]) == ("2026.1", "baixa_renda")
    # the first decision still says what it read
    with rt.db.read() as session:
        events = queries.history(session, first)
    assert events[-1]["evidence"]["records_checked"]["typology"]["version"] == "2024"


def test_a_microregion_without_a_class_is_refused_naming_it(rt: Runtime, clock: FixedClock) -> None:
    case_id = in_review(rt, clock, municipality_code=RECIFE)
    with rt.db.read() as session:
        microregion = queries.case_detail(session, case_id, today=rt.today())["microregion_code"]
    with pytest.raises(GuardFailed, match="no PNDR typology has been imported"):
        approve(rt, clock, case_id)
    territory.import_typology(
        rt, typology_csv((QUIXADA_MICRO, "estagnada")), name="PNDR", version="2024",
        source=SOURCE, actor="admin",
    )  # fmt: skip
    with pytest.raises(GuardFailed) as refused:
        approve(rt, clock, case_id)
    assert refused.value.reason.startswith(
        f"microregion {microregion} has no class in the PNDR typology in force (PNDR 2024)"
    )
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert case.state == "em_analise"


def test_the_class_cannot_be_typed(rt: Runtime, clock: FixedClock) -> None:
    case_id = in_review(rt, clock)
    evidence = evidence_for("aprovar_elegibilidade", today_of(clock)) | {"pndr_class": "estagnada"}
    with pytest.raises(InvalidInput, match="pndr_class"):
        advance(rt, case_id, "aprovar_elegibilidade", evidence, actor="bia")


# --- priority areas and modules ---------------------------------------------------------------


def test_priority_areas_import_and_show_on_the_case(rt: Runtime, clock: FixedClock) -> None:
    case_id = new_case(rt)
    before = territory_rows(rt)
    with pytest.raises(ImportRejected) as refused:
        territory.import_areas(
            rt, f"municipality_code\n{QUIXADA}\n9999999\n{QUIXADA}\nabc\n", name="Semiárido",
            source="Resolução Condel/Sudene 150/2021", as_of=today_of(clock), actor="admin",
        )  # fmt: skip
    assert [line for line, _ in refused.value.problems] == [3, 4, 5]
    assert territory_rows(rt) == before

    result = territory.import_areas(
        rt, f"codigo_ibge\n{QUIXADA}\n{RECIFE}\n", name="Semiárido",
        source="Resolução Condel/Sudene 150/2021", as_of=today_of(clock), actor="admin",
    )  # fmt: skip
    assert result.municipalities == 2
    territory.import_areas(
        rt, f"municipality_code\n{RECIFE}\n", name="Faixa de Fronteira",
        source="Lei 6.634/1979", as_of=today_of(clock), illustrative=True, actor="admin",
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="already imported"):
        territory.import_areas(
            rt, f"municipality_code\n{QUIXADA}\n", name="Semiárido", source="x",
            as_of=today_of(clock), actor="admin",
        )  # fmt: skip
    with rt.db.read() as session:
        detail = queries.case_detail(session, case_id, today=rt.today())
    assert detail["priority_areas"] == ["Semiárido"]
    assert (detail["module"], detail["module_label"]) == ("nordeste", "Nordeste")
    assert detail["pndr_typology"] is None
    recife = new_case(rt, municipality_code=RECIFE)
    with rt.db.read() as session:
        detail = queries.case_detail(session, recife, today=rt.today())
    assert detail["priority_areas"] == ["Faixa de Fronteira (ilustrativo)", "Semiárido"]


def test_modules_come_from_the_configured_file(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules.toml"
    modules.write_text(
        '[modules.sertao]\nlabel = "Sertão Central"\nufs = []\n'
        f"municipalities = [{QUIXADA}]\n"
        '[modules.nordeste]\nlabel = "Nordeste"\nufs = ["CE", "PE"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PRODUZIR_MODULES_FILE", str(modules))
    quixada, recife = new_case(rt), new_case(rt, municipality_code=RECIFE)
    with rt.db.read() as session:
        shown = [
            queries.case_detail(session, c, today=rt.today())["module"] for c in (quixada, recife)
        ]
    assert shown == ["sertao", "nordeste"]
    clash = tmp_path / "clash.toml"
    clash.write_text(
        '[modules.a]\nlabel = "A"\nufs = ["CE"]\n[modules.b]\nlabel = "B"\nufs = ["CE"]\n'
    )
    with pytest.raises(InvalidInput, match="UF CE is in modules a and b"):
        load_modules(clash)


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def test_the_command_line_imports_refuses_and_shows(
    rt: Runtime, cli: CliRunner, tmp_path: Path
) -> None:
    good, bad = tmp_path / "pndr.csv", tmp_path / "bad.csv"
    good.write_text(typology_csv((QUIXADA_MICRO, "estagnada")), encoding="utf-8")
    bad.write_text("microregion_code,pndr_class\n23019,estagnada\n12,baixa_renda\n")
    before = territory_rows(rt)
    refused = cli.invoke(
        app,
        ["territory", "import-typology", str(bad), "--name", "PNDR", "--version", "2024",
         "--source", SOURCE, "--by", "admin"],
    )  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "line 3: microregion_code: '12' is not a 5-digit" in refused.stderr
    assert territory_rows(rt) == before
    done = cli.invoke(
        app,
        ["territory", "import-typology", str(good), "--name", "PNDR", "--version", "2024",
         "--source", SOURCE, "--published-on", "2024-09-30", "--by", "admin"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "typology PNDR 2024 imported: 1 microregions" in done.stdout
    areas = tmp_path / "semiarido.csv"
    areas.write_text(f"municipality_code\n{QUIXADA}\n")
    done = cli.invoke(
        app,
        ["territory", "import-areas", str(areas), "--name", "Semiárido", "--source",
         "Sudene", "--date", "2024-01-01", "--illustrative", "--by", "admin"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    shown = cli.invoke(app, ["territory", "show"])
    assert shown.exit_code == 0, shown.output
    assert "2024-09-30" in shown.stdout
    assert "Semiárido (ilustrativo)" in shown.stdout
    assert "nordeste" in shown.stdout
    # a coordinator may not import
    denied = cli.invoke(
        app,
        ["territory", "import-typology", str(good), "--name", "PNDR", "--version", "2025",
         "--source", SOURCE, "--by", "ana"],
    )  # fmt: skip
    assert denied.exit_code == 4, denied.output
    case_id = new_case(rt)
    case = cli.invoke(app, ["case", "show", str(case_id)])
    assert case.exit_code == 0, case.output
    assert "estagnada" in case.stdout
    assert "Semiárido (ilustrativo)" in case.stdout


def test_cases_are_filtered_by_module_and_priority_area(rt: Runtime, clock: FixedClock) -> None:
    quixada, recife = new_case(rt), new_case(rt, municipality_code=RECIFE)
    belem = new_case(rt, municipality_code=1501402)
    territory.import_areas(
        rt, f"municipality_code\n{QUIXADA}\n{RECIFE}\n", name="Semiárido", source="Sudene",
        as_of=today_of(clock), actor="admin",
    )  # fmt: skip

    def ids(**kw: str) -> list[int]:
        f = queries.CaseFilter(**kw)  # type: ignore[arg-type]
        with rt.db.read() as session:
            rows = queries.list_cases(session, f, today=rt.today())
            assert queries.count_cases(session, f, today=rt.today()) == len(rows)
        return sorted(r["id"] for r in rows)

    assert ids(module="nordeste") == [quixada, recife]
    assert ids(module="amazonia") == [belem]
    assert ids(priority_area="Semiárido") == [quixada, recife]
    assert ids(priority_area="Semiárido", uf="PE") == [recife]
    assert ids(priority_area="Faixa de Fronteira") == []
    with pytest.raises(InvalidInput, match="unknown module 'sul'"):
        queries.CaseFilter(module="sul")


def test_indicators_by_module(rt: Runtime, cli: CliRunner) -> None:
    new_case(rt)
    new_case(rt, municipality_code=RECIFE)
    new_case(rt, municipality_code=1501402)  # Belém (PA)
    with rt.db.read() as session:
        rows = figures.indicators(session, "module", min_attendance=0.75)
    assert [(r.group["module"], r.cases) for r in rows] == [("amazonia", 1), ("nordeste", 2)]
    shown = cli.invoke(app, ["indicators", "--by", "module"])
    assert shown.exit_code == 0, shown.output
    assert "Nordeste" in shown.stdout
    assert "Amazônia" in shown.stdout


def test_hubs_and_users_know_their_module(rt: Runtime, clock: FixedClock, cli: CliRunner) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "mobilizacao")  # the hub is formalised in Quixadá (CE)
    with rt.db.read() as session:
        detail = queries.case_detail(session, case_id, today=rt.today())
    assert (detail["hub_municipality_code"], detail["hub_module"]) == (QUIXADA, "nordeste")
    add_user(
        rt,
        {
            "username": "rita.coord",
            "name": "Rita",
            "email": "rita@example.org",
            "role": "coordinator",
            "territories": ["PA", "CE"],
        },
        actor="admin",
    )
    listed = cli.invoke(app, ["user", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rita = next(u for u in json.loads(listed.stdout) if u["username"] == "rita.coord")
    assert rita["modules"] == ["amazonia", "nordeste"]


def test_a_refused_file_reads_in_portuguese(rt: Runtime) -> None:
    with pytest.raises(ImportRejected) as refused:
        territory.import_typology(
            rt, "microregion_code,pndr_class\n2301,estagnada\n", name="PNDR", version="x",
            source=SOURCE, actor="admin",
        )  # fmt: skip
    assert render(refused.value.text, "pt-BR") == (
        "arquivo de tipologia: 1 linha com erro, nada foi importado:\n"
        "linha 2: microregion_code: '2301' não é um código de microrregião do IBGE (5 dígitos)"
    )


def test_case_list_takes_a_module_and_a_priority_area(
    rt: Runtime, clock: FixedClock, cli: CliRunner
) -> None:
    quixada, recife = new_case(rt), new_case(rt, municipality_code=RECIFE)
    belem = new_case(rt, municipality_code=1501402)
    territory.import_areas(
        rt, f"municipality_code\n{RECIFE}\n", name="Semiárido", source="Sudene",
        as_of=today_of(clock), actor="admin",
    )  # fmt: skip

    def ids(*args: str) -> list[int]:
        shown = cli.invoke(app, ["case", "list", "--json", *args])
        assert shown.exit_code == 0, shown.output
        return sorted(c["id"] for c in json.loads(shown.stdout)["cases"])

    assert ids("--module", "nordeste") == [quixada, recife]
    assert ids("--module", "amazonia") == [belem]
    assert ids("--area", "Semiárido") == [recife]
    assert ids("--area", "Semiárido", "--module", "amazonia") == []
    unknown = cli.invoke(app, ["case", "list", "--area", "Faixa de Fronteira"])
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == (
        "error: unknown priority area 'Faixa de Fronteira'; the areas imported are: Semiárido"
    )
    sul = cli.invoke(app, ["case", "list", "--module", "sul"])
    assert sul.exit_code == 2
    assert "unknown module 'sul'; modules are: " in sul.stderr
