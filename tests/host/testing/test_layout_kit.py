"""ledgerlink.testing.layout finds a long module, a silent one and a hidden import cycle."""

from __future__ import annotations

import sys

from ledgerlink.testing.layout import import_cycles, long_modules, silent_modules


def test_a_long_silent_cyclic_package_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "acme_layout"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Acme."""\nfrom acme_layout import a\n')
    (package / "a.py").write_text('"""A."""\nfrom acme_layout import b\n')
    (package / "b.py").write_text('"""B."""\n\ndef late():\n    from acme_layout.a import x\n')
    (package / "inner" / "__init__.py").write_text("x = 1\n" * 401)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert long_modules("acme_layout") == {"acme_layout.inner": 401}
        assert silent_modules("acme_layout") == ["acme_layout.inner"]
        assert import_cycles("acme_layout") == [["acme_layout.a", "acme_layout.b", "acme_layout.a"]]
    finally:
        for name in [n for n in sys.modules if n.startswith("acme_layout")]:
            del sys.modules[name]
