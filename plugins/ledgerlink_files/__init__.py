"""Files for ledgerlink: ledgers kept as CSV files and Excel workbooks in one folder.

Actions (each row exactly once, the run's idempotency key in its last column):

- ``files.append_csv`` (:mod:`.csv_file`): one row per run appended to a CSV file;
- ``files.append_xlsx`` (:mod:`.xlsx_file`): one typed row per run added to a workbook.

Trigger: ``files.csv_dropped`` (:mod:`.dropped`): a CSV file dropped in the watched folder,
one event per row, read by the host's poll loop.

Modules by job: :mod:`.settings` (the folders), :mod:`.rows` (reading a row's input: columns,
typed cells, formula neutralisation, rotation), :mod:`.csv_file`, :mod:`.xlsx_file`,
:mod:`.dropped`; for ``ledgerlink reconcile``: :mod:`.reconcile` (the rows of a period as
records), :mod:`.table` (a file's lines and their bytes), :mod:`.journaled` (which lines each
step wrote, by the host's journal).
"""

from __future__ import annotations

from ledgerlink import hookimpl
from ledgerlink.contract import Connector
from ledgerlink_files.csv_file import APPEND_CSV
from ledgerlink_files.dropped import CSV_DROPPED, WATCH_POLL
from ledgerlink_files.reconcile import RECONCILE
from ledgerlink_files.settings import DEFAULT_SETTINGS, SETTINGS
from ledgerlink_files.xlsx_file import APPEND_XLSX

#: why the actions declare no undo (the conformance suite's cannot_undo)
NO_UNDO = ("a row cannot be taken back from a file that an importer or an accountant may "
           "already have read; the reversal is a row of its own, written by the recipe of the "
           "event that reverses it")


@hookimpl
def ledgerlink_register_connectors(register):
    register(Connector(
        name="files",
        summary="CSV files and Excel workbooks in a folder: one row per run, exactly once; CSV files dropped in a watched folder, an event per row.",
        settings_schema=SETTINGS,
        default_settings=DEFAULT_SETTINGS,
        poll=WATCH_POLL,
        reconcile=RECONCILE,
    ))


@hookimpl
def ledgerlink_register_triggers(register):
    register(CSV_DROPPED)


@hookimpl
def ledgerlink_register_actions(register):
    register(APPEND_CSV)
    register(APPEND_XLSX)
