"""Mail beyond HTTP: what an action yields to have the host send one email over SMTP.

An action stays sans-I/O: it builds the whole message (headers and body, with the standard
library's :mod:`email`) and yields :class:`SendMail`; the host (:mod:`ledgerlink.io.mail`)
opens the connection's SMTP server, secures it, authenticates, sends the message to the
envelope's recipients and gives back a :class:`MailResult`, as it gives back a
:class:`~ledgerlink.contract.Response` for a :class:`~ledgerlink.contract.Request`. Dry-run
shows the effect (server, envelope, the exact message) and answers it as if every
recipient had been accepted, sending nothing.

The server is the connection's, read from its settings (names overridable per effect):

- ``host`` and ``port``;
- ``security``: ``"starttls"`` (the default: the session is upgraded with STARTTLS before
  anything else is said, and a server that does not offer it is refused), ``"tls"``
  (implicit TLS from the first byte, port 465), or ``"none"`` (plain text, accepted only for
  a server on loopback: a local relay);
- ``ca_file``: a PEM file of the certificates to trust instead of the system's (a private
  relay's own authority);
- ``username`` (a setting, or a secret setting when the connector declares it one) and the
  secret ``password``: AUTH is used when they are set, and only over TLS; the password is
  never logged, shown or put in a run record. A user name is often the sender's address, which
  a log shows, so a connector need not make it a secret.

SMTP keeps no idempotency key: a message sent twice is delivered twice. An action therefore
gives every message a ``Message-ID`` derived from the step's idempotency key, so a resend
after a lost answer (the connection dropped after the message was sent) carries the same id,
and mail programs and archives recognise it as the same message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class SendMail:
    """Send one message (the RFC 5322 bytes in ``message``) to ``recipients``, from ``sender``.

    ``sender`` and ``recipients`` are the SMTP envelope (``MAIL FROM`` and ``RCPT TO``);
    the message's own ``From``/``To`` headers are what its readers see.
    """

    sender: str
    recipients: tuple[str, ...]
    #: the whole message: headers, a blank line, the body (``EmailMessage.as_bytes()``)
    message: bytes
    #: the step's idempotency key (``ctx.idempotency_key``), from which the Message-ID derives
    key: str
    #: the connection settings naming the server (see the module's docstring)
    host_setting: str = "host"
    port_setting: str = "port"
    security_setting: str = "security"
    ca_file_setting: str = "ca_file"
    #: the setting (or secret setting) and the secret setting AUTH reads
    username_setting: str = "username"
    password_secret: str = "password"

    mode: ClassVar[str] = "send"


@dataclass(frozen=True)
class CheckMail(SendMail):
    """Check the connection's SMTP server and credentials, sending nothing: connect, EHLO,
    STARTTLS, AUTH, QUIT. A connector's ``check_credentials`` yields it (``ledgerlink connect
    NAME``); the host answers ``MailResult("checked", ())`` or raises as for :class:`SendMail`
    (a refused password: a VendorError of kind ``reauth``)."""

    sender: str = ""
    recipients: tuple[str, ...] = ()
    message: bytes = b""
    key: str = ""

    mode: ClassVar[str] = "check"


@dataclass(frozen=True)
class MailResult:
    """The host's answer to :class:`SendMail`, given back to the action generator."""

    #: "sent": the server accepted the message for at least one recipient
    status: str
    #: the recipients the server accepted
    accepted: tuple[str, ...]
    #: the recipients the server refused, each with its SMTP code and reply
    refused: Mapping[str, str] = field(default_factory=dict)
    #: the message's Message-ID header, as sent
    message_id: str = ""
