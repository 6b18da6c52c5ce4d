"""The files connection's settings: the one folder its files are written in (and read from).

A recipe names a file relative to ``folder``; the host refuses an absolute path, ``..`` and a
symbolic link leading out of it (:mod:`ledgerlink.contract.effects`), so a recipe cannot
write anywhere else on the machine.
"""

from __future__ import annotations

SETTINGS = {
    "type": "object",
    "required": ["folder"],
    "properties": {
        "folder": {"type": "string", "minLength": 1,
                   "description": "The folder this connection's files are written in: every file a recipe "
                                  "names is relative to it, and none can be written outside it."},
    },
}

#: what ``ledgerlink connectors`` shows until a connection names its own folder
DEFAULT_SETTINGS = {"folder": "books"}
