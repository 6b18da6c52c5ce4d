"""What the console's tests share: its configuration, the known secret, signing in."""

from __future__ import annotations

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
