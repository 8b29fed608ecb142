"""A case's proof bundle: its entries, their inclusion proofs and a signed checkpoint.

An auditor carries the bundle away and checks it with no database (:func:`check`): each entry's
bytes are canonical JSON of that case, hash to a leaf, and the leaf's inclusion proof leads to
the root the checkpoint signs; the checkpoint's signature verifies with the auditor's copy of
the public key. The bundle's layout is in the README ("Proof bundles").
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlalchemy.orm import Session

from states import audit, merkle
from states.errors import InvalidInput
from states.signing import Checkpoint, Keyring, key_id_of, parse_public, public_text
from states.text import N_, Np_, Text, join

BUNDLE_FORMAT = "produzir-proof/v1"
_CASE_ENTRIES = text(
    "SELECT seq, leaf_index, entry FROM audit_events WHERE case_id = :c ORDER BY seq"
)


def build(
    session: Session, case_id: int, checkpoint: Checkpoint, public: Ed25519PublicKey
) -> dict[str, Any]:
    """The bundle of ``case_id`` against ``checkpoint`` (entries it does not cover are listed)."""
    size = checkpoint.tree_size
    rows = session.execute(_CASE_ENTRIES, {"c": case_id}).all()
    covered = [int(leaf) for _, leaf, _ in rows if leaf is not None and leaf < size]
    # every subtree the proofs read, fetched together (a query per level, not one per node)
    node = audit.fetched_nodes(
        session,
        merkle.nodes_needed(lambda n: [merkle.inclusion_proof(i, size, n) for i in covered]),
    )
    entries: list[dict[str, Any]] = []
    later: list[int] = []
    for seq, leaf, entry in rows:
        if leaf is None or leaf >= size:
            later.append(int(seq))
            continue
        proof = merkle.inclusion_proof(int(leaf), size, node)
        entries.append(
            {
                "seq": int(seq),
                "leaf_index": int(leaf),
                "entry": entry,
                "inclusion_proof": [p.hex() for p in proof],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "case_id": case_id,
        "checkpoint": checkpoint.to_json(),
        "public_key": {"key_id": key_id_of(public), "key": public_text(public)},
        "entries": entries,
        "not_yet_checkpointed": later,
    }


@dataclass
class BundleCheck:
    """The result of checking a bundle offline."""

    case_id: int
    checked: int
    checkpoint: Checkpoint
    key_from_bundle: bool
    problem: Text | None = None
    notes: list[Text] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _field(value: dict[str, Any], name: str, kind: type | tuple[type, ...], where: Text) -> Any:
    if name not in value:
        raise InvalidInput(N_("%(where)s lacks %(field)s", where=where, field=name), field=name)
    found = value[name]
    if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
        raise InvalidInput(
            N_("%(where)s: %(field)s has the wrong type", where=where, field=name), field=name
        )
    return found


def check(bundle: Any, trusted: Ed25519PublicKey | None = None) -> BundleCheck:
    """Check a bundle; malformed input raises :class:`InvalidInput`, a failed proof is a problem."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(
            N_("not a Produzir proof bundle (format %(format)s expected)", format=BUNDLE_FORMAT)
        )
    the_bundle = N_("the bundle")
    case_id = _field(bundle, "case_id", int, the_bundle)
    checkpoint = Checkpoint.from_json(
        _field(bundle, "checkpoint", dict, the_bundle), N_("the bundle's checkpoint")
    )
    key_info = _field(bundle, "public_key", dict, the_bundle)
    from_bundle = trusted is None
    key = trusted if trusted is not None else parse_public(str(key_info.get("key", "")))
    entries = _field(bundle, "entries", list, the_bundle)
    result = BundleCheck(case_id, 0, checkpoint, from_bundle)
    if from_bundle:
        result.notes.append(
            N_(
                "the public key was taken from the bundle (key id %(key)s): compare it with the "
                "key the programme publishes, or give --key",
                key=key_id_of(key),
            )
        )
    why = Keyring({key_id_of(key): key}).check(checkpoint)
    if why is not None:
        result.problem = N_(
            "the checkpoint (size %(size)s): %(why)s", size=checkpoint.tree_size, why=why
        )
        return result
    root = bytes.fromhex(checkpoint.root_hash)
    versions: list[int] = []
    for number, item in enumerate(entries, start=1):
        where = N_("entry %(number)s of the bundle", number=str(number))
        if not isinstance(item, dict):
            raise InvalidInput(N_("%(where)s is not a JSON object", where=where))
        seq = _field(item, "seq", int, where)
        leaf_index = _field(item, "leaf_index", int, where)
        entry = _field(item, "entry", str, where)
        proof_hex = _field(item, "inclusion_proof", list, where)
        name = N_("the entry at leaf %(leaf)s (seq %(seq)s)", leaf=str(leaf_index), seq=seq)
        try:
            data = json.loads(entry)
            canonical = rfc8785.dumps(data).decode("utf-8") == entry
        except (json.JSONDecodeError, rfc8785.CanonicalizationError, TypeError):
            data, canonical = None, False
        if not canonical or not isinstance(data, dict):
            result.problem = N_("%(entry)s is not canonical JSON: it was changed", entry=name)
            return result
        if data.get("case_id") != case_id or data.get("seq") != seq:
            result.problem = N_(
                "%(entry)s is not entry %(seq)s of case %(case_id)s: it was changed",
                entry=name,
                seq=seq,
                case_id=case_id,
            )
            return result
        try:
            proof = [bytes.fromhex(p) for p in proof_hex]
            reached = merkle.root_from_inclusion(
                leaf_index, checkpoint.tree_size, merkle.leaf_hash(entry.encode("utf-8")), proof
            )
        except (ValueError, TypeError, binascii.Error) as exc:
            result.problem = N_(
                "%(entry)s: its inclusion proof is malformed (%(error)s)",
                entry=name,
                error=str(exc),
            )
            return result
        if reached != root:
            result.problem = N_(
                "%(entry)s: its inclusion proof does not lead to the checkpoint's root: the "
                "entry or its proof was changed",
                entry=name,
            )
            return result
        if isinstance(data.get("case_version"), int) and data.get("record_type") is None:
            versions.append(data["case_version"])
        result.checked += 1
    if versions:
        gaps = sorted(set(range(1, max(versions) + 1)) - set(versions))
        if gaps:
            result.notes.append(
                N_(
                    "the case's versions %(versions)s have no entry in the bundle (the bundle is "
                    "incomplete)",
                    versions=join([str(g) for g in gaps]),
                )
            )
    later = bundle.get("not_yet_checkpointed") or []
    if later:
        result.notes.append(
            Np_(
                "%(n)s newer entry was not yet covered by a checkpoint and is not proven",
                "%(n)s newer entries were not yet covered by a checkpoint and are not proven",
                len(later),
            )
        )
    return result
