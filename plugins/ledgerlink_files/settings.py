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
        "reconcile_folders": {
            "type": "array", "description": "The folders (relative to folder) whose CSV files and workbooks "
                                            "ledgerlink reconcile lists (every folder the recipes write in), each "
                                            "with its dates' format; default the folder itself, iso.",
            "items": {"type": "object", "required": ["path"], "additionalProperties": False, "properties": {
                "path": {"type": "string", "minLength": 1,
                         "description": "The folder, relative to folder (\".\": folder itself)."},
                "date_format": {"enum": ["iso", "mm/dd/yyyy", "dd/mm/yyyy"],
                                "description": "How its files write dates (default iso)."},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3,
                             "description": "The rows' currency when neither a Currency column nor the "
                                            "file's name says it."}}}},
    },
}

#: what ``ledgerlink connectors`` shows until a connection names its own folder
DEFAULT_SETTINGS = {"folder": "books"}
