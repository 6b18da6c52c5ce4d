"""The durable store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

:class:`Store` is the one object the rest of ledgerlink holds: every read and write of
ledgerlink's state. It is composed of one class per family of tables, each a mixin over
:class:`~ledgerlink.store.base.StoreBase` (the engine, the write transaction, the clock)::

    schema.py        the tables and their metadata (changed only by ``migrations/``)
    database.py      engines, migrations, which errors mean "cannot take a write now"
    base.py          StoreBase: write transaction, clock, health probe, wake-ups between processes
    group_commit.py  concurrent writes (inbox, step log) committed together
    hot.py           the statements every run costs (claim, step log, close), run through the driver
    events.py        the inbox: deliveries, planning their runs, fetching notifications
    polls.py         polls (schedule, lease) and trigger cursors
    runs.py          the run queue: claim, renew, finish, release, pause, resume, reopen
    review.py        runs awaiting review: park, approve, reject
    run_log.py       step attempts, earlier writes, runs as an operator reads them
    run_pages.py     runs as a person pages through them: filters, counts per status
    links.py         source object ↔ entity created in the target system
    writes.py        what ledgerlink wrote, and when (its echoes are recognised)
    recipes.py       every recipe version ever loaded
    connections.py   connection secret blobs and statuses
    tallies.py       occurrences counted per key and time window, by every process together
    console.py       what the console's pages read: runs' sources and writes, hourly series
"""

from __future__ import annotations

from ledgerlink.store.base import StoreHealth
from ledgerlink.store.connections import ConnectionStore
from ledgerlink.store.console import ConsoleStore
from ledgerlink.store.database import (
    DEFAULT_URL, driver_url, head_revision, make_engine, unavailable, upgrade,
)
from ledgerlink.store.events import ClaimedFetch, EventStore
from ledgerlink.store.links import LinkStore
from ledgerlink.store.polls import PollStore
from ledgerlink.store.recipes import RecipeStore
from ledgerlink.store.run_log import EarlierWrite, RunLogStore
from ledgerlink.store.run_pages import RunFilter, RunPageStore
from ledgerlink.store.review import ReviewState, ReviewStore
from ledgerlink.store.runs import CLOSED, OPEN, ClaimedRun, RunStore
from ledgerlink.store.tallies import TallyStore
from ledgerlink.store.writes import Write, WriteStore

__all__ = [
    "CLOSED", "DEFAULT_URL", "OPEN", "ClaimedFetch", "ClaimedRun", "EarlierWrite", "ReviewState",
    "RunFilter", "Store", "StoreHealth", "Write", "driver_url", "head_revision", "make_engine", "unavailable", "upgrade",
]


class Store(EventStore, PollStore, RunStore, ReviewStore, RunLogStore, RunPageStore, LinkStore, WriteStore, RecipeStore, ConnectionStore,
            TallyStore, ConsoleStore):
    """Every read and write of ledgerlink's state. Thread-safe (a connection per call)."""
