"""Sending an action's :class:`~ledgerlink.contract.mail.SendMail`: the analogue of
:mod:`ledgerlink.io.outbound` for SMTP, with the standard library's :mod:`smtplib`.

One message, one SMTP session (a :class:`~ledgerlink.contract.mail.CheckMail` stops after
AUTH, sending nothing): connect (implicit TLS, or STARTTLS required before anything
else is said, or plain text to a relay on loopback), EHLO, AUTH when the connection has a
username and password (over TLS only), MAIL FROM, RCPT TO each recipient, DATA, QUIT.

What goes wrong is classified as a vendor's answer is (:class:`ledgerlink.errors.VendorError`):

- the server cannot be reached, or hangs up before the message was given: **NotSent**, tried
  again (nothing was sent);
- it hangs up, or stops answering, while or after the message was given: **OutcomeUnknown**,
  tried again with the same Message-ID, which the readers' mail programs recognise;
- a 4xx reply (greylisting, a full mailbox, "try again later", a temporary AUTH failure):
  **retry**;
- AUTH refused with a 5xx reply: **reauth**, as a vendor refusing a key: the runs on the
  connection pause until ``ledgerlink connect NAME`` (and ``connection.needs_reauth`` says so);
- a 5xx reply (a recipient or sender refused, the message refused), a TLS
  failure (a certificate that does not verify, STARTTLS not offered), a setting missing:
  **permanent**, the message naming what to fix.

A message refused for some recipients and accepted for others is sent: the answer lists the
refused ones (sending again would give the others a second copy).
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import time
from collections.abc import Iterable, Mapping
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract.mail import MailResult, SendMail
from ledgerlink.errors import NotSent, OutcomeUnknown, VendorError, quoted
from ledgerlink.io.outbound import Sent, redact

__all__ = ["SECURITIES", "describe", "first_answer", "perform", "perform_logged", "server"]

#: how a session is secured
SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
#: seconds to wait for the server's each reply
TIMEOUT = 30.0
VENDOR = "the SMTP server"


def server(effect: SendMail, settings: Mapping[str, Any]) -> tuple[str, int, str]:
    """The connection's server as ``(host, port, security)``; a permanent VendorError naming
    the setting to fix when it is missing or not one ledgerlink can use."""
    host = str(settings.get(effect.host_setting) or "").strip()
    if not host:
        raise VendorError(f"the connection names no SMTP server: set {effect.host_setting!r} in its "
                          f"ledgerlink.toml table")
    security = str(settings.get(effect.security_setting) or "starttls")
    if security not in SECURITIES:
        raise VendorError(f"{effect.security_setting!r} is {quoted(security)}; set one of {list(SECURITIES)}")
    if security == "none" and not _loopback(host):
        raise VendorError(f"{effect.security_setting!r} is 'none' for {quoted(host)}, which is not on this "
                          f"machine: mail leaves it only over TLS; set 'starttls' or 'tls'")
    try:
        port = int(settings.get(effect.port_setting) or DEFAULT_PORTS[security])
    except (TypeError, ValueError):
        raise VendorError(f"{effect.port_setting!r} is {quoted(settings.get(effect.port_setting))}; "
                          f"set a port number") from None
    return host, port, security


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe(effect: SendMail, settings: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The effect as dry-run and the run log show it: the server, the envelope, whether AUTH
    is used (never with what) and the exact message, secret values redacted."""
    secrets = [s for s in secrets if isinstance(s, str) and s]
    shown: dict[str, Any] = {"kind": "mail", "mode": effect.mode}
    try:
        host, port, security = server(effect, settings)
        shown["server"] = {"host": host, "port": port, "security": security}
    except VendorError as exc:
        shown["server"] = {"problem": exc.message}
    parsed = message_from_bytes(effect.message, policy=default_policy)
    shown.update({"sender": redact(effect.sender, secrets), "recipients": [redact(r, secrets) for r in effect.recipients],
                  "message_id": str(parsed.get("Message-ID", "")), "bytes": len(effect.message),
                  "message": redact(effect.message.decode("utf-8", "replace"), secrets)})
    return shown


def first_answer(effect: SendMail) -> MailResult:
    """What a first attempt is answered when every recipient is accepted (dry-run's answer)."""
    parsed = message_from_bytes(effect.message, policy=default_policy)
    return MailResult("sent", tuple(effect.recipients), {}, str(parsed.get("Message-ID", "")))


# --- sending -------------------------------------------------------------------------------

def perform(effect: SendMail, settings: Mapping[str, Any], secrets: Mapping[str, Any],
            timeout: float = TIMEOUT) -> MailResult:
    """Send ``effect`` in one SMTP session (see the module's docstring for what is raised)."""
    host, port, security = server(effect, settings)
    values = [v for v in secrets.values() if isinstance(v, str) and v]
    username = secrets.get(effect.username_setting) or settings.get(effect.username_setting)
    password = secrets.get(effect.password_secret)
    if bool(username) != bool(password):
        raise VendorError(f"the connection sets one of {effect.username_setting!r} and "
                          f"{effect.password_secret!r} but not the other; set both for AUTH, or neither")
    if username and security == "none":
        raise VendorError(f"a username and password are sent only over TLS; set {effect.security_setting!r} "
                          f"to 'starttls' or 'tls'")
    context = _context(settings.get(effect.ca_file_setting))
    where = f"{host}:{port}"
    given = False
    try:
        session = _open(host, port, security, context, timeout)
        try:
            if security == "starttls":
                session.ehlo()
                if not session.has_extn("starttls"):
                    raise VendorError(f"{where} does not offer STARTTLS, and mail leaves only over TLS: "
                                      f"set {effect.security_setting!r} to 'tls' if it takes TLS from the first "
                                      f"byte (port 465), or name a server that offers STARTTLS")
                session.starttls(context=context)
            session.ehlo()
            if username:
                session.login(str(username), str(password))
            if effect.mode == "check":  # CheckMail: the server and its AUTH answered; nothing is sent
                return MailResult("checked", ())
            given = True
            refused = session.sendmail(effect.sender, list(effect.recipients), effect.message)
        finally:
            _close(session)
    except VendorError:
        raise
    except ssl.SSLError as exc:
        raise VendorError(f"TLS with {where} failed: {redact(_ssl_reason(exc), values)}; trust the server's "
                          f"authority with {effect.ca_file_setting!r}, or fix its certificate") from None
    except smtplib.SMTPAuthenticationError as exc:
        refused = _refused(exc.smtp_code, exc.smtp_error, values,
                           f"{where} refused the username and password of this connection; set the right "
                           f"{effect.username_setting!r} and {effect.password_secret!r}")
        if refused.kind == "permanent":  # a refused password, like a refused key: the runs pause
            refused = VendorError(refused.message, kind="reauth", status=refused.http_status)
        raise refused from None
    except smtplib.SMTPNotSupportedError:
        raise VendorError(f"{where} offers no AUTH; remove the username and password from the connection, "
                          f"or name a server that authenticates") from None
    except smtplib.SMTPRecipientsRefused as exc:
        replies = {r: f"{code} {_text(reply)}" for r, (code, reply) in exc.recipients.items()}
        retry = all(400 <= code < 500 for code, _ in exc.recipients.values())
        raise VendorError(f"{where} refused every recipient: {redact(jsonio.dumps(replies), values)}"
                          + ("; it is tried again" if retry else "; correct the addresses in the recipe's 'to'"),
                          kind="retry" if retry else "permanent") from None
    except smtplib.SMTPSenderRefused as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, values,
                       f"{where} refused the sender {quoted(effect.sender)}; set a 'from' address the server "
                       f"lets this account send as") from None
    except smtplib.SMTPResponseException as exc:  # DATA refused, a HELO refused, …
        raise _refused(exc.smtp_code, exc.smtp_error, values,
                       f"{where} refused the message; read its reply") from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", values)
        if given:
            raise OutcomeUnknown(f"{where} stopped answering while the message was given ({reason}); it is "
                                 f"sent again with the same Message-ID") from None
        raise NotSent(f"{where} could not be reached or hung up before the message ({reason}); it is tried "
                      f"again") from None
    except smtplib.SMTPException as exc:
        raise VendorError(f"{where}: {redact(str(exc), values)}", kind="retry") from None
    parsed = message_from_bytes(effect.message, policy=default_policy)
    return MailResult("sent", tuple(r for r in effect.recipients if r not in refused),
                      {r: f"{code} {_text(reply)}" for r, (code, reply) in refused.items()},
                      str(parsed.get("Message-ID", "")))


def _context(ca_file: Any) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise VendorError(f"the certificates in 'ca_file' {quoted(ca_file)} cannot be read ({exc}); name a "
                          f"PEM file") from None


def _open(host: str, port: int, security: str, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    if security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    return smtplib.SMTP(host, port, timeout=timeout)


def _close(session: smtplib.SMTP) -> None:
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _ssl_reason(exc: ssl.SSLError) -> str:
    return getattr(exc, "verify_message", None) or exc.reason or str(exc)


def _refused(code: int, reply: bytes | str, secrets: list[str], fix: str) -> VendorError:
    """A 4xx reply: tried again; a 5xx: permanent, with ``fix``."""
    said = redact(f"{code} {_text(reply)}", secrets)
    if 400 <= code < 500:
        return VendorError(f"{VENDOR} answered {said}; it is tried again", kind="retry", status=code)
    return VendorError(f"{fix} (it answered {said})", status=code)


def perform_logged(effect: SendMail, settings: Mapping[str, Any], secrets: Mapping[str, Any],
                   records: list[Sent]) -> MailResult:
    """:func:`perform`, with what was sent appended to ``records`` for the run log (as
    :func:`ledgerlink.io.outbound.send` gives what it sent), also when it failed."""
    values = [v for v in secrets.values() if isinstance(v, str) and v]
    shown = describe(effect, settings, values)
    started = time.perf_counter()
    try:
        result = perform(effect, settings, secrets)
    except VendorError as exc:
        records.append(Sent(shown, None, exc.message, time.perf_counter() - started))
        raise
    except (NotSent, OutcomeUnknown) as exc:
        exc.sent = Sent(shown, None, None, time.perf_counter() - started)
        raise
    answer = {"status": result.status, "accepted": list(result.accepted), "refused": dict(result.refused),
              "message_id": result.message_id}
    records.append(Sent(shown, None, redact(jsonio.dumps(answer), values), time.perf_counter() - started))
    return result
