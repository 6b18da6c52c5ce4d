"""The web room's fixtures."""

import pytest

from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app ``serve`` runs, on a migrated SQLite database with the repository's recipes and
    a configuration whose secrets come from the environment."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    yield app
    app.config["LEDGERLINK_RUNTIME"].close()
