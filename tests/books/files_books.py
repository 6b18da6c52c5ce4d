"""The files connection as the ledger of the simulated month (:func:`books_month.book_the_month`):
no sandbox, a folder the recipes of ``recipes/files/`` write into, each layout in its own
subfolder, and the folders ``ledgerlink reconcile`` reads with their dates' formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from books_month import Ledger
from vendor_files import REPO

FOLDER = REPO / "recipes" / "files"
#: the connection's reconcile_folders: QuickBooks' statements in mm/dd/yyyy, Xero's statements
#: and manual journals in dd/mm/yyyy (the journals' name says no currency: the base one, USD)
RECONCILE_FOLDERS = ('[{ path = "quickbooks", date_format = "mm/dd/yyyy" }, '
                     '{ path = "xero", date_format = "dd/mm/yyyy", currency = "USD" }]')


def nothing(**options: Any) -> Any:
    """A ledger with no API: the files connection writes into a folder."""
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("404 Not Found", [("Content-Length", "0")])
        return iter([b""])
    app.sandbox = None  # type: ignore[attr-defined]
    return app


def files_ledger(folder: Path) -> Ledger:
    """The files connection on ``folder`` (its subfolders made, as an operator makes them)."""
    def config(url: str) -> list[str]:
        for sub in ("xero", "quickbooks"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return ["[connections.files]", 'connector = "files"', f'folder = "{folder}"',
                f"reconcile_folders = {RECONCILE_FOLDERS}", ""]
    return Ledger(sandbox=nothing, prepare=lambda url: {}, config=config, modes={"files": FOLDER})
