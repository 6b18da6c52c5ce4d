"""ledgerlink: recipes move invoicing data into accounting software, exactly once."""

import pluggy

__version__ = "0.1.0"

#: decorate a plugin's hook implementations with this (see ledgerlink.contract.hookspecs)
hookimpl = pluggy.HookimplMarker("ledgerlink")
