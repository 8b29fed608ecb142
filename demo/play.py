"""The playing of the portfolio: each step through the coordinator's operations.

:class:`Player` calls the same operations a coordinator's command or click does: demands and
transitions (:mod:`tasks.demands`, :mod:`tasks.cases`), people and their pre-registration
(:mod:`tasks.people`), training events with enrolments and daily attendance
(:mod:`tasks.trainings`; an ECC is closed with ``complete_event``, the bulk operation that
advances every case it served), enterprises and their legalisation steps
(:mod:`tasks.enterprises`), follow-up visits, CLAI and Protocol commitments
(:mod:`tasks.followup`). Every operation passes the same checks and guards, and lands in the
same hash-chained audit trail, as a coordinator's.

Participant lists and attendance sheets are written as a coordinator's spreadsheet import
would: one transaction per list, with the per-row functions of :mod:`tasks.people` and
:mod:`tasks.trainings` (``add_person``, ``preregister_in``, ``attend_in``); single late
registrations and attendance corrections use the one-row operations.

People are fictitious: names drawn from common first names and surnames
(:data:`demo.tables.FIRST_NAMES`, :data:`demo.tables.SURNAMES`), CPFs counted up from a
seed-dependent point in the ``900.xxx.xxx`` range with their check digits computed, phone
numbers in the unused ``9 0xxx`` range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from demo.tables import FIRST_NAMES, SURNAMES, UFS
from states.records import Clai, Protocol
from tasks import cases as ops
from tasks import enterprises, followup, hubs, partners, people, staff, trainings
from tasks.demands import DemandInput, register_demand
from tasks.runtime import Runtime

#: the demo's legal forms whose enterprises are microempresas (LC 123/2006 art. 3 I)
SMALL_BUSINESSES = frozenset({"sociedade_limitada"})

#: First fictitious CPF (9-digit base, before the check digits).
_CPF_BASE = 900_000_000


def _cpf(number: int) -> str:
    """The CPF whose 9-digit base is ``number``, with its two check digits."""
    digits = [int(d) for d in f"{number:09d}"]
    for first_weight in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(first_weight, 1, -1), strict=False))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def _person_name(number: int) -> str:
    """A fictitious name for person ``number`` (distinct for the first 64,000)."""
    f, s = len(FIRST_NAMES), len(SURNAMES)
    mixed = number * 7919 % (f * s * s)
    first, rest = mixed % f, mixed // f
    one, two = rest % s, rest // s
    if one == two:
        two = (two + 1) % s
    return f"{FIRST_NAMES[first]} {SURNAMES[one]} {SURNAMES[two]}"


@dataclass
class Group:
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


class Player:
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
        self.partners: dict[str, int] = {}  # name -> number in the register
        self.hubs: dict[int, int] = {}  # case -> its hub
        self.people: dict[int, list[int]] = {}  # case -> its participants, in order
        self.local: dict[int, list[int]] = {}  # municipality -> people registered there
        self.ecm_staff: dict[str, list[int]] = {}
        #: the roster: an instructor as the plan writes them ("Name (Organisation)"), or a
        #: user name -> staff number
        self.staff: dict[str, int] = {}
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
                    notified_on=ev.get("notified_on"),
                    means=ev.get("means"),
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
        phone = f"{UFS[uf].ddd}90{n * 7 % 10_000_000:07d}" if n % 10 < 7 else None
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

    def member(self, who: str, *, actor: str, user: bool = False) -> int:
        """The staff number of ``who`` (a user name, or "Name (Organisation)"), put on the
        roster the first time."""
        if who not in self.staff:
            if user:
                raw: dict[str, Any] = {"username": who, "role": "coordenação"}
            else:
                name, _, organisation = who.partition(" (")
                raw = {
                    "name": name,
                    "role": "instrutor",
                    "organisation": organisation.rstrip(")") or None,
                }
            self.staff[who] = staff.add_staff(self.rt, raw, actor=actor)
        return self.staff[who]

    def with_instructors(self, data: dict[str, Any], actor: str) -> dict[str, Any]:
        """The event's data with its instructors chosen from the roster."""
        names = data["instructors"]
        chosen = [self.member(n, actor=actor) for n in names]
        return {k: v for k, v in data.items() if k != "instructors"} | {"instructor_ids": chosen}

    def create_event(
        self,
        *,
        key: str,
        data: dict[str, Any],
        seats: list[tuple[int, list[int], list[int]]],
        actor: str,
    ) -> None:
        case_ids = [self.case_ids[case] for case, _, _ in seats]
        event_id = trainings.create_event(
            self.rt, {**self.with_instructors(data, actor), "case_ids": case_ids}, actor=actor
        )
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

    def ecm(
        self,
        *,
        key: str,
        data: dict[str, Any],
        coordinators: list[str],
        multipliers: list[str],
        actor: str,
    ) -> None:
        """A multiplier training for the programme's own people (its staff): the region's
        coordinators and external multipliers (up to 24)."""
        trainees = [self.member(u, actor=actor, user=True) for u in coordinators]
        trainees += [self.member(m, actor=actor) for m in multipliers]
        trainees = list(dict.fromkeys(trainees))[:24]
        self.events[key] = trainings.create_event(
            self.rt, self.with_instructors(data, actor), actor=actor
        )
        trainings.enrol_staff(self.rt, self.events[key], trainees, actor=actor)
        self.ecm_staff[key] = trainees

    def ecm_sheet(self, *, key: str, actor: str) -> None:
        if key not in self.events:
            return
        rt = self.rt
        with rt.db.write() as session, session.no_autoflush:
            event = trainings.get_event(session, self.events[key])
            days = trainings.event_days(event)
            for i, staff_id in enumerate(self.ecm_staff[key]):
                attended = days if i % 5 else days[:-1]
                trainings.attend_staff_in(session, rt, event, staff_id, attended, actor=actor)

    # -- enterprises

    def form(self, *, group: Group, key: str, actor: str) -> None:
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

    def join(self, *, group: Group, actor: str) -> None:
        persons = self.people[group.case]
        members = [persons[s] for s in group.later]
        enterprises.add_members(self.rt, self.enterprises[group.key], members, actor=actor)

    def legal_form(self, *, group: Group, actor: str) -> None:
        enterprises.set_legal_form(self.rt, self.enterprises[group.key], group.form, actor=actor)
        if group.form in SMALL_BUSINESSES:  # the demo's sociedades are microempresas (ME)
            enterprises.set_size_category(self.rt, self.enterprises[group.key], "me", actor=actor)

    def plan(self, *, group: Group, document: str, on: date, actor: str) -> None:
        enterprises.set_business_plan(
            self.rt, self.enterprises[group.key], document=document, approved_on=on, actor=actor
        )

    def step(
        self,
        *,
        group: Group,
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

    def no_cnpj(self, *, group: Group, reason: str, actor: str) -> None:
        enterprises.set_no_cnpj_reason(self.rt, self.enterprises[group.key], reason, actor=actor)

    # -- follow-up

    def partner(self, name: str, sphere: str, actor: str) -> int:
        """The partner's number in the register, registering it the first time it is named."""
        if name not in self.partners:
            self.partners[name] = partners.add_partner(
                self.rt, name=name, sphere=sphere, actor=actor
            )
        return self.partners[name]

    def _named(self, named: list[tuple[str, str]], actor: str) -> list[int | str]:
        return [self.partner(name, sphere, actor) for name, sphere in named]

    def _hub(self, case: int) -> int:
        """The case's hub (read once: the follow-up comes after the hub decision)."""
        if case not in self.hubs:
            with self.rt.db.read() as session:
                self.hubs[case] = hubs.hub_of_case(session, self.case_ids[case])
        return self.hubs[case]

    def clai(self, *, case: int, on: date, members: list[tuple[str, str]], actor: str) -> None:
        """Install the CLAI of the case's hub, unless another case of the hub already did."""
        hub = self._hub(case)
        ids = self._named(members, actor)
        with self.rt.db.read() as session:
            if session.get(Clai, hub) is not None:
                return
        hubs.install_clai(self.rt, hub, installed_on=on, members=ids, actor=actor)

    def meeting(
        self,
        *,
        case: int,
        on: date,
        present: list[tuple[str, str]],
        decisions: list[str],
        actor: str,
    ) -> None:
        hub = self._hub(case)
        ids = self._named(present, actor)
        hubs.record_meeting(self.rt, hub, held_on=on, present=ids, decisions=decisions, actor=actor)

    def protocol(
        self, *, case: int, on: date, signatories: list[tuple[str, str]], actor: str
    ) -> None:
        """Sign the Protocol of the case's hub, unless another case of the hub already did."""
        hub = self._hub(case)
        ids = self._named(signatories, actor)
        with self.rt.db.read() as session:
            if session.get(Protocol, hub) is not None:
                return
        hubs.sign_protocol(self.rt, hub, signed_on=on, signatories=ids, actor=actor)

    def commitment(
        self,
        *,
        key: str,
        case: int,
        partner: tuple[str, str],
        action: str,
        due: date,
        actor: str,
    ) -> None:
        hub = self._hub(case)
        pid = self.partner(*partner, actor)
        self.commitments[key] = hubs.add_commitment(
            self.rt, hub, partner=pid, action=action, due_on=due, actor=actor
        )

    def fulfil(self, *, key: str, on: date, actor: str) -> None:
        hubs.fulfil_commitment(self.rt, self.commitments[key], done_on=on, actor=actor)

    def visit(
        self,
        *,
        case: int,
        group: Group,
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
