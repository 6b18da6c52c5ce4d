"""Reports (``/accounting/account/{account_id}/reports/accounting/<report>``)."""

from __future__ import annotations

from collections.abc import Mapping

from ledgerlink.testing.sandbox import Reply

from . import errors
from .businesses import Business


def report(business: Business, name: str, args: Mapping[str, list[str]], shape: str) -> Reply:
    """The report ``name`` of ``business``."""
    return errors.not_found("report", "report", name, shape)


__all__ = ["report"]
