"""Signed checkpoints of the audit log: Ed25519 keys, key ids, and the bytes that are signed.

A checkpoint says "the log named ``log`` had ``tree_size`` entries with root ``root_hash`` at
``timestamp``", signed with the key ``key_id``. The signature input is the RFC 8785 (JCS)
canonical form of the object ``{"key_id", "kind", "log", "root_hash", "timestamp",
"tree_size"}`` with ``kind`` the constant :data:`CHECKPOINT_KIND` (domain separation: no other
object the system signs can be taken for a checkpoint). A key id is the first 16 hexadecimal
digits of SHA-256 over the 32 raw bytes of the Ed25519 public key.

The private key lives in a PEM file (PKCS#8) named by a setting, never in the database. Public
keys are trusted through a :class:`Keyring` (a text file of ``key_id ed25519:BASE64`` lines), so
checkpoints signed with a retired key still verify after a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from states.errors import InvalidInput
from states.text import N_, Text

CHECKPOINT_KIND = "produzir-checkpoint/v1"
_FIELDS = ("key_id", "log", "root_hash", "signature", "timestamp", "tree_size")


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """``ed25519:BASE64`` of the raw public key: how keys are written in keyrings and bundles."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode("ascii")


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key from ``ed25519:BASE64`` or a PEM text."""
    text = text.strip()
    try:
        if text.startswith("ed25519:"):
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(text[8:], validate=True))
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidInput(
            N_("not an Ed25519 public key: %(error)s", error=str(exc)), field="key"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(N_("the public key is not an Ed25519 key"), field="key")
    return key


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the log's size and root at a time."""

    log: str
    tree_size: int
    root_hash: str  # hex
    timestamp: str  # RFC 3339, UTC, microseconds, "Z"
    key_id: str
    signature: str  # base64 of the 64-byte Ed25519 signature

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.log, self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "kind": CHECKPOINT_KIND,
            "log": self.log,
            "root_hash": self.root_hash,
            "signature": self.signature,
            "timestamp": self.timestamp,
            "tree_size": self.tree_size,
        }

    def line(self) -> str:
        """The checkpoint as one line of the checkpoint file (canonical JSON)."""
        return rfc8785.dumps(self.to_json()).decode("utf-8")

    @classmethod
    def from_json(cls, value: Any, where: Text | str | None = None) -> Checkpoint:
        """Parse and type-check a checkpoint object; :class:`InvalidInput` names what is wrong."""
        where = N_("the checkpoint") if where is None else where
        if not isinstance(value, dict):
            raise InvalidInput(
                N_("%(where)s is not a JSON object", where=where), field="checkpoint"
            )
        if value.get("kind", CHECKPOINT_KIND) != CHECKPOINT_KIND:
            raise InvalidInput(
                N_(
                    "%(where)s is not a Produzir checkpoint (kind %(kind)s)",
                    where=where,
                    kind=repr(value.get("kind")),
                ),
                field="checkpoint",
            )
        missing = [f for f in _FIELDS if f not in value]
        if missing:
            raise InvalidInput(
                N_("%(where)s lacks %(fields)s", where=where, fields=", ".join(missing)),
                field="checkpoint",
            )
        size = value["tree_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(
                N_("%(where)s: tree_size must be a whole number", where=where), field="tree_size"
            )
        for name in ("log", "root_hash", "timestamp", "key_id", "signature"):
            if not isinstance(value[name], str):
                raise InvalidInput(
                    N_("%(where)s: %(field)s must be a string", where=where, field=name),
                    field=name,
                )
        try:
            if len(bytes.fromhex(value["root_hash"])) != 32:
                raise ValueError
        except ValueError:
            raise InvalidInput(
                N_("%(where)s: root_hash must be 64 hexadecimal digits", where=where),
                field="root_hash",
            ) from None
        return cls(
            log=value["log"],
            tree_size=size,
            root_hash=value["root_hash"],
            timestamp=value["timestamp"],
            key_id=value["key_id"],
            signature=value["signature"],
        )


def signed_bytes(log: str, tree_size: int, root_hash: str, timestamp: str, key_id: str) -> bytes:
    """The exact bytes an Ed25519 checkpoint signature covers."""
    return rfc8785.dumps(
        {
            "key_id": key_id,
            "kind": CHECKPOINT_KIND,
            "log": log,
            "root_hash": root_hash,
            "timestamp": timestamp,
            "tree_size": tree_size,
        }
    )


class Signer:
    """The private key that signs checkpoints."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def load(cls, path: Path) -> Signer:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(
                N_(
                    "the audit signing key %(path)s does not exist (produzir audit keygen makes "
                    "one)",
                    path=str(path),
                ),
                field="PRODUZIR_AUDIT_KEY_FILE",
            ) from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                N_(
                    "%(path)s is not an unencrypted PEM private key: %(error)s",
                    path=str(path),
                    error=str(exc),
                ),
                field="PRODUZIR_AUDIT_KEY_FILE",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput(
                N_("%(path)s is not an Ed25519 key", path=str(path)),
                field="PRODUZIR_AUDIT_KEY_FILE",
            )
        return cls(key)

    @classmethod
    def generate(cls, path: Path) -> Signer:
        """Make a new key in ``path`` (readable by its owner only); refuses to overwrite."""
        if path.exists():
            raise InvalidInput(
                N_("%(path)s exists already; choose another file", path=str(path)), field="out"
            )
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return cls(key)

    def sign(self, log: str, tree_size: int, root_hash: str, timestamp: str) -> Checkpoint:
        body = signed_bytes(log, tree_size, root_hash, timestamp, self.key_id)
        signature = base64.b64encode(self._private.sign(body)).decode("ascii")
        return Checkpoint(log, tree_size, root_hash, timestamp, self.key_id, signature)


class Keyring:
    """The public keys whose checkpoints are trusted, by key id."""

    def __init__(self, keys: dict[str, Ed25519PublicKey] | None = None) -> None:
        self.keys: dict[str, Ed25519PublicKey] = dict(keys or {})

    def add(self, public: Ed25519PublicKey) -> str:
        key_id = key_id_of(public)
        self.keys[key_id] = public
        return key_id

    @classmethod
    def load(cls, path: Path | None, *, also: Signer | None = None) -> Keyring:
        """Read a keyring file (missing: empty); the signer's own key is always trusted."""
        ring = cls()
        if path is not None and path.exists():
            for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 2:
                    raise InvalidInput(
                        N_(
                            "%(path)s line %(line)s: expected 'KEY_ID ed25519:BASE64'",
                            path=str(path),
                            line=str(number),
                        ),
                        field="PRODUZIR_AUDIT_TRUSTED_KEYS",
                    )
                key = parse_public(parts[1])
                if key_id_of(key) != parts[0]:
                    raise InvalidInput(
                        N_(
                            "%(path)s line %(line)s: key id %(key)s does not match its key "
                            "(%(actual)s)",
                            path=str(path),
                            line=str(number),
                            key=parts[0],
                            actual=key_id_of(key),
                        ),
                        field="PRODUZIR_AUDIT_TRUSTED_KEYS",
                    )
                ring.keys[parts[0]] = key
        if also is not None:
            ring.keys[also.key_id] = also.public
        return ring

    @staticmethod
    def append_to(path: Path, public: Ed25519PublicKey) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{key_id_of(public)} {public_text(public)}\n")

    def check(self, checkpoint: Checkpoint) -> Text | None:
        """``None`` when the signature is good; otherwise why not (unknown key, bad signature)."""
        key = self.keys.get(checkpoint.key_id)
        if key is None:
            return N_("unknown key id %(key)s", key=checkpoint.key_id)
        try:
            key.verify(
                base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_bytes()
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return N_("the signature does not verify with key %(key)s", key=checkpoint.key_id)
        return None


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    """Every checkpoint of a file: JSON lines, or one JSON object or array."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InvalidInput(N_("%(path)s does not exist", path=str(path)), field="against") from None
    except UnicodeDecodeError:
        raise InvalidInput(
            N_("%(path)s is not UTF-8 text", path=str(path)), field="against"
        ) from None
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(N_("%(path)s holds no checkpoint", path=str(path)), field="against")
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                N_("%(path)s is not valid JSON: %(error)s", path=str(path), error=str(exc)),
                field="against",
            ) from None
        return [
            Checkpoint.from_json(v, N_("%(path)s item %(item)s", path=str(path), item=str(i)))
            for i, v in enumerate(items, 1)
        ]
    found: list[Checkpoint] = []
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [Checkpoint.from_json(whole, str(path))]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                N_(
                    "%(path)s line %(line)s is not valid JSON: %(error)s",
                    path=str(path),
                    line=str(number),
                    error=exc.msg,
                ),
                field="against",
            ) from None
        found.append(
            Checkpoint.from_json(
                value, N_("%(path)s line %(line)s", path=str(path), line=str(number))
            )
        )
    return found
