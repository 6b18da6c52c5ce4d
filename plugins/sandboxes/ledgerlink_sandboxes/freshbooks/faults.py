"""The faults a test may script into the FreshBooks sandbox (``POST /__sandbox/faults``), for
the sandbox base's :class:`~ledgerlink.testing.sandbox.FaultScript`.

Each fault is one of:

- ``{"status": 401 | 403 | 408 | 429 | 500-599}``: the request is answered so and not run (a 429
  with ``Retry-After``, ``retry_after`` seconds or 1; the official SDK's retry set is 408, 429
  and 5xx); 502, 503 and 504 come as a gateway's HTML page, the others in FreshBooks' new
  error shape;
- ``{"timeout": seconds}``: the request waits that long before it runs (a client with a
  shorter timeout gives up; the request still runs);
- ``{"answer": "lost" | "truncated"}``: the request runs — a write commits — and its answer
  never arrives whole: ``lost`` is a 504 gateway page, ``truncated`` the JSON cut in half. The
  write a client believes failed is there: FreshBooks has no idempotency key, so a client
  must look before it sends again.

Each with an optional ``"match": {"method", "resource", "account_id"}`` (``resource`` the path
after the account, ``invoices/invoices``, id left out) and ``"times": n`` (the next n matching
requests; 1 by default). A bad spec raises ``ValueError`` naming it; nothing is queued then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.testing.sandbox import Reply, Scripted, retry_after_header

from . import errors
from .errors import Problem

STATUSES = (401, 403, 408, 429, *range(500, 600))
ANSWERS = ("lost", "truncated")
_KEYS = {"status", "retry_after", "timeout", "answer", "match", "times"}
_MATCH = {"method", "resource", "account_id"}
_GATEWAY = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def gateway(status: int) -> Reply:
    """A gateway's HTML page with ``status`` (what a proxy in front of FreshBooks answers)."""
    reason = _GATEWAY.get(status, "Error")
    page = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    return Reply(status, page.encode("utf-8"), "text/html; charset=utf-8")


@dataclass(frozen=True)
class Fault:
    """What a scripted fault does: exactly one of ``status``, ``timeout`` and ``answer``."""

    status: int | None = None
    retry_after: float | None = None
    timeout: float | None = None
    answer: str | None = None

    def reply(self) -> Reply:
        """The answer to give instead of running the request (``status`` faults)."""
        status = self.status or 500
        if status in _GATEWAY:
            return gateway(status)
        if status == 429:
            return errors.too_many(retry_after_header(self.retry_after if self.retry_after is not None else 1.0))
        if status == 401:
            return errors.unauthorized()
        reply = errors.accounting(status, [Problem(status, "Scripted fault.")], "new")
        if self.retry_after is not None:
            reply.headers["Retry-After"] = retry_after_header(self.retry_after)
        return reply

    def spoil(self, reply: Reply) -> Reply:
        """What arrives instead of ``reply`` (``answer`` faults)."""
        if self.answer == "truncated":
            return Reply(reply.status, reply.body[:max(1, len(reply.body) // 2)], reply.content_type)
        return gateway(504)


def _seconds(value: Any, where: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(float(value)) \
            or float(value) < 0 or (positive and float(value) == 0) or float(value) > 600:
        raise ValueError(f"{where} must be between 0 and 600 seconds, got {value!r}")
    return float(value)


def parse(faults: Any) -> list[Scripted[Fault]]:
    """The faults of a spec list (see the module docstring), checked."""
    if isinstance(faults, Mapping):
        faults = faults.get("faults", [faults])
    if not isinstance(faults, list):
        raise ValueError(f"faults must be a list of fault objects, got {type(faults).__name__}")
    out = []
    for index, spec in enumerate(faults):
        where = f"faults[{index}]"
        if not isinstance(spec, Mapping) or set(spec) - _KEYS:
            raise ValueError(f"{where} must be an object with keys among {', '.join(sorted(_KEYS))}, got {spec!r}")
        kinds = [key for key in ("status", "timeout", "answer") if key in spec]
        if len(kinds) != 1:
            raise ValueError(f"{where} must have exactly one of status, timeout, answer")
        match = spec.get("match") or {}
        if not isinstance(match, Mapping) or set(match) - _MATCH or not all(isinstance(v, str) for v in match.values()):
            raise ValueError(f"{where}.match must be an object with string method, resource and/or account_id")
        match = {key: value.upper() if key == "method" else value for key, value in match.items()}
        times = spec.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"{where}.times must be an integer of at least 1, got {times!r}")
        retry_after = _seconds(spec["retry_after"], f"{where}.retry_after", False) \
            if spec.get("retry_after") is not None else None
        if kinds == ["status"]:
            if isinstance(spec["status"], bool) or spec["status"] not in STATUSES:
                raise ValueError(f"{where}.status must be 401, 403, 408, 429 or 500-599, got {spec['status']!r}")
            fault = Fault(status=int(spec["status"]), retry_after=retry_after)
        elif kinds == ["timeout"]:
            fault = Fault(timeout=_seconds(spec["timeout"], f"{where}.timeout", True))
        else:
            if spec["answer"] not in ANSWERS:
                raise ValueError(f"{where}.answer must be one of {', '.join(ANSWERS)}, got {spec['answer']!r}")
            fault = Fault(answer=str(spec["answer"]))
        out.append(Scripted(fault, match, times, dict(spec)))
    return out


__all__ = ["ANSWERS", "Fault", "STATUSES", "gateway", "parse"]
