"""The channels against real servers on loopback: a multipart pt-BR message through a real
SMTP server (aiosmtpd), each failure mode classified transient or permanent within a bounded
time, the local mailbox's .eml files, and settings that refuse to start."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notifications.channels import (
    MailboxChannel,
    SmtpChannel,
    build_message,
    channel_from_settings,
)
from notifications.render import render
from notifications.settings import NotificationSettings, load_settings
from states.clock import FixedClock
from states.errors import DeliveryFailed, InvalidInput

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
MESSAGE_ID = "3f2a9c1d0b7e4a55@produzir.example.org"
CONTEXT: dict[str, Any] = {
    "recipient_name": "Conceição Araújo",
    "case_id": 77,
    "community": "Associação Quilombola Água Preta",
    "municipality": "Quixadá",
    "uf": "CE",
    "state": "legalizacao",
    "obligation": "Protocolo na Junta Comercial: Cooperativa Mãos do Sertão",
    "due_on": "2026-03-05",
    "days": 3,
    "step": "before",
    "contact_name": "João Batista",
    "contact_email": "joao.batista@example.org",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pt_br_message(message_id: str = MESSAGE_ID) -> EmailMessage:
    rendered = render("reminder", "pt-BR", CONTEXT)
    return build_message(
        message_id=message_id,
        to="Conceição Araújo <conceicao@example.org>",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sender="PRODUZIR <nao-responda@produzir.example.org>",
        date=NOW,
    )


def smtp_settings(port: int, **changes: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "notify_channel": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_timeout": 1.0,
        "message_id_domain": "produzir.example.org",
    }
    values.update(changes)
    return load_settings(**values)


class Recorder:
    """An aiosmtpd handler that keeps what it accepts, or answers with the codes it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.rcpt_reply = "250 OK"
        self.data_reply = "250 Message accepted for delivery"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply


@contextmanager
def smtp_server(handler: Recorder, **options: Any) -> Iterator[int]:
    """A real SMTP server on a free loopback port, in its own thread and event loop."""
    port = free_port()
    loop = asyncio.new_event_loop()
    controller = Controller(handler, hostname="127.0.0.1", port=port, loop=loop, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        loop.close()


@pytest.fixture
def server() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    with smtp_server(handler) as port:
        yield handler, port


def send_timed(channel: SmtpChannel, message: EmailMessage) -> tuple[DeliveryFailed, float]:
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failure:
        channel.send(message)
    return failure.value, time.monotonic() - started


# --- a real server receives the message ---------------------------------------------------


def test_a_pt_br_multipart_message_arrives_whole(server: tuple[Recorder, int]) -> None:
    handler, port = server
    message = pt_br_message()
    rendered = render("reminder", "pt-BR", CONTEXT)

    SmtpChannel(smtp_settings(port)).send(message)

    [envelope] = handler.envelopes
    assert envelope.mail_from == "nao-responda@produzir.example.org"
    assert envelope.rcpt_tos == ["conceicao@example.org"]
    received = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert received["Message-ID"] == f"<{MESSAGE_ID}>"
    assert received["Subject"] == rendered.subject
    assert "Associação Quilombola Água Preta" in received["Subject"]
    assert received["To"] == "Conceição Araújo <conceicao@example.org>"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert text.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == rendered.text  # CRLF on the wire
    assert html.get_content().replace("\r\n", "\n") == rendered.html
    assert "vence em 3 dias: quinta-feira, 5 de março de 2026" in text.get_content()
    assert "Cooperativa Mãos do Sertão" in html.get_content()
    assert envelope.original_content.isascii()  # 7-bit clean on the wire


def test_the_same_outbox_message_keeps_its_message_id(server: tuple[Recorder, int]) -> None:
    handler, port = server
    channel = SmtpChannel(smtp_settings(port))

    channel.send(pt_br_message())
    channel.send(pt_br_message())  # a retry after a crash sends the same message again

    ids = [
        email.message_from_bytes(e.original_content, policy=policy.default)["Message-ID"]
        for e in handler.envelopes
    ]
    assert ids == [f"<{MESSAGE_ID}>", f"<{MESSAGE_ID}>"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_when_credentials_are_set() -> None:
    handler = Recorder()
    seen: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        assert isinstance(auth, LoginPassword)
        seen.append((auth.login.decode(), auth.password.decode()))
        return AuthResult(success=auth.password == b"s3cr3t-senha", handled=False)

    with smtp_server(
        handler,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    ) as port:
        SmtpChannel(
            smtp_settings(port, smtp_username="produzir", smtp_password="s3cr3t-senha")
        ).send(pt_br_message())
        refused, elapsed = send_timed(
            SmtpChannel(smtp_settings(port, smtp_username="produzir", smtp_password="errada")),
            pt_br_message(),
        )

    assert seen[0] == ("produzir", "s3cr3t-senha")
    assert set(seen[1:]) == {("produzir", "errada")}  # smtplib tries each mechanism offered
    assert len(handler.envelopes) == 1
    assert "refused the session: 535" in str(refused)
    assert refused.transient  # the settings are wrong, not the message: kept for later
    assert elapsed < 5


# --- failure modes -------------------------------------------------------------------------


def test_connection_refused_is_transient() -> None:
    port = free_port()  # nothing listens there
    failure, elapsed = send_timed(SmtpChannel(smtp_settings(port)), pt_br_message())

    assert failure.transient
    assert "connection refused" in str(failure)
    assert f"127.0.0.1:{port}" in str(failure)
    assert elapsed < 2


@pytest.mark.parametrize(
    ("stage", "reply", "transient"),
    [
        ("rcpt", "451 4.3.0 Mailbox temporarily unavailable", True),
        ("rcpt", "452 4.2.2 Mailbox full", True),
        ("rcpt", "550 5.1.1 No such user here", False),
        ("data", "451 4.3.0 Try again later", True),
        ("data", "554 5.7.1 Message rejected as spam", False),
    ],
)
def test_replies_are_classified_by_their_code(
    server: tuple[Recorder, int], stage: str, reply: str, transient: bool
) -> None:
    handler, port = server
    if stage == "rcpt":
        handler.rcpt_reply = reply
    else:
        handler.data_reply = reply

    failure, elapsed = send_timed(SmtpChannel(smtp_settings(port)), pt_br_message())

    assert failure.transient is transient
    assert reply.split()[0] in str(failure)
    assert " ".join(reply.split()[2:]) in str(failure)  # the server's words are kept
    assert handler.envelopes == []
    assert elapsed < 2


class SilentServer:
    """Accepts connections on loopback and never says a word."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        for connection in self.accepted:
            connection.close()
        self.listener.close()


def test_a_server_that_never_answers_costs_at_most_the_timeout() -> None:
    with SilentServer() as silent:
        failure, elapsed = send_timed(
            SmtpChannel(smtp_settings(silent.port, smtp_timeout=1.0)), pt_br_message()
        )
        assert len(silent.accepted) == 1  # it did connect; then nothing came back

    assert failure.transient
    assert "no answer within 1 s" in str(failure)
    assert 0.9 <= elapsed < 2.5


def test_a_server_that_hangs_up_is_transient() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        connection, _ = listener.accept()
        connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        failure, elapsed = send_timed(
            SmtpChannel(smtp_settings(int(listener.getsockname()[1]))), pt_br_message()
        )
    finally:
        thread.join(timeout=5)
        listener.close()

    assert failure.transient
    assert "closed the connection" in str(failure)
    assert elapsed < 2


# --- the local mailbox ---------------------------------------------------------------------


def test_the_mailbox_writes_parsable_eml_files(tmp_path: Path) -> None:
    folder = tmp_path / "mailbox"
    channel = MailboxChannel(folder, clock=FixedClock(NOW))

    channel.send(pt_br_message())
    channel.send(pt_br_message())  # the same message twice: two files, same hash
    channel.send(pt_br_message("other-message@produzir.example.org"))

    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml"] * 3  # no temporary file left behind
    assert all(f.name.startswith("20260302T130000000000Z-") for f in files)
    parsed = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    ids = sorted(str(m["Message-ID"]) for m in parsed)
    assert ids == [f"<{MESSAGE_ID}>", f"<{MESSAGE_ID}>", "<other-message@produzir.example.org>"]
    hashes = {f.stem.split("-")[1] for f in files}
    assert len(hashes) == 2
    body = parsed[0].get_body(preferencelist=("plain",))
    assert body is not None
    assert "Cooperativa Mãos do Sertão" in body.get_content()


def test_a_mailbox_that_cannot_be_written_is_transient(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the mailbox folder should be")

    with pytest.raises(DeliveryFailed) as failure:
        MailboxChannel(blocked).send(pt_br_message())

    assert failure.value.transient
    assert str(blocked) in str(failure.value)


def test_messages_are_built_as_promised() -> None:
    message = pt_br_message()

    assert message["Message-ID"] == f"<{MESSAGE_ID}>"
    assert message["Date"] == "Mon, 02 Mar 2026 13:00:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    with pytest.raises(InvalidInput, match="is not a Message-ID"):
        pt_br_message("no at sign")
    bracketed = build_message(
        message_id=f"<{MESSAGE_ID}>",
        to="a@example.org",
        subject="s",
        text="t",
        html="<p>h</p>",
        sender="b@example.org",
        date=NOW,
    )
    assert bracketed["Message-ID"] == f"<{MESSAGE_ID}>"


# --- settings ------------------------------------------------------------------------------


def test_settings_choose_the_channel(tmp_path: Path) -> None:
    mailbox = channel_from_settings(load_settings(data_dir=tmp_path))
    smtp = channel_from_settings(load_settings(notify_channel="smtp", smtp_host="mail.example.org"))

    assert isinstance(mailbox, MailboxChannel)
    assert mailbox.folder == tmp_path / "mailbox"
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.host, smtp.port) == ("mail.example.org", 587)  # STARTTLS by default


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"PRODUZIR_SMTP_PORT": "abc"}, "PRODUZIR_SMTP_PORT: 'abc' is not a number"),
        (
            {"PRODUZIR_NOTIFY_CHANNEL": "fax"},
            "PRODUZIR_NOTIFY_CHANNEL: 'fax' is not one of mailbox, smtp",
        ),
        (
            {"PRODUZIR_NOTIFY_CHANNEL": "smtp"},
            "PRODUZIR_SMTP_HOST: required when PRODUZIR_NOTIFY_CHANNEL is smtp",
        ),
        (
            {"PRODUZIR_SMTP_SECURITY": "tls"},
            "PRODUZIR_SMTP_SECURITY: 'tls' is not one of none, starttls, ssl",
        ),
        ({"PRODUZIR_SMTP_TIMEOUT": "0"}, "PRODUZIR_SMTP_TIMEOUT: '0' must be more than 0"),
        ({"PRODUZIR_NOTIFY_MAX_ATTEMPTS": "0"}, "PRODUZIR_NOTIFY_MAX_ATTEMPTS: '0' must be at"),
        ({"PRODUZIR_MAIL_FROM": "produzir"}, "PRODUZIR_MAIL_FROM: 'produzir' is not an e-mail"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], complaint: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(InvalidInput) as refused:
        load_settings()

    assert complaint in str(refused.value)
    assert refused.value.field == complaint.split(":")[0]


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRODUZIR_NOTIFY_CHANNEL", "smtp")
    monkeypatch.setenv("PRODUZIR_SMTP_HOST", "smtp.example.gov.br")
    monkeypatch.setenv("PRODUZIR_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("PRODUZIR_SMTP_USERNAME", "produzir")
    monkeypatch.setenv("PRODUZIR_SMTP_PASSWORD", "segredo")
    monkeypatch.setenv("PRODUZIR_MAILBOX_DIR", str(tmp_path / "caixa"))
    monkeypatch.setenv("PRODUZIR_NOTIFY_BATCH_SIZE", "250")

    settings = load_settings()

    assert settings.resolved_smtp_port() == 465
    assert settings.resolved_mailbox_dir() == tmp_path / "caixa"
    assert settings.notify_batch_size == 250
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "segredo"
    assert "segredo" not in repr(settings)
