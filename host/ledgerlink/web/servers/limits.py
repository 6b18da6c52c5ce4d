"""What one client may take of the server, and the largest body it reads at all."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: the largest request body the server reads at all (waitress's own default is 1 GB, which
#: one client could make it buffer to disk); an app refuses smaller ones itself, in its
#: own words (``serve``'s app: twice the largest webhook delivery)
MAX_REQUEST_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client may take of the server (``ledgerlink serve`` options of the same names)."""

    #: connections open at once; one more is answered 503 and closed
    max_connections: int = 4000
    #: seconds from a request's first byte until its headers and body must all have arrived
    request_timeout: float = 10.0
    #: seconds a connection may wait for its next request (or its first) before it is closed;
    #: no shorter than the keep-alive expiry of common client pools (httpx 5 s, aiohttp 15 s),
    #: so that the client gives a connection up first rather than send a request on it just
    #: as the server closes it
    idle_timeout: float = 15.0

    def __post_init__(self) -> None:
        if not (isinstance(self.max_connections, int) and self.max_connections >= 1):
            raise ValueError(f"max_connections must be a whole number >= 1, not {self.max_connections!r}")
        for name in ("request_timeout", "idle_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a number of seconds > 0, not {value!r}")
