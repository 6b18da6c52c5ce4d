"""ledgerlink: recipes move invoicing data into accounting software, exactly once."""

import sys

import pluggy

# httpx's package imports its command-line client (httpx._main) whenever click, rich and
# pygments are installed, as they are with ledgerlink (rich draws backfill's progress bar):
# ~4 MB of modules in every serve and worker process for a CLI no ledgerlink process runs.
# Marked absent before httpx is first imported, httpx falls back to its stub ``httpx.main``.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__version__ = "0.1.0"

#: decorate a plugin's hook implementations with this (see ledgerlink.contract.hookspecs)
hookimpl = pluggy.HookimplMarker("ledgerlink")
