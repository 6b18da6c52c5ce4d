"""The repository tests itself: every vendor file a test reads is inside it, pinned and licensed.

A fresh clone has nothing beside it. The vendor files the tests, benches and sandboxes read live
in ``tests/vendor/`` (or, when a plugin needs them at run time, in the plugin's package), each
folder with the vendor's licence, ``tests/vendor/SOURCES.md`` saying where each came from and
``tests/vendor/SHA256SUMS`` pinning their bytes. The guard in ``tests/conftest.py`` fails the
session when a test opens a file outside the repository; the source check below catches a path
outside the repository before anything runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from vendor_files import REPO, SHA256SUMS, STRIPE, VENDOR, pinned_files

#: files in tests/vendor that are the project's own, not the vendors'
OWN_FILES = {"SOURCES.md", "SHA256SUMS", "subset_spec.py"}


def vendor_files() -> list[Path]:
    return sorted(p for p in VENDOR.rglob("*")
                  if p.is_file() and p.name not in OWN_FILES and "__pycache__" not in p.parts)


# --- the files: pinned, described and licensed -----------------------------------------------

def test_every_pinned_file_has_its_pinned_bytes():
    assert pinned_files(), SHA256SUMS
    changed = [path for path, digest in pinned_files().items()
               if not (REPO / path).is_file()
               or hashlib.sha256((REPO / path).read_bytes()).hexdigest() != digest]
    assert changed == []


def test_every_vendor_file_is_pinned():
    pinned = pinned_files()
    assert [p.relative_to(REPO).as_posix() for p in vendor_files()
            if p.relative_to(REPO).as_posix() not in pinned] == []


def test_every_vendor_file_is_described_in_sources():
    sources = (VENDOR / "SOURCES.md").read_text("utf-8")
    named = set(re.findall(r"`([^`\s]+)`", sources))
    missing = []
    for path in vendor_files():
        rel = path.relative_to(VENDOR)
        # the file itself, or a folder above it ("quickbooks/exquickbooks-fixtures/")
        candidates = {rel.as_posix()} | {f"{parent.as_posix()}/" for parent in rel.parents
                                          if parent != Path(".")}
        if not candidates & named:
            missing.append(rel.as_posix())
    assert missing == []


def test_every_vendor_file_has_a_licence_beside_or_above_it():
    unlicensed = []
    for path in vendor_files():
        folders = [folder for folder in path.parents if folder == VENDOR or VENDOR in folder.parents]
        if not any(next(folder.glob("LICENSE*"), None) for folder in folders if folder != VENDOR):
            unlicensed.append(path.relative_to(VENDOR).as_posix())
    assert unlicensed == []


def _subset_spec():
    spec = importlib.util.spec_from_file_location("subset_spec", STRIPE / "subset_spec.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stripe_schemas_are_closed_and_hold_every_root():
    """The derived subset of Stripe's spec resolves every ``$ref`` it holds: made again from
    itself, it is unchanged (so no schema a test reaches through ``$ref`` is missing)."""
    subset_spec = _subset_spec()
    schemas = json.loads((STRIPE / "spec3.2023-08-16.schemas.json").read_bytes())
    assert schemas["info"]["version"] == "2023-08-16"
    assert set(subset_spec.ROOTS) <= set(schemas["components"]["schemas"])
    assert subset_spec.subset(schemas) == schemas


# --- nothing reads outside the repository ----------------------------------------------------

#: what a reference outside the repository looks like in source (written not to match itself)
OUTSIDE_PATTERNS = [
    (re.compile(r"\.\./shared"), "a folder beside the repository"),
    (re.compile(r"shared/spec[s]"), "the team's spec folder"),
    (re.compile(r"/wor[k]/"), "an absolute path on one machine"),
    (re.compile(r"""/\s*["']shared["']|["']shared["']\s*,\s*["']specs?["']"""), "a folder beside the repository"),
    (re.compile(r"VENDOR-FACT[S]|\b(DESIGN|STYLE)\.m[d]\b"),
     "the team's notes: cite the vendor's documentation instead"),
]
#: ``Path(__file__).parents[N]`` lies above the repository when N exceeds the file's depth in it
ABOVE_REPO = re.compile(r"parents\[([0-9])\]")
SCANNED = ["tests", "bench", "host", "plugins", ".ci", "Makefile", "pyproject.toml", "README.md"]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".json", ".txt", ".cfg", ".ini", ".sh", ".yml", ".yaml", ""}


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        top = REPO / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            rel = path.relative_to(REPO)
            if (not path.is_file() or path.suffix not in TEXT_SUFFIXES
                    or "__pycache__" in rel.parts or rel.parts[:2] == ("tests", "vendor")
                    or any(part.endswith(".egg-info") for part in rel.parts)):
                continue
            files.append(path)
    return files


def test_no_source_names_a_path_outside_the_repository():
    assert len(scanned_files()) > 50
    found = []
    for path in scanned_files():
        rel = path.relative_to(REPO).as_posix()
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            for pattern, what in OUTSIDE_PATTERNS:
                if pattern.search(line):
                    found.append(f"{rel}:{number}: {what}: {line.strip()}")
            above = ABOVE_REPO.search(line)
            if above and rel.split("/")[0] in ("tests", "bench") and int(above.group(1)) > rel.count("/"):
                found.append(f"{rel}:{number}: the folder above the repository: {line.strip()}")
    assert found == []


def test_guard_records_a_read_outside_the_repository(outside_reads, request):
    outside = "/ledgerlink-outside-the-repository/vendor.json"
    inside = str(VENDOR / "ledgerlink-no-such-file.json")
    try:
        for path in (outside, inside):
            with pytest.raises(FileNotFoundError):
                open(path, "rb")
        assert (request.node.nodeid, outside) in outside_reads.reads
        assert [key for key in outside_reads.reads if key[1] == inside] == []
    finally:
        outside_reads.forget(outside)  # this one was on purpose: the session passes
    assert not outside_reads.allowed(str(Path("/").joinpath("ledgerlink-outside", "x")))
    assert outside_reads.allowed(str(REPO / "tests" / "vendor"))
