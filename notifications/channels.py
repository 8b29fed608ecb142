"""How a message leaves: the local mailbox (.eml files, the embedded default) or SMTP.

A channel has one method, ``send(message)``, which returns when the message has been handed
over and raises :class:`~states.errors.DeliveryFailed` otherwise, saying whether trying again
later can help (``transient``): a refused or dropped connection, a timeout or a 4xx reply are
transient; a 5xx reply to the sender, a recipient or the data is permanent. Dispatch retries
transient failures with growing delays and marks permanent ones failed at once.

Every message is built by :func:`build_message`: multipart/alternative (plain text, then
HTML), UTF-8, and the Message-ID given — derived from the outbox key, so a message sent twice
after a crash is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, overload

from notifications.settings import NotificationSettings
from states.clock import Clock, SystemClock, ensure_utc
from states.errors import DeliveryFailed, InvalidInput
from states.text import N_

if TYPE_CHECKING:
    from notifications.models import OutboxMessage
    from notifications.render import Rendered


class Channel(Protocol):
    """Anything that delivers an e-mail message or raises DeliveryFailed."""

    def send(self, message: EmailMessage) -> None: ...


def _bracketed(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    if not bare or "@" not in bare or any(c.isspace() or c in "<>" for c in bare):
        raise InvalidInput(
            N_("%(message_id)s is not a Message-ID (local@domain)", message_id=repr(message_id)),
            field="message_id",
        )
    return f"<{bare}>"


@overload
def build_message(
    row: OutboxMessage, rendered: Rendered, sender: str, *, date: datetime | None = None
) -> EmailMessage: ...
@overload
def build_message(
    *,
    message_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    sender: str,
    date: datetime,
) -> EmailMessage: ...
def build_message(
    row: OutboxMessage | None = None,
    rendered: Rendered | None = None,
    sender: str | None = None,
    *,
    message_id: str | None = None,
    to: str | None = None,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative UTF-8 message (plain text, then HTML) whose Message-ID is
    ``<message_id>`` exactly.

    Either from an outbox row and its rendered parts, ``build_message(row, rendered, sender)``
    (Message-ID and recipient from the row; Date: now unless given), or from the fields,
    ``build_message(message_id=..., to=..., subject=..., text=..., html=..., sender=...,
    date=...)``.
    """
    if row is not None and rendered is not None:
        message_id, to = row.message_id, row.email
        subject, text, html = rendered.subject, rendered.text, rendered.html
        date = date or SystemClock().now()
    if (
        message_id is None
        or to is None
        or subject is None
        or text is None
        or html is None
        or sender is None
        or date is None
    ):
        raise TypeError("build_message needs (row, rendered, sender) or every field by name")
    if any(c in subject for c in "\r\n"):
        raise InvalidInput(N_("a subject is one line"), field="subject")
    message = EmailMessage(policy=policy.SMTP)
    message["Message-ID"] = _bracketed(message_id)
    message["Date"] = format_datetime(ensure_utc(date))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


class MailboxChannel:
    """Writes each message to ``folder`` as ``<UTC timestamp>-<hash of Message-ID>.eml``.

    The file appears whole or not at all (written to a hidden temporary file, flushed to disk,
    then renamed). Two files with the same hash are the same message delivered twice.
    """

    def __init__(self, folder: Path, *, clock: Clock | None = None) -> None:
        self.folder = Path(folder)
        self.clock = clock or SystemClock()

    def send(self, message: EmailMessage) -> None:
        message_id = str(message.get("Message-ID", ""))
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%S%fZ")
        data = message.as_bytes(policy=policy.SMTP)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                target = self.folder / f"{stamp}-{digest}.eml"
                n = 1
                while target.exists():
                    target = self.folder / f"{stamp}-{digest}-{n}.eml"
                    n += 1
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryFailed(
                N_(
                    "mailbox %(folder)s: cannot write the message (%(value)s)",
                    folder=self.folder,
                    value=exc.strerror or exc,
                ),
                transient=True,
            ) from exc


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


def _by_code(what: str, code: int, text: bytes | str) -> DeliveryFailed:
    """4xx: try again later; 5xx (and anything else): do not."""
    transient = 400 <= code < 500
    return DeliveryFailed(
        N_("%(what)s: %(value)s", what=what, value=_reply(code, text)), transient=transient
    )


def _refused(what: str, recipients: Mapping[str, tuple[int, bytes]]) -> DeliveryFailed:
    transient = all(400 <= code < 500 for code, _ in recipients.values())
    detail = "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in recipients.items())
    return DeliveryFailed(N_("%(what)s: %(detail)s", what=what, detail=detail), transient=transient)


def _timed_out(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SmtpChannel:
    """Sends through an SMTP server (plain, STARTTLS or SSL; login when a user is set).

    ``smtp_timeout`` bounds the connection and every command, so a server that hangs costs at
    most that long (per step) before the message is left for a later retry. The EHLO name is
    the Message-ID domain (no reverse DNS lookup of this machine, which can hang by itself).
    """

    def __init__(self, settings: NotificationSettings) -> None:
        if not settings.smtp_host:
            raise InvalidInput(
                N_("PRODUZIR_SMTP_HOST: required for the smtp channel"), field="PRODUZIR_SMTP_HOST"
            )
        self.settings = settings
        self.host = settings.smtp_host
        self.port = settings.resolved_smtp_port()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=s.message_id_domain,
                timeout=s.smtp_timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(
            self.host, self.port, local_hostname=s.message_id_domain, timeout=s.smtp_timeout
        )

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        smtp = self._connect()
        try:
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
            refused = smtp.send_message(message)
        except BaseException:
            smtp.close()
            raise
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the message was accepted; a lost goodbye changes nothing
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def send(self, message: EmailMessage) -> None:
        server = f"SMTP {self.host}:{self.port}"
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(f"{server} refused the recipient", exc.recipients) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(
                f"{server} refused the sender {exc.sender}", exc.smtp_code, exc.smtp_error
            ) from exc
        except smtplib.SMTPDataError as exc:
            raise _by_code(f"{server} refused the message", exc.smtp_code, exc.smtp_error) from exc
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPHeloError,
            smtplib.SMTPConnectError,
        ) as exc:
            # The session, not this message, failed: it will go once the server or the
            # settings are right again.
            raise DeliveryFailed(
                N_(
                    "%(server)s refused the session: %(value)s",
                    server=server,
                    value=_reply(exc.smtp_code, exc.smtp_error),
                ),
                transient=True,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(f"{server} answered", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if _timed_out(exc):
                raise DeliveryFailed(
                    N_(
                        "%(server)s: no answer within %(smtp_timeout)s s",
                        server=server,
                        smtp_timeout=format(self.settings.smtp_timeout, "g"),
                    ),
                    transient=True,
                ) from exc
            raise DeliveryFailed(
                N_("%(server)s closed the connection: %(exc)s", server=server, exc=exc),
                transient=True,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(
                N_("%(server)s: %(exc)s", server=server, exc=exc), transient=True
            ) from exc
        except TimeoutError as exc:
            raise DeliveryFailed(
                N_(
                    "%(server)s: no answer within %(smtp_timeout)s s",
                    server=server,
                    smtp_timeout=format(self.settings.smtp_timeout, "g"),
                ),
                transient=True,
            ) from exc
        except ConnectionRefusedError as exc:
            raise DeliveryFailed(
                N_("%(server)s: connection refused", server=server), transient=True
            ) from exc
        except ssl.SSLError as exc:
            raise DeliveryFailed(
                N_("%(server)s: TLS failed: %(exc)s", server=server, exc=exc), transient=True
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(
                N_("%(server)s: %(exc)s", server=server, exc=exc), transient=True
            ) from exc


def channel_from_settings(settings: NotificationSettings) -> Channel:
    """The channel the settings choose: the local mailbox (default) or SMTP."""
    if settings.notify_channel == "smtp":
        return SmtpChannel(settings)
    return MailboxChannel(settings.resolved_mailbox_dir())
