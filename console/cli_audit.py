"""``produzir audit ...``: verify the log, sign checkpoints, make and check proofs, keys.

``verify`` and ``prove`` read the log as the auditor's pages do, ``checkpoint`` and ``keygen``
are administrator commands: each takes ``--by`` and is checked against
:data:`console.policy.COMMANDS`. ``check-proof`` and ``public-key`` use no database (a bundle
is checked offline by anyone) and take no ``--by``.

Exit codes of ``verify`` and ``check-proof``: 0 intact; 1 the log or the bundle fails, with
the first problem named; 2 bad input (a checkpoint file that is not ours, a malformed bundle),
nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, runtime
from console.common import out as say
from console.output import as_json, echo
from console.progress import progress_bar
from states import audit_proof
from states.audit_verify import Verification
from states.errors import InvalidInput
from states.signing import key_id_of, parse_public, public_text, read_checkpoint_file
from states.text import N_, Np_, Text, join
from tasks import audit_log

app = command_group(
    "The audit log: verify it, sign checkpoints, prove a case's history, keys.", "audit"
)


def _report(result: Verification) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "full": result.full,
        "start": result.start,
        "checked": result.checked,
        "tree_size": result.tree_size,
        "root_hash": result.root_hash,
        "pending": result.pending,
        "checkpoint": result.checkpoint.to_json() if result.checkpoint else None,
        "problem": result.problem.to_json() if result.problem else None,
    }


@app.command("verify")
def verify(
    by: By,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Checkpoints kept elsewhere (JSON lines, an object or an array): prove the "
            "log still extends them. Implies a full verification unless --from-checkpoint.",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Read every entry from the first leaf.")
    ] = False,
    from_checkpoint: Annotated[
        bool,
        typer.Option(
            "--from-checkpoint",
            help="Start from the newest checkpoint a verification passed before (the default "
            "without --against).",
        ),
    ] = False,
    as_json_: Json = False,
) -> None:
    """Verify the audit log on one snapshot; exit 0 intact, 1 naming the first problem."""
    if full and from_checkpoint:
        raise InvalidInput(N_("give --full or --from-checkpoint, not both"))
    rt = runtime()
    anchors = read_checkpoint_file(against) if against else []
    with progress_bar(N_("verifying the audit log"), N_("entries")) as update:
        result = audit_log.verify_log(
            rt,
            actor=by,
            against=anchors,
            full=full or (bool(anchors) and not from_checkpoint),
            progress=update,
        )
    if as_json_:
        echo(as_json(_report(result)))
    elif result.ok:
        where = (
            N_("from leaf 0")
            if result.full
            else N_("from checkpoint size %(size)s", size=result.start)
        )
        parts: list[Text] = [
            Np_(
                "audit log intact: %(n)s entry checked %(where)s",
                "audit log intact: %(n)s entries checked %(where)s",
                result.checked,
                where=where,
            ),
            Np_(
                "tree of %(n)s leaf, root %(root)s",
                "tree of %(n)s leaves, root %(root)s",
                result.tree_size,
                root=result.root_hash,
            ),
        ]
        if result.checkpoint:
            parts.append(
                N_(
                    "extends the checkpoint of %(timestamp)s (size %(size)s, key %(key)s)",
                    timestamp=result.checkpoint.timestamp,
                    size=result.checkpoint.tree_size,
                    key=result.checkpoint.key_id,
                )
            )
        if anchors:
            parts.append(
                Np_(
                    "%(n)s checkpoint from %(file)s holds",
                    "%(n)s checkpoints from %(file)s hold",
                    len(anchors),
                    file=str(against),
                )
            )
        if result.pending:
            parts.append(
                Np_(
                    "%(n)s entry waits for the sequencer",
                    "%(n)s entries wait for the sequencer",
                    result.pending,
                )
            )
        say(join(parts, "; "))
    else:
        assert result.problem is not None
        p = result.problem
        at = (
            N_("leaf %(leaf)s", leaf=str(p.leaf_index))
            if p.leaf_index is not None
            else N_("the log")
        )
        say(
            N_(
                "audit log BROKEN at %(where)s (%(kind)s): %(detail)s",
                where=at,
                kind=p.kind,
                detail=p.text,
            ),
            err=True,
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(by: By, as_json_: Json = False) -> None:
    """Integrate the backlog and sign a checkpoint now (the flows do it on a schedule)."""
    published = audit_log.publish_checkpoint(runtime())
    cp = published.checkpoint
    if as_json_:
        echo(as_json(cp.to_json()))
    else:
        say(
            Np_(
                "checkpoint #%(id)s: %(n)s entry, root %(root)s, key %(key)s, appended to %(file)s",
                "checkpoint #%(id)s: %(n)s entries, root %(root)s, key %(key)s, appended to "
                "%(file)s",
                cp.tree_size,
                id=published.checkpoint_id,
                root=cp.root_hash,
                key=cp.key_id,
                file=str(published.file),
            )
        )


@app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Where to write the new private key.")],
    by: By,
) -> None:
    """Make a new Ed25519 signing key; its public key joins the trusted keys (rotation).

    Point PRODUZIR_AUDIT_KEY_FILE at the new file to sign with it; checkpoints of the old key
    still verify while its public key stays in the trusted keys.
    """
    rt = runtime(migrated=False)
    made = audit_log.keygen(rt, out)
    say(N_("key %(key)s written to %(file)s", key=made.key_id, file=str(out)))
    say(N_("public key: %(key)s", key=public_text(made.public)))
    say(N_("trusted keys: %(file)s", file=str(rt.settings.trusted_keys_file())))


@app.command("public-key")
def public_key() -> None:
    """Print the signing key's id and public key (give it to auditors)."""
    key = audit_log.signer(runtime(migrated=False))
    echo(f"{key.key_id} {public_text(key.public)}")


@app.command("prove")
def prove(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle (JSON).")],
    by: By,
) -> None:
    """Write the case's proof bundle: its entries, inclusion proofs, a signed checkpoint."""
    bundle = audit_log.prove_case(runtime(), case_id)
    out.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n", "utf-8")
    cp = bundle["checkpoint"]
    parts: list[Text] = [
        Np_(
            "proof of case %(case_id)s: %(n)s entry against the checkpoint of %(timestamp)s "
            "(size %(size)s, key %(key)s), written to %(file)s",
            "proof of case %(case_id)s: %(n)s entries against the checkpoint of %(timestamp)s "
            "(size %(size)s, key %(key)s), written to %(file)s",
            len(bundle["entries"]),
            case_id=case_id,
            timestamp=cp["timestamp"],
            size=cp["tree_size"],
            key=cp["key_id"],
            file=str(out),
        )
    ]
    if bundle["not_yet_checkpointed"]:
        parts.append(
            Np_(
                "%(n)s newer entry not yet covered",
                "%(n)s newer entries not yet covered",
                len(bundle["not_yet_checkpointed"]),
            )
        )
    say(join(parts, "; "))


@app.command("check-proof")
def check_proof(
    file: Annotated[Path, typer.Argument(help="The bundle written by `audit prove`.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The programme's public key (ed25519:BASE64, a PEM file, or a file holding "
            "either); without it the bundle's own key is used, and said so.",
        ),
    ] = None,
) -> None:
    """Check a proof bundle offline, with no database; exit 0 good, 1 refused, 2 malformed."""
    try:
        bundle = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise InvalidInput(N_("%(path)s does not exist", path=str(file))) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            N_("%(path)s is not a JSON file: %(error)s", path=str(file), error=str(exc))
        ) from None
    trusted = None
    if key is not None:
        candidate = Path(key)
        trusted = parse_public(candidate.read_text("utf-8") if candidate.is_file() else key)
    result = audit_proof.check(bundle, trusted)
    for note in result.notes:
        say(N_("note: %(note)s", note=note), err=True)
    if not result.ok:
        assert result.problem is not None
        say(N_("proof REFUSED: %(problem)s", problem=result.problem), err=True)
        raise typer.Exit(1)
    cp = result.checkpoint
    say(
        Np_(
            "proof of case %(case_id)s holds: %(n)s entry is in the log of %(log)s signed at "
            "%(timestamp)s (size %(size)s, key %(key)s)",
            "proof of case %(case_id)s holds: %(n)s entries are in the log of %(log)s signed at "
            "%(timestamp)s (size %(size)s, key %(key)s)",
            result.checked,
            case_id=result.case_id,
            log=repr(cp.log),
            timestamp=cp.timestamp,
            size=cp.tree_size,
            key=key_id_of(trusted) if trusted else cp.key_id,
        )
    )
