"""The QuickBooks connector and its sandbox in modules by job: small, documented, no cycle
(the kit's :mod:`ledgerlink.testing.layout`, the host's own bound)."""

from __future__ import annotations

import pytest

from ledgerlink.testing.layout import import_cycles, long_modules, silent_modules

PACKAGES = ["ledgerlink_quickbooks", "ledgerlink_sandboxes.quickbooks"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_400_lines(package):
    assert long_modules(package) == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_says_what_it_holds(package):
    assert silent_modules(package) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    assert import_cycles(package) == []
