"""The signature ``notify.webhook`` puts on each body, so its receiver can tell it came from
this ledgerlink: ``X-Ledgerlink-Signature: sha256=<hex HMAC-SHA256(signing_secret, body)>``
over the exact bytes posted (the host signs after encoding, :attr:`Connector.sign_request`).

A receiver checks it with :func:`verify`, or in any language: compute the HMAC of the raw
body with the shared secret and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

HEADER = "X-Ledgerlink-Signature"
SECRET = "signing_secret"


def signature(body: bytes, secret: str) -> str:
    """The header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign_request(body: bytes, secrets: Mapping[str, Any]) -> Mapping[str, str]:
    """The signature header for ``body`` when the connection has a signing secret; none else."""
    secret = secrets.get(SECRET)
    if not isinstance(secret, str) or not secret:
        return {}
    return {HEADER: signature(body, secret)}


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether ``headers`` carry the signature of ``body`` under ``secret`` (for receivers)."""
    sent = next((v for k, v in headers.items() if k.lower() == HEADER.lower()), "")
    return hmac.compare_digest(sent, signature(body, secret))
