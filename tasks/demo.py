"""A realistic demo portfolio, built through the same operations a coordinator uses.

:func:`build_demo` registers about ``cases`` demands in real municipalities of the Northeast
semi-arid and the North and moves each one through the lifecycle with
:func:`tasks.demands.register_demand`, :func:`tasks.cases.advance` and its wrappers: every event
passes the same guards, and lands in the same hash-chained audit trail, as a coordinator's.

The portfolio is planned first, then played. Each case gets a final state (every state of
:data:`states.states.ALL` is represented), a timeline of days spent in each state, and, by
chance, extensions, suspensions that resumed, rejections and appeals, cancellations, reopenings
(requested by a coordinator, decided by the manager), reassignments and notes. All the steps of
all the cases are then sorted by instant and played in that order, with the caller's
:class:`~states.clock.FixedClock` moved forward to each step's instant, from early June 2024 to
the final date (20 November 2026). Every date in the evidence is therefore on or before the day
it is recorded, and the histories interleave as they would have in real life.

Evidence carries no person's name or CPF: only organisations, staff user names and the
instructors of the field training. The same ``seed`` gives the same portfolio, down to the
audit chain's hashes.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

from sqlalchemy import func, select
from validate_docbr import CNPJ

from states.clock import FixedClock
from states.config import LifecycleConfig
from states.deadlines import add_months
from states.errors import InvalidInput
from states.models import Case, Municipality
from states.states import ALL, MAIN_PATH, State
from tasks import cases as ops
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
    State.REGISTRADA: 8,
    State.EM_ANALISE: 16,
    State.POLO_DEFINIDO: 12,
    State.MOBILIZACAO: 14,
    State.CAPACITACAO: 14,
    State.GESTAO: 10,
    State.LEGALIZACAO: 16,
    State.ACOMPANHAMENTO: 38,
    State.AVALIACAO: 10,
    State.CONCLUIDA: 30,
    State.SUSPENSA: 10,
    State.INDEFERIDA: 10,
    State.CANCELADA: 12,
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
_NO_CNPJ_FILED = (
    "Registro com exigência pendente na junta comercial; a inscrição no CNPJ aguarda o "
    "deferimento.",
    "Inscrição no CNPJ solicitada à Receita Federal e ainda em análise.",
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
    """One operation to play: when, on which planned case, by whom, with what."""

    at: datetime
    case: int
    order: int
    event: str
    actor: str
    evidence: dict[str, Any]
    note: str | None = None
    demand: DemandInput | None = None


@dataclass(frozen=True)
class DemoReport:
    """What :func:`build_demo` did."""

    cases: int
    events: int
    per_state: dict[str, int]
    coordinators: list[str]
    final_date: date
    seed: int


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
    """Draws the days of one case's history (offsets from its registration), no dates yet."""

    def __init__(self, rng: Random, mods: _Mods) -> None:
        self.rng = rng
        self.mods = mods
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
            # concluded `tail` days after its last day
            lead, days, tail = rng.randint(1, 4), rng.randint(41, 45), rng.randint(0, 3)
            dwell = lead + days - 1 + tail
            leave_info = {"ecc_days": days, "tail": tail}
            if dwell > 45:
                inner.append((rng.randint(35, 44), "prorrogar", {"ecc_start": lead}))
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
            self.add(self.t + rng.randint(38, min(44, dwell)), "prorrogar", ecc_start=2)
        if dwell >= 2 and rng.random() < 0.3:
            self.add(self.t + rng.randint(1, dwell), "anotar")


def _final_dwell(rng: Random, state: State, config: LifecycleConfig) -> int:
    """Days a case has spent in its final active state at the end (a fifth are overdue)."""
    rule = config.deadlines[state.value]
    deadline = rule.days if rule.days is not None else 366
    if rng.random() < 0.2:
        return deadline + rng.randint(2, 45)
    return rng.randint(0, max(0, deadline - 2))


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


def _timeline(rng: Random, target: State, mods: _Mods, config: LifecycleConfig) -> _Plan:
    """Draw the timeline of a case that ends in ``target``."""
    tl = _Timeline(rng, mods)
    plan = _draw(tl, rng, target, mods, config)
    tl.moves.sort(key=lambda m: m.offset)
    return plan


def _draw(tl: _Timeline, rng: Random, target: State, mods: _Mods, config: LifecycleConfig) -> _Plan:
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
        weights=(1, 2, 2, 3, 2, 1, 1, 1, 2, 2),
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


@dataclass
class _Group:
    name: str
    activity: str
    form: str
    members: int


#: Legal forms: (weight, fewest members, most members).
_FORMS: dict[str, tuple[int, int, int]] = {
    "cooperativa": (30, 20, 35),
    "associacao": (30, 10, 30),
    "cooperativa_trabalho": (15, 7, 15),
    "economia_solidaria": (15, 6, 18),
    "mei": (5, 1, 1),
    "me_epp": (5, 2, 5),
}


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
    state: str = State.REGISTRADA.value
    entered: date = START_DAY
    previous: str | None = None
    suspended_on: date | None = None
    pre_registered: int = 0
    groups: list[_Group] = field(default_factory=list)


_ARTICLES = {
    "Assentamento": "do",
    "Sítio": "do",
    "Distrito": "do",
    "Povoado": "do",
    "Projeto de Irrigação": "do",
    "Perímetro Irrigado": "do",
}


class _Writer:
    """Turns timelines into dated steps with evidence that passes the guards."""

    def __init__(self, config: LifecycleConfig) -> None:
        self.config = config
        self.plans = 0

    def steps(self, rng: Random, case: _Case, moves: list[_Move], start: date) -> list[_Step]:
        base = rng.randint(0, 240)
        out: list[_Step] = []
        for order, move in enumerate(moves):
            day = start + timedelta(days=move.offset)
            minute = _FIRST_MINUTE + base + 2 * min(order, 60)
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC)
            out.append(self.step(rng, case, move, day, at, order))
        return out

    def step(
        self, rng: Random, case: _Case, move: _Move, day: date, at: datetime, order: int
    ) -> _Step:
        event, info = move.event, move.info
        actor = case.coordinator
        note: str | None = None
        evidence: dict[str, Any] = {}
        demand: DemandInput | None = None
        uf = case.muni.uf
        sebrae, agency, institute, university = _PARTNERS[uf]
        elapsed = (day - case.entered).days
        if event == "registrar":
            demand = self.demand(rng, case, day)
        elif event == "atribuir":
            actor = case.supervisor
            if info.get("reassign"):
                team = COORDINATORS_NE if case.muni.region == "Nordeste" else COORDINATORS_NORTE
                case.coordinator = rng.choice([c for c in team if c != case.coordinator])
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
            case.pre_registered = rng.randint(40, 120)
            others = [a for a in case.place.activities if a != case.activity]
            evidence = {
                "diagnosis": {
                    "completed_on": day - timedelta(days=rng.randint(0, min(12, elapsed))),
                    "vocations": [case.activity, *rng.sample(others, rng.randint(1, len(others)))],
                },
                "pre_registered": case.pre_registered,
            }
        elif event == "concluir_capacitacao":
            evidence = self.training(rng, case, day, info, institute, sebrae)
        elif event == "concluir_gestao":
            plans = []
            for group in case.groups:
                self.plans += 1
                approved = day - timedelta(days=rng.randint(0, min(10, elapsed)))
                plans.append(
                    {
                        "enterprise": group.name,
                        "approved_on": approved,
                        "document": f"PN-{uf}-{approved.year}-{self.plans:04d}",
                    }
                )
            evidence = {"business_plans": plans}
        elif event == "concluir_legalizacao":
            evidence = {"enterprises": [self.legal(rng, case, g, day) for g in case.groups]}
        elif event == "concluir_acompanhamento":
            evidence = self.follow_up(rng, case.entered, day)
        elif event == "concluir_avaliacao":
            active = [g for g in case.groups if rng.random() < 0.9] or case.groups[:1]
            members = max(0, sum(g.members for g in active) - rng.randint(0, 3))
            evidence = {
                "partner_report": {
                    "partner": university,
                    "delivered_on": day - timedelta(days=rng.randint(0, min(7, elapsed))),
                },
                "indicators": {
                    "enterprises_active": len(active),
                    "members": members,
                    "monthly_income_brl": f"{members * rng.uniform(180, 650):.2f}",
                },
            }
        elif event == "prorrogar":
            if case.state == State.CAPACITACAO.value:
                ecc_start = case.entered + timedelta(days=info.get("ecc_start", 2))
                evidence = {
                    "justification": (
                        f"ECC iniciado em {ecc_start:%d/%m/%Y}; certificação e formação dos "
                        "grupos terminam depois do prazo de 45 dias."
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
        self.follow(case, event, day, info)
        return _Step(at, case.index, order, event, actor, evidence, note, demand)

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
            cnpj = _cnpj(rng, alphanumeric=day >= date(2026, 7, 1) and rng.random() < 0.3)
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

    def training(
        self,
        rng: Random,
        case: _Case,
        day: date,
        info: dict[str, int],
        institute: str,
        sebrae: str,
    ) -> dict[str, Any]:
        days, tail = info["ecc_days"], info["tail"]
        end_on = day - timedelta(days=tail)
        start_on = end_on - timedelta(days=days - 1)
        enrolled = case.pre_registered - rng.randint(0, min(8, case.pre_registered - 40))
        certified = enrolled - rng.randint(2, 10)
        needed = math.ceil(self.config.thresholds.min_attendance * days)
        attendance = [rng.randint(needed, days) for _ in range(certified)]
        case.groups = self.groups(rng, case, certified)
        instructors = rng.sample(_INSTRUCTORS, rng.randint(2, 3))
        orgs = (sebrae, institute)
        venue = rng.choice(
            (
                f"Centro Comunitário {case.article} {case.community}",
                f"Sede da {case.proponent}",
                f"Escola Municipal {case.article} {case.community}",
                f"Salão Paroquial de {case.muni.name}",
            )
        )
        return {
            "start_on": start_on,
            "end_on": end_on,
            "venue": venue,
            "venue_municipality_code": case.muni.code,
            "instructors": [f"{n} ({orgs[i % 2]})" for i, n in enumerate(instructors)],
            "enrolled": enrolled,
            "certified_attendance_days": attendance,
            "enterprise_groups": [
                {"name": g.name, "activity": g.activity, "members": g.members} for g in case.groups
            ],
        }

    @staticmethod
    def groups(rng: Random, case: _Case, certified: int) -> list[_Group]:
        """1 to 3 enterprise groups whose members fit the certified and their legal forms."""
        wanted = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
        activities = [case.activity, *[a for a in case.place.activities if a != case.activity]]
        groups: list[_Group] = []
        left = certified
        for i in range(wanted):
            forms = [f for f, (_, low, _) in _FORMS.items() if low <= left]
            if not forms:
                break
            form = rng.choices(forms, weights=[_FORMS[f][0] for f in forms])[0]
            _, low, high = _FORMS[form]
            members = rng.randint(low, min(high, left))
            left -= members
            activity = activities[i % len(activities)]
            name = _enterprise_name(form, activity, case.short)
            if any(g.name.casefold() == name.casefold() for g in groups):
                name = f"{name} – Núcleo {i + 1}"
            groups.append(_Group(name, activity, form, members))
        return groups

    def legal(self, rng: Random, case: _Case, group: _Group, day: date) -> dict[str, Any]:
        """One enterprise's legalisation: founding act, filing within the limit, CNPJ or why not."""
        elapsed = max(1, (day - case.entered).days)
        founded = case.entered + timedelta(days=rng.randint(min(2, elapsed - 1), elapsed - 1))
        limit = self.config.thresholds.max_filing_days
        filed: date | None = founded + timedelta(days=rng.randint(2, limit))
        assert filed is not None
        filed = min(filed, day)
        record: dict[str, Any] = {
            "enterprise": group.name,
            "legal_form": group.form,
            "members": group.members,
            "founding_act_on": founded,
        }
        if group.form == "mei":
            filed = founded  # the Portal do Empreendedor registers and issues the CNPJ at once
        roll = rng.random()
        if group.form == "mei" or roll < 0.8:
            record["registry_filed_on"] = filed
            record["cnpj"] = _cnpj(
                rng, alphanumeric=filed >= date(2026, 7, 1) and rng.random() < 0.7
            )
        elif roll < 0.9:
            record["registry_filed_on"] = filed
            record["no_cnpj_reason"] = rng.choice(_NO_CNPJ_FILED)
        else:
            record["no_cnpj_reason"] = rng.choice(_NO_CNPJ_INFORMAL)
        return record

    def follow_up(self, rng: Random, entered: date, day: date) -> dict[str, Any]:
        """CLAI, Protocol and visits at most the configured interval apart over the period."""
        t = self.config.thresholds
        end = add_months(entered, t.follow_up_months)
        visits: list[date] = []
        visit = entered
        while (end - visit).days > t.visit_interval_days:
            visit += timedelta(days=rng.randint(55, t.visit_interval_days - 2))
            visits.append(visit)
        if rng.random() < 0.5 and day > end:
            visits.append(end + timedelta(days=rng.randint(0, (day - end).days)))
        clai = entered + timedelta(days=rng.randint(5, 30))
        return {
            "clai_installed_on": clai,
            "protocol_signed_on": clai + timedelta(days=rng.randint(0, 25)),
            "visits": visits,
        }

    @staticmethod
    def suspension_reason(rng: Random, case: _Case, day: date) -> str:
        if date(2024, 7, 15) <= day <= date(2024, 12, 20) and rng.random() < 0.5:
            return _ELECTION
        if case.muni.region == "Norte" and 2 <= day.month <= 6 and rng.random() < 0.6:
            return _FLOOD
        if case.muni.region == "Nordeste" and 8 <= day.month <= 12 and rng.random() < 0.4:
            return _DROUGHT
        return rng.choice(_SUSPENSION_REASONS)


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


def _plan(rng: Random, cases: int, munis: dict[int, _Muni], config: LifecycleConfig) -> list[_Step]:
    """Every step of every case, sorted by the instant it happens."""
    targets = _quota(cases)
    rng.shuffle(targets)
    mods = [_draw_mods(rng, t) for t in targets]
    _force(targets, mods)
    span = (FINAL_DAY - START_DAY).days
    writer = _Writer(config)
    steps: list[_Step] = []
    for index, (target, case_mods) in enumerate(zip(targets, mods, strict=True)):
        timing = Random(rng.getrandbits(64))
        detail = Random(rng.getrandbits(64))
        plan = _timeline(timing, target, case_mods, config)
        if plan.length > span:  # too long for the demo's period: the plain path
            plan = _timeline(timing, target, _Mods(), config)
        if plan.dwell is None:
            start = START_DAY + timedelta(days=timing.randint(0, span - plan.length))
        else:
            start = FINAL_DAY - timedelta(days=min(span, plan.length))
        place = timing.choice(PLACES)
        muni = munis[place.code]
        kind, short = timing.choice(place.communities)
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
            entered=start,
        )
        steps.extend(writer.steps(detail, case, plan.moves, start))
    steps.sort(key=lambda s: (s.at, s.case, s.order))
    return steps


def _play(
    rt: Runtime, clock_set: Callable[[datetime], None], step: _Step, ids: dict[int, int]
) -> None:
    """Run one step through the coordinator's operations."""
    clock_set(step.at)
    if step.demand is not None:
        ids[step.case] = register_demand(rt, step.demand, actor=step.actor).case_id
        return
    case_id, ev, actor = ids[step.case], step.evidence, step.actor
    match step.event:
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
            ops.resume(rt, case_id, actor=actor, note=step.note)
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
            ops.approve_reopening(rt, case_id, actor=actor, note=step.note)
        case "recusar_reabertura":
            ops.refuse_reopening(rt, case_id, justification=ev["justification"], actor=actor)
        case "anotar":
            ops.add_note(rt, case_id, ev["text"], actor=actor)
        case _:
            ops.advance(rt, case_id, step.event, ev, actor=actor, note=step.note)


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
    steps = _plan(Random(seed), cases, _load_munis(rt), rt.lifecycle.config)
    ids: dict[int, int] = {}
    for step in steps:
        _play(rt, clock.set, step, ids)
    clock.set(FINAL_AT)
    with rt.db.read() as session:
        counts: dict[str, int] = {
            state: int(n)
            for state, n in session.execute(
                select(Case.state, func.count()).group_by(Case.state)
            ).all()
        }
        coordinators = sorted(
            c
            for c in session.execute(select(Case.coordinator).distinct()).scalars()
            if c is not None
        )
    return DemoReport(
        cases=len(ids),
        events=len(steps),
        per_state={s.value: int(counts.get(s.value, 0)) for s in ALL},
        coordinators=coordinators,
        final_date=FINAL_DAY,
        seed=seed,
    )
