"""The business's general ledger: account balances moved by every posted document."""

from __future__ import annotations

from typing import Any

from .businesses import Business


def balances(business: Business) -> dict[str, Any]:
    """Account → balance, debit-positive."""
    return {}


__all__ = ["balances"]
