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

Used by ``bench/compare.py --profile DIR``: the same load on both sides, one profile each.
"""

from __future__ import annotations

import atexit
import cProfile
import collections
import json
import pstats
import re
import signal
import sys
import threading
from pathlib import Path

_profiles: list[cProfile.Profile] = []
_statements: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()


def statement_kind(sql: str) -> str:
    """A statement's kind: its verb and table (``INSERT run_steps``, ``UPDATE runs``, ``COMMIT``)."""
    words = re.findall(r"[A-Za-z_][A-Za-z_0-9]*", sql)
    if not words:
        return "?"
    verb = words[0].upper()
    upper = [w.upper() for w in words]
    after = {"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb)
    if after in upper[:-1]:
        return f"{verb} {words[upper.index(after) + 1]}"
    return verb


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


def _thread_profile(frame, event, arg):  # noqa: ANN001 - the sys.setprofile signature
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    sys.setprofile(None)
    profile.enable()


def _dump(prefix: str) -> None:
    for profile in list(_profiles):
        profile.disable()
    stats = None
    for profile in _profiles:
        try:
            stats = pstats.Stats(profile) if stats is None else (stats.add(profile) or stats)
        except TypeError:  # a thread that never ran any Python function
            continue
    if stats is not None:
        stats.dump_stats(f"{prefix}.prof")
    Path(f"{prefix}.sql.json").write_text(json.dumps(dict(_statements.most_common()), indent=1))


def top(path: str, lines: int = 40, sort: str = "tottime") -> None:
    """Print the heaviest functions of a dumped profile."""
    pstats.Stats(path).sort_stats(sort).print_stats(lines)


def main() -> int:
    prefix, args = sys.argv[1], sys.argv[2:]
    _trace_sqlite()
    threading.setprofile(_thread_profile)
    main_profile = cProfile.Profile()
    _profiles.append(main_profile)
    atexit.register(_dump, prefix)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # replaced by serve/worker's own handler
    from ledgerlink.cli import main as ledgerlink_main

    sys.argv = ["ledgerlink", *args]
    main_profile.enable()
    try:
        return ledgerlink_main() or 0
    finally:
        main_profile.disable()


if __name__ == "__main__":
    sys.exit(main())
