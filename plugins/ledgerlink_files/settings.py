"""The files connection's settings: the folder its files are written in, and the folder it
watches for CSV files dropped there (``files.csv_dropped``).

A recipe names a file relative to ``folder``; the host refuses an absolute path, ``..`` and a
symbolic link leading out of it (:mod:`ledgerlink.contract.effects`), so a recipe cannot
write anywhere else on the machine.
"""

from __future__ import annotations

SETTINGS = {
    "type": "object",
    "properties": {
        "folder": {"type": "string", "minLength": 1,
                   "description": "The folder this connection's files are written in: every file a recipe "
                                  "names is relative to it, and none can be written outside it."},
        "watch_folder": {"type": "string", "minLength": 1,
                         "description": "The folder files.csv_dropped watches (with poll_seconds set): each "
                                        "CSV file dropped there becomes one event per row, then is moved "
                                        "into its done/ or failed/ subfolder."},
    },
}

#: what ``ledgerlink connectors`` shows until a connection names its own folder
DEFAULT_SETTINGS = {"folder": "books"}
