"""A connection's state as the console shows it: what a person must do first wins."""

import pytest

from ledgerlink.engine.connection_states import STATES, state


@pytest.mark.parametrize("row, limit, expected", [
    ({"status": "ok", "paused_runs": 0, "paused_fetches": 0}, {"paused": False}, "ok"),
    ({"status": "configured", "paused_runs": 0, "paused_fetches": 0}, None, "ok"),
    ({"status": "needs_reauth", "paused_runs": 3, "paused_fetches": 0}, None, "needs_reauth"),
    ({"status": "needs_new_key", "paused_runs": 0, "paused_fetches": 2}, None, "needs_reauth"),
    ({"status": "not_connected", "paused_runs": 0, "paused_fetches": 0}, {"paused": True}, "not_connected"),
    ({"status": "ok", "paused_runs": 4, "paused_fetches": 0}, None, "paused"),
    ({"status": "configured", "paused_runs": 0, "paused_fetches": 1}, None, "paused"),
    ({"status": "ok", "paused_runs": 0, "paused_fetches": 0}, {"paused": True}, "paused"),
])
def test_the_state_a_person_acts_on(row, limit, expected):
    assert state(row, limit) == expected and expected in STATES
