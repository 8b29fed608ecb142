"""A realistic demo portfolio, built through the same operations a coordinator uses.

:func:`build_demo` registers about ``cases`` demands in real municipalities of the Northeast
semi-arid and the North and moves each one through the lifecycle with the programme's records
behind every step, all through the coordinator's operations: demands and transitions
(:mod:`tasks.demands`, :mod:`tasks.cases`), people and their pre-registration
(:mod:`tasks.people`), training events with enrolments and daily attendance
(:mod:`tasks.trainings`; an ECC is closed with ``complete_event``, the bulk operation that
advances every case it served, and some ECCs serve two or three communities of a territory),
enterprises in every legal form with their legalisation steps in legal order
(:mod:`tasks.enterprises`), and follow-up visits, CLAI and Protocol commitments
(:mod:`tasks.followup`). Every operation passes the same checks and guards, and lands in the
same hash-chained audit trail, as a coordinator's.

The portfolio is planned first, then played. Each case gets a final state (every state of
:data:`states.states.ALL` is represented), a timeline of days spent in each state, and, by
chance, extensions, suspensions that resumed, rejections and appeals, cancellations, reopenings
(requested by a coordinator, decided by the manager), reassignments and notes. While a case
is in a state, the records that state asks for are planned on its working days (not while it
is suspended): participant lists in mobilisation, the ECC in field training, business plans,
workshops and legal forms in management, the legal steps in legalisation, the CLAI, the
Protocol and a visit at most every 90 days in follow-up. A case stopped half-way keeps its
records half-way: an enterprise only founded, a filing waiting for a registry's correction, a
commitment past its date, a visit overdue. All the steps are sorted by instant and played in
that order, with the caller's :class:`~states.clock.FixedClock` moved to each step's instant,
from early June 2024 to the final date (20 November 2026): nothing is recorded as done on a
day after the clock's, and the histories interleave as they would in real life (lists and
legal steps in the morning, transitions in the afternoon, training events in the evening).

Participant lists and attendance sheets are written as a coordinator's spreadsheet import
would: one transaction per list, with the per-row functions of :mod:`tasks.people` and
:mod:`tasks.trainings` (``add_person``, ``preregister_in``, ``attend_in``); single late
registrations and attendance corrections use the one-row operations.

People are fictitious: names drawn from common first names and surnames, CPFs counted up from a
seed-dependent point in the ``900.xxx.xxx`` range with their check digits computed, phone
numbers in the unused ``9 0xxx`` range. Evidence carries no person's name or CPF: people are
referred to by their record id. The same ``seed`` gives the same portfolio, down to the audit
chain's hashes.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from random import Random
from typing import Any

from sqlalchemy import delete, func, select
from validate_docbr import CNPJ

from notifications.models import OutboxMessage
from states.clock import FixedClock
from states.config import LifecycleConfig
from states.deadlines import add_months
from states.directory import User
from states.errors import InvalidInput, ProduzirError
from states.models import AuditEvent, Case, Municipality
from states.records import (
    Enterprise,
    Person,
    TrainingEvent,
    Visit,
)
from states.states import ALL, MAIN_PATH, State
from tasks import cases as ops
from tasks import enterprises, followup, obligations, people, trainings
from tasks.demands import DemandInput, register_demand
from tasks.runtime import Runtime

#: The first day of the demo and its last (the clock ends on it).
START_DAY = date(2024, 6, 3)
FINAL_DAY = date(2026, 11, 20)
#: Where the caller's clock may start (it is moved to each step's instant anyway).
DEMO_START = datetime.combine(START_DAY, time(12, 0), tzinfo=UTC)
#: The clock's final instant: 18:00 in Brasília on the final day.
FINAL_AT = datetime.combine(FINAL_DAY, time(21, 0), tzinfo=UTC)
#: Steps happen between 13:00 and about 19:00 UTC, so the local date is the UTC date in every
#: time zone of the municipalities below (UTC-3 to UTC-5).
_FIRST_MINUTE = 13 * 60

#: Coordinators by macro-region (user names), the supervisors who assign cases and decide
#: eligibility, and the manager who decides reopenings.
COORDINATORS_NE: tuple[str, ...] = (
    "ana.souza",
    "joao.lima",
    "francisca.alves",
    "jose.ribeiro",
    "maria.conceicao",
)
COORDINATORS_NORTE: tuple[str, ...] = ("raimundo.costa", "luana.barros")
COORDINATORS: tuple[str, ...] = (*COORDINATORS_NE, *COORDINATORS_NORTE)
SUPERVISORS: dict[str, str] = {"Nordeste": "carla.mendes", "Norte": "paulo.nunes"}
MANAGER = "regina.araujo"

#: Coordinator in charge of each UF.
_COORDINATOR_OF_UF: dict[str, str] = {
    "CE": "ana.souza",
    "PE": "joao.lima",
    "AL": "joao.lima",
    "PB": "francisca.alves",
    "RN": "francisca.alves",
    "PI": "jose.ribeiro",
    "MA": "jose.ribeiro",
    "BA": "maria.conceicao",
    "SE": "maria.conceicao",
    "PA": "raimundo.costa",
    "AP": "raimundo.costa",
    "AM": "raimundo.costa",
    "TO": "luana.barros",
    "AC": "luana.barros",
    "RO": "luana.barros",
    "RR": "luana.barros",
}

#: Partner institutions per UF: SEBRAE, state rural extension agency (None where not used),
#: federal institute, university.
_PARTNERS: dict[str, tuple[str, str | None, str, str]] = {
    "CE": ("SEBRAE/CE", "EMATERCE", "IFCE", "Universidade Federal do Ceará"),
    "PE": (
        "SEBRAE/PE",
        "IPA",
        "IF Sertão Pernambucano",
        "Universidade Federal do Vale do São Francisco",
    ),
    "PB": ("SEBRAE/PB", "EMPAER", "IFPB", "Universidade Federal de Campina Grande"),
    "RN": ("SEBRAE/RN", "EMATER-RN", "IFRN", "Universidade Federal Rural do Semi-Árido"),
    "PI": ("SEBRAE/PI", "EMATER-PI", "IFPI", "Universidade Federal do Piauí"),
    "BA": ("SEBRAE/BA", "BAHIATER", "IF Baiano", "Universidade do Estado da Bahia"),
    "AL": ("SEBRAE/AL", "EMATER-AL", "IFAL", "Universidade Federal de Alagoas"),
    "SE": ("SEBRAE/SE", "EMDAGRO", "IFS", "Universidade Federal de Sergipe"),
    "MA": ("SEBRAE/MA", "AGERP", "IFMA", "Universidade Federal do Maranhão"),
    "PA": ("SEBRAE/PA", "EMATER-PA", "IFPA", "Universidade Federal do Pará"),
    "AM": ("SEBRAE/AM", "IDAM", "IFAM", "Universidade Federal do Amazonas"),
    "TO": ("SEBRAE/TO", "RURALTINS", "IFTO", "Universidade Federal do Tocantins"),
    "AC": ("SEBRAE/AC", None, "IFAC", "Universidade Federal do Acre"),
    "RO": ("SEBRAE/RO", "EMATER-RO", "IFRO", "Universidade Federal de Rondônia"),
    "AP": ("SEBRAE/AP", "RURAP", "IFAP", "Universidade Federal do Amapá"),
    "RR": ("SEBRAE/RR", None, "IFRR", "Universidade Federal de Roraima"),
}

#: Productive activities: proponent association, the members' collective name, the product.
_ACTIVITIES: dict[str, tuple[str, str, str]] = {
    "apicultura": ("Associação dos Apicultores", "dos Apicultores", "Mel"),
    "caprinocultura": (
        "Associação dos Criadores de Caprinos e Ovinos",
        "dos Caprinocultores",
        "Caprinos",
    ),
    "cajucultura": ("Associação dos Produtores de Caju", "dos Cajucultores", "Caju"),
    "beneficiamento de castanha de caju": (
        "Associação dos Beneficiadores de Castanha",
        "dos Beneficiadores de Castanha",
        "Castanha de Caju",
    ),
    "costura": ("Associação das Costureiras", "das Costureiras", "Confecções"),
    "bordado": ("Associação das Bordadeiras", "das Bordadeiras", "Bordados"),
    "renda de bilro": ("Associação das Rendeiras", "das Rendeiras", "Rendas de Bilro"),
    "renda renascença": ("Associação das Rendeiras", "das Rendeiras", "Renascença"),
    "artesanato em palha": ("Associação dos Artesãos", "dos Artesãos da Palha", "Palha"),
    "artesanato em couro": ("Associação dos Artesãos do Couro", "dos Artesãos do Couro", "Couro"),
    "artesanato em sisal": ("Associação dos Artesãos do Sisal", "dos Artesãos do Sisal", "Sisal"),
    "artesanato em capim-dourado": (
        "Associação dos Artesãos do Capim-Dourado",
        "dos Artesãos do Capim-Dourado",
        "Capim-Dourado",
    ),
    "artesanato em fibra de buriti": (
        "Associação das Artesãs do Buriti",
        "das Artesãs do Buriti",
        "Buriti",
    ),
    "artesanato em miriti": (
        "Associação dos Artesãos do Miriti",
        "dos Artesãos do Miriti",
        "Miriti",
    ),
    "artesanato indígena": ("Associação Indígena", "das Artesãs Indígenas", "Artesanato Indígena"),
    "cerâmica artesanal": ("Associação dos Ceramistas", "dos Ceramistas", "Cerâmica"),
    "pesca artesanal": (
        "Associação dos Pescadores e Pescadoras Artesanais",
        "dos Pescadores Artesanais",
        "Pescado",
    ),
    "piscicultura": ("Associação dos Piscicultores", "dos Piscicultores", "Peixe"),
    "açaí": ("Associação dos Extrativistas de Açaí", "dos Produtores de Açaí", "Açaí"),
    "beneficiamento de castanha-do-brasil": (
        "Associação dos Extrativistas",
        "dos Castanheiros",
        "Castanha-do-Brasil",
    ),
    "mandiocultura e casa de farinha": (
        "Associação dos Produtores de Farinha",
        "dos Farinheiros",
        "Farinha",
    ),
    "doces e polpas de frutas": (
        "Associação das Mulheres Produtoras de Doces e Polpas",
        "das Doceiras",
        "Doces e Polpas",
    ),
    "beneficiamento de umbu": (
        "Associação dos Produtores de Umbu",
        "dos Produtores de Umbu",
        "Umbu",
    ),
    "laticínios artesanais": (
        "Associação dos Produtores de Leite",
        "dos Queijeiros",
        "Queijos",
    ),
    "quebra do coco babaçu": (
        "Associação das Quebradeiras de Coco Babaçu",
        "das Quebradeiras de Coco",
        "Babaçu",
    ),
    "guaraná": ("Associação dos Produtores de Guaraná", "dos Guaranicultores", "Guaraná"),
    "manejo de pirarucu": (
        "Associação dos Manejadores de Pirarucu",
        "dos Manejadores de Pirarucu",
        "Pirarucu",
    ),
    "fibra de piaçava": ("Associação dos Piaçabeiros", "dos Piaçabeiros", "Piaçava"),
    "fruticultura irrigada": ("Associação dos Fruticultores", "dos Fruticultores", "Frutas"),
    "beneficiamento de caranguejo": (
        "Associação dos Catadores de Caranguejo",
        "dos Catadores de Caranguejo",
        "Caranguejo",
    ),
}


@dataclass(frozen=True)
class _Place:
    """A municipality of the demo: its territory, communities, activities and priority area."""

    code: int
    name: str
    territory: str
    communities: tuple[tuple[str, str], ...]  # (kind, name)
    activities: tuple[str, ...]
    priority_area: str


_SA = "Semiárido"
_AL = "Amazônia Legal"
_FF = "Faixa de Fronteira"
_SUDENE = "Área de atuação da Sudene"

#: ~70 real IBGE codes with their names (checked against the database), credible communities
#: (kind, name) and the region's productive activities.
# fmt: off
PLACES: tuple[_Place, ...] = (
    # Ceará
    _Place(2311306, "Quixadá", "do Sertão Central", (("Comunidade Quilombola", "Sítio Veiga"), ("Assentamento", "Nova Vida")), ("apicultura", "caprinocultura", "costura"), _SA),
    _Place(2311405, "Quixeramobim", "do Sertão Central", (("Assentamento", "Santa Bárbara"), ("Distrito", "Manituba")), ("caprinocultura", "laticínios artesanais", "doces e polpas de frutas"), _SA),
    _Place(2304103, "Crateús", "dos Inhamuns e Crateús", (("Assentamento", "Palmares"), ("Comunidade Indígena", "Tabajara")), ("caprinocultura", "apicultura", "artesanato em palha"), _SA),
    _Place(2313302, "Tauá", "dos Inhamuns e Crateús", (("Assentamento", "Vitória"), ("Distrito", "Marrecas")), ("caprinocultura", "apicultura", "bordado"), _SA),
    _Place(2302800, "Canindé", "do Sertão de Canindé", (("Assentamento", "Logradouro"), ("Sítio", "Lagoa do Mato")), ("costura", "apicultura", "mandiocultura e casa de farinha"), _SA),
    _Place(2305506, "Iguatu", "do Centro Sul e Vale do Salgado", (("Distrito", "Quixoá"), ("Sítio", "Riacho Vermelho")), ("piscicultura", "apicultura", "doces e polpas de frutas"), _SA),
    _Place(2306405, "Itapipoca", "dos Vales do Curu e Aracatiaçu", (("Assentamento", "Maceió"), ("Vila", "Baleia")), ("cajucultura", "beneficiamento de castanha de caju", "pesca artesanal"), _SA),
    _Place(2301109, "Aracati", "do Litoral Leste e Jaguaribe", (("Comunidade", "Córrego dos Rodrigues"), ("Vila", "Majorlândia")), ("renda de bilro", "cajucultura", "pesca artesanal"), _SA),
    # Pernambuco
    _Place(2613909, "Serra Talhada", "do Sertão do Pajeú", (("Assentamento", "Poço do Serrote"), ("Sítio", "Caiçarinha da Penha")), ("caprinocultura", "apicultura", "costura"), _SA),
    _Place(2600104, "Afogados da Ingazeira", "do Sertão do Pajeú", (("Sítio", "Queimada Grande"), ("Comunidade", "Carapuça")), ("laticínios artesanais", "apicultura", "doces e polpas de frutas"), _SA),
    _Place(2611101, "Petrolina", "do Sertão do São Francisco", (("Projeto de Irrigação", "Senador Nilo Coelho"), ("Comunidade", "Pau Ferro")), ("fruticultura irrigada", "doces e polpas de frutas", "caprinocultura"), _SA),
    _Place(2609907, "Ouricuri", "do Sertão do Araripe", (("Sítio", "Baixio dos Doidos"), ("Comunidade", "Jatobá")), ("apicultura", "caprinocultura", "mandiocultura e casa de farinha"), _SA),
    _Place(2601102, "Araripina", "do Sertão do Araripe", (("Assentamento", "Serra Branca"), ("Vila", "Lagoa do Barro")), ("apicultura", "mandiocultura e casa de farinha", "costura"), _SA),
    _Place(2602803, "Buíque", "do Agreste Meridional", (("Aldeia", "Kapinawá"), ("Vila", "Catimbau")), ("artesanato indígena", "caprinocultura", "apicultura"), _SA),
    _Place(2612208, "Salgueiro", "do Sertão Central Pernambucano", (("Comunidade Quilombola", "Conceição das Crioulas"), ("Sítio", "Umãs")), ("artesanato em palha", "caprinocultura", "costura"), _SA),
    # Paraíba
    _Place(2503704, "Cajazeiras", "do Alto Sertão Paraibano", (("Assentamento", "Frei Damião"), ("Sítio", "Serrote Branco")), ("apicultura", "doces e polpas de frutas", "costura"), _SA),
    _Place(2516201, "Sousa", "do Alto Sertão Paraibano", (("Assentamento", "Acauã"), ("Perímetro Irrigado", "São Gonçalo")), ("fruticultura irrigada", "laticínios artesanais", "apicultura"), _SA),
    _Place(2509701, "Monteiro", "do Cariri Ocidental", (("Sítio", "Santa Catarina"), ("Comunidade Quilombola", "Serra do Talhado")), ("renda renascença", "caprinocultura", "laticínios artesanais"), _SA),
    _Place(2511400, "Picuí", "do Seridó Paraibano", (("Sítio", "Serra dos Brandões"), ("Comunidade", "Cacimba de Baixo")), ("costura", "apicultura", "cerâmica artesanal"), _SA),
    _Place(2516300, "Sumé", "do Cariri Ocidental", (("Assentamento", "Mandacaru"), ("Sítio", "Pedra Comprida")), ("artesanato em couro", "caprinocultura", "apicultura"), _SA),
    # Rio Grande do Norte
    _Place(2401008, "Apodi", "do Sertão do Apodi", (("Assentamento", "Sítio do Góis"), ("Comunidade Quilombola", "Sítio Arrojado")), ("apicultura", "caprinocultura", "mandiocultura e casa de farinha"), _SA),
    _Place(2402006, "Caicó", "do Seridó", (("Sítio", "Laginhas"), ("Comunidade Quilombola", "Negros do Riacho")), ("bordado", "laticínios artesanais", "cerâmica artesanal"), _SA),
    _Place(2403103, "Currais Novos", "do Seridó", (("Sítio", "Totoró"), ("Distrito", "Cruz")), ("bordado", "doces e polpas de frutas", "apicultura"), _SA),
    _Place(2413359, "Serra do Mel", "do Açu-Mossoró", (("Vila", "Rio Grande do Sul"), ("Vila", "Paraíba")), ("cajucultura", "beneficiamento de castanha de caju", "apicultura"), _SA),
    # Piauí
    _Place(2208007, "Picos", "do Vale do Guaribas", (("Assentamento", "Santa Rosa"), ("Comunidade", "Morrinhos")), ("apicultura", "cajucultura", "doces e polpas de frutas"), _SA),
    _Place(2210607, "São Raimundo Nonato", "da Serra da Capivara", (("Comunidade", "Barreirinho"), ("Vila", "Sítio do Mocó")), ("cerâmica artesanal", "apicultura", "caprinocultura"), _SA),
    _Place(2207009, "Oeiras", "do Vale do Canindé", (("Comunidade Quilombola", "Canela"), ("Assentamento", "Cajazeiras")), ("cajucultura", "beneficiamento de castanha de caju", "doces e polpas de frutas"), _SA),
    _Place(2208205, "Pio IX", "do Vale do Guaribas", (("Comunidade", "Lagoa Seca"), ("Assentamento", "Boa Esperança")), ("beneficiamento de castanha de caju", "cajucultura", "apicultura"), _SA),
    _Place(2210805, "Simplício Mendes", "do Vale do Canindé", (("Comunidade", "Angico Branco"), ("Povoado", "Baixão")), ("caprinocultura", "apicultura", "costura"), _SA),
    # Bahia
    _Place(2918407, "Juazeiro", "do Sertão do São Francisco", (("Projeto de Irrigação", "Maniçoba"), ("Comunidade", "Fundo de Pasto Areia Grande")), ("fruticultura irrigada", "doces e polpas de frutas", "piscicultura"), _SA),
    _Place(2932002, "Uauá", "do Sertão do São Francisco", (("Comunidade", "Fundo de Pasto Testa Branca"), ("Povoado", "Caldeirão do Almeida")), ("beneficiamento de umbu", "caprinocultura", "apicultura"), _SA),
    _Place(2906824, "Canudos", "do Sertão do São Francisco", (("Povoado", "Bendegó"), ("Assentamento", "Nova Canudos")), ("beneficiamento de umbu", "caprinocultura", "piscicultura"), _SA),
    _Place(2914604, "Irecê", "de Irecê", (("Povoado", "Angical"), ("Assentamento", "Lagoa Nova")), ("caprinocultura", "apicultura", "doces e polpas de frutas"), _SA),
    _Place(2930105, "Senhor do Bonfim", "do Piemonte Norte do Itapicuru", (("Povoado", "Carrapichel"), ("Comunidade Quilombola", "Tijuaçu")), ("caprinocultura", "apicultura", "costura"), _SA),
    _Place(2921500, "Monte Santo", "do Sisal", (("Comunidade", "Fundo de Pasto Lagoa do Saco"), ("Povoado", "Pedra Vermelha")), ("caprinocultura", "beneficiamento de umbu", "artesanato em sisal"), _SA),
    _Place(2933000, "Valente", "do Sisal", (("Povoado", "Tanquinho"), ("Assentamento", "Nova Palmares")), ("artesanato em sisal", "caprinocultura", "laticínios artesanais"), _SA),
    # Alagoas
    _Place(2702405, "Delmiro Gouveia", "do Alto Sertão Alagoano", (("Povoado", "Salgado"), ("Assentamento", "Lameirão")), ("bordado", "caprinocultura", "piscicultura"), _SA),
    _Place(2707107, "Piranhas", "do Alto Sertão Alagoano", (("Povoado", "Entremontes"), ("Vila", "Piau")), ("bordado", "piscicultura", "pesca artesanal"), _SA),
    _Place(2708006, "Santana do Ipanema", "do Médio Sertão Alagoano", (("Povoado", "Areia Branca"), ("Assentamento", "Nova Esperança")), ("laticínios artesanais", "caprinocultura", "costura"), _SA),
    # Sergipe
    _Place(2805406, "Poço Redondo", "do Alto Sertão Sergipano", (("Assentamento", "Jacaré-Curituba"), ("Povoado", "Bonsucesso")), ("caprinocultura", "laticínios artesanais", "piscicultura"), _SA),
    _Place(2804508, "Nossa Senhora da Glória", "do Alto Sertão Sergipano", (("Povoado", "Lagoa do Rancho"), ("Assentamento", "Oito de Outubro")), ("laticínios artesanais", "caprinocultura", "costura"), _SA),
    _Place(2801207, "Canindé de São Francisco", "do Alto Sertão Sergipano", (("Povoado", "Curituba"), ("Comunidade Quilombola", "Mocambo")), ("piscicultura", "pesca artesanal", "bordado"), _SA),
    # Maranhão
    _Place(2101707, "Barreirinhas", "dos Lençóis Maranhenses", (("Povoado", "Atins"), ("Povoado", "Tapuio")), ("artesanato em fibra de buriti", "pesca artesanal", "mandiocultura e casa de farinha"), _SUDENE),
    _Place(2103208, "Chapadinha", "do Baixo Parnaíba", (("Assentamento", "Bacaba"), ("Povoado", "Riacho Fundo")), ("mandiocultura e casa de farinha", "apicultura", "doces e polpas de frutas"), _SUDENE),
    _Place(2103307, "Codó", "dos Cocais", (("Povoado", "Centro dos Bonifácios"), ("Comunidade Quilombola", "Santo Antônio dos Pretos")), ("quebra do coco babaçu", "mandiocultura e casa de farinha", "apicultura"), _SUDENE),
    _Place(2100204, "Alcântara", "do Litoral Ocidental Maranhense", (("Comunidade Quilombola", "Itamatatiua"), ("Comunidade Quilombola", "Mamuna")), ("cerâmica artesanal", "pesca artesanal", "mandiocultura e casa de farinha"), _AL),
    # Pará
    _Place(1502103, "Cametá", "do Baixo Tocantins", (("Comunidade Ribeirinha", "Mutuacá"), ("Vila", "Juaba")), ("açaí", "pesca artesanal", "mandiocultura e casa de farinha"), _AL),
    _Place(1500107, "Abaetetuba", "do Baixo Tocantins", (("Comunidade Ribeirinha", "Ilha Sirituba"), ("Comunidade Quilombola", "Genipaúba")), ("artesanato em miriti", "açaí", "pesca artesanal"), _AL),
    _Place(1501808, "Breves", "do Marajó", (("Comunidade Ribeirinha", "Rio Mapuá"), ("Vila", "Antônio Lemos")), ("açaí", "pesca artesanal", "mandiocultura e casa de farinha"), _AL),
    _Place(1501709, "Bragança", "do Nordeste Paraense", (("Vila", "Bonifácio"), ("Comunidade", "Tamatateua")), ("beneficiamento de caranguejo", "mandiocultura e casa de farinha", "pesca artesanal"), _AL),
    _Place(1505304, "Oriximiná", "do Baixo Amazonas", (("Comunidade Quilombola", "Boa Vista do Trombetas"), ("Comunidade Ribeirinha", "Lago Sapucuá")), ("beneficiamento de castanha-do-brasil", "pesca artesanal", "mandiocultura e casa de farinha"), _AL),
    # Amazonas
    _Place(1303403, "Parintins", "do Baixo Amazonas Amazonense", (("Comunidade Ribeirinha", "Vila Amazônia"), ("Comunidade", "Mocambo do Arari")), ("artesanato indígena", "pesca artesanal", "guaraná"), _AL),
    _Place(1302900, "Maués", "do Baixo Amazonas Amazonense", (("Comunidade", "Santa Maria do Urupadi"), ("Aldeia", "Sateré-Mawé do Marau")), ("guaraná", "mandiocultura e casa de farinha", "apicultura"), _AL),
    _Place(1304203, "Tefé", "do Médio Solimões", (("Comunidade Ribeirinha", "Boa Esperança do Lago Tefé"), ("Comunidade", "Vila Nova do Catuá")), ("manejo de pirarucu", "mandiocultura e casa de farinha", "pesca artesanal"), _AL),
    _Place(1300409, "Barcelos", "do Rio Negro", (("Comunidade Ribeirinha", "Daracuá"), ("Comunidade", "Elesbão")), ("fibra de piaçava", "pesca artesanal", "artesanato indígena"), _AL),
    # Tocantins
    _Place(1712702, "Mateiros", "do Jalapão", (("Comunidade Quilombola", "Mumbuca"), ("Povoado", "Galhão")), ("artesanato em capim-dourado", "apicultura", "mandiocultura e casa de farinha"), _AL),
    _Place(1707009, "Dianópolis", "do Sudeste do Tocantins", (("Comunidade Quilombola", "Lajeado"), ("Assentamento", "Bonito")), ("apicultura", "mandiocultura e casa de farinha", "doces e polpas de frutas"), _AL),
    _Place(1702208, "Araguatins", "do Bico do Papagaio", (("Povoado", "Ribeirão Grande"), ("Assentamento", "Pé de Murici")), ("quebra do coco babaçu", "pesca artesanal", "piscicultura"), _AL),
    # Acre
    _Place(1200708, "Xapuri", "do Alto Acre e Capixaba", (("Reserva Extrativista", "Chico Mendes (Seringal Cachoeira)"), ("Comunidade", "Seringal Floresta")), ("beneficiamento de castanha-do-brasil", "açaí", "mandiocultura e casa de farinha"), _FF),
    _Place(1200203, "Cruzeiro do Sul", "do Vale do Juruá", (("Comunidade", "Croa"), ("Comunidade Ribeirinha", "Assis Brasil do Juruá")), ("mandiocultura e casa de farinha", "açaí", "pesca artesanal"), _FF),
    _Place(1200500, "Sena Madureira", "do Vale do Purus", (("Comunidade Ribeirinha", "Cuidado"), ("Assentamento", "Boa Esperança")), ("beneficiamento de castanha-do-brasil", "açaí", "mandiocultura e casa de farinha"), _AL),
    # Rondônia
    _Place(1100106, "Guajará-Mirim", "do Vale do Guaporé e Mamoré", (("Comunidade Ribeirinha", "Surpresa"), ("Aldeia", "Sagarana")), ("beneficiamento de castanha-do-brasil", "pesca artesanal", "açaí"), _FF),
    _Place(1100080, "Costa Marques", "do Vale do Guaporé e Mamoré", (("Comunidade Quilombola", "Forte Príncipe da Beira"), ("Comunidade Ribeirinha", "Pedras Negras")), ("pesca artesanal", "beneficiamento de castanha-do-brasil", "mandiocultura e casa de farinha"), _FF),
    # Amapá
    _Place(1600402, "Mazagão", "do Sul do Amapá", (("Vila", "Mazagão Velho"), ("Comunidade Ribeirinha", "Foz do Mazagão")), ("açaí", "mandiocultura e casa de farinha", "pesca artesanal"), _AL),
    _Place(1600501, "Oiapoque", "do Oiapoque", (("Aldeia", "Kumenê"), ("Vila", "Taparabu")), ("artesanato indígena", "mandiocultura e casa de farinha", "pesca artesanal"), _FF),
    _Place(1600279, "Laranjal do Jari", "do Sul do Amapá", (("Comunidade", "São Militão"), ("Reserva Extrativista", "Cajari (Água Branca)")), ("beneficiamento de castanha-do-brasil", "açaí", "mandiocultura e casa de farinha"), _AL),
    # Roraima
    _Place(1400209, "Caracaraí", "do Sul de Roraima", (("Vila", "Petrolina do Norte"), ("Comunidade Ribeirinha", "Vista Alegre")), ("piscicultura", "pesca artesanal", "mandiocultura e casa de farinha"), _AL),
    _Place(1400472, "Rorainópolis", "do Sul de Roraima", (("Vila", "Nova Colina"), ("Assentamento", "Jatapu")), ("mandiocultura e casa de farinha", "piscicultura", "apicultura"), _AL),
    _Place(1400704, "Uiramutã", "do Nordeste de Roraima", (("Aldeia", "Maturuca"), ("Aldeia", "Pedra Branca")), ("artesanato indígena", "mandiocultura e casa de farinha", "apicultura"), _FF),
)
# fmt: on

#: Share of the portfolio that ends in each state (per 200 cases).
_MIX: dict[State, int] = {
    State.REGISTRADA: 12,
    State.EM_ANALISE: 24,
    State.POLO_DEFINIDO: 16,
    State.MOBILIZACAO: 24,
    State.CAPACITACAO: 10,
    State.GESTAO: 8,
    State.LEGALIZACAO: 12,
    State.ACOMPANHAMENTO: 22,
    State.AVALIACAO: 6,
    State.CONCLUIDA: 14,
    State.SUSPENSA: 12,
    State.INDEFERIDA: 16,
    State.CANCELADA: 24,
}

#: The event that leaves each state of the main path.
_FORWARD: dict[State, str] = {
    State.REGISTRADA: "iniciar_analise",
    State.EM_ANALISE: "aprovar_elegibilidade",
    State.POLO_DEFINIDO: "formalizar_polo",
    State.MOBILIZACAO: "concluir_mobilizacao",
    State.CAPACITACAO: "concluir_capacitacao",
    State.GESTAO: "concluir_gestao",
    State.LEGALIZACAO: "concluir_legalizacao",
    State.ACOMPANHAMENTO: "concluir_acompanhamento",
    State.AVALIACAO: "concluir_avaliacao",
}
_NEXT: dict[str, str] = {s.value: MAIN_PATH[i + 1].value for i, s in enumerate(MAIN_PATH[:-1])}
_ADVANCES: dict[str, str] = {event: state.value for state, event in _FORWARD.items()}

#: Days spent in a state the case passes through (capacitação and acompanhamento are special).
_DWELL: dict[State, tuple[int, int]] = {
    State.REGISTRADA: (0, 4),
    State.EM_ANALISE: (8, 28),
    State.POLO_DEFINIDO: (8, 28),
    State.MOBILIZACAO: (15, 42),
    State.GESTAO: (12, 29),
    State.LEGALIZACAO: (40, 88),
    State.AVALIACAO: (15, 55),
}
#: States where a passing case may be suspended and resumed, or cancelled and reopened.
_PAUSABLE = (
    State.EM_ANALISE,
    State.POLO_DEFINIDO,
    State.MOBILIZACAO,
    State.GESTAO,
    State.LEGALIZACAO,
)
_REOPENABLE = (State.POLO_DEFINIDO, State.MOBILIZACAO, State.GESTAO, State.LEGALIZACAO)

# --- texts (pt-BR, as a coordinator would write them) ----------------------------------------

_EXTENSION_REVIEW = (
    "A análise depende de parecer técnico da superintendência sobre a classificação da "
    "microrregião; prazo prorrogado por 30 dias."
)
_SUSPENSION_REASONS = (
    "Aguardando a liberação da parcela do termo de cooperação com a FAO para custear as ações.",
    "Troca da diretoria da associação proponente; as atividades retomam após a posse.",
    "Equipe técnica do parceiro local deslocada para a campanha de vacinação do rebanho.",
)
_DROUGHT = (
    "Estiagem prolongada: as famílias estão mobilizadas no abastecimento de água e as "
    "atividades foram adiadas."
)
_FLOOD = "Cheia dos rios impede o acesso da equipe à comunidade; atividades retomam na vazante."
_ELECTION = (
    "Período eleitoral municipal: o termo com a prefeitura fica suspenso até a posse da nova "
    "gestão."
)
_RESUME_NOTES = (
    "Condições restabelecidas; atividades retomadas com a comunidade.",
    "Recursos liberados; cronograma de atividades refeito com a associação.",
    "Nova diretoria empossada; atividades retomadas.",
)
_REJECTIONS = (
    "A associação proponente não comprovou atuação na comunidade nem apresentou a ata de "
    "eleição da diretoria em vigor.",
    "Demanda já atendida por outro programa federal na mesma comunidade e atividade, com "
    "sobreposição de ações.",
    "O número de famílias interessadas informado no fórum é inferior ao mínimo exigido para o ECC.",
    "Atividade produtiva proposta sem viabilidade técnica na comunidade, segundo parecer da "
    "extensão rural.",
)
_APPEALS = (
    "A associação apresentou a ata de eleição registrada em cartório e declaração de atuação "
    "emitida pelo sindicato dos trabalhadores rurais.",
    "Lista de pré-inscrição com mais de 60 famílias interessadas, colhida após o fórum, anexada "
    "ao recurso.",
    "Parecer técnico complementar demonstra que não há sobreposição com o outro programa: as "
    "atividades são distintas.",
)
_WITHDRAWALS = (
    "A associação proponente desistiu da demanda em assembleia, por falta de quórum para o ECC.",
    "As famílias optaram por aderir a outro projeto produtivo da prefeitura; desistência "
    "registrada em ata.",
)
_IMPOSSIBLE = (
    "Acesso à comunidade interrompido por tempo indeterminado após a queda da ponte da estrada "
    "vicinal.",
    "A prefeitura não assinou o termo de adesão e não há parceiro local que assuma a "
    "contrapartida.",
    "O reassentamento das famílias pela obra hídrica tornou a demanda original inviável.",
)
_REOPEN_CANCELLED = (
    "A associação reconstituiu a diretoria e reapresentou a demanda com nova lista de famílias "
    "interessadas."
)
_REOPEN_CONCLUDED = (
    "Relatório do parceiro entregue com indicadores de renda incompletos; reabertura para "
    "corrigir a avaliação."
)
_REOPEN_REFUSED_ASK = "O proponente pede a retomada do projeto depois do encerramento registrado."
_REOPEN_REFUSAL = (
    "A demanda deve ser reapresentada em novo fórum territorial; não há fato novo que "
    "justifique a reabertura."
)
_NOTES = (
    "Reunião com a diretoria da associação para planejar as próximas etapas.",
    "Visita técnica à comunidade com a equipe de extensão rural.",
    "A prefeitura confirmou a cessão do espaço para as atividades.",
    "Lista de presença da reunião comunitária arquivada na pasta do caso.",
    "A comunidade relatou dificuldade de transporte; o veículo do programa vai apoiar.",
    "Contato com o parceiro local para apoio às oficinas de gestão.",
)
_NO_CNPJ_INFORMAL = (
    "O grupo decidiu em assembleia funcionar como grupo informal até a primeira safra.",
    "Estatuto em revisão pelo advogado; o registro será feito após o parecer.",
)
_INSTRUCTORS = (
    "Maria do Socorro Lima",
    "Antônio Carlos Freitas",
    "Josefa Araújo",
    "Francisco das Chagas Rocha",
    "Raimunda Nonata Silva",
    "Cícero Batista",
    "Edilene Matos",
    "Gildásio Santos",
    "Rosângela Pires",
    "Valdemir Cunha",
    "Luzia Feitosa",
    "Manoel Messias Gomes",
)
_PNDR_LABELS = {"baixa_renda": "baixa renda", "estagnada": "estagnada", "dinamica": "dinâmica"}

# --- people and records: names and texts -----------------------------------------------------

#: Fictitious participants: first name + two surnames, drawn from a counter.
_FIRST_NAMES = (
    "Maria",
    "José",
    "Ana",
    "João",
    "Francisca",
    "Antônio",
    "Antônia",
    "Francisco",
    "Adriana",
    "Carlos",
    "Juliana",
    "Paulo",
    "Márcia",
    "Pedro",
    "Fernanda",
    "Lucas",
    "Patrícia",
    "Luiz",
    "Aline",
    "Marcos",
    "Sandra",
    "Raimundo",
    "Camila",
    "Sebastião",
    "Amanda",
    "Manoel",
    "Bruna",
    "Severino",
    "Jéssica",
    "Edson",
    "Letícia",
    "Cícera",
    "Damião",
    "Lucineide",
    "Valdir",
    "Rosilene",
    "Geraldo",
    "Marinalva",
    "Joaquim",
    "Luzinete",
)
_SURNAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Lima",
    "Pereira",
    "Ferreira",
    "Costa",
    "Rodrigues",
    "Almeida",
    "Nascimento",
    "Alves",
    "Carvalho",
    "Araújo",
    "Ribeiro",
    "Gomes",
    "Barbosa",
    "Rocha",
    "Cavalcante",
    "Bezerra",
    "Moura",
    "Freitas",
    "Batista",
    "Sales",
    "Feitosa",
    "Monteiro",
    "Queiroz",
    "Brito",
    "Farias",
    "Nunes",
    "Pinheiro",
    "Medeiros",
    "Macedo",
    "Teixeira",
    "Vieira",
    "Dantas",
    "Leite",
    "Tavares",
    "Amorim",
    "Siqueira",
)
#: Area code per UF (phones are fictitious: 9 0xxx-xxxx is not assigned to mobiles).
_DDD = {
    "CE": 88,
    "PE": 87,
    "PB": 83,
    "RN": 84,
    "PI": 89,
    "BA": 74,
    "AL": 82,
    "SE": 79,
    "MA": 98,
    "PA": 91,
    "AM": 92,
    "TO": 63,
    "AC": 68,
    "RO": 69,
    "AP": 96,
    "RR": 95,
}
#: First fictitious CPF (9-digit base, before the check digits).
_CPF_BASE = 900_000_000

#: Activities whose groups may be family agriculture (and then get a CAF).
_RURAL = frozenset(
    {
        "apicultura",
        "caprinocultura",
        "cajucultura",
        "beneficiamento de castanha de caju",
        "pesca artesanal",
        "piscicultura",
        "açaí",
        "beneficiamento de castanha-do-brasil",
        "mandiocultura e casa de farinha",
        "doces e polpas de frutas",
        "beneficiamento de umbu",
        "laticínios artesanais",
        "quebra do coco babaçu",
        "guaraná",
        "manejo de pirarucu",
        "fibra de piaçava",
        "fruticultura irrigada",
        "beneficiamento de caranguejo",
    }
)
_FINDINGS = (
    "Empreendimento em funcionamento; produção vendida na feira municipal e ao PNAE.",
    "Grupo reunido mensalmente; caixa comum e controles de estoque em dia.",
    "Produção retomada após a entressafra; necessidade de capital de giro apontada.",
    "Novos clientes na sede do município; registro de vendas organizado.",
    "Sócios dividindo as tarefas da produção; equipamento do projeto em uso.",
)
_FINDINGS_STOPPED = (
    "Atividades paradas: os sócios migraram para o trabalho temporário na colheita.",
    "Empreendimento desativado por falta de matéria-prima durante a estiagem.",
)
_NO_CNPJ_PENDING = (
    "Registro com exigência pendente no {registry}; a inscrição no CNPJ aguarda o deferimento.",
    "Inscrição no CNPJ solicitada à Receita Federal e ainda em análise.",
)
_LICENCE_WAIVER = (
    "Atividade de baixo risco (Resolução CGSIM nº 51/2019): dispensa de alvará e de licenças."
)
#: Commitments of the Protocol of Integrated Actions, by kind of partner.
_ACTIONS: dict[str, tuple[str, ...]] = {
    "prefeitura": (
        "Ceder o galpão municipal para a sede e o beneficiamento da produção.",
        "Garantir o transporte da produção até a feira livre da sede do município.",
        "Incluir os produtos do empreendimento nas compras da alimentação escolar (PNAE).",
    ),
    "sebrae": (
        "Consultoria de gestão e acesso a mercados pelo SEBRAETEC.",
        "Capacitação em formação de preço e controle financeiro.",
    ),
    "agency": (
        "Assistência técnica mensal às unidades produtivas.",
        "Elaborar os projetos de crédito rural dos sócios.",
    ),
    "institute": ("Curso de boas práticas de fabricação e rotulagem.",),
    "bank": ("Abrir linha de microcrédito orientado para capital de giro.",),
}

# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Muni:
    """What the plan reads of a municipality in the database."""

    code: int
    name: str
    uf: str
    region: str
    microregion_code: int
    microregion: str


@dataclass(frozen=True)
class _Move:
    """One event of a case's timeline, ``offset`` days after its registration."""

    offset: int
    event: str
    info: dict[str, int] = field(default_factory=dict)


@dataclass
class _Mods:
    """The twists a case's history takes on its way to its final state."""

    extend_review: bool = False
    appeal: bool = False
    pause_in: State | None = None
    cancel_reopen_in: State | None = None
    reassign_in: State | None = None
    after_close: str | None = None  # "refused" | "approved" (concluded cases: reconcluded)


@dataclass(frozen=True)
class _Step:
    """One operation to play: when, for which planned case (the sort key), what."""

    at: datetime
    case: int
    order: int
    do: Callable[[_Player], None]
    what: str


@dataclass(frozen=True)
class DemoReport:
    """What :func:`build_demo` did."""

    cases: int
    #: audit events written (transitions and record changes)
    events: int
    per_state: dict[str, int]
    coordinators: list[str]
    final_date: date
    seed: int
    people: int = 0
    #: training events per kind (ecc, oficina, ecm)
    training_events: dict[str, int] = field(default_factory=dict)
    enterprises: int = 0
    #: enterprises per legal form (None: not chosen yet)
    legal_forms: dict[str, int] = field(default_factory=dict)
    visits: int = 0
    #: dated obligations of open cases still open at the end, and those past their date
    open_obligations: int = 0
    overdue_obligations: int = 0


_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))
_CNPJ_CHECK = CNPJ()


def _cnpj(rng: Random, *, alphanumeric: bool) -> str:
    """A valid CNPJ (head office ``0001``) drawn from ``rng``.

    ``validate_docbr.CNPJ().generate()`` draws from the global ``random`` module, which a seed
    given here cannot reach; the check digits are computed the same way (character value =
    ASCII code - 48, so letters work) and the result is checked with validate_docbr.
    """
    alphabet = string.digits + string.ascii_uppercase if alphanumeric else string.digits
    body = "".join(rng.choice(alphabet) for _ in range(8)) + "0001"
    for weights in _CNPJ_WEIGHTS:
        total = sum((ord(c) - 48) * w for c, w in zip(body, weights, strict=True))
        remainder = total % 11
        body += str(0 if remainder < 2 else 11 - remainder)
    if not _CNPJ_CHECK.validate(body):  # pragma: no cover - the algorithm is the library's
        raise AssertionError(f"generated CNPJ {body} does not validate")
    return body


def _cpf(number: int) -> str:
    """The CPF whose 9-digit base is ``number``, with its two check digits."""
    digits = [int(d) for d in f"{number:09d}"]
    for first_weight in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(first_weight, 1, -1), strict=False))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def _person_name(number: int) -> str:
    """A fictitious name for person ``number`` (distinct for the first 64,000)."""
    f, s = len(_FIRST_NAMES), len(_SURNAMES)
    mixed = number * 7919 % (f * s * s)
    first, rest = mixed % f, mixed // f
    one, two = rest % s, rest // s
    if one == two:
        two = (two + 1) % s
    return f"{_FIRST_NAMES[first]} {_SURNAMES[one]} {_SURNAMES[two]}"


def _quota(cases: int) -> list[State]:
    """The final state of every case, in the proportions of :data:`_MIX` (each >= 1 if room)."""
    total = sum(_MIX.values())
    exact = {s: w * cases / total for s, w in _MIX.items()}
    least = 1 if cases >= len(_MIX) else 0
    counts = {s: max(math.floor(v), least) for s, v in exact.items()}
    while sum(counts.values()) > cases:
        above = [s for s in counts if counts[s] > least]
        counts[max(above, key=lambda s: (counts[s] - exact[s], counts[s]))] -= 1
    order = sorted(_MIX, key=lambda s: exact[s] - counts[s], reverse=True)
    i = 0
    while sum(counts.values()) < cases:
        counts[order[i % len(order)]] += 1
        i += 1
    return [s for s in ALL if s in counts for _ in range(counts[s])]


class _Timeline:
    """Draws the days of one case's history (offsets from its registration), no dates yet.

    ``ecc`` fixes the length of the field training and the days between its last day and its
    completion (the cases of a shared ECC must agree on them).
    """

    def __init__(self, rng: Random, mods: _Mods, ecc: tuple[int, int] | None = None) -> None:
        self.rng = rng
        self.mods = mods
        self.ecc = ecc
        self.moves: list[_Move] = [_Move(0, "registrar"), _Move(0, "atribuir")]
        self.t = 0

    def add(self, offset: int, event: str, **info: int) -> None:
        self.moves.append(_Move(offset, event, info))

    def walk_to(self, stop: State) -> None:
        """Pass every state of the main path before ``stop``; the case then enters ``stop``."""
        for state in MAIN_PATH[: MAIN_PATH.index(stop)]:
            self.pass_state(state)

    def pass_state(self, state: State) -> None:
        rng, mods = self.rng, self.mods
        if mods.cancel_reopen_in is state:
            cancelled = self.t + rng.randint(3, 12)
            asked = cancelled + rng.randint(15, 60)
            approved = asked + rng.randint(1, 7)
            self.add(cancelled, "cancelar", withdrawal=1)
            self.add(asked, "solicitar_reabertura")
            self.add(approved, "aprovar_reabertura")
            self.t = approved
        inner: list[tuple[int, str, dict[str, int]]] = []
        leave_info: dict[str, int] = {}
        if state is State.CAPACITACAO:
            # the ECC starts `lead` days after the case enters, lasts `days`, and is
            # completed `tail` days after its last day
            lead = rng.randint(1, 4)
            days, tail = self.ecc or (rng.randint(41, 45), rng.randint(0, 3))
            dwell = lead + days - 1 + tail
            leave_info = {"ecc_days": days, "tail": tail}
            if dwell > 45:
                inner.append((rng.randint(35, 44), "prorrogar", {}))
        elif state is State.ACOMPANHAMENTO:
            dwell = 366 + rng.randint(0, 20)
        elif state is State.EM_ANALISE and mods.appeal:
            rejected = rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            dwell = filed + rng.randint(8, 25)
            inner += [(rejected, "indeferir", {}), (filed, "recorrer", {})]
        elif state is State.EM_ANALISE and mods.extend_review:
            dwell = rng.randint(35, 58)
            inner.append((rng.randint(20, 28), "prorrogar", {}))
        else:
            low, high = _DWELL[state]
            dwell = rng.randint(low, high)
        if state is not State.REGISTRADA and rng.random() < 0.2:
            inner.append((rng.randint(1, max(1, dwell - 1)), "anotar", {}))
        if mods.reassign_in is state:
            inner.append((rng.randint(0, dwell), "atribuir", {"reassign": 1}))
        inner.sort(key=lambda m: m[0])
        if mods.pause_in is state and dwell >= 3:
            taken = {offset for offset, _, _ in inner}
            free = [k for k in range(1, dwell) if k not in taken]
            if free:
                k = rng.choice(free)
                pause = rng.randint(10, 60)
                inner = [(o + pause if o > k else o, e, i) for o, e, i in inner]
                inner += [(k, "suspender", {"resume_after": pause}), (k + pause, "retomar", {})]
                inner.sort(key=lambda m: m[0])
                dwell += pause
        for offset, event, info in inner:
            self.add(self.t + offset, event, **info)
        self.t += dwell
        self.add(self.t, _FORWARD[state], **leave_info)

    def stay(self, state: State, dwell: int) -> None:
        """The case stays ``dwell`` days in ``state`` until the end (extensions, notes)."""
        rng = self.rng
        if state is State.EM_ANALISE and dwell >= 22 and rng.random() < 0.8:
            self.add(self.t + rng.randint(18, min(28, dwell)), "prorrogar")
        if state is State.CAPACITACAO and dwell >= 40 and rng.random() < 0.7:
            self.add(self.t + rng.randint(38, min(44, dwell)), "prorrogar")
        if dwell >= 2 and rng.random() < 0.3:
            self.add(self.t + rng.randint(1, dwell), "anotar")


def _final_dwell(rng: Random, state: State, config: LifecycleConfig) -> int:
    """Days a case has spent in its final active state at the end (a fifth are overdue)."""
    if rng.random() < 0.2:
        return _deadline_days(state, config) + rng.randint(2, 45)
    return rng.randint(0, max(0, _deadline_days(state, config) - 2))


def _deadline_days(state: State, config: LifecycleConfig) -> int:
    rule = config.deadlines[state.value]
    return rule.days if rule.days is not None else 366


@dataclass(frozen=True)
class _Plan:
    """A case's timeline: its moves, when it enters its final state, how long it stays there.

    ``dwell`` None: the final state is closed (or rejected) and the case may be anywhere in
    the demo's period; otherwise it stays ``dwell`` days until the final day.
    """

    moves: list[_Move]
    entry: int
    dwell: int | None

    @property
    def length(self) -> int:
        return max(self.moves[-1].offset, self.entry + (self.dwell or 0))

    @property
    def trained(self) -> _Move | None:
        """The move that completes the field training, if the case gets that far."""
        return next((m for m in self.moves if m.event == "concluir_capacitacao"), None)


def _timeline(
    rng: Random,
    target: State,
    mods: _Mods,
    config: LifecycleConfig,
    *,
    ecc: tuple[int, int] | None = None,
    dwell: int | None = None,
) -> _Plan:
    """Draw the timeline of a case that ends in ``target`` (``dwell`` fixes its final stay)."""
    tl = _Timeline(rng, mods, ecc)
    plan = _draw(tl, rng, target, mods, config, dwell)
    tl.moves.sort(key=lambda m: m.offset)
    return plan


def _draw(
    tl: _Timeline,
    rng: Random,
    target: State,
    mods: _Mods,
    config: LifecycleConfig,
    fixed: int | None,
) -> _Plan:
    if target in MAIN_PATH and target is not State.CONCLUIDA:
        dwell = _final_dwell(rng, target, config)
        if target is State.EM_ANALISE and mods.appeal:
            tl.walk_to(State.EM_ANALISE)
            rejected = tl.t + rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            tl.add(rejected, "indeferir")
            tl.add(filed, "recorrer")
            tl.t = filed
        elif target is State.AVALIACAO and mods.after_close == "approved":
            tl.walk_to(State.CONCLUIDA)
            asked = tl.t + rng.randint(10, 40)
            tl.add(asked, "solicitar_reabertura", concluded=1)
            tl.t = asked + rng.randint(1, 6)
            tl.add(tl.t, "aprovar_reabertura")
            dwell = rng.randint(0, 40)
        else:
            tl.walk_to(target)
        if fixed is not None:
            dwell = fixed
        entry = tl.t
        tl.stay(target, dwell)
        return _Plan(tl.moves, entry, dwell)
    if target is State.CONCLUIDA:
        tl.walk_to(State.CONCLUIDA)
        entry = tl.t
        if mods.after_close is not None:
            asked = tl.t + rng.randint(10, 60)
            refused = mods.after_close == "refused"
            tl.add(asked, "solicitar_reabertura", concluded=1, refused=int(refused))
            decided = asked + rng.randint(1, 7)
            if refused:
                tl.add(decided, "recusar_reabertura")
            else:
                tl.add(decided, "aprovar_reabertura")
                tl.add(decided + rng.randint(10, 30), "concluir_avaliacao")
        return _Plan(tl.moves, entry, None)
    if target is State.SUSPENSA:
        via = rng.choices(MAIN_PATH[:-1], weights=(1, 2, 3, 3, 2, 2, 3, 2, 1))[0]
        tl.walk_to(via)
        limit = 300 if via is State.ACOMPANHAMENTO else 40 if via is State.CAPACITACAO else 20
        entry = tl.t + rng.randint(1, limit)
        tl.add(entry, "suspender", resume_after=rng.randint(20, 120))
        return _Plan(tl.moves, entry, rng.randint(5, 150))
    if target is State.INDEFERIDA:
        tl.walk_to(State.EM_ANALISE)
        if mods.appeal:
            rejected = tl.t + rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            tl.add(rejected, "indeferir")
            tl.add(filed, "recorrer")
            tl.t = filed
        entry = tl.t + rng.randint(5, 28)
        tl.add(entry, "indeferir")
        return _Plan(tl.moves, entry, None)
    # cancelada
    via = rng.choices(
        (*MAIN_PATH[:-2], State.SUSPENSA, State.INDEFERIDA),
        weights=(2, 3, 3, 4, 1, 1, 1, 1, 2, 3),  # most withdraw early
    )[0]
    if via is State.SUSPENSA:
        inner = rng.choice(_PAUSABLE)
        tl.walk_to(inner)
        suspended = tl.t + rng.randint(2, 20)
        tl.add(suspended, "suspender", resume_after=rng.randint(30, 90))
        tl.add(suspended + rng.randint(10, 90), "cancelar", withdrawal=0)
    elif via is State.INDEFERIDA:
        tl.walk_to(State.EM_ANALISE)
        rejected = tl.t + rng.randint(5, 25)
        tl.add(rejected, "indeferir")
        tl.add(rejected + rng.randint(3, 30), "cancelar", withdrawal=1)
    else:
        tl.walk_to(via)
        tl.add(tl.t + rng.randint(1, 25), "cancelar", withdrawal=int(rng.random() < 0.6))
    entry = tl.moves[-1].offset
    if mods.after_close == "refused":
        asked = entry + rng.randint(15, 90)
        tl.add(asked, "solicitar_reabertura", refused=1)
        tl.add(asked + rng.randint(1, 7), "recusar_reabertura")
    return _Plan(tl.moves, entry, None)


def _draw_mods(rng: Random, target: State) -> _Mods:
    """The twists of one case, by chance (each applies only where the path allows it)."""
    passed = MAIN_PATH[: MAIN_PATH.index(target)] if target in MAIN_PATH else (State.EM_ANALISE,)
    mods = _Mods()
    if State.EM_ANALISE in passed or target is State.INDEFERIDA:
        roll = rng.random()
        mods.appeal = roll < (0.3 if target is State.INDEFERIDA else 0.06)
        mods.extend_review = not mods.appeal and roll > 0.75
    if target is State.EM_ANALISE:
        mods.appeal = rng.random() < 0.3
    pausable = [s for s in _PAUSABLE if s in passed and not (mods.appeal and s is State.EM_ANALISE)]
    if pausable and rng.random() < 0.15:
        mods.pause_in = rng.choice(pausable)
    reopenable = [s for s in _REOPENABLE if s in passed]
    if reopenable and rng.random() < 0.04:
        mods.cancel_reopen_in = rng.choice(reopenable)
    if len(passed) > 1 and rng.random() < 0.08:
        mods.reassign_in = rng.choice(passed[1:])
    if target is State.CONCLUIDA:
        roll = rng.random()
        mods.after_close = "refused" if roll < 0.08 else "approved" if roll > 0.92 else None
    elif target is State.CANCELADA and rng.random() < 0.15:
        mods.after_close = "refused"
    elif target is State.AVALIACAO and rng.random() < 0.2:
        mods.after_close = "approved"
    return mods


def _force(targets: Sequence[State], mods: list[_Mods]) -> None:
    """Make sure the portfolio shows each twist at least once, where some case allows it."""

    def first(allowed: Sequence[State], ok: Callable[[_Mods], bool]) -> int | None:
        for i, t in enumerate(targets):
            if t in allowed and ok(mods[i]):
                return i
        return None

    if not any(m.cancel_reopen_in for m in mods):
        late = (State.ACOMPANHAMENTO, State.LEGALIZACAO, State.AVALIACAO)
        i = first(late, lambda m: m.pause_in is not State.MOBILIZACAO)
        if i is not None:
            mods[i].cancel_reopen_in = State.MOBILIZACAO
    if not any(m.pause_in for m in mods):
        i = first((State.ACOMPANHAMENTO, State.LEGALIZACAO), lambda m: True)
        if i is not None:
            mods[i].pause_in = State.POLO_DEFINIDO
    if not any(m.after_close == "refused" for m in mods):
        i = first((State.CANCELADA, State.CONCLUIDA), lambda m: m.after_close is None)
        if i is not None:
            mods[i].after_close = "refused"
    if not any(m.after_close == "approved" for m in mods):
        i = first((State.AVALIACAO, State.CONCLUIDA), lambda m: m.after_close is None)
        if i is not None:
            mods[i].after_close = "approved"
    if not any(m.appeal for m in mods):
        i = first((State.EM_ANALISE, State.INDEFERIDA, State.MOBILIZACAO), lambda m: True)
        if i is not None:
            mods[i].appeal, mods[i].extend_review = True, False
            if mods[i].pause_in is State.EM_ANALISE:
                mods[i].pause_in = None


#: Final states of cases that may share their ECC with others of the same final state.
_SHARING = (
    State.GESTAO,
    State.LEGALIZACAO,
    State.ACOMPANHAMENTO,
    State.AVALIACAO,
    State.CONCLUIDA,
)


def _cohorts(rng: Random, targets: Sequence[State]) -> dict[int, int]:
    """Cases that will try to share the ECC of an earlier case: follower -> lead."""
    lead_of: dict[int, int] = {}
    for target in _SHARING:
        indexes = [i for i, t in enumerate(targets) if t is target]
        i = 0
        while i < len(indexes) - 1:
            if rng.random() < 0.35:
                size = 3 if rng.random() < 0.3 else 2
                chosen = indexes[i : i + size]
                for follower in chosen[1:]:
                    lead_of[follower] = chosen[0]
                i += len(chosen)
            else:
                i += 1
    return lead_of


def _aligned(
    rng: Random, target: State, mods: _Mods, config: LifecycleConfig, anchor: _Anchor
) -> tuple[_Plan, date] | None:
    """A follower's timeline whose ECC is completed on the lead's day; None if it cannot fit."""
    saved = rng.getstate()
    plan = _timeline(rng, target, mods, config, ecc=anchor.ecc)
    trained = plan.trained
    assert trained is not None
    start = anchor.completed - timedelta(days=trained.offset)
    if plan.dwell is not None:
        needed = (FINAL_DAY - start).days - plan.entry
        if not 0 <= needed <= _deadline_days(target, config) + 30:
            return None
        rng.setstate(saved)
        plan = _timeline(rng, target, mods, config, ecc=anchor.ecc, dwell=needed)
    if start < START_DAY or start + timedelta(days=plan.length) > FINAL_DAY:
        return None
    return plan, start


# --- the records a case's states ask for -------------------------------------------------------


@dataclass
class _Group:
    """An enterprise group of a case, as planned; members are the case's participant slots."""

    key: str
    case: int
    name: str
    activity: str
    form: str
    members: list[int]
    later: list[int]  # slots that join during the business workshops
    family: bool
    formed_on: date
    joined_on: date | None = None
    form_set: bool = False
    active: bool = True
    last_members: int = 0
    last_income: Decimal = Decimal("0.00")

    @property
    def size(self) -> int:
        return len(self.members) + (len(self.later) if self.joined_on else 0)


@dataclass
class _Training:
    """The field training of one case: its ECC (possibly shared), seats and attendance."""

    case: int
    begin: date
    end: date
    completed: date | None  # recorded as held (the case then moves, or is refused)
    created: date
    sheet: date | None  # attendance recorded on this day, up to it
    expect: str | None  # "moved" | "refused" | None (not completed)
    certified: list[int]
    listeners: list[int]
    days: dict[int, list[date]]
    late: tuple[int, date] | None  # one day recorded apart, after the sheet
    groups: list[_Group]


@dataclass
class _Case:
    """A case while its steps are written: the facts later evidence depends on."""

    index: int
    muni: _Muni
    place: _Place
    community: str
    short: str
    article: str
    activity: str
    proponent: str
    coordinator: str
    supervisor: str
    registered_on: date
    shares_ecc: bool = False
    state: str = State.REGISTRADA.value
    entered: date = START_DAY
    previous: str | None = None
    suspended_on: date | None = None
    #: the day the current state was really entered, and the suspensions since
    since: date = START_DAY
    pauses: list[list[date | None]] = field(default_factory=list)
    people: int = 0
    training: _Training | None = None
    groups: list[_Group] = field(default_factory=list)
    #: legal steps after the CNPJ that did not fit in the legalisation stay
    deferred: list[tuple[date, _Group, str, bool]] = field(default_factory=list)
    #: record operations planned per day (their order inside the morning)
    mornings: dict[date, int] = field(default_factory=dict)


_ARTICLES = {
    "Assentamento": "do",
    "Sítio": "do",
    "Distrito": "do",
    "Povoado": "do",
    "Projeto de Irrigação": "do",
    "Perímetro Irrigado": "do",
}

#: Legal forms: (weight, fewest members, most members).
_FORMS: dict[str, tuple[int, int, int]] = {
    "cooperativa": (30, 20, 35),
    "associacao": (30, 10, 30),
    "cooperativa_trabalho": (15, 7, 15),
    "economia_solidaria": (15, 6, 18),
    "mei": (6, 1, 1),
    "me_epp": (6, 2, 5),
}
_COOPERATIVES = ("cooperativa", "cooperativa_trabalho")
_REGISTRY = {
    "cooperativa": "Junta Comercial",
    "cooperativa_trabalho": "Junta Comercial",
    "me_epp": "Junta Comercial",
    "associacao": "Registro Civil de Pessoas Jurídicas",
    "economia_solidaria": "Registro Civil de Pessoas Jurídicas",
}
#: The day alphanumeric CNPJs start being issued.
_ALPHANUMERIC_FROM = date(2026, 7, 1)


class _Writer:
    """Turns timelines into dated steps: transitions with evidence that passes the guards, and
    the records each state asks for, on the days the case spends in it (suspensions excluded).

    Records of a case are done in the morning (12:00 UTC on), before the day's transitions
    (13:00 to 19:00); the field-training events, shared by several cases, in the evening
    (20:00 on). Every instant is on the same local date in the municipalities' time zones.
    """

    def __init__(self, config: LifecycleConfig) -> None:
        self.config = config
        self.thresholds = config.thresholds
        self.out: list[_Step] = []
        self.cases: dict[int, _Case] = {}
        self.trainings: dict[int, _Training] = {}
        self.evenings: dict[date, int] = {}
        self.cnpjs: set[str] = set()
        self.plans = 0
        self.serial = 1000
        #: coordinator -> the UFs of the cases they are assigned at some point
        self.assigned: dict[str, set[str]] = {}

    # -- when things happen

    def morning(self, case: _Case, day: date, do: Callable[[_Player], None], what: str) -> None:
        n = case.mornings.get(day, 0)
        case.mornings[day] = n + 1
        assert n < 170, f"case {case.index}: too many records on {day}"
        at = datetime.combine(day, time(12, 0), tzinfo=UTC) + timedelta(seconds=20 * n)
        self.out.append(_Step(at, case.index, 0, do, f"case #{case.index}: {what}"))

    def evening(self, day: date, key: int, do: Callable[[_Player], None], what: str) -> None:
        n = self.evenings.get(day, 0)
        self.evenings[day] = n + 1
        assert n < 350, f"too many training operations on {day}"
        at = datetime.combine(day, time(20, 0), tzinfo=UTC) + timedelta(seconds=10 * n)
        self.out.append(_Step(at, key, 0, do, what))

    @staticmethod
    def free_days(case: _Case, end: date) -> list[date]:
        """The days after the case entered its state, up to ``end``, when it was not suspended."""
        days: list[date] = []
        day = case.since + timedelta(days=1)
        while day <= end:
            if not any(
                start is not None and start <= day and (stop is None or day <= stop)
                for start, stop in case.pauses
            ):
                days.append(day)
            day += timedelta(days=1)
        return days

    @staticmethod
    def on_or_after(days: list[date], day: date) -> date | None:
        return next((d for d in days if d >= day), None)

    # -- a case's timeline

    def steps(self, rng: Random, case: _Case, moves: list[_Move], start: date) -> None:
        self.cases[case.index] = case
        base = rng.randint(0, 240)
        for order, move in enumerate(moves):
            day = start + timedelta(days=move.offset)
            minute = _FIRST_MINUTE + base + 2 * min(order, 60)
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC)
            later = moves[order + 1 :]
            self.before(rng, case, move.event, day, later)
            self.step(rng, case, move, day, at, order)
            self.follow(case, move.event, day, move.info)
            self.after(rng, case, move.event, day, later, start)
        if case.state == State.SUSPENSA.value and case.previous is not None:
            self.close(rng, case, case.previous, FINAL_DAY, completed=False)
        elif case.state in _ACTIVE:
            self.close(rng, case, case.state, FINAL_DAY, completed=False)

    def before(self, rng: Random, case: _Case, event: str, day: date, later: list[_Move]) -> None:
        """Close the stay the event ends: its records are planned on the stay's days."""
        if event in _ADVANCES:
            self.close(rng, case, case.state, day, completed=True)
        elif event == "cancelar" and not any(m.event == "aprovar_reabertura" for m in later):
            state = case.previous if case.state == State.SUSPENSA.value else case.state
            if state is not None:
                self.close(rng, case, state, day - timedelta(days=1), completed=False)

    def after(
        self,
        rng: Random,
        case: _Case,
        event: str,
        day: date,
        later: list[_Move],
        start: date,
    ) -> None:
        if event in _ADVANCES or event in ("aprovar_reabertura", "recorrer", "indeferir"):
            case.since, case.pauses = day, []
            if event in _ADVANCES and case.state == State.CAPACITACAO.value:
                case.training = self.open_training(rng, case, later, start)
        elif event == "cancelar":
            case.since, case.pauses = day, []
        elif event == "suspender":
            case.pauses.append([day, None])
        elif event == "retomar":
            case.pauses[-1][1] = day

    def close(self, rng: Random, case: _Case, state: str, end: date, *, completed: bool) -> None:
        days = self.free_days(case, end)
        if completed and state in _WITH_RECORDS and not days:
            raise AssertionError(f"case {case.index}: no working day in {state} for its records")
        if state == State.MOBILIZACAO.value:
            self.mobilise(rng, case, days, completed)
        elif state == State.GESTAO.value:
            self.workshops(rng, case, days, completed)
        elif state == State.LEGALIZACAO.value:
            self.legalise(rng, case, days, completed)
        elif state == State.ACOMPANHAMENTO.value:
            self.follow_up(rng, case, days, completed)

    def step(
        self, rng: Random, case: _Case, move: _Move, day: date, at: datetime, order: int
    ) -> None:
        event, info = move.event, move.info
        actor = case.coordinator
        note: str | None = None
        evidence: dict[str, Any] = {}
        uf = case.muni.uf
        sebrae, agency, _, university = _PARTNERS[uf]
        elapsed = (day - case.entered).days
        if event == "registrar":
            demand = self.demand(rng, case, day)
            do = partial(_Player.register, case=case.index, demand=demand, actor=actor)
            self.out.append(_Step(at, case.index, order, do, f"case #{case.index}: registrar"))
            return
        if event == "concluir_capacitacao":
            return  # completing the ECC moves the case (see _Writer.ecc)
        if event == "atribuir":
            actor = case.supervisor
            if info.get("reassign"):
                team = COORDINATORS_NE if case.muni.region == "Nordeste" else COORDINATORS_NORTE
                case.coordinator = rng.choice([c for c in team if c != case.coordinator])
            self.assigned.setdefault(case.coordinator, set()).add(case.muni.uf)
            evidence = {"coordinator": case.coordinator}
        elif event == "aprovar_elegibilidade":
            actor = case.supervisor
            pndr = _pndr_class(case.muni)
            evidence = {
                "decided_on": day,
                "decision": (
                    f"Demanda elegível: {case.muni.name} ({uf}) integra a microrregião "
                    f"{case.muni.microregion}, classificada como de {_PNDR_LABELS[pndr]} na "
                    f"tipologia da PNDR; área prioritária: {case.place.priority_area}."
                ),
                "pndr_class": pndr,
                "microregion_code": case.muni.microregion_code,
                "priority_area": case.place.priority_area,
            }
        elif event == "indeferir":
            actor = case.supervisor
            evidence = {
                "decided_on": day,
                "reasons": rng.choice(_REJECTIONS),
                "legal_basis": "Lei 9.784/1999, art. 50",
            }
        elif event == "recorrer":
            evidence = {"filed_on": day, "grounds": rng.choice(_APPEALS)}
        elif event == "formalizar_polo":
            decided = day - timedelta(days=rng.randint(0, min(6, elapsed)))
            signed = decided + timedelta(days=rng.randint(0, (day - decided).days))
            signatories = [f"Prefeitura Municipal de {case.muni.name}", case.proponent, sebrae]
            if agency:
                signatories.append(agency)
            evidence = {
                "decided_on": decided,
                "hub_municipality_code": case.muni.code,
                "adhesion_term": {"signed_on": signed, "signatories": signatories},
            }
        elif event == "concluir_mobilizacao":
            others = [a for a in case.place.activities if a != case.activity]
            evidence = {
                "diagnosis": {
                    "completed_on": day - timedelta(days=rng.randint(0, min(12, elapsed))),
                    "vocations": [case.activity, *rng.sample(others, rng.randint(1, len(others)))],
                }
            }
        elif event == "concluir_avaliacao":
            active = [g for g in case.groups if g.active]
            evidence = {
                "partner_report": {
                    "partner": university,
                    "delivered_on": day - timedelta(days=rng.randint(0, min(7, elapsed))),
                },
                "indicators": {
                    "enterprises_active": len(active),
                    "members": sum(g.last_members for g in active),
                    "monthly_income_brl": f"{sum(g.last_income for g in active):.2f}",
                },
            }
        elif event == "prorrogar":
            if case.state == State.CAPACITACAO.value and case.training is not None:
                evidence = {
                    "justification": (
                        f"ECC iniciado em {case.training.begin:%d/%m/%Y}; certificação e "
                        "formação dos grupos terminam depois do prazo de 45 dias."
                    )
                }
            else:
                evidence = {"justification": _EXTENSION_REVIEW}
        elif event == "suspender":
            resume = day + timedelta(days=info["resume_after"])
            evidence = {
                "reason": self.suspension_reason(rng, case, day),
                "expected_resume_on": resume,
            }
        elif event == "retomar":
            note = rng.choice(_RESUME_NOTES)
        elif event == "cancelar":
            withdrawn = bool(info.get("withdrawal", 1))
            evidence = {
                "kind": "desistencia" if withdrawn else "inviabilidade",
                "reason": rng.choice(_WITHDRAWALS if withdrawn else _IMPOSSIBLE),
            }
        elif event == "solicitar_reabertura":
            if info.get("refused"):
                text = _REOPEN_REFUSED_ASK
            elif info.get("concluded"):
                text = _REOPEN_CONCLUDED
            else:
                text = _REOPEN_CANCELLED
            evidence = {"justification": text}
        elif event == "aprovar_reabertura":
            actor = MANAGER
            note = "Reabertura aprovada pela gerência do programa."
        elif event == "recusar_reabertura":
            actor = MANAGER
            evidence = {"justification": _REOPEN_REFUSAL}
        elif event == "anotar":
            evidence = {"text": rng.choice(_NOTES)}
        do = partial(
            _Player.event,
            case=case.index,
            event=event,
            actor=actor,
            evidence=evidence,
            note=note,
        )
        self.out.append(_Step(at, case.index, order, do, f"case #{case.index}: {event}"))

    @staticmethod
    def follow(case: _Case, event: str, day: date, info: dict[str, int]) -> None:
        """Mirror what the event does to the case's state (the effects of states.effects)."""
        if event in _ADVANCES:
            if event == "concluir_avaliacao":
                case.previous = State.AVALIACAO.value
            case.state, case.entered = _NEXT[case.state], day
        elif event == "suspender":
            case.previous, case.state, case.suspended_on = case.state, State.SUSPENSA.value, day
        elif event == "retomar":
            assert case.previous is not None
            assert case.suspended_on is not None
            case.entered += day - case.suspended_on
            case.state, case.previous, case.suspended_on = case.previous, None, None
        elif event == "indeferir":
            case.state, case.entered = State.INDEFERIDA.value, day
        elif event == "recorrer":
            case.state, case.entered = State.EM_ANALISE.value, day
        elif event == "cancelar":
            if case.state != State.SUSPENSA.value:
                case.previous = case.state
            case.state, case.entered, case.suspended_on = State.CANCELADA.value, day, None
        elif event == "aprovar_reabertura":
            assert case.previous is not None
            case.state, case.previous, case.entered = case.previous, None, day

    def demand(self, rng: Random, case: _Case, day: date) -> DemandInput:
        forum_on = day - timedelta(days=rng.randint(3, 45))
        cnpj: str | None = None
        if rng.random() < 0.7:
            cnpj = _cnpj(rng, alphanumeric=day >= _ALPHANUMERIC_FROM and rng.random() < 0.3)
        families = rng.randint(45, 140)
        return DemandInput(
            municipality_code=case.muni.code,
            community=case.community,
            forum=f"Fórum Territorial {case.place.territory}",
            forum_held_on=forum_on,
            activity=case.activity,
            proponent=case.proponent,
            proponent_cnpj=cnpj,
            description=(
                f"Demanda aprovada em plenária do fórum: organizar cerca de {families} famílias "
                f"{case.article} {case.community} em empreendimentos de {case.activity}."
            ),
        )

    @staticmethod
    def suspension_reason(rng: Random, case: _Case, day: date) -> str:
        if date(2024, 7, 15) <= day <= date(2024, 12, 20) and rng.random() < 0.5:
            return _ELECTION
        if case.muni.region == "Norte" and 2 <= day.month <= 6 and rng.random() < 0.6:
            return _FLOOD
        if case.muni.region == "Nordeste" and 8 <= day.month <= 12 and rng.random() < 0.4:
            return _DROUGHT
        return rng.choice(_SUSPENSION_REASONS)

    # -- mobilização: participant lists

    def mobilise(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if not days:
            return
        minimum = self.thresholds.min_participants
        if completed:
            wanted = max(0, rng.randint(minimum, minimum + 6) - case.people)
        else:
            wanted = min(minimum + 6, round(len(days) * rng.uniform(0.5, 1.6)))
        if wanted == 0:
            return
        lists = min(len(days), wanted, rng.choice((1, 2, 2, 3)))
        when = sorted(rng.sample(days, lists))
        cuts = [0, *sorted(rng.sample(range(1, wanted), lists - 1)), wanted]
        reuse = rng.randint(1, 3) if not case.shares_ecc and rng.random() < 0.3 else 0
        for k, day in enumerate(when):
            size = cuts[k + 1] - cuts[k]
            single = min(2, size) if k == lists - 1 else 0
            do = partial(
                _Player.participants,
                case=case.index,
                uf=case.muni.uf,
                municipality=case.muni.code,
                community=case.community,
                count=size,
                reuse=min(reuse, size - single) if k == 0 else 0,
                single=single,
                actor=case.coordinator,
            )
            self.morning(case, day, do, f"participant list ({size})")
        case.people += wanted

    # -- capacitação: the ECC, its seats, attendance and enterprise groups

    def open_training(self, rng: Random, case: _Case, later: list[_Move], start: date) -> _Training:
        """Plan the case's ECC when it enters capacitação (its end is read ahead)."""
        t = self.thresholds
        entered = case.since
        completed: date | None = None
        expect: str | None = None
        limit = FINAL_DAY
        for move in later:
            day = start + timedelta(days=move.offset)
            if move.event == "concluir_capacitacao":
                completed, expect = day, "moved"
                end = day - timedelta(days=move.info["tail"])
                begin = end - timedelta(days=move.info["ecc_days"] - 1)
                break
            if move.event in ("suspender", "cancelar"):
                limit = day - timedelta(days=1)
                break
        if completed is None:
            begin = entered + timedelta(days=rng.randint(1, 4))
            end = begin + timedelta(days=rng.randint(41, 45) - 1)
            held = end + timedelta(days=rng.randint(0, 3))
            if held <= limit:  # held, but too few attended: the case stays
                completed, expect = held, "refused"
        n = case.people
        assert n >= t.min_participants, f"case {case.index}: {n} participants for its ECC"
        listening = rng.randint(0, 2)
        certified = list(range(n - listening - rng.randint(0, 6)))  # some never came
        listeners = list(range(n - listening, n))
        span = (end - begin).days + 1
        every = [begin + timedelta(days=k) for k in range(span)]
        needed = math.ceil(t.min_attendance * span)
        share = math.ceil(t.min_certified_share * len(certified))
        good = share - rng.randint(1, 4) if expect == "refused" else len(certified)
        if expect != "refused":
            good = max(share, len(certified) - rng.randint(0, 5))
        good_slots = set(rng.sample(certified, good))
        days: dict[int, list[date]] = {}
        for slot in certified:
            count = rng.randint(needed, span) if slot in good_slots else rng.randint(3, needed - 1)
            days[slot] = sorted(rng.sample(every, count))
        for slot in listeners:
            days[slot] = sorted(rng.sample(every, rng.randint(5, span)))
        sheet: date | None = end if completed else min(end, limit)
        if sheet is not None and sheet < begin:
            sheet = None
        days = {s: [d for d in ds if sheet is not None and d <= sheet] for s, ds in days.items()}
        late: tuple[int, date] | None = None
        if completed is not None:
            slot = rng.choice(sorted(good_slots))
            late = (slot, days[slot].pop())
        groups = self.groups(rng, case, sorted(good_slots), begin, end) if completed else []
        training = _Training(
            case=case.index,
            begin=begin,
            end=end,
            completed=completed,
            created=entered,
            sheet=sheet,
            expect=expect,
            certified=certified,
            listeners=listeners,
            days=days,
            late=late,
            groups=groups,
        )
        self.trainings[case.index] = training
        case.groups = groups
        return training

    def groups(
        self, rng: Random, case: _Case, good: list[int], begin: date, end: date
    ) -> list[_Group]:
        """1 to 3 enterprise groups of certified participants, fitting their legal forms."""
        wanted = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
        activities = [case.activity, *[a for a in case.place.activities if a != case.activity]]
        pool = list(good)
        rng.shuffle(pool)
        span = (end - begin).days
        out: list[_Group] = []
        for i in range(wanted):
            forms = [f for f, (_, low, _) in _FORMS.items() if low <= len(pool)]
            if not forms:
                break
            form = rng.choices(forms, weights=[_FORMS[f][0] for f in forms])[0]
            _, low, high = _FORMS[form]
            size = rng.randint(low, min(high, len(pool)))
            members, pool = pool[:size], pool[size:]
            later: list[int] = []
            if form != "mei" and size >= 4 and rng.random() < 0.3:
                k = rng.randint(1, 3)
                members, later = members[:-k], members[-k:]
            activity = activities[i % len(activities)]
            name = _enterprise_name(form, activity, case.short)
            if any(g.name.casefold() == name.casefold() for g in out):
                name = f"{name} – Núcleo {i + 1}"
            out.append(
                _Group(
                    key=f"{case.index}.{i}",
                    case=case.index,
                    name=name,
                    activity=activity,
                    form=form,
                    members=members,
                    later=later,
                    family=activity in _RURAL and rng.random() < 0.6,
                    formed_on=begin + timedelta(days=rng.randint(min(20, span), span)),
                )
            )
        return out

    def ecc(self, rng: Random, key: int, group: list[_Training]) -> None:
        """The evening operations of one ECC serving the cases of ``group`` (the lead first)."""
        first = group[0]
        for other in group[1:]:
            same = (other.begin, other.end, other.completed) == (
                first.begin,
                first.end,
                first.completed,
            )
            assert same, f"cases {first.case} and {other.case} do not share their ECC dates"
        lead = self.cases[first.case]
        actor = lead.coordinator
        sebrae, _, institute, _ = _PARTNERS[lead.muni.uf]
        orgs = (sebrae, institute)
        instructors = rng.sample(_INSTRUCTORS, rng.randint(2, 3))
        communities = [self.cases[t.case].community for t in group]
        if len(group) == 1:
            title = f"ECC {lead.activity} – {lead.community}"
        else:
            title = f"ECC Território {lead.place.territory}: {', '.join(communities)}"
        venue = rng.choice(
            (
                f"Centro Comunitário {lead.article} {lead.community}",
                f"Sede da {lead.proponent}",
                f"Escola Municipal {lead.article} {lead.community}",
                f"Salão Paroquial de {lead.muni.name}",
            )
        )
        seats = sum(len(t.certified) + len(t.listeners) for t in group)
        data: dict[str, Any] = {
            "kind": "ecc",
            "title": title[:200],
            "start_on": first.begin,
            "end_on": first.end,
            "venue": venue[:200],
            "municipality_code": lead.muni.code,
            "instructors": [f"{n} ({orgs[i % 2]})" for i, n in enumerate(instructors)],
            "capacity": 5 * math.ceil((seats + rng.randint(0, 10)) / 5),
        }
        name = f"ecc-{key}"
        plan = [(t.case, t.certified, t.listeners) for t in group]
        created = max(t.created for t in group)
        do = partial(_Player.create_event, key=name, data=data, seats=plan, actor=actor)
        self.evening(created, key, do, f"{name}: planned, {seats} enrolled")
        if first.sheet is not None:
            rows = [(t.case, s, d) for t in group for s, d in sorted(t.days.items()) if d]
            do = partial(_Player.sheet, key=name, rows=rows, actor=actor)
            self.evening(first.sheet, key, do, f"{name}: attendance sheet")
            for t in group:
                if t.late is not None:
                    slot, day = t.late
                    do = partial(
                        _Player.attend, key=name, case=t.case, slot=slot, days=[day], actor=actor
                    )
                    self.evening(first.sheet, key, do, f"{name}: attendance corrected")
        if first.completed is not None:
            for t in group:
                for g in t.groups:
                    who = self.cases[t.case].coordinator
                    do = partial(_Player.form, group=g, key=name, actor=who)
                    self.evening(first.completed, key, do, f"{name}: enterprise {g.name}")
            expect = {t.case: t.expect or "skipped" for t in group}
            do = partial(_Player.complete, key=name, expect=expect, actor=actor)
            self.evening(first.completed, key, do, f"{name}: held")

    def ecms(self, rng: Random) -> None:
        """Multiplier trainings (ECM) for local leaders, one a year or so."""
        for begin, region, code in _ECMS:
            regional = [i for i, c in sorted(self.cases.items()) if c.muni.region == region]
            if not regional:
                continue
            place = next(p for p in PLACES if p.code == code)
            _, _, institute, _ = _PARTNERS[_UF_OF_PLACE[code]]
            end = begin + timedelta(days=4)
            name = f"ecm-{begin:%Y%m}"
            data: dict[str, Any] = {
                "kind": "ecm",
                "title": f"ECM – Formação de Multiplicadores do PRODUZIR ({region})",
                "start_on": begin,
                "end_on": end,
                "venue": f"Campus do {institute} em {place.name}",
                "municipality_code": code,
                "instructors": [f"{n} (FAO)" for n in rng.sample(_INSTRUCTORS, 2)],
                "capacity": 30,
            }
            actor = SUPERVISORS[region]
            do = partial(_Player.ecm, key=name, data=data, cases=regional, actor=actor)
            self.evening(begin - timedelta(days=14), -1, do, f"{name}: planned")
            do = partial(_Player.ecm_sheet, key=name, actor=actor)
            self.evening(end, -1, do, f"{name}: attendance sheet")
            do = partial(_Player.complete, key=name, expect={}, actor=actor)
            self.evening(end, -1, do, f"{name}: held")

    # -- gestão: members joining, legal forms, business plans, workshops

    def workshops(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if not days:
            return
        for g in case.groups:
            if g.later and g.joined_on is None:
                self.join(case, g, days[min(len(days) - 1, rng.randint(0, 2))])
        self.oficina(rng, case, days, completed)
        tail = days[len(days) // 3 :]
        for g in case.groups:
            if not completed and rng.random() < 0.5:
                continue
            day = max(rng.choice(tail), g.joined_on or days[0])
            if rng.random() < 0.5:
                self.choose_form(case, g, day)
            self.plans += 1
            document = f"PN-{case.muni.uf}-{day.year}-{self.plans:04d}"
            do = partial(_Player.plan, group=g, document=document, on=day, actor=case.coordinator)
            self.morning(case, day, do, f"business plan of {g.name}")

    def join(self, case: _Case, g: _Group, day: date) -> None:
        do = partial(_Player.join, group=g, actor=case.coordinator)
        self.morning(case, day, do, f"{len(g.later)} members join {g.name}")
        g.joined_on = day

    def choose_form(self, case: _Case, g: _Group, day: date) -> None:
        if not g.form_set:
            do = partial(_Player.legal_form, group=g, actor=case.coordinator)
            self.morning(case, day, do, f"{g.name} is a {g.form}")
            g.form_set = True

    def oficina(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        """Some cases hold an Oficina de Gestão for their enterprises' members."""
        if len(days) < 8 or rng.random() >= (0.45 if completed else 0.3):
            return
        length = rng.randint(3, 4)
        free = set(days)
        starts = [d for d in days if all(d + timedelta(days=k) in free for k in range(length + 2))]
        slots = list(dict.fromkeys(s for g in case.groups for s in g.members + g.later))[:25]
        if not starts or not slots:
            return
        created = rng.choice(starts)
        course = [created + timedelta(days=k) for k in range(1, length + 1)]
        sheet_day = course[-1] + timedelta(days=1)
        sebrae = _PARTNERS[case.muni.uf][0]
        key = f"oficina-{case.index}"
        data: dict[str, Any] = {
            "kind": "oficina",
            "title": f"Oficina de Gestão Empresarial – {case.community}"[:200],
            "start_on": course[0],
            "end_on": course[-1],
            "venue": f"Centro Comunitário {case.article} {case.community}"[:200],
            "municipality_code": case.muni.code,
            "instructors": [f"{rng.choice(_INSTRUCTORS)} ({sebrae})"],
            "capacity": 30,
        }
        rows = [
            (case.index, s, sorted(rng.sample(course, rng.randint(length - 1, length))))
            for s in slots
        ]
        actor = case.coordinator
        no_listeners: list[int] = []
        seats = [(case.index, slots, no_listeners)]
        do = partial(_Player.create_event, key=key, data=data, seats=seats, actor=actor)
        self.morning(case, created, do, "business workshop planned")
        do = partial(_Player.sheet, key=key, rows=rows, actor=actor)
        self.morning(case, sheet_day, do, "workshop attendance")
        do = partial(_Player.complete, key=key, expect={}, actor=actor)
        self.morning(case, sheet_day, do, "business workshop held")

    # -- legalização: legal forms and steps in legal order

    def legalise(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if days:
            for g in case.groups:
                self.legal(rng, case, g, days, completed)

    def legal(self, rng: Random, case: _Case, g: _Group, days: list[date], completed: bool) -> None:
        day = days[min(len(days) - 1, rng.randint(0, 3))]
        if g.later and g.joined_on is None:
            self.join(case, g, day)
        self.choose_form(case, g, day)
        roll = rng.random()
        outcome = (
            "cnpj" if g.form == "mei" or roll < 0.72 else "pending" if roll < 0.88 else "informal"
        )
        stall = not completed and rng.random() < 0.3

        def later(after: date, low: int, high: int) -> date:
            return after + timedelta(days=rng.randint(low, high))

        chain: list[tuple[str, date]] = []
        if g.form == "mei":
            chain.append(("cnpj", later(day, 1, 10)))
        elif outcome != "informal":
            founded = later(day, 1, 12)
            chain.append(("founding_act", founded))
            when = founded
            if g.form != "me_epp":
                when = later(when, 1, 7)
                chain.append(("lawyer_endorsement", when))
            gap = (60, 120) if stall else (31, 45) if rng.random() < 0.12 else (3, 28)
            when = max(when, later(founded, *gap))
            chain.append(("registry_filing", when))
            if rng.random() < 0.25:
                when = later(when, 8, 20)
                chain.append(("registry_correction_requested", when))
                if outcome == "cnpj":
                    when = later(when, 31, 40) if rng.random() < 0.15 else later(when, 5, 25)
                    chain.append(("registry_correction_filed", when))
            if outcome == "cnpj":
                chain.append(("cnpj", later(when, 5, 20)))
        after: list[tuple[str, date, bool]] = []
        if chain and chain[-1][0] == "cnpj":
            issued = chain[-1][1]
            if g.form in (*_COOPERATIVES, "me_epp") and rng.random() < 0.7:
                after.append(("state_registration", later(issued, 3, 12), False))
            after.append(("municipal_registration", later(issued, 3, 15), False))
            after.append(("licence", later(issued, 5, 25), rng.random() < 0.6))
            if g.form in _COOPERATIVES:
                after.append(("ocb_registration", later(issued, 10, 40), False))
            if g.family:
                after.append(("caf", later(issued, 10, 45), False))
        cursor = day
        done: list[str] = []
        for step, when in chain:
            on = self.on_or_after(days, max(when, cursor))
            if on is None:
                break
            self.legal_step(rng, case, g, step, on, waived=False)
            done.append(step)
            cursor = on
        if "cnpj" in done:
            for step, when, waived in after:
                on = self.on_or_after(days, max(when, cursor))
                if on is not None:
                    self.legal_step(rng, case, g, step, on, waived=waived)
                elif completed:
                    case.deferred.append((when, g, step, waived))
        elif completed:
            if "registry_filing" in done:
                reason = rng.choice(_NO_CNPJ_PENDING).format(registry=_REGISTRY[g.form])
            else:
                reason = rng.choice(_NO_CNPJ_INFORMAL)
            do = partial(_Player.no_cnpj, group=g, reason=reason, actor=case.coordinator)
            self.morning(case, cursor, do, f"{g.name}: no CNPJ")

    def legal_step(
        self, rng: Random, case: _Case, g: _Group, step: str, on: date, *, waived: bool
    ) -> None:
        uf = case.muni.uf
        self.serial += 1
        n = self.serial
        reference: str | None = None
        waived_reason: str | None = None
        match step:
            case "founding_act":
                reference = (
                    "Contrato social" if g.form == "me_epp" else "Ata da assembleia de constituição"
                )
            case "lawyer_endorsement":
                reference = "Visto de advogado no estatuto (Lei 8.906/1994, art. 1º, § 2º)"
            case "registry_correction_requested":
                reference = f"Nota de exigência nº {n}/{on.year}"
            case "registry_correction_filed":
                reference = f"Exigências cumpridas: protocolo nº {n}/{on.year}"
            case "cnpj":
                reference = _cnpj(rng, alphanumeric=on >= _ALPHANUMERIC_FROM and rng.random() < 0.7)
                while reference in self.cnpjs:
                    reference = _cnpj(rng, alphanumeric=not reference.isdigit())
                self.cnpjs.add(reference)
            case "state_registration":
                reference = f"Inscrição estadual {uf}-{n:09d}"
            case "municipal_registration":
                reference = f"Inscrição municipal nº {n:06d}"
            case "licence":
                if waived:
                    waived_reason = _LICENCE_WAIVER
                else:
                    reference = f"Alvará de funcionamento nº {n:05d}/{on.year}"
            case "ocb_registration":
                reference = f"Registro OCB/{uf} nº {n:05d}"
            case "caf":
                reference = f"CAF nº {uf}{on.year}{n:06d}"
        do = partial(
            _Player.step,
            group=g,
            step=step,
            on=on,
            reference=reference,
            waived_reason=waived_reason,
            actor=case.coordinator,
        )
        self.morning(case, on, do, f"{g.name}: {step}")

    # -- acompanhamento: CLAI, Protocol and commitments, visits

    def follow_up(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if not days:
            return
        t = self.thresholds
        entered, last = case.since, days[-1]
        actor = case.coordinator
        sebrae, agency, institute, _ = _PARTNERS[case.muni.uf]
        city = f"Prefeitura Municipal de {case.muni.name}"
        bank = "Banco do Nordeste" if case.muni.region == "Nordeste" else "Banco da Amazônia"
        installed = self.on_or_after(days, entered + timedelta(days=rng.randint(5, 30)))
        if installed is not None:
            members = [city, case.proponent, sebrae, *([agency] if agency else [])]
            members.append(f"Sindicato dos Trabalhadores Rurais de {case.muni.name}")
            do = partial(_Player.clai, case=case.index, on=installed, members=members, actor=actor)
            self.morning(case, installed, do, "CLAI installed")
            signed = self.on_or_after(days, installed + timedelta(days=rng.randint(0, 25)))
            if signed is not None:
                self.protocol(rng, case, days, signed, [city, sebrae, agency, institute, bank])
        end = add_months(entered, t.follow_up_months)
        visits: list[date] = []
        visit = entered
        while (end - visit).days > t.visit_interval_days:
            visit += timedelta(days=rng.randint(55, t.visit_interval_days - 2))
            visits.append(visit)
        if completed:  # a last visit once the period is over closes the visits' duty
            latest = min(last, visits[-1] + timedelta(days=t.visit_interval_days))
            visits.append(end + timedelta(days=rng.randint(0, (latest - end).days)))
        elif rng.random() < 0.25:  # visits lapsed: the next one is overdue
            cutoff = last - timedelta(days=rng.randint(95, 130))
            visits = [v for v in visits if v <= cutoff]
        free = set(days)
        for visit in visits:
            if visit in free:
                for g in case.groups:
                    self.visit(rng, case, g, visit)
        for when, g, step, waived in case.deferred:
            on = self.on_or_after(days, when)
            if on is not None:
                self.legal_step(rng, case, g, step, on, waived=waived)
        case.deferred = []

    def protocol(
        self,
        rng: Random,
        case: _Case,
        days: list[date],
        signed: date,
        partners: list[str | None],
    ) -> None:
        city, sebrae, agency, institute, bank = partners
        actor = case.coordinator
        signatories = [p for p in partners if p]
        do = partial(
            _Player.protocol, case=case.index, on=signed, signatories=signatories, actor=actor
        )
        self.morning(case, signed, do, "Protocol signed")
        kinds = [("prefeitura", city), ("sebrae", sebrae), ("institute", institute), ("bank", bank)]
        if agency:
            kinds.append(("agency", agency))
        for k, (kind, partner) in enumerate(rng.sample(kinds, rng.randint(2, 4))):
            assert partner is not None
            due = signed + timedelta(days=rng.randint(30, 240))
            key = f"{case.index}.{k}"
            do = partial(
                _Player.commitment,
                key=key,
                case=case.index,
                partner=partner,
                action=rng.choice(_ACTIONS[kind]),
                due=due,
                actor=actor,
            )
            self.morning(case, signed, do, f"commitment of {partner}")
            if rng.random() < 0.75:
                done = self.on_or_after(
                    days, max(signed, due + timedelta(days=rng.randint(-25, 10)))
                )
                if done is not None:
                    do = partial(_Player.fulfil, key=key, on=done, actor=actor)
                    self.morning(case, done, do, f"commitment of {partner} kept")

    def visit(self, rng: Random, case: _Case, g: _Group, day: date) -> None:
        if g.active and rng.random() < 0.03:
            g.active = False
        if g.active:
            members = 1 if g.form == "mei" else max(1, g.size - rng.randint(0, 2))
            income = Decimal(f"{members * rng.uniform(180, 650):.2f}")
            findings = rng.choice(_FINDINGS)
        else:
            members, income, findings = 0, Decimal("0.00"), rng.choice(_FINDINGS_STOPPED)
        g.last_members, g.last_income = members, income
        do = partial(
            _Player.visit,
            case=case.index,
            group=g,
            on=day,
            findings=findings,
            active=g.active,
            members=members,
            income=income,
            actor=case.coordinator,
        )
        self.morning(case, day, do, f"visit to {g.name}")


#: States whose stays carry records (the guard leaving them reads records).
_WITH_RECORDS = frozenset(
    s.value for s in (State.MOBILIZACAO, State.GESTAO, State.LEGALIZACAO, State.ACOMPANHAMENTO)
)
_ACTIVE = frozenset(s.value for s in MAIN_PATH[:-1])
#: Multiplier trainings: first day, region, municipality.
_ECMS: tuple[tuple[date, str, int], ...] = (
    (date(2024, 11, 11), "Nordeste", 2311306),  # Quixadá
    (date(2025, 8, 4), "Norte", 1502103),  # Cametá
    (date(2026, 5, 11), "Nordeste", 2611101),  # Petrolina
)
_UF_OF_PLACE = {2311306: "CE", 1502103: "PA", 2611101: "PE"}


def _enterprise_name(form: str, activity: str, place: str) -> str:
    _, workers, product = _ACTIVITIES[activity]
    match form:
        case "cooperativa":
            return f"Cooperativa {workers} de {place}"
        case "cooperativa_trabalho":
            return f"Cooperativa de Trabalho {workers} de {place}"
        case "associacao":
            return f"Associação de Produção {workers} de {place}"
        case "mei":
            return f"{product} {place} (MEI)"
        case "me_epp":
            return f"Agroindústria {product} {place} ME"
        case _:
            return f"Grupo Solidário {workers} de {place}"


def _pndr_class(muni: _Muni) -> str:
    """A stable PNDR class per microregion (the demo has no PNDR table)."""
    if muni.region == "Nordeste":
        return ("baixa_renda", "estagnada", "baixa_renda")[muni.microregion_code % 3]
    return ("baixa_renda", "estagnada", "dinamica")[muni.microregion_code % 3]


def _load_munis(rt: Runtime) -> dict[int, _Muni]:
    codes = [p.code for p in PLACES]
    with rt.db.read() as session:
        rows = session.execute(
            select(Municipality).where(Municipality.ibge_code.in_(codes))
        ).scalars()
        found = {
            m.ibge_code: _Muni(
                m.ibge_code, m.name, m.uf, m.region, m.microregion_code, m.microregion
            )
            for m in rows
        }
    missing = [p.code for p in PLACES if p.code not in found]
    if missing:
        raise InvalidInput(
            f"municipalities {', '.join(map(str, missing))} are not in the database; "
            "run the migrations first",
            field="municipality_code",
        )
    for place in PLACES:
        if found[place.code].name != place.name:
            raise InvalidInput(
                f"municipality {place.code} is {found[place.code].name}, "
                f"not {place.name}: the demo's table is wrong",
                field="municipality_code",
            )
    return found


# --- planning the portfolio --------------------------------------------------------------------


@dataclass
class _Anchor:
    """Where a lead case's ECC is: the day it is completed, its length and tail, its place."""

    completed: date
    ecc: tuple[int, int]
    place: _Place
    used: list[tuple[int, str]]  # (municipality, community) of the cases it serves


def _next_community(anchor: _Anchor) -> tuple[_Place, tuple[str, str]] | None:
    """Another community for a shared ECC: the lead's municipality, then its territory's."""
    uf = anchor.place.code // 100_000
    nearby = [anchor.place] + [
        p
        for p in PLACES
        if p.territory == anchor.place.territory
        and p.code != anchor.place.code
        and p.code // 100_000 == uf
    ]
    for place in nearby:
        for kind, short in place.communities:
            if (place.code, short) not in anchor.used:
                return place, (kind, short)
    return None


def _plan(rng: Random, cases: int, munis: dict[int, _Muni], config: LifecycleConfig) -> _Writer:
    """Every step of every case, and of the training events they share."""
    targets = _quota(cases)
    rng.shuffle(targets)
    mods = [_draw_mods(rng, t) for t in targets]
    _force(targets, mods)
    lead_of = _cohorts(rng, targets)
    leads = set(lead_of.values())
    span = (FINAL_DAY - START_DAY).days
    writer = _Writer(config)
    anchors: dict[int, _Anchor] = {}
    shared: dict[int, int] = {}
    short_ecc = False
    for index, (target, case_mods) in enumerate(zip(targets, mods, strict=True)):
        timing = Random(rng.getrandbits(64))
        detail = Random(rng.getrandbits(64))
        placed: tuple[_Plan, date] | None = None
        lead = lead_of.get(index)
        anchor = anchors.get(lead) if lead is not None else None
        where = _next_community(anchor) if anchor is not None else None
        if anchor is not None and where is not None:
            placed = _aligned(timing, target, case_mods, config, anchor)
        if placed is not None and anchor is not None and where is not None and lead is not None:
            plan, start = placed
            place, (kind, short) = where
            anchor.used.append((place.code, short))
            shared[index] = lead
        else:
            # the first case left in capacitação has had its ECC, with too few attending
            fixed = 52 if target is State.CAPACITACAO and not short_ecc else None
            short_ecc = short_ecc or fixed is not None
            plan = _timeline(timing, target, case_mods, config, dwell=fixed)
            if plan.length > span:  # too long for the demo's period: the plain path
                plan = _timeline(timing, target, _Mods(), config)
            if plan.dwell is None:
                start = START_DAY + timedelta(days=timing.randint(0, span - plan.length))
            else:
                start = FINAL_DAY - timedelta(days=min(span, plan.length))
            place = timing.choice(PLACES)
            kind, short = timing.choice(place.communities)
            trained = plan.trained
            if index in leads and trained is not None:
                anchors[index] = _Anchor(
                    completed=start + timedelta(days=trained.offset),
                    ecc=(trained.info["ecc_days"], trained.info["tail"]),
                    place=place,
                    used=[(place.code, short)],
                )
        muni = munis[place.code]
        community = f"{kind} {short}"
        article = _ARTICLES.get(kind, "da")
        activity = place.activities[0] if timing.random() < 0.5 else timing.choice(place.activities)
        prefix = _ACTIVITIES[activity][0]
        case = _Case(
            index=index,
            muni=muni,
            place=place,
            community=community,
            short=short,
            article=article,
            activity=activity,
            proponent=f"{prefix} {article} {community}",
            coordinator=_COORDINATOR_OF_UF[muni.uf],
            supervisor=SUPERVISORS[muni.region],
            registered_on=start,
            shares_ecc=index in leads or index in lead_of,
            entered=start,
            since=start,
        )
        writer.steps(detail, case, plan.moves, start)
    events = Random(rng.getrandbits(64))
    by_ecc: dict[int, list[_Training]] = {}
    for index, training in sorted(writer.trainings.items()):
        by_ecc.setdefault(shared.get(index, index), []).append(training)
    for key, group in sorted(by_ecc.items()):
        writer.ecc(events, key, group)
    writer.ecms(events)
    return writer


# --- playing it --------------------------------------------------------------------------------


class _Player:
    """Plays the steps through the coordinator's operations and keeps the ids they return.

    People are created here, in the order the steps are played: the n-th person registered is
    the same for the same seed.
    """

    def __init__(self, rt: Runtime, seed: int) -> None:
        self.rt = rt
        self.case_ids: dict[int, int] = {}
        self.events: dict[str, int] = {}
        self.enterprises: dict[str, int] = {}
        self.commitments: dict[str, int] = {}
        self.people: dict[int, list[int]] = {}  # case -> its participants, in order
        self.local: dict[int, list[int]] = {}  # municipality -> people registered there
        self.ecm_people: dict[str, list[int]] = {}
        self.registered = 0
        self.first_cpf = _CPF_BASE + seed * 7919 % 10_000_000

    # -- cases

    def register(self, *, case: int, demand: DemandInput, actor: str) -> None:
        self.case_ids[case] = register_demand(self.rt, demand, actor=actor).case_id

    def event(
        self,
        *,
        case: int,
        event: str,
        actor: str,
        evidence: dict[str, Any],
        note: str | None,
    ) -> None:
        rt, case_id, ev = self.rt, self.case_ids[case], evidence
        match event:
            case "atribuir":
                ops.assign(rt, case_id, ev["coordinator"], actor=actor)
            case "suspender":
                ops.suspend(
                    rt,
                    case_id,
                    reason=ev["reason"],
                    expected_resume_on=ev["expected_resume_on"],
                    actor=actor,
                )
            case "retomar":
                ops.resume(rt, case_id, actor=actor, note=note)
            case "indeferir":
                ops.reject(
                    rt,
                    case_id,
                    decided_on=ev["decided_on"],
                    reasons=ev["reasons"],
                    legal_basis=ev["legal_basis"],
                    actor=actor,
                )
            case "recorrer":
                ops.appeal(rt, case_id, filed_on=ev["filed_on"], grounds=ev["grounds"], actor=actor)
            case "cancelar":
                ops.cancel(rt, case_id, kind=ev["kind"], reason=ev["reason"], actor=actor)
            case "solicitar_reabertura":
                ops.request_reopening(rt, case_id, justification=ev["justification"], actor=actor)
            case "aprovar_reabertura":
                ops.approve_reopening(rt, case_id, actor=actor, note=note)
            case "recusar_reabertura":
                ops.refuse_reopening(rt, case_id, justification=ev["justification"], actor=actor)
            case "anotar":
                ops.add_note(rt, case_id, ev["text"], actor=actor)
            case _:
                ops.advance(rt, case_id, event, ev, actor=actor, note=note)

    # -- people

    def person(self, uf: str, municipality: int, community: str) -> people.PersonInput:
        n = self.registered
        self.registered += 1
        phone = f"{_DDD[uf]}90{n * 7 % 10_000_000:07d}" if n % 10 < 7 else None
        return people.PersonInput(
            cpf=_cpf(self.first_cpf + n),
            name=_person_name(n),
            community=community,
            municipality_code=municipality,
            phone=phone,
        )

    def participants(
        self,
        *,
        case: int,
        uf: str,
        municipality: int,
        community: str,
        count: int,
        reuse: int,
        single: int,
        actor: str,
    ) -> None:
        """A participant list: registered (or already known) and pre-registered in the case,
        in one transaction; the last ``single`` people one by one, as late registrations."""
        rt, case_id = self.rt, self.case_ids[case]
        mine = self.people.setdefault(case, [])
        local = self.local.setdefault(municipality, [])
        known = set(mine)
        pool = [p for p in local if p not in known]
        again = pool[:: max(1, len(pool) // reuse)][:reuse] if reuse and pool else []
        with rt.db.write() as session:
            for person_id in again:
                people.preregister_in(session, rt, case_id, person_id, actor=actor)
            added = []
            for _ in range(count - single - len(again)):
                person = people.add_person(
                    session, rt, self.person(uf, municipality, community), actor=actor
                )
                people.preregister_in(session, rt, case_id, person.id, actor=actor)
                added.append(person.id)
        mine += again + added
        local += added
        for _ in range(single):
            one = people.register_person(rt, self.person(uf, municipality, community), actor=actor)
            people.preregister(rt, case_id, one.person_id, actor=actor)
            mine.append(one.person_id)
            local.append(one.person_id)

    # -- training events

    def create_event(
        self,
        *,
        key: str,
        data: dict[str, Any],
        seats: list[tuple[int, list[int], list[int]]],
        actor: str,
    ) -> None:
        case_ids = [self.case_ids[case] for case, _, _ in seats]
        event_id = trainings.create_event(self.rt, {**data, "case_ids": case_ids}, actor=actor)
        self.events[key] = event_id
        for case, certified, listeners in seats:
            persons = self.people[case]
            trainings.enrol(self.rt, event_id, [persons[s] for s in certified], actor=actor)
            if listeners:
                trainings.enrol(
                    self.rt,
                    event_id,
                    [persons[s] for s in listeners],
                    actor=actor,
                    certification=False,
                )

    def sheet(self, *, key: str, rows: list[tuple[int, int, list[date]]], actor: str) -> None:
        """An attendance sheet: the days each person attended, in one transaction."""
        rt = self.rt
        with rt.db.write() as session, session.no_autoflush:
            event = trainings.get_event(session, self.events[key])
            for case, slot, days in rows:
                person_id = self.people[case][slot]
                trainings.attend_in(session, rt, event, person_id, days, actor=actor)

    def attend(self, *, key: str, case: int, slot: int, days: list[date], actor: str) -> None:
        person_id = self.people[case][slot]
        trainings.record_attendance(self.rt, self.events[key], person_id, days, actor=actor)

    def complete(self, *, key: str, expect: dict[int, str], actor: str) -> None:
        """Record the event as held; each served case must do what the plan expects."""
        if key not in self.events:
            return  # an ECM nobody could attend yet
        report = trainings.complete_event(self.rt, self.events[key], actor=actor)
        index = {case_id: case for case, case_id in self.case_ids.items()}
        for outcome in report.outcomes:
            wanted = expect.get(index[outcome.case_id], "skipped")
            if outcome.result != wanted:
                raise RuntimeError(
                    f"demo: completing {key}: case {outcome.case_id} {outcome.result} "
                    f"({outcome.detail}); the plan expected {wanted}"
                )

    def ecm(self, *, key: str, data: dict[str, Any], cases: list[int], actor: str) -> None:
        """A multiplier training for a local leader of each case of the region (up to 24)."""
        leaders = list(dict.fromkeys(self.people[c][0] for c in cases if self.people.get(c)))
        if len(leaders) < 6:
            return
        leaders = leaders[:24]
        self.events[key] = trainings.create_event(self.rt, data, actor=actor)
        trainings.enrol(self.rt, self.events[key], leaders, actor=actor)
        self.ecm_people[key] = leaders

    def ecm_sheet(self, *, key: str, actor: str) -> None:
        if key not in self.events:
            return
        rt = self.rt
        with rt.db.write() as session, session.no_autoflush:
            event = trainings.get_event(session, self.events[key])
            days = trainings.event_days(event)
            for i, person_id in enumerate(self.ecm_people[key]):
                attended = days if i % 5 else days[:-1]
                trainings.attend_in(session, rt, event, person_id, attended, actor=actor)

    # -- enterprises

    def form(self, *, group: _Group, key: str, actor: str) -> None:
        persons = self.people[group.case]
        self.enterprises[group.key] = enterprises.form_enterprise(
            self.rt,
            {
                "case_id": self.case_ids[group.case],
                "name": group.name,
                "activity": group.activity,
                "formed_on": group.formed_on,
                "formed_at_event_id": self.events[key],
                "family_agriculture": group.family,
                "member_ids": [persons[s] for s in group.members],
            },
            actor=actor,
        )

    def join(self, *, group: _Group, actor: str) -> None:
        persons = self.people[group.case]
        members = [persons[s] for s in group.later]
        enterprises.add_members(self.rt, self.enterprises[group.key], members, actor=actor)

    def legal_form(self, *, group: _Group, actor: str) -> None:
        enterprises.set_legal_form(self.rt, self.enterprises[group.key], group.form, actor=actor)

    def plan(self, *, group: _Group, document: str, on: date, actor: str) -> None:
        enterprises.set_business_plan(
            self.rt, self.enterprises[group.key], document=document, approved_on=on, actor=actor
        )

    def step(
        self,
        *,
        group: _Group,
        step: str,
        on: date,
        reference: str | None,
        waived_reason: str | None,
        actor: str,
    ) -> None:
        enterprises.record_step(
            self.rt,
            self.enterprises[group.key],
            step,
            done_on=on,
            reference=reference,
            waived_reason=waived_reason,
            actor=actor,
        )

    def no_cnpj(self, *, group: _Group, reason: str, actor: str) -> None:
        enterprises.set_no_cnpj_reason(self.rt, self.enterprises[group.key], reason, actor=actor)

    # -- follow-up

    def clai(self, *, case: int, on: date, members: list[str], actor: str) -> None:
        followup.install_clai(
            self.rt, self.case_ids[case], installed_on=on, members=members, actor=actor
        )

    def protocol(self, *, case: int, on: date, signatories: list[str], actor: str) -> None:
        followup.sign_protocol(
            self.rt, self.case_ids[case], signed_on=on, signatories=signatories, actor=actor
        )

    def commitment(
        self, *, key: str, case: int, partner: str, action: str, due: date, actor: str
    ) -> None:
        self.commitments[key] = followup.add_commitment(
            self.rt, self.case_ids[case], partner=partner, action=action, due_on=due, actor=actor
        )

    def fulfil(self, *, key: str, on: date, actor: str) -> None:
        followup.fulfil_commitment(self.rt, self.commitments[key], done_on=on, actor=actor)

    def visit(
        self,
        *,
        case: int,
        group: _Group,
        on: date,
        findings: str,
        active: bool,
        members: int,
        income: Decimal,
        actor: str,
    ) -> None:
        followup.record_visit(
            self.rt,
            {
                "case_id": self.case_ids[case],
                "enterprise_id": self.enterprises[group.key],
                "visited_on": on,
                "findings": findings,
                "active": active,
                "members": members,
                "monthly_income": income,
            },
            actor=actor,
        )


#: Demo staff who chose the daily digest, and who read English; the others: immediate, pt-BR.
DIGEST_READERS = frozenset({"ana.souza", "raimundo.costa"})
ENGLISH_READERS = frozenset({"luana.barros", MANAGER})
_ZONES = {"Nordeste": "America/Fortaleza", "Norte": "America/Belem"}


def add_demo_staff(
    rt: Runtime,
    *,
    password: str | None = None,
    territories: Mapping[str, set[str]] | None = None,
) -> list[str]:
    """Register the portfolio's coordinators (their UFs: ``territories``, or those of the cases
    they hold), supervisors (their region's UFs) and manager as users, the ones not there yet;
    with ``password`` they can log in too (those already there without a password get it).

    :func:`build_demo` calls it first (a case is assigned only to a coordinator of its UF) and
    drops the messages the portfolio's past events queued; the first sweep then tells each
    person what is due or late now.
    """
    from tasks.users import add_user, set_password

    with rt.db.read() as session:
        existing = set(session.execute(select(User.username)).scalars())
        without_password = set(
            session.execute(select(User.username).where(User.password_hash.is_(None))).scalars()
        )
        held = session.execute(
            select(Case.coordinator, Municipality.uf, Municipality.region)
            .join(Municipality, Municipality.ibge_code == Case.municipality_code)
            .where(Case.coordinator.is_not(None))
            .distinct()
        ).all()
        ufs_of_region: dict[str, set[str]] = {}
        for uf, region in session.execute(select(Municipality.uf, Municipality.region).distinct()):
            ufs_of_region.setdefault(region, set()).add(uf)
    region_of_uf = {uf: region for region, ufs in ufs_of_region.items() for uf in ufs}
    regions: dict[str, str] = {}
    if territories is None:
        territories = {}
        for coordinator, uf, _region in held:
            assert coordinator is not None  # filtered by the query
            territories.setdefault(coordinator, set()).add(uf)
    for coordinator, ufs in territories.items():
        regions[coordinator] = region_of_uf[min(ufs)]
    people: list[dict[str, Any]] = [
        {
            "username": name,
            "role": "coordinator",
            "territories": sorted(territories[name]),
            "timezone": _ZONES.get(regions[name], "America/Sao_Paulo"),
        }
        for name in sorted(territories)
    ]
    people += [
        {
            "username": name,
            "role": "supervisor",
            "territories": sorted(ufs_of_region.get(region, ())),
            "timezone": _ZONES[region],
        }
        for region, name in sorted(SUPERVISORS.items())
    ]
    people.append({"username": MANAGER, "role": "manager", "timezone": "America/Sao_Paulo"})
    added = []
    for person in people:
        name = person["username"]
        if name in existing:
            if password is not None and name in without_password:
                set_password(rt, name, password, actor="system")
            continue
        add_user(
            rt,
            {
                **person,
                "name": " ".join(part.capitalize() for part in name.split(".")),
                "email": f"{name}@produzir.example",
                "language": "en" if name in ENGLISH_READERS else "pt-BR",
                "delivery": "digest" if name in DIGEST_READERS else "immediate",
            },
            actor="system",
        )
        if password is not None:
            set_password(rt, name, password, actor="system")
        added.append(name)
    return added


def demo_is_needed(rt: Runtime) -> bool:
    """True when the database has no case yet (the demo fills an empty database only)."""
    with rt.db.read() as session:
        return session.execute(select(Case.id).limit(1)).first() is None


def build_demo(rt: Runtime, clock: FixedClock, *, cases: int = 200, seed: int = 2026) -> DemoReport:
    """Fill an empty database with a portfolio of ``cases`` demands; the clock is moved.

    ``clock`` is the :class:`~states.clock.FixedClock` the runtime reads (``rt.clock``); it is
    moved forward step by step from June 2024 and left at :data:`FINAL_AT`.
    """
    if cases < 1:
        raise InvalidInput(f"cases must be at least 1, not {cases}", field="cases")
    if clock is not rt.clock:
        raise InvalidInput("the demo's clock must be the runtime's clock", field="clock")
    if not demo_is_needed(rt):
        raise InvalidInput("the database already has cases; the demo fills an empty one only")
    writer = _plan(Random(seed), cases, _load_munis(rt), rt.lifecycle.config)
    territories = dict(writer.assigned)
    for planned in writer.cases.values():
        territories.setdefault(_COORDINATOR_OF_UF[planned.muni.uf], set()).add(planned.muni.uf)
    add_demo_staff(rt, territories=territories)
    steps = sorted(writer.out, key=lambda s: (s.at, s.case, s.order))
    player = _Player(rt, seed)
    for step in steps:
        clock.set(step.at)
        try:
            step.do(player)
        except ProduzirError as exc:
            raise RuntimeError(f"demo step failed at {step.at}: {step.what}: {exc}") from exc
    clock.set(FINAL_AT)
    _archive_some(rt)
    with rt.db.write() as session:  # the portfolio's past events notify no one
        session.execute(delete(OutboxMessage))
    return _report(rt, len(player.case_ids), seed)


def _archive_some(rt: Runtime) -> None:
    """Archive every other rejection whose appeal window closed, as the deadline sweep would
    (the sweep archives the rest the first time it runs): both states appear in the demo."""
    with rt.db.read() as session:
        closed = list(
            session.execute(
                select(Case.id)
                .where(Case.state == State.INDEFERIDA.value, Case.due_on < FINAL_DAY)
                .order_by(Case.id)
            ).scalars()
        )
    for case_id in closed[::2]:
        ops.advance(rt, case_id, "arquivar", {}, actor="system")


def _report(rt: Runtime, cases: int, seed: int) -> DemoReport:
    """What the database holds after the demo."""

    def count(model: Any, *where: Any) -> int:
        return int(
            session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        )

    def grouped(column: Any) -> dict[Any, int]:
        rows = session.execute(select(column, func.count()).group_by(column)).all()
        return {key: int(n) for key, n in rows}

    today, big = FINAL_DAY, 1_000_000
    with rt.db.read() as session:
        per_state = grouped(Case.state)
        coordinators = sorted(
            c
            for c in session.execute(select(Case.coordinator).distinct()).scalars()
            if c is not None
        )
        forms = grouped(Enterprise.legal_form)
        report = DemoReport(
            cases=cases,
            events=count(AuditEvent),
            per_state={s.value: per_state.get(s.value, 0) for s in ALL},
            coordinators=coordinators,
            final_date=FINAL_DAY,
            seed=seed,
            people=count(Person),
            training_events=dict(sorted(grouped(TrainingEvent.kind).items())),
            enterprises=count(Enterprise),
            legal_forms={str(k or "none"): n for k, n in sorted(forms.items(), key=str)},
            visits=count(Visit),
            open_obligations=len(obligations.list_obligations(session, today=today, limit=big)),
            overdue_obligations=len(
                obligations.list_obligations(session, today=today, overdue=True, limit=big)
            ),
        )
    return report
