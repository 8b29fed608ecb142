"""The audit log as its users meet it: checkpoints, keys, proofs, verification, the sequencer.

Through the command line where a person would use it (`produzir audit ...`), and through the
operations for the faults no person can stage by hand (a sequencer killed mid-batch, two
sequencers at once).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from console.cli import app
from states import audit, audit_proof
from states.clock import FixedClock
from states.db import Database
from states.lifecycle import Lifecycle
from states.signing import Checkpoint, Keyring, Signer, parse_public, read_checkpoint_file
from tasks import audit_log
from tasks.cases import add_note
from tasks.runtime import Runtime
from tests.builders import cli_users, drive, new_case
from tests.integration.helpers import count_events, integrate, verify


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt, "admin")  # the audit commands that take --by run as an administrator
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


@pytest.fixture
def signed(rt: Runtime, cli: CliRunner, clock: FixedClock) -> Runtime:
    """Two cases with history, the development key made as `produzir run` makes it, and a
    checkpoint signed through the command line."""
    for target in ("polo_definido", "em_analise"):
        drive(rt, clock, new_case(rt), target)
    assert audit_log.ensure_key(rt) is not None
    run(cli, "audit", "checkpoint", "--by", "admin")
    return rt


def tables(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("audit_events", "audit_checkpoints", "audit_verifications", "audit_tree")
        }


# --- checkpoints and keys --------------------------------------------------------------------


def test_a_checkpoint_is_stored_appended_to_the_file_and_signed(signed: Runtime) -> None:
    lines = signed.settings.checkpoint_file().read_text("utf-8").splitlines()
    assert len(lines) == 1
    checkpoint = Checkpoint.from_json(json.loads(lines[0]))
    assert checkpoint.tree_size == count_events(signed.db)
    assert audit_log.keyring(signed).check(checkpoint) is None
    # the private key is a file of its owner's, never in the database
    key_file = signed.settings.key_file()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    pem = key_file.read_text("ascii")
    with signed.db.engine.connect() as connection:
        for table in ("audit_checkpoints", "audit_events", "audit_log_state"):
            dump = json.dumps(
                [list(map(str, r)) for r in connection.execute(text(f"SELECT * FROM {table}"))]
            )
            assert pem.split("\n")[1] not in dump


def test_verify_against_a_kept_file_and_incremental_by_default(
    signed: Runtime, cli: CliRunner, tmp_path: Path, clock: FixedClock
) -> None:
    kept = tmp_path / "kept.jsonl"
    kept.write_text(signed.settings.checkpoint_file().read_text("utf-8"), "utf-8")
    events = count_events(signed.db)
    out = run(cli, "audit", "verify", "--by", "admin", "--against", str(kept))
    assert f"audit log intact: {events} entries checked from leaf 0" in out
    assert f"1 checkpoint from {kept} holds" in out
    for _ in range(3):
        add_note(signed, 1, "mais uma nota", actor="ana")
    run(cli, "audit", "checkpoint", "--by", "admin")
    # the next verification starts from the checkpoint verified before: only the 3 new entries
    out = run(cli, "audit", "verify", "--by", "admin")
    assert f"audit log intact: 3 entries checked from checkpoint size {events}" in out
    report = json.loads(run(cli, "audit", "verify", "--by", "admin", "--full", "--json"))
    assert (report["ok"], report["full"], report["checked"]) == (True, True, events + 3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all\n", "line 1 is not valid JSON"),
        ('{"tree_size": 3}\n', "lacks key_id, log, root_hash, signature, timestamp"),
        ("", "holds no checkpoint"),
    ],
)
def test_a_checkpoint_file_that_is_malformed_is_refused_and_nothing_is_written(
    signed: Runtime, cli: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, "utf-8")
    before = tables(signed.db)
    err = run(cli, "audit", "verify", "--by", "admin", "--against", str(bad), code=2)
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert tables(signed.db) == before


def test_a_checkpoint_that_is_not_ours_is_refused(
    signed: Runtime, cli: CliRunner, tmp_path: Path
) -> None:
    ours = Checkpoint.from_json(
        json.loads(signed.settings.checkpoint_file().read_text("utf-8").splitlines()[0])
    )
    stranger = Signer.generate(tmp_path / "stranger.pem")
    foreign = stranger.sign(ours.log, ours.tree_size, ours.root_hash, ours.timestamp)
    forged = Checkpoint(**{**ours.__dict__, "tree_size": ours.tree_size + 1})
    before = tables(signed.db)
    for checkpoint, message in (
        (foreign, f"unknown key id {stranger.key_id}"),
        (forged, "the signature does not verify"),
    ):
        path = tmp_path / "c.json"
        path.write_text(checkpoint.line(), "utf-8")
        err = run(cli, "audit", "verify", "--by", "admin", "--against", str(path), code=2)
        assert "checkpoint 1 is not ours" in err
        assert message in err
    assert tables(signed.db) == before


def test_key_rotation_keeps_old_checkpoints_verifiable(
    signed: Runtime, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = audit_log.signer(signed)
    new_key = tmp_path / "keys" / "2027.pem"
    out = run(cli, "audit", "keygen", "--by", "admin", "--out", str(new_key))
    made = Signer.load(new_key)
    assert f"key {made.key_id} written to {new_key}" in out
    assert made.key_id != old.key_id
    # never overwrites a key
    run(cli, "audit", "keygen", "--by", "admin", "--out", str(new_key), code=2)
    monkeypatch.setenv("PRODUZIR_AUDIT_KEY_FILE", str(new_key))
    add_note(signed, 1, "depois da troca de chave", actor="ana")
    run(cli, "audit", "checkpoint", "--by", "admin")
    kept = read_checkpoint_file(signed.settings.checkpoint_file())
    assert [c.key_id for c in kept] == [old.key_id, made.key_id]
    report = json.loads(run(cli, "audit", "verify", "--by", "admin", "--full", "--json"))
    assert report["ok"], report["problem"]
    assert report["checkpoint"]["key_id"] == made.key_id
    # without the old public key among the trusted ones, its checkpoint no longer verifies
    trusted = tmp_path / "only-new.txt"
    Keyring.append_to(trusted, made.public)
    monkeypatch.setenv("PRODUZIR_AUDIT_TRUSTED_KEYS", str(trusted))
    refused = cli.invoke(app, ["audit", "verify", "--by", "admin", "--full", "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["problem"]["kind"] == "unknown_key"


# --- proofs ---------------------------------------------------------------------------------


def test_a_proof_bundle_checks_offline_and_one_changed_byte_is_refused(
    signed: Runtime, cli: CliRunner, tmp_path: Path
) -> None:
    add_note(signed, 1, "nota nova, ainda sem ponto de controle", actor="ana")
    out_file = tmp_path / "caso-1.json"
    said = run(cli, "audit", "prove", "--by", "admin", "1", "--out", str(out_file))
    # the newest entry was not covered: a checkpoint was signed for the proof
    assert "not yet covered" not in said
    public = tmp_path / "public.txt"
    public.write_text(run(cli, "audit", "public-key").split()[1], "utf-8")
    ok = run(cli, "audit", "check-proof", str(out_file), "--key", str(public))
    with signed.db.read() as session:
        entries = session.execute(
            text("SELECT count(*) FROM audit_events WHERE case_id = 1")
        ).scalar_one()
    assert f"proof of case 1 holds: {entries} entries" in ok
    bundle = json.loads(out_file.read_text("utf-8"))
    assert [e["seq"] for e in bundle["entries"]] == sorted(e["seq"] for e in bundle["entries"])

    raw = out_file.read_bytes()
    # one byte of an entry's text: the entry is named
    at = raw.index(b'\\"actor\\":\\"') + len(b'\\"actor\\":\\"')
    changed = tmp_path / "changed.json"
    changed.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :])
    err = run(cli, "audit", "check-proof", str(changed), "--key", str(public), code=1)
    first = bundle["entries"][0]
    assert f"the entry at leaf {first['leaf_index']} (seq {first['seq']})" in err
    # one digit of a proof hash
    tampered = json.loads(raw)
    victim = next(e for e in tampered["entries"] if e["inclusion_proof"])
    digit = victim["inclusion_proof"][0][0]
    victim["inclusion_proof"][0] = ("1" if digit == "0" else "0") + victim["inclusion_proof"][0][1:]
    (tmp_path / "proof.json").write_text(json.dumps(tampered), "utf-8")
    err = run(
        cli, "audit", "check-proof", str(tmp_path / "proof.json"), "--key", str(public), code=1
    )
    assert f"the entry at leaf {victim['leaf_index']} (seq {victim['seq']})" in err
    assert "inclusion proof does not lead to the checkpoint's root" in err
    # the checkpoint's size: its signature no longer holds
    tampered = json.loads(raw)
    tampered["checkpoint"]["tree_size"] += 1
    (tmp_path / "size.json").write_text(json.dumps(tampered), "utf-8")
    err = run(
        cli, "audit", "check-proof", str(tmp_path / "size.json"), "--key", str(public), code=1
    )
    assert "signature does not verify" in err
    # another key: refused; no key given: checked with the bundle's own, and said so
    other = Signer.generate(tmp_path / "other.pem")
    result = audit_proof.check(bundle, other.public)
    assert result.problem is not None
    assert "unknown key id" in str(result.problem)
    alone = cli.invoke(app, ["audit", "check-proof", str(out_file)])
    assert alone.exit_code == 0
    assert "the public key was taken from the bundle" in alone.stderr
    # not a bundle at all
    (tmp_path / "x.json").write_text('{"format": "other"}', "utf-8")
    assert "not a Produzir proof bundle" in run(
        cli, "audit", "check-proof", str(tmp_path / "x.json"), code=2
    )
    assert parse_public(public.read_text("utf-8")) is not None


# --- the sequencer ---------------------------------------------------------------------------


def backlog(db: Database, case_id: int, count: int, at: datetime) -> None:
    """``count`` notes appended in a transaction that commits without the sequencer."""
    with db._writes() as session, session.begin():
        for n in range(count):
            audit.append(
                session,
                case_id=case_id,
                case_version=1,
                lifecycle_version="2026.2",
                event="anotar",
                from_state="registrada",
                to_state="registrada",
                actor="ana",
                note=f"nota {n}",
                evidence={"text": f"nota {n}"},
                changes={},
                occurred_at=at,
            )


@pytest.mark.postgres
def test_two_sequencers_at_once_one_integrates_the_other_does_nothing(
    postgres_db: Database, lifecycle: Lifecycle, clock: FixedClock
) -> None:
    rt = Runtime(postgres_db, lifecycle, clock)
    case_id = new_case(rt)
    # entries appended in a transaction that commits without the sequencer: a backlog
    backlog(postgres_db, case_id, 5, clock.now())
    with postgres_db._writes() as one, one.begin(), postgres_db._writes() as two, two.begin():
        assert audit.integrate(one) == 5
        assert audit.integrate(two) == 0  # the lock is held: it gives up, it does not wait
    check = verify(postgres_db, backstop=False)
    assert check.ok, check.problem
    assert (check.tree_size, check.pending) == (count_events(postgres_db), 0)


KILLED_SEQUENCER = textwrap.dedent(
    """
    import os, signal, sys
    from sqlalchemy import event
    from states import audit
    from states.db import Database

    db = Database(sys.argv[1])
    seen = {"nodes": 0}

    @event.listens_for(db.engine, "before_cursor_execute")
    def die_mid_batch(conn, cursor, statement, parameters, context, executemany):
        if "INSERT INTO audit_tree" in statement:  # the nodes of the batch (PG: with the rest)
            print("killing myself mid-batch", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    with db.write() as session:
        audit.integrate_all(session)
    """
)


def test_a_sequencer_killed_mid_batch_loses_nothing_and_the_next_one_finishes(
    any_db: Database, lifecycle: Lifecycle, clock: FixedClock, tmp_path: Path
) -> None:
    rt = Runtime(any_db, lifecycle, clock)
    case_id = new_case(rt)
    backlog(any_db, case_id, 50, clock.now())
    with any_db.read() as session:
        assert audit.pending_count(session) == 50
        size_before = audit.tree_state(session)[0]
    script = tmp_path / "die.py"
    script.write_text(KILLED_SEQUENCER, "utf-8")
    root = Path(__file__).resolve().parents[2]
    died = subprocess.run(  # noqa: S603 - this interpreter, a script of the test's own
        [sys.executable, str(script), any_db.url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert "killing myself mid-batch" in died.stdout
    with any_db.read() as session:  # nothing of the half-done batch stayed
        assert audit.pending_count(session) == 50
        assert audit.tree_state(session)[0] == size_before
    assert integrate(any_db) == 50
    check = verify(any_db, backstop=False)
    assert check.ok, check.problem
    assert check.tree_size == size_before + 50 == count_events(any_db)
    with any_db.engine.connect() as connection:
        leaves = connection.execute(
            text("SELECT count(DISTINCT leaf_index) FROM audit_events")
        ).scalar_one()
    assert leaves == check.tree_size  # each entry integrated exactly once
