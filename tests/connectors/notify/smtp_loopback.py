"""A real SMTP server on loopback for notify.email's tests: aiosmtpd with STARTTLS required,
AUTH over TLS only, and a certificate authority made for the test (``cryptography``).

:class:`Mailbox` keeps every message the server accepted, with its envelope; addresses at
``refused.example`` are refused (550) and at ``busy.example`` deferred (451), as a real
server refuses an unknown mailbox or greylists.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ledgerlink.testing.processes import free_port

USERNAME = "alerts@example.com"
PASSWORD = "smtp-test-password-7c1f"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Mailbox:
    """What the server accepted, and the AUTH attempts it saw."""

    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: how many of the next messages are kept and then answered by hanging up, as a server
    #: that crashed after queueing them (the client never hears that they were accepted)
    hang_up_after_data: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        if address.endswith("@busy.example"):
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
            hang_up = self.hang_up_after_data > 0
            self.hang_up_after_data -= hang_up
        if hang_up:
            server.transport.abort()
            return "421 closing"  # never reaches the client: the connection is gone
        return "250 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        good = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME
                and auth_data.password.decode() == PASSWORD)
        with self.lock:
            self.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", good))
        return AuthResult(success=good, handled=False)  # not handled: the server answers 535


@dataclass(frozen=True)
class Certificates:
    """A test authority (``ca_file``, what the client trusts) and the server's key and certificate."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(folder: Path) -> Certificates:
    """An authority and a certificate for 127.0.0.1 and localhost signed by it, valid a day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledgerlink test authority")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    found = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return found


@dataclass
class Server:
    """A running loopback SMTP server: where it listens, what it accepted."""

    host: str
    port: int
    mailbox: Mailbox
    certificates: Certificates

    def connection(self, name: str, sender: str) -> str:
        """The ``[connections.NAME]`` table of a notify connection sending through this server
        (recipients: Bookkeeping; the password read from ``LL_SMTP_PASSWORD``)."""
        return f"""
[connections.{name}]
connector = "notify"
host = "{self.host}"
port = {self.port}
ca_file = "{self.certificates.ca_file}"
from = "{sender}"
to = ["Bookkeeping <books@example.com>"]
username = "{USERNAME}"
password = "${{LL_SMTP_PASSWORD}}"
"""


#: a notify connection posting Slack bodies to the address in ``LL_SLACK_URL``
SLACK_CONNECTION = """
[connections.alerts_slack]
connector = "notify"
secret_url = "${LL_SLACK_URL}"
"""


@contextmanager
def smtp_server(folder: Path, *, starttls: bool = True, implicit_tls: bool = False) -> Iterator[Server]:
    """An SMTP server on 127.0.0.1: STARTTLS offered and required (or TLS from the first byte,
    or, with ``starttls=False``, neither), AUTH required, over TLS only."""
    certificates = make_certificates(folder)
    mailbox = Mailbox()
    port = free_port()
    context = certificates.server_context()
    options: dict = dict(authenticator=mailbox.authenticate, auth_required=True, auth_require_tls=True)
    if implicit_tls:
        # aiosmtpd does not count a session wrapped in TLS from the start as TLS for AUTH: it is
        options["auth_require_tls"] = False
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                server_hostname="localhost", **options)
    elif starttls:
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True, **options)
    else:
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Server("127.0.0.1", port, mailbox, certificates)
    finally:
        controller.stop()
