"""Run a ``ledgerlink`` command under cProfile, every thread, counting its SQL statements.

    python bench/profiled.py OUT_PREFIX ledgerlink-args...

Runs ``ledgerlink.cli.main`` with the given arguments in this interpreter (so the installation
the interpreter belongs to is the one measured: the baseline's venv or the working tree's).
Every thread gets its own ``cProfile.Profile`` (``threading.setprofile``); on exit (SIGTERM, as
bench/harness.py stops its processes) the profiles are merged into ``OUT_PREFIX.prof``
(read it with ``python -m pstats`` or :func:`top`) and the statements every SQLite connection
ran (``sqlite3.Connection.set_trace_callback``: every statement the database saw, whether it
came through SQLAlchemy or raw DB-API, BEGIN and COMMIT included) are counted by their first
words into ``OUT_PREFIX.sql.json``.

SIGUSR1 marks the start of the measured load (bench/compare.py sends it after the warm-up):
what ran before it — start-up, schema checks, the warm-up's events — is subtracted from both
files, so their counts divide by the timed events alone.

With ``LEDGERLINK_PROFILE_CLOCK=cpu`` in the environment each thread's profile counts that
thread's CPU time (``time.thread_time``) instead of wall time: a thread waiting for a lock,
a commit or the interpreter lock then counts nothing, so the profile's proportions are those
of the CPU per event (wall time makes every blocked call look heavy on a loaded machine).

Used by ``bench/compare.py --profile DIR``: the same load on both sides, one profile each.
"""

from __future__ import annotations

import atexit
import cProfile
import collections
import json
import marshal
import os
import pstats
import re
import signal
import sys
import threading
import time
from pathlib import Path

_profiles: list[cProfile.Profile] = []
_statements: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()
#: what had run when the measured load began (SIGUSR1): merged raw stats and statements
_marked: dict = {}
_statements_marked: collections.Counter[str] = collections.Counter()


#: the keyword a statement's table follows, by the statement's verb
_TABLE_AFTER = {verb: re.compile(rf'\b{word}\s+"?([A-Za-z_][A-Za-z_0-9]*)', re.I)
                for verb, word in (("SELECT", "FROM"), ("DELETE", "FROM"), ("INSERT", "INTO"),
                                   ("UPDATE", "UPDATE"))}
_VERB = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)")


def statement_kind(sql: str) -> str:
    """A statement's kind: its verb and table (``INSERT run_steps``, ``UPDATE runs``, ``COMMIT``).

    Reads only as far as the table's name: SQLite traces statements with their values bound,
    and a stored payload's kilobytes must not cost the profiled process a scan per statement."""
    verb = _VERB.match(sql)
    if verb is None:
        return "?"
    kind = verb.group(1).upper()
    after = _TABLE_AFTER.get(kind)
    table = after.search(sql) if after is not None else None
    return f"{kind} {table.group(1)}" if table is not None else kind


def _count(sql: str) -> None:
    kind = statement_kind(sql)
    with _lock:
        _statements[kind] += 1


def _trace_sqlite() -> None:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_connection, _record) -> None:
        setter = getattr(dbapi_connection, "set_trace_callback", None)
        if setter is not None:
            setter(_count)

    event.listen(Pool, "connect", on_connect)


def _new_profile() -> cProfile.Profile:
    """A profile on wall time, or on the thread's CPU time (``LEDGERLINK_PROFILE_CLOCK=cpu``)."""
    if os.environ.get("LEDGERLINK_PROFILE_CLOCK") == "cpu":
        return cProfile.Profile(time.thread_time)
    return cProfile.Profile()


def _thread_profile(frame, event, arg):  # noqa: ANN001 - the sys.setprofile signature
    profile = _new_profile()
    with _lock:
        _profiles.append(profile)
    sys.setprofile(None)
    profile.enable()


def _merged() -> dict:
    """The raw stats of every thread's profile, merged: {function: (cc, nc, tt, ct, {})}
    (callers are left out: the marked counts are in them, so they could not be subtracted)."""
    merged: dict = {}
    for profile in list(_profiles):
        profile.snapshot_stats()  # reads the entries; safe while the profile runs in its thread
        for func, (cc, nc, tt, ct, _) in profile.stats.items():
            cc0, nc0, tt0, ct0, _ = merged.get(func, (0, 0, 0.0, 0.0, {}))
            merged[func] = (cc0 + cc, nc0 + nc, tt0 + tt, ct0 + ct, {})
    return merged


def _mark(*_args) -> None:
    _marked.clear()
    _marked.update(_merged())
    with _lock:
        _statements_marked.clear()
        _statements_marked.update(_statements)


def _dump(prefix: str) -> None:
    for profile in list(_profiles):
        profile.disable()
    stats = {}
    for func, (cc, nc, tt, ct, _) in _merged().items():
        if func in _marked:
            cc0, nc0, tt0, ct0, _ = _marked[func]
            cc, nc, tt, ct = cc - cc0, nc - nc0, tt - tt0, ct - ct0
        if nc > 0:
            stats[func] = (cc, nc, tt, ct, {})
    Path(f"{prefix}.prof").write_bytes(marshal.dumps(stats))
    timed = _statements - _statements_marked
    Path(f"{prefix}.sql.json").write_text(json.dumps(dict(timed.most_common()), indent=1))


def top(path: str, lines: int = 40, sort: str = "tottime") -> None:
    """Print the heaviest functions of a dumped profile."""
    pstats.Stats(path).sort_stats(sort).print_stats(lines)


def main() -> int:
    prefix, args = sys.argv[1], sys.argv[2:]
    _trace_sqlite()
    threading.setprofile(_thread_profile)
    main_profile = _new_profile()
    _profiles.append(main_profile)
    atexit.register(_dump, prefix)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # replaced by serve/worker's own handler
    signal.signal(signal.SIGUSR1, _mark)
    from ledgerlink.cli import main as ledgerlink_main

    sys.argv = ["ledgerlink", *args]
    main_profile.enable()
    try:
        return ledgerlink_main() or 0
    finally:
        main_profile.disable()


if __name__ == "__main__":
    sys.exit(main())
