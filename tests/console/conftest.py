"""The console's fixtures: the app ``serve`` runs, with the console plugin mounted, on a
migrated SQLite database (or the PostgreSQL server of ``LEDGERLINK_TEST_DB``), and a client
signed in to it."""

from __future__ import annotations

import pytest

from console_helpers import QBO_SECRET, console_config, sign_in
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, recipes_dir


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_SECRET)
    made = []

    def make(console: str = "", admin_token: str = ADMIN_TOKEN):
        app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                          "config": str(console_config(tmp_path, console=console)), "admin_token": admin_token})
        made.append(app)
        return app

    yield make
    for app in made:
        app.config["LEDGERLINK_RUNTIME"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def signed_in(app):
    client = app.test_client()
    answer = sign_in(client)
    assert answer.status_code == 303
    return client
