"""The server's event loop pauses after a turn once a few connections are open, a few
microseconds per connection, so the events of that moment are served in one turn."""

from __future__ import annotations

import pytest

from ledgerlink.web.servers import loop


@pytest.mark.parametrize("entries, pause", [
    (3, None),                 # one sender: the listening socket, the trigger, its connection
    (8, None),
    (9, 9 * loop.COALESCE_PER_CONNECTION),
    (18, 18 * loop.COALESCE_PER_CONNECTION),  # 16 keep-alive senders
    (5000, loop.COALESCE_MAX),
])
def test_a_turn_is_followed_by_a_pause_in_proportion_to_the_connections_open(monkeypatch, entries, pause):
    turns, pauses = [], []
    monkeypatch.setattr(loop.wasyncore, "poll2", lambda timeout, map: turns.append(len(map)))
    monkeypatch.setattr(loop.time, "sleep", pauses.append)
    loop.coalescing_loop(timeout=0.1, map=dict.fromkeys(range(entries)), count=3)
    assert turns == [entries] * 3
    assert pauses == ([] if pause is None else [pytest.approx(pause)] * 3)
