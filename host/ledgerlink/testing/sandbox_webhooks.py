"""The sandbox base's signed webhook emitter.

Vendors sign a webhook with an HMAC over the body (or over a string built from it), keyed
with a secret the receiver was given: :func:`hmac_signature` computes one, hex or base64, so
a sandbox or a test signs as the vendor's documentation says without borrowing the
receiving connector's own code. :class:`WebhookEmitter` delivers events to one URL the way
the vendors do: in order, one POST at a time, several events a POST at most ``batch``, each
held until acknowledged with a 2xx within ``ack_seconds`` and retried on a schedule
otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping
from typing import Generic, Literal, TypeVar

import httpx

Event = TypeVar("Event")


def hmac_signature(secret: str | bytes, message: bytes, encoding: Literal["hex", "base64"] = "hex",
                   digest: str = "sha256") -> str:
    """HMAC-``digest`` of ``message`` keyed with ``secret``, as hex or base64 text."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, message, getattr(hashlib, digest))
    return mac.hexdigest() if encoding == "hex" else base64.b64encode(mac.digest()).decode("ascii")


class WebhookEmitter(Generic[Event]):
    """Delivers events to ``url`` in order, from a thread of its own.

    ``render(events) -> body`` writes one POST's body, ``sign(body) -> headers`` the headers
    that sign it. Events wait in a queue; a POST takes up to ``batch`` of them and they leave
    the queue only once acknowledged, so later events wait behind an unacknowledged one.
    After the n-th failed attempt the emitter waits ``retry_schedule[n]`` seconds (the last
    entry repeats). ``stats`` counts posts, acknowledged posts, failed attempts and events
    notified.
    """

    def __init__(self, url: str, render: Callable[[list[Event]], bytes],
                 sign: Callable[[bytes], Mapping[str, str]], *,
                 content_type: str = "application/json", batch: int = 1,
                 retry_schedule: tuple[float, ...] = (0.0,), ack_seconds: float = 3.0) -> None:
        self.url = url
        self.render = render
        self.sign = sign
        self.content_type = content_type
        self.batch = max(1, int(batch))
        self.retry_schedule = tuple(retry_schedule) or (0.0,)
        self.ack_seconds = ack_seconds
        self._queue: list[Event] = []
        self._cond = threading.Condition()
        self._stopped = False
        self.stats = {"posts": 0, "acknowledged": 0, "failed_attempts": 0, "notified": 0}
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def notify(self, event: Event) -> None:
        """Queue ``event`` for delivery."""
        with self._cond:
            self._queue.append(event)
            self._cond.notify()

    def pending(self) -> int:
        """Events not yet acknowledged."""
        with self._cond:
            return len(self._queue)

    def stop(self) -> None:
        """Stop delivering (what is queued stays undelivered) and end the thread."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        with httpx.Client(timeout=self.ack_seconds) as client:
            while True:
                with self._cond:
                    while not self._queue and not self._stopped:
                        self._cond.wait()
                    if self._stopped:
                        return
                    batch = self._queue[:self.batch]
                body = self.render(batch)
                headers = {**self.sign(body), "Content-Type": self.content_type}
                if not self._deliver(client, body, headers):
                    return
                with self._cond:
                    del self._queue[:len(batch)]
                self.stats["acknowledged"] += 1
                self.stats["notified"] += len(batch)

    def _deliver(self, client: httpx.Client, body: bytes, headers: Mapping[str, str]) -> bool:
        """POST until acknowledged (True) or stopped (False)."""
        attempt = 0
        while not self._stopped:
            self.stats["posts"] += 1
            try:
                if 200 <= client.post(self.url, content=body, headers=headers).status_code < 300:
                    return True
            except httpx.HTTPError:
                pass
            self.stats["failed_attempts"] += 1
            delay = self.retry_schedule[min(attempt, len(self.retry_schedule) - 1)]
            attempt += 1
            with self._cond:
                self._cond.wait(delay)
        return False


__all__ = ["WebhookEmitter", "hmac_signature"]
