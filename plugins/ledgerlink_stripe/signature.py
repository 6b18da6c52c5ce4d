"""Stripe webhook signatures (the ``Stripe-Signature`` header).

Stripe signs each delivery with the endpoint's signing secret (``whsec_…``)::

    Stripe-Signature: t=1492774577,v1=5257a869…,v1=…,v0=…

``v1`` is the lowercase hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of the
signed payload ``b"<t>." + raw body``. Only ``v1`` counts (``v0`` and any other scheme are
ignored); while a secret is being rolled Stripe sends one ``v1`` per secret, and the
request is genuine when any ``v1`` matches any secret we hold. This follows the official
SDK (stripe-python ``stripe/_webhook.py``: ``EXPECTED_SCHEME = "v1"``,
``DEFAULT_TOLERANCE = 300``).

The signature is over the bytes exactly as received: verify before parsing, and never
re-serialise the JSON.

Error messages never contain a secret or the signature we expected.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from ledgerlink.errors import SignatureError

#: the header Stripe puts the signature in
HEADER = "Stripe-Signature"
#: the only signature scheme that is checked
SCHEME = "v1"
#: seconds; Stripe's SDKs use 300 (stripe-python, stripe-go, stripe-node)
DEFAULT_TOLERANCE = 300
#: the most digits a timestamp may have: Unix seconds have 10 until the year 2286
MAX_TIMESTAMP_DIGITS = 12


def compute_signature(timestamp: int, body: bytes, secret: str) -> str:
    """The lowercase hex ``v1`` signature of ``body`` sent at ``timestamp``, keyed by ``secret``."""
    signed = str(int(timestamp)).encode("ascii") + b"." + bytes(body)
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``body``, as Stripe would send it.

    ``timestamp`` defaults to now. For tests, demos and emitters; production code only
    verifies.
    """
    if timestamp is None:
        timestamp = int(time.time())
    return f"t={int(timestamp)},{SCHEME}={compute_signature(timestamp, body, secret)}"


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a ``Stripe-Signature`` header value.

    Raises :class:`~ledgerlink.errors.SignatureError` when the header is not a list of
    ``key=value`` pairs, has no (or more than one) ``t``, a ``t`` that is not a Unix time
    (ASCII digits, at most :data:`MAX_TIMESTAMP_DIGITS` of them), or no ``v1`` signature.
    """
    timestamps: list[str] = []
    signatures: list[str] = []
    schemes: set[str] = set()
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value:
            raise SignatureError(
                f"malformed {HEADER} header: expected 't=<unix time>,v1=<hex signature>', "
                f"found the part {_short(item.strip())}")
        if key == "t":
            timestamps.append(value)
        elif key == SCHEME:
            signatures.append(value)
        else:
            schemes.add(key)
    if not timestamps:
        raise SignatureError(f"malformed {HEADER} header: it has no timestamp 't=<unix time>'")
    if len(timestamps) > 1:
        raise SignatureError(f"malformed {HEADER} header: it has {len(timestamps)} timestamps; "
                             f"Stripe sends exactly one 't='")
    if not (timestamps[0].isascii() and timestamps[0].isdigit()
            and len(timestamps[0]) <= MAX_TIMESTAMP_DIGITS):
        raise SignatureError(f"malformed {HEADER} header: the timestamp t={_short(timestamps[0])} "
                             f"is not a Unix time in seconds")
    if not signatures:
        found = f" (it has only {', '.join(sorted(schemes))})" if schemes else ""
        raise SignatureError(f"{HEADER} header has no {SCHEME} signature{found}; only the "
                             f"{SCHEME} scheme is accepted")
    return int(timestamps[0]), signatures


def verify(header: str | None, body: bytes, secrets: Iterable[str],
           tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> int:
    """Check that ``body`` was signed by Stripe with one of ``secrets``; return its timestamp.

    :param header: the ``Stripe-Signature`` header value, or ``None`` when there was none.
    :param body: the raw request body, exactly as received.
    :param secrets: the endpoint signing secrets (``whsec_…``); more than one while a
        secret is being rolled. Empty strings are ignored.
    :param tolerance: seconds a signature stays valid (Stripe's default, 300).
    :param now: the current Unix time (defaults to ``time.time()``).

    The request is accepted when any ``v1`` signature in the header matches any secret
    (compared in constant time) and ``now - tolerance <= t <= now + tolerance``.

    The upper bound is **our addition**: Stripe's SDKs reject only timestamps older than
    the tolerance and accept any future one. We also refuse a timestamp more than
    ``tolerance`` seconds in the future: Stripe stamps each delivery with its own current
    time, so such a stamp means this server's clock is far behind, and then a captured
    request would stay replayable for longer than the tolerance. A clock skew within the
    tolerance is still accepted.

    Raises :class:`~ledgerlink.errors.SignatureError` otherwise. ``ValueError`` or
    ``TypeError`` mean the caller passed a bad ``tolerance`` or a decoded ``str`` body.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 1:
        raise ValueError(f"tolerance must be a positive number of seconds, not {tolerance!r}")
    if isinstance(body, str):
        raise TypeError("verify the raw request body as bytes, not decoded text: "
                        "the signature covers the exact bytes Stripe sent")
    usable = [s for s in ([secrets] if isinstance(secrets, str) else secrets)
              if isinstance(s, str) and s]
    if not usable:
        raise SignatureError("no Stripe webhook signing secret is configured, so no webhook "
                             "can be verified; set the connection's webhook_secret")
    if header is None or (isinstance(header, (str, bytes)) and not header.strip()):
        raise SignatureError(f"missing {HEADER} header: Stripe signs every webhook delivery, so "
                             f"this request did not come from Stripe or a proxy dropped the header")
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if not isinstance(header, str):
        raise SignatureError(f"malformed {HEADER} header: expected text, got "
                             f"{type(header).__name__}")
    timestamp, signatures = parse_header(header)

    # a v1 signature is lowercase hex: one that is not ASCII can match nothing
    candidates = [sig.encode("ascii") for sig in signatures if sig.isascii()]
    matched = False
    for secret in usable:
        expected = compute_signature(timestamp, body, secret).encode("ascii")
        for candidate in candidates:
            # no early exit: the time taken does not depend on which secret or value matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        which = "the connection's webhook secret" if len(usable) == 1 else \
            f"any of the connection's {len(usable)} webhook secrets"
        raise SignatureError(
            f"no {SCHEME} signature in the {HEADER} header matches {which}; check that "
            f"webhook_secret is the signing secret (whsec_…) of this webhook endpoint and "
            f"that nothing between Stripe and ledgerlink re-encoded the body")

    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise SignatureError(
            f"{HEADER} timestamp {timestamp} is {int(current - timestamp)} s old, more than the "
            f"tolerance of {tolerance} s: a replayed request, or this server's clock is wrong")
    if timestamp > current + tolerance:
        raise SignatureError(
            f"{HEADER} timestamp {timestamp} is {int(timestamp - current)} s in the future, more "
            f"than the tolerance of {tolerance} s: this server's clock is wrong, or the "
            f"request was forged with a future time")
    return timestamp


__all__ = ["DEFAULT_TOLERANCE", "HEADER", "MAX_TIMESTAMP_DIGITS", "SCHEME", "compute_signature", "parse_header",
           "sign", "verify"]
