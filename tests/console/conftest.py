"""The console's fixtures: the app ``serve`` runs, with the console plugin mounted, on a
migrated SQLite database (or the PostgreSQL server of ``LEDGERLINK_TEST_DB``), and a client
signed in to it."""

from __future__ import annotations

import re

import pytest

from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config

#: the QuickBooks access token of the test configuration: a secret no page may show
QBO_SECRET = "qbo-token-never-shown-1234"


def console_config(tmp_path, qbo_url: str = "http://127.0.0.1:9", console: str = ""):
    """``write_config``'s configuration, with a ``[console]`` table when given."""
    path = write_config(tmp_path, qbo_url)
    if console:
        path.write_text(path.read_text() + f"\n[console]\n{console}\n")
    return path


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


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, token: str = ADMIN_TOKEN):
    """Sign ``client`` in through the login form; returns the answer to the POST."""
    form = client.get("/console/login")
    return client.post("/console/login", data={"csrf": csrf_of(form.get_data(as_text=True)), "token": token,
                                               "next": "/console/"})


@pytest.fixture
def signed_in(app):
    client = app.test_client()
    answer = sign_in(client)
    assert answer.status_code == 303
    return client
