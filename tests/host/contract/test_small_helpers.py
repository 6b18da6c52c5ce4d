"""The kit's small helpers: a key read whatever its case, names imported on first use."""

import sys
import types

import pytest

from ledgerlink.contract.http import any_case
from ledgerlink.lazy import lazy_names


def test_any_case_reads_a_key_whatever_its_case_and_nothing_from_a_non_mapping():
    assert any_case({"Message": "exact"}, "Message") == "exact"
    assert any_case({"title": "Unauthorized"}, "Title") == "Unauthorized"
    assert any_case({"FAULT": {"Error": []}}, "fault") == {"Error": []}
    assert any_case({"other": 1}, "Message") is None
    assert any_case(["Message"], "Message") is None and any_case(None, "x") is None


def test_lazy_names_import_their_module_on_first_use_only(monkeypatch):
    package = types.ModuleType("lazy_pkg")
    package.__path__ = []  # a package: its submodules are looked up in sys.modules here
    late = types.ModuleType("lazy_pkg.late")
    late.VALUE = 42
    monkeypatch.setitem(sys.modules, "lazy_pkg", package)
    monkeypatch.setitem(sys.modules, "lazy_pkg.late", late)
    lookup = lazy_names("lazy_pkg", {"VALUE": "late"})
    assert lookup("VALUE") == 42
    with pytest.raises(AttributeError, match="module 'lazy_pkg' has no attribute 'OTHER'"):
        lookup("OTHER")
