"""Headless Chromium, from the machine's own package, driven by Playwright for Python.

No browser is downloaded: Playwright launches Debian's ``chromium`` (``.ci/run`` installs it
when it is missing) through ``executable_path``. The tests skip, saying why, where it is
missing; under CI (``CI`` set), where ``.ci/run`` has installed it, they fail instead. A test that gets a :func:`browser_page`
fails on any console error, page error, failed request or answer of 400 or more that it did
not declare, and :func:`shot` saves a screenshot of the page under ``build/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vendor_files import REPO

#: where every page's screenshot is saved (``make test`` leaves them there)
SCREENSHOTS = REPO / "build" / "screenshots"
#: Debian's chromium: the command, or the binary it starts
CANDIDATES = ("chromium", "/usr/bin/chromium", "/usr/lib/chromium/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def shot(page, name: str) -> Path:
    """A full-page screenshot of ``page`` as ``build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def browser_page(expected_statuses: tuple[int, ...] = ()) -> Iterator[object]:
    """A page of a fresh headless Chromium; the test fails on any console error, page error,
    failed request or HTTP error answer (except ``expected_statuses``) the page met."""
    executable = chromium()
    if executable is None:
        missing = "Debian's chromium is not installed here (apt-get install -y chromium; .ci/run installs it)"
        if os.environ.get("CI"):  # CI installed it: its absence there is a failure, not a skip
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright import sync_api  # in the test extra
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(20_000)
            # Chromium also logs an error answer as a console error: one declared is no problem
            declared = tuple(f"the server responded with a status of {status} " for status in expected_statuses)
            page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type == "error" and not (declared and msg.text.startswith("Failed to load resource")
                                                    and any(d in msg.text for d in declared)) else None)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            # ERR_ABORTED: the page's own navigation cut a request short (a favicon, say); an
            # asset that fails answers with a status, caught below
            page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}")
                    if "ERR_ABORTED" not in (req.failure or "") else None)
            page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}")
                    if res.status >= 400 and res.status not in expected_statuses else None)
            yield page
        finally:
            browser.close()
    assert problems == [], problems
