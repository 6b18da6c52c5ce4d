"""The console's users: people named in ``[console.users]`` of ``ledgerlink.toml``, each with
a password hash, who sign in with their name and password beside the admin token.

A hash is a self-describing string in the PHC format, scrypt from the standard library
(:func:`hashlib.scrypt`: no dependency), its cost, salt and digest in the string::

    $scrypt$ln=17,r=8,p=1$<salt, base64>$<digest, base64>

``ln`` is log2 of scrypt's N; the default is the OWASP minimum (N=2^17, r=8, p=1: 128 MiB, a
fraction of a second). ``ledgerlink console hash-password`` prints the line to paste. Digests
are compared in constant time, and a name no user has is checked against a hash of the same
cost, so an answer takes as long whether the name exists or not; at most
:data:`CONCURRENT_CHECKS` checks run at once (each takes scrypt's memory). A session remembers a
fingerprint of the user's hash: a changed password, or a user removed from the file, ends it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ledgerlink.config import PASSWORD_HASH
from ledgerlink.errors import ConfigError

#: scrypt's default cost: N = 2 ** LN (the OWASP password storage minimum), r, p
LN, R, P = 17, 8, 1
#: the costs a stored hash may ask for (a larger one would let a typo take the server's memory)
MAX_LN, MAX_R, MAX_P = 20, 32, 16
#: the most memory a stored hash may ask for: 128 * r * N bytes
MAX_MEMORY = 1 << 30
SALT_BYTES = 16
DIGEST_BYTES = 32
#: a user's name: a TOML bare key
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: the form of a hash (the config check refuses any other)
FORMAT = PASSWORD_HASH
#: the longest password read (longer ones are refused, not cut)
MAX_PASSWORD = 1024
MIN_PASSWORD = 12


#: password checks at once: each takes scrypt's memory (128 MiB at the default cost), so a flood
#: of sign-ins cannot take the server's memory; the others wait up to WAIT_SECONDS, then are refused
CONCURRENT_CHECKS = 2
WAIT_SECONDS = 10.0
_checking = threading.BoundedSemaphore(CONCURRENT_CHECKS)


class Busy(Exception):
    """Too many sign-ins are being checked at once (answered 429; nothing is said of the user)."""


@dataclass(frozen=True)
class Hash:
    """A parsed password hash."""

    ln: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def derive(self, password: str) -> bytes:
        """``password``'s digest under this hash's salt and cost."""
        n = 2 ** self.ln
        return hashlib.scrypt(password.encode("utf-8"), salt=self.salt, n=n, r=self.r, p=self.p,
                              maxmem=128 * self.r * (n + self.p + 2) + (1 << 20), dklen=len(self.digest))

    def encoded(self) -> str:
        return f"$scrypt$ln={self.ln},r={self.r},p={self.p}${_b64(self.salt)}${_b64(self.digest)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def parse(encoded: str) -> Hash:
    """The hash ``encoded`` describes; a :class:`ConfigError` (never quoting it) when it is not
    one this module writes, or asks for a cost past the bounds."""
    found = FORMAT.fullmatch(encoded) if isinstance(encoded, str) else None
    fix = "run `ledgerlink console hash-password` and paste the line it prints"
    if found is None:
        raise ConfigError(f"not a password hash of the form $scrypt$ln=…,r=…,p=…$salt$digest; {fix}")
    ln, r, p = (int(found.group(i)) for i in (1, 2, 3))
    if not (10 <= ln <= MAX_LN and 1 <= r <= MAX_R and 1 <= p <= MAX_P) or 128 * r * 2 ** ln > MAX_MEMORY:
        raise ConfigError(f"a password hash's cost must be ln 10 to {MAX_LN}, r 1 to {MAX_R}, p 1 to {MAX_P}, "
                          f"and 128 * r * 2^ln at most {MAX_MEMORY >> 20} MiB; {fix}")
    try:
        salt, digest = _unb64(found.group(4)), _unb64(found.group(5))
    except (binascii.Error, ValueError):
        raise ConfigError(f"a password hash's salt or digest is not base64; {fix}") from None
    return Hash(ln, r, p, salt, digest)


def hash_password(password: str, ln: int = LN, r: int = R, p: int = P) -> str:
    """``password``'s hash, with a new random salt, as :func:`parse` reads it."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = Hash(ln, r, p, salt, b"\0" * DIGEST_BYTES).derive(password)
    return Hash(ln, r, p, salt, digest).encoded()


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` as a new one (None: nothing)."""
    if len(password) < MIN_PASSWORD:
        return f"a console password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a console password has at most {MAX_PASSWORD} characters"
    return None


def configured(settings: Mapping[str, Any]) -> dict[str, str]:
    """The ``users`` table of ``[console]`` settings: name -> hash (the config check has
    validated both)."""
    users = settings.get("users")
    return {str(k): str(v) for k, v in users.items()} if isinstance(users, Mapping) else {}


@lru_cache(maxsize=8)
def _stand_in(ln: int, r: int, p: int) -> Hash:
    """A hash of a random password at a cost, checked for a name no user has."""
    return parse(hash_password(secrets.token_urlsafe(16), ln, r, p))


def check(users: Mapping[str, str], name: str, password: str) -> bool:
    """Whether ``name`` is a user of ``users`` and ``password`` is theirs. As long for a name
    that is not a user's (checked against a stand-in of the first user's cost) as for one that
    is; the digests compared in constant time."""
    if not users or len(password) > MAX_PASSWORD:
        return False
    known = users.get(name) if NAME.fullmatch(name or "") else None
    try:
        stored = parse(known if known is not None else next(iter(users.values())))
    except ConfigError:
        return False
    if known is None:
        stored = _stand_in(stored.ln, stored.r, stored.p)
    if not _checking.acquire(timeout=WAIT_SECONDS):
        raise Busy(f"{CONCURRENT_CHECKS} sign-ins are being checked already; try again in a moment")
    try:
        matches = hmac.compare_digest(stored.derive(password), stored.digest)
    finally:
        _checking.release()
    return matches and known is not None


def fingerprint(encoded: str) -> str:
    """A short digest of a user's hash, kept in the session: a new hash ends the session. It
    says nothing of the password (a digest of a salted scrypt digest)."""
    return hashlib.sha256(b"ledgerlink console user " + encoded.encode()).hexdigest()[:20]
