"""Where the tests find vendor files: ``tests/vendor/`` in this repository.

Not a test module. Tests import the folders from here (``from vendor_files import STRIPE``) so
that every vendor file a test reads comes from one place inside the repository;
``tests/vendor/SOURCES.md`` says where each file came from and under which licence, and
``tests/vendor/SHA256SUMS`` pins their bytes (and those of the vendor files the plugins ship).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

#: the repository root
REPO = Path(__file__).resolve().parents[1]
#: vendor test data: specs, fixtures and signature vectors, each beside its licence
VENDOR = REPO / "tests" / "vendor"
#: Stripe: the 2023-08-16 event files, the newest fixtures, signature vectors, the spec's schemas
STRIPE = VENDOR / "stripe"
#: QuickBooks Online: client libraries' recorded responses and Intuit's signature vectors
QUICKBOOKS = VENDOR / "quickbooks"
#: Xero: webhook signature vectors
XERO = VENDOR / "xero"
#: FreshBooks: the SDKs' recorded answers (Java and Python) and webhook signature vectors
FRESHBOOKS = VENDOR / "freshbooks"

#: ``sha256sum`` lines: the digest of each vendor file, by its path from the repository root
SHA256SUMS = VENDOR / "SHA256SUMS"


@cache
def pinned_files() -> dict[str, str]:
    """Path from the repository root (``/``-separated) -> SHA-256 hex digest, from SHA256SUMS."""
    pinned = {}
    for line in SHA256SUMS.read_text("utf-8").splitlines():
        digest, path = line.split("  ", 1)
        pinned[path] = digest
    return pinned


__all__ = ["FRESHBOOKS", "QUICKBOOKS", "REPO", "SHA256SUMS", "STRIPE", "VENDOR", "XERO", "pinned_files"]
