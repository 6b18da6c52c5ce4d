"""Which lines of a CSV file each step wrote, by the host's journal beside the file.

The journal records each append: its key, where it started, how many bytes and their
SHA-256 (the first append of a file begins with the header). The lines are found again by
content, wherever they are now:

1. **untouched**: an append's bytes are found as whole records of the file, searched from
   where the previous append was found (appends are in the file's order), then before it (a
   row moved up). Rows deleted, edited or inserted elsewhere do not matter.
2. **edited**: the appends not found between two that were are given the lines no append
   claims between them, in order, each a run of lines whose length in bytes comes closest
   to its own (one line, for a row; a journal's several), aligned so that the lengths differ
   least overall (:func:`_paired`). Its key names them still, so the reconciliation compares their amount and date with
   what the run booked. Rows edited next to a row deleted or added are told apart by their
   lengths only: which is which may be read the wrong way round there.
3. **gone**: an append left without a line (deleted by hand) names nothing.

Lines no append claims are a person's: added by hand, or copied. In a file with a key column,
such a line whose key the journal does not name (the journal was lost, the file copied
without it) is claimed by its key, the first run of lines holding it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledgerlink.contract import JournalAppend

from .table import Table


def _find(table: Table, sizes: Sequence[int], append: JournalAppend, start: int,
          owner: dict[int, str]) -> list[int] | None:
    """The lines (consecutive, unclaimed) whose bytes are the append's, searched from ``start``."""
    prefix = table.header_raw if append.offset == 0 else b""
    target = append.length - len(prefix)
    count = len(table.lines)
    for first in [*range(start, count), *range(0, min(start, count))]:
        total, last = 0, first
        while last < count and last not in owner and total < target:
            total += sizes[last]
            last += 1
        if last > first and total == target:
            data = prefix + b"".join(line.raw for line in table.lines[first:last])
            if hashlib.sha256(data).hexdigest() == append.sha256:
                return list(range(first, last))
    return None


def _nearest(spans: dict[int, list[int]], order: int, step: int, limit: int, default: int) -> int:
    """The line next to the nearest append found before (``step`` -1: its last line) or after
    (+1: its first line) append number ``order``."""
    other = order + step
    while 0 <= other < limit:
        if other in spans:
            return spans[other][-1] if step < 0 else spans[other][0]
        other += step
    return default


#: the most runs of lines one append is given back in a gap (a journal's rows)
WIDEST = 50
#: beyond this many appends × lines in one gap (a file rewritten whole), pair them in order
ALIGNED = 20000


def _paired(wanted: Sequence[int], pool: Sequence[int], sizes: Sequence[int]) -> list[list[int]]:
    """The lines of ``pool`` (indices, in order) each append not found (its length in bytes,
    ``wanted``, in order) is given: consecutive lines, in order, so that the lengths differ
    least (twice the difference), an append left without lines costing its length and a line
    left to a person its own: a row edited keeps about its length, one typed in beside it
    or deleted next to it does not."""
    if not pool:
        return [[] for _ in wanted]
    if len(wanted) * len(pool) > ALIGNED:  # too many to align: one line each, in order
        return [[pool[i]] if i < len(pool) else [] for i in range(len(wanted))]
    inf = float("inf")
    cost = [[inf] * (len(pool) + 1) for _ in range(len(wanted) + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    cost[0][0] = 0
    for i in range(len(wanted) + 1):
        for j in range(len(pool) + 1):
            here = cost[i][j]
            if here == inf:
                continue
            moves = [(i + 1, j, here + wanted[i])] if i < len(wanted) else []
            if j < len(pool):
                moves.append((i, j + 1, here + sizes[pool[j]]))
            total = 0
            for t in range(j, min(len(pool), j + WIDEST)) if i < len(wanted) else ():
                if t > j and pool[t] != pool[t - 1] + 1:
                    break
                total += sizes[pool[t]]
                # lengths that differ cost twice a line left over: a line of the right length is
                # the one edited, the longer one typed in beside it; a tie goes to fewer lines
                moves.append((i + 1, t + 1, here + 2 * abs(wanted[i] - total) + (t - j) / 2))
            for a, b, value in moves:
                if value < cost[a][b]:
                    cost[a][b], step[(a, b)] = value, (i, j)
    given: list[list[int]] = [[] for _ in wanted]
    at = (len(wanted), len(pool))
    while at != (0, 0):
        i, j = step[at]
        if at[0] == i + 1 and at[1] > j:
            given[i] = list(pool[j:at[1]])
        at = (i, j)
    return given


def claimed(table: Table, appends: Sequence[JournalAppend], key_column: str | None = None) -> dict[str, list[int]]:
    """Each key → the indices of ``table.lines`` its step wrote (see the module's docstring);
    a key whose lines are gone is left out."""
    sizes = [len(line.raw) for line in table.lines]
    owner: dict[int, str] = {}
    spans: dict[int, list[int]] = {}
    cursor = 0
    for order, append in enumerate(appends):
        found = _find(table, sizes, append, cursor, owner)
        if found is not None:
            spans[order] = found
            owner.update((index, append.key) for index in found)
            cursor = found[-1] + 1
    gaps: dict[tuple[int, int], list[int]] = {}
    for order in range(len(appends)):
        if order not in spans:
            gap = (_nearest(spans, order, -1, len(appends), -1), _nearest(spans, order, 1, len(appends), len(table.lines)))
            gaps.setdefault(gap, []).append(order)
    for (after, before), orders in gaps.items():
        pool = [i for i in range(after + 1, before) if i not in owner and table.lines[i].cells]
        wanted = [appends[o].length - (len(table.header_raw) if appends[o].offset == 0 else 0) for o in orders]
        for order, taken in zip(orders, _paired(wanted, pool, sizes)):
            if taken:
                spans[order] = taken
                owner.update((index, appends[order].key) for index in taken)
    found_keys = {appends[order].key: lines for order, lines in spans.items()}
    if key_column is not None and table.header and table.header[-1] == key_column:
        _by_key_cell(table, owner, found_keys)
    return found_keys


def _by_key_cell(table: Table, owner: dict[int, str], found: dict[str, list[int]]) -> None:
    """Lines no append claimed, claimed by the key in their last cell (its first run of lines;
    a line repeating one of the run is a copy, and ends it)."""
    running: str | None = None
    for index, line in enumerate(table.lines):
        key = line.cells[-1] if line.cells and index not in owner else ""
        if key and key == running and all(table.lines[i].cells != line.cells for i in found[key]):
            found[key].append(index)
            owner[index] = key
            continue
        running = None
        if key and key not in found:
            found[key] = [index]
            owner[index] = running = key
