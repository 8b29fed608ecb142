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
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from console.common import By, Json, _app, runtime
from console.output import as_json, echo
from states import audit_proof
from states.audit_verify import Verification
from states.errors import InvalidInput
from states.signing import key_id_of, parse_public, public_text, read_checkpoint_file
from tasks import audit_log

app = _app("The audit log: verify it, sign checkpoints, prove a case's history, keys.", "audit")


def _progress() -> tuple[Any, Any]:
    """A Rich progress bar on a terminal; nothing when the output is piped."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("verifying"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} entries"),
        TimeRemainingColumn(),
        transient=True,
    )
    task = bar.add_task("verify", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


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
        "problem": result.problem.__dict__ if result.problem else None,
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
        raise InvalidInput("give --full or --from-checkpoint, not both")
    rt = runtime()
    anchors = read_checkpoint_file(against) if against else []
    bar, update = _progress()
    if bar is not None:
        bar.start()
    try:
        result = audit_log.verify_log(
            rt,
            actor=by,
            against=anchors,
            full=full or (bool(anchors) and not from_checkpoint),
            progress=update,
        )
    finally:
        if bar is not None:
            bar.stop()
    if as_json_:
        echo(as_json(_report(result)))
    elif result.ok:
        where = "from leaf 0" if result.full else f"from checkpoint size {result.start}"
        line = (
            f"audit log intact: {result.checked} entries checked {where}; tree of "
            f"{result.tree_size} leaves, root {result.root_hash}"
        )
        if result.checkpoint:
            line += (
                f"; extends the checkpoint of {result.checkpoint.timestamp} "
                f"(size {result.checkpoint.tree_size}, key {result.checkpoint.key_id})"
            )
        if anchors:
            line += f"; {len(anchors)} checkpoint(s) from {against} hold"
        if result.pending:
            line += f"; {result.pending} entries wait for the sequencer"
        echo(line)
    else:
        assert result.problem is not None
        p = result.problem
        where = f"leaf {p.leaf_index}" if p.leaf_index is not None else "the log"
        typer.echo(f"audit log BROKEN at {where} ({p.kind}): {p.detail}", err=True)
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
        echo(
            f"checkpoint #{published.checkpoint_id}: {cp.tree_size} entries, root "
            f"{cp.root_hash}, key {cp.key_id}, appended to {published.file}"
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
    echo(f"key {made.key_id} written to {out}")
    echo(f"public key: {public_text(made.public)}")
    echo(f"trusted keys: {rt.settings.trusted_keys_file()}")


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
    line = (
        f"proof of case {case_id}: {len(bundle['entries'])} entries against the checkpoint of "
        f"{cp['timestamp']} (size {cp['tree_size']}, key {cp['key_id']}), written to {out}"
    )
    if bundle["not_yet_checkpointed"]:
        line += f"; {len(bundle['not_yet_checkpointed'])} newer entries not yet covered"
    echo(line)


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
        raise InvalidInput(f"{file} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file} is not a JSON file: {exc}") from None
    trusted = None
    if key is not None:
        candidate = Path(key)
        trusted = parse_public(candidate.read_text("utf-8") if candidate.is_file() else key)
    result = audit_proof.check(bundle, trusted)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if not result.ok:
        typer.echo(f"proof REFUSED: {result.problem}", err=True)
        raise typer.Exit(1)
    cp = result.checkpoint
    echo(
        f"proof of case {result.case_id} holds: {result.checked} entries are in the log of "
        f"{cp.log!r} signed at {cp.timestamp} (size {cp.tree_size}, key "
        f"{key_id_of(trusted) if trusted else cp.key_id})"
    )
