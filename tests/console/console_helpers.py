"""What the console's tests share: its configuration, the known secret, signing in."""

from __future__ import annotations

import contextlib
import re

from runtime_fixtures import ADMIN_TOKEN, write_config

#: the QuickBooks access token of the test configuration: a secret no page may show
QBO_SECRET = "qbo-token-never-shown-1234"


def console_config(tmp_path, qbo_url: str = "http://127.0.0.1:9", console: str = ""):
    """``write_config``'s configuration, with a ``[console]`` table when given."""
    path = write_config(tmp_path, qbo_url)
    if console:
        path.write_text(path.read_text() + f"\n[console]\n{console}\n")
    return path


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, token: str = ADMIN_TOKEN):
    """Sign ``client`` in through the login form; returns the answer to the POST."""
    form = client.get("/console/login")
    return client.post("/console/login", data={"csrf": csrf_of(form.get_data(as_text=True)), "token": token,
                                               "next": "/console/"})


@contextlib.contextmanager
def served_console(tmp_path, monkeypatch, qbo_url: str, backoff_cap: float = 0.5):
    """``serve``'s app and its worker threads over the QuickBooks sandbox at ``qbo_url`` (the
    sandbox's token), with a client signed in: yields ``(runtime, client)``."""
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.engine.runtime import Settings
    from ledgerlink.testing.databases import migrated_db
    from ledgerlink.web.app import create_app
    from runtime_fixtures import QBO_TOKEN, recipes_dir, working

    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                            config_file=str(write_config(tmp_path, qbo_url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=backoff_cap))
    try:
        client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
        if sign_in(client).status_code != 303:
            raise RuntimeError("the console refused the admin token")
        with working(runtime):
            yield runtime, client
    finally:
        runtime.close()
