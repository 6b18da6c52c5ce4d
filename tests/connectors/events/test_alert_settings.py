"""The [alerts] table of ledgerlink.toml: checked before the host starts, read with defaults."""

from __future__ import annotations

import pytest

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.errors import ConfigError
from ledgerlink_events.alerts import Settings


class Host:
    """Only what Settings.of reads: a table of the config."""

    def __init__(self, config) -> None:
        self.config = config

    def settings(self, table):
        return self.config.tables.get(table, {})


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_the_defaults_and_the_configured_values(tmp_path, catalog):
    path = tmp_path / "ledgerlink.toml"
    path.write_text("")
    assert Settings.of(Host(load_config(path, catalog))) == Settings(900.0, 10, 60.0)
    path.write_text("[alerts]\ninterval_seconds = 300\nrejected_burst = 3\n")
    assert Settings.of(Host(load_config(path, catalog))) == Settings(300.0, 3, 60.0)


@pytest.mark.parametrize("table, pointer", [
    ("interval_seconds = 0", "/alerts/interval_seconds"),
    ("rejected_burst = 1.5", "/alerts/rejected_burst"),
    ("burst_second = 60", "/alerts"),
])
def test_a_bad_alerts_table_is_refused_naming_its_place(tmp_path, catalog, table, pointer):
    path = tmp_path / "ledgerlink.toml"
    path.write_text(f"[alerts]\n{table}\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path, catalog)
    assert f"{path}:{pointer}:" in str(refused.value)
