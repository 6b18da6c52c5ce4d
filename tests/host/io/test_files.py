"""File effects performed by the host: paths kept in the folder, atomic writes, appends once per key."""

from __future__ import annotations

import hashlib
import json
import os
import threading

import pytest

from ledgerlink.contract import AppendFile, FileResult, JournalAppend, ListFolder, MoveFile, ReadFile, WriteFile
from ledgerlink.errors import FileEffectError
from ledgerlink.io import files


@pytest.fixture
def folder(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    return books


def settings(folder):
    return {"folder": str(folder)}


def journal(folder, name="ledger.csv"):
    return folder / f".{name}{files.JOURNAL_SUFFIX}"


@pytest.mark.parametrize("path, says", [
    ("/etc/passwd", "absolute"), ("../outside.csv", "'..'"), ("a/../../outside.csv", "'..'"),
    ("C:/books/x.csv", "absolute"), ("a\\..\\b.csv", "backslash"), ("", "relative"),
    (".ledger.csv.ledgerlink-journal", "hidden"), ("out/", "hidden file or a folder"),
    ("ledger\x00.csv", "control character"),
])
def test_a_path_outside_the_folder_or_of_the_hosts_own_files_is_refused(folder, path, says):
    with pytest.raises(FileEffectError) as refused:
        files.perform(AppendFile(path, "x\n", "k1"), settings(folder))
    assert refused.value.kind == "permanent" and says in refused.value.message
    assert list(folder.iterdir()) == []  # nothing written, not even a journal


def test_a_symbolic_link_out_of_the_folder_is_refused(folder, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (folder / "out").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileEffectError, match="symbolic link"):
        files.perform(WriteFile("out/x.csv", "x", "k1"), settings(folder))
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_connection_without_a_folder_or_a_missing_subfolder_says_what_to_set(folder):
    with pytest.raises(FileEffectError, match="set 'folder'") as unset:
        files.perform(AppendFile("x.csv", "x", "k1"), {})
    assert unset.value.kind == "permanent"
    with pytest.raises(FileEffectError, match="does not exist; create it") as missing:
        files.perform(AppendFile("2026/x.csv", "x", "k1"), settings(folder))
    assert missing.value.kind == "retry"  # an operator creates it, the retry succeeds
    (folder / "2026").mkdir()
    assert files.perform(AppendFile("2026/x.csv", "x", "k1"), settings(folder)).status == "appended"


def test_an_append_is_applied_once_per_key(folder):
    first = files.perform(AppendFile("ledger.csv", "evt_1,10.00\n", "k1"), settings(folder))
    replay = files.perform(AppendFile("ledger.csv", "evt_1,10.00\n", "k1"), settings(folder))
    other = files.perform(AppendFile("ledger.csv", "evt_2,5.00\n", "k2"), settings(folder))
    assert first == FileResult("ledger.csv", 12, "appended")
    assert replay == FileResult("ledger.csv", 0, "already_applied")
    assert other == FileResult("ledger.csv", 11, "appended")
    assert (folder / "ledger.csv").read_text() == "evt_1,10.00\nevt_2,5.00\n"
    lines = [json.loads(line) for line in journal(folder).read_text().splitlines()]
    assert [(r["key"], r["mode"], r["offset"], r["length"]) for r in lines] == [
        ("k1", "append", 0, 12), ("k2", "append", 12, 11)]


def test_text_is_encoded_as_the_effect_says_and_bytes_are_written_as_they_are(folder):
    files.perform(AppendFile("latin.csv", "café\n", "k1", encoding="latin-1"), settings(folder))
    files.perform(AppendFile("latin.csv", b"\xff\x00\n", "k2"), settings(folder))
    assert (folder / "latin.csv").read_bytes() == b"caf\xe9\n\xff\x00\n"
    with pytest.raises(FileEffectError, match="encoding 'ascii' cannot hold"):
        files.perform(AppendFile("latin.csv", "café\n", "k3", encoding="ascii"), settings(folder))
    with pytest.raises(FileEffectError, match="unknown encoding"):
        files.perform(AppendFile("latin.csv", "x\n", "k4", encoding="no-such-codec"), settings(folder))
    assert (folder / "latin.csv").read_bytes() == b"caf\xe9\n\xff\x00\n"


def test_a_write_replaces_the_whole_file_and_a_late_replay_does_not_undo_a_later_write(folder):
    assert files.perform(WriteFile("totals.csv", "v1\n", "k1"), settings(folder)).status == "written"
    assert files.perform(WriteFile("totals.csv", "v2\n", "k2"), settings(folder)).status == "written"
    # the first step retried after its answer was lost: v1 must not come back over v2
    assert files.perform(WriteFile("totals.csv", "v1\n", "k1"), settings(folder)).status == "already_applied"
    assert (folder / "totals.csv").read_text() == "v2\n"
    assert sorted(p.name for p in folder.iterdir()) == [f".totals.csv{files.JOURNAL_SUFFIX}", "totals.csv"]


def test_a_write_keeps_the_mode_of_the_file_it_replaces(folder):
    (folder / "report.csv").write_text("old")
    os.chmod(folder / "report.csv", 0o640)
    files.perform(WriteFile("report.csv", "new", "k1"), settings(folder))
    assert (folder / "report.csv").read_text() == "new"
    assert (folder / "report.csv").stat().st_mode & 0o777 == 0o640


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_append_torn_by_a_crash_is_cut_off_and_written_again_once(folder):
    """The state a process killed in the middle of an append leaves: its journal line is
    durable, part of its record is in the file. The next append cuts the torn record off;
    the retried step writes the whole record once."""
    files.perform(AppendFile("ledger.csv", "evt_1\n", "k1"), settings(folder))
    torn = b"evt_2\n"
    with open(journal(folder), "a") as lines:
        lines.write(json.dumps({"key": "k2", "mode": "append", "offset": 6, "length": len(torn),
                                "sha256": _sha(torn)}) + "\n")
    with open(folder / "ledger.csv", "ab") as data:
        data.write(torn[:3])
    assert files.perform(AppendFile("ledger.csv", "evt_3\n", "k3"), settings(folder)).status == "appended"
    assert files.perform(AppendFile("ledger.csv", torn, "k2"), settings(folder)).status == "appended"
    assert files.perform(AppendFile("ledger.csv", torn, "k2"), settings(folder)).status == "already_applied"
    assert (folder / "ledger.csv").read_text() == "evt_1\nevt_3\nevt_2\n"


def test_a_write_that_died_before_its_rename_is_written_again_and_its_temporary_file_removed(folder):
    files.perform(WriteFile("totals.csv", "v1\n", "k1"), settings(folder))
    with open(journal(folder, "totals.csv"), "a") as lines:
        lines.write(json.dumps({"key": "k2", "mode": "write", "length": 3, "sha256": _sha(b"v2\n")}) + "\n")
    (folder / ".totals.csv.abc123.tmp").write_text("v2")  # fsynced halfway, never renamed
    assert files.perform(WriteFile("totals.csv", "v2\n", "k2"), settings(folder)).status == "written"
    assert (folder / "totals.csv").read_text() == "v2\n"
    assert not (folder / ".totals.csv.abc123.tmp").exists()


def test_a_journal_line_cut_by_a_crash_is_dropped(folder):
    files.perform(AppendFile("ledger.csv", "evt_1\n", "k1"), settings(folder))
    with open(journal(folder), "a") as lines:
        lines.write('{"key":"k2","mode":"app')  # died while writing the line: nothing else happened
    assert files.perform(AppendFile("ledger.csv", "evt_2\n", "k2"), settings(folder)).status == "appended"
    assert (folder / "ledger.csv").read_text() == "evt_1\nevt_2\n"
    assert [json.loads(line)["key"] for line in journal(folder).read_text().splitlines()] == ["k1", "k2"]


def test_appends_from_many_threads_never_interleave_and_none_is_lost(folder):
    barrier = threading.Barrier(8)

    def append(thread: int) -> None:
        barrier.wait()
        for i in range(25):
            line = f"{thread:02d}-{i:03d}," + "x" * 200 + "\n"
            files.perform(AppendFile("ledger.csv", line, f"k-{thread}-{i}"), settings(folder))

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (folder / "ledger.csv").read_text().splitlines()
    assert sorted(lines) == sorted(f"{t:02d}-{i:03d}," + "x" * 200 for t in range(8) for i in range(25))


def test_describe_shows_the_exact_content_with_secrets_redacted():
    shown = files.describe(AppendFile("ledger.csv", "evt_1,sk_live_secret\n", "k1"), ["sk_live_secret"])
    assert shown == {"kind": "file", "mode": "append", "path": "ledger.csv", "folder_setting": "folder",
                     "bytes": 21, "encoding": "utf-8", "content": "evt_1,[REDACTED]\n"}
    binary = files.describe(WriteFile("blob.bin", b"\xff\xfe", "k1"))
    assert binary["content_base64"] == "//4=" and "content" not in binary


def test_a_header_is_written_once_whichever_append_comes_first(folder):
    for n in (1, 2):
        result = files.perform(AppendFile("ledger.csv", f"evt_{n}\n", f"k{n}", header="\ufeffid\n"), settings(folder))
        assert result.bytes_written == len(f"\ufeffid\nevt_{n}\n".encode()) if n == 1 else len(b"evt_2\n")
    assert (folder / "ledger.csv").read_text(encoding="utf-8-sig") == "id\nevt_1\nevt_2\n"
    assert files.first_answer(AppendFile("x.csv", "a\n", "k", header="h\n")).bytes_written == 4
    shown = files.describe(AppendFile("x.csv", "a\n", "k", header="h\n"))
    assert shown["header_if_empty"] == "h\n" and shown["content"] == "a\n"


def test_a_read_sees_the_content_and_its_digest_and_an_absent_file_as_absent(folder):
    absent = files.perform(ReadFile("ledger.csv"), settings(folder))
    assert (absent.status, absent.content, absent.sha256) == ("absent", b"", hashlib.sha256(b"").hexdigest())
    files.perform(AppendFile("ledger.csv", "evt_1\n", "k1"), settings(folder))
    read = files.perform(ReadFile("ledger.csv"), settings(folder))
    assert (read.status, read.content, read.sha256) == ("read", b"evt_1\n", hashlib.sha256(b"evt_1\n").hexdigest())
    assert files.first_answer(ReadFile("ledger.csv")).status == "absent"
    assert files.describe(ReadFile("ledger.csv")) == {"kind": "file", "mode": "read", "path": "ledger.csv",
                                                      "folder_setting": "folder"}
    with pytest.raises(FileEffectError, match="climbs out"):
        files.perform(ReadFile("../outside.csv"), settings(folder))


def test_a_read_never_sees_a_record_torn_by_a_crash(folder):
    files.perform(AppendFile("ledger.csv", "evt_1\n", "k1"), settings(folder))
    with open(journal(folder), "a") as lines:  # k2's line is durable, its record was cut short
        lines.write(json.dumps({"key": "k2", "mode": "append", "offset": 6, "length": 6,
                                "sha256": hashlib.sha256(b"evt_2\n").hexdigest()}) + "\n")
    with open(folder / "ledger.csv", "a") as data:
        data.write("ev")
    assert files.perform(ReadFile("ledger.csv"), settings(folder)).content == b"evt_1\n"


def test_a_read_asking_for_the_journal_gets_its_appends_and_none_torn(folder):
    files.perform(AppendFile("ledger.csv", "evt_1\n", "k1", header="id\n"), settings(folder))
    files.perform(AppendFile("ledger.csv", "evt_2\n", "k2", header="id\n"), settings(folder))
    with open(journal(folder), "a") as lines:  # k3's line is durable, its record never written
        lines.write(json.dumps({"key": "k3", "mode": "append", "offset": 15, "length": 6,
                                "sha256": hashlib.sha256(b"evt_3\n").hexdigest()}) + "\n")
    read = files.perform(ReadFile("ledger.csv", journal=True), settings(folder))
    assert read.journal == (JournalAppend("k1", 0, 9, hashlib.sha256(b"id\nevt_1\n").hexdigest()),
                            JournalAppend("k2", 9, 6, hashlib.sha256(b"evt_2\n").hexdigest()))
    assert files.perform(ReadFile("ledger.csv"), settings(folder)).journal == ()


def test_a_write_naming_the_digest_it_read_replaces_only_that_content(folder):
    start = files.perform(ReadFile("book.bin"), settings(folder))
    first = files.perform(WriteFile("book.bin", b"v1", "k1", expect_sha256=start.sha256), settings(folder))
    assert first.status == "written"
    stale = files.perform(WriteFile("book.bin", b"v2", "k2", expect_sha256=start.sha256), settings(folder))
    assert (stale.status, stale.bytes_written, stale.sha256) == ("conflict", 0, hashlib.sha256(b"v1").hexdigest())
    assert (folder / "book.bin").read_bytes() == b"v1"
    again = files.perform(WriteFile("book.bin", b"v2", "k2", expect_sha256=stale.sha256), settings(folder))
    assert again.status == "written" and (folder / "book.bin").read_bytes() == b"v2"
    assert files.perform(WriteFile("book.bin", b"v2", "k2", expect_sha256="0" * 64),
                         settings(folder)).status == "already_applied"


def test_a_folder_is_listed_by_name_without_hidden_files_or_subfolders(folder):
    assert files.perform(ListFolder("inbox"), settings(folder)).status == "absent"
    (folder / "inbox" / "done").mkdir(parents=True)
    (folder / "inbox" / "b.csv").write_text("x\n")
    (folder / "inbox" / "a.csv").write_text("xy\n")
    (folder / "inbox" / ".a.csv.part").write_text("x")
    listed = files.perform(ListFolder("inbox"), settings(folder))
    assert listed.status == "listed"
    assert [(e.name, e.size) for e in listed.entries] == [("a.csv", 3), ("b.csv", 2)]
    assert listed.entries[0].mtime_ns == (folder / "inbox" / "a.csv").stat().st_mtime_ns
    assert [e.name for e in files.perform(ListFolder(), {"folder": str(folder / "inbox")}).entries] == ["a.csv", "b.csv"]
    for path in ("../x", "/etc", ".hidden"):
        with pytest.raises(FileEffectError):
            files.perform(ListFolder(path), settings(folder))


def test_a_file_is_moved_once_and_never_over_another(folder):
    (folder / "a.csv").write_text("first\n")
    moved = files.perform(MoveFile("a.csv", "done/a.csv"), settings(folder))
    assert moved.status == "moved" and (folder / "done" / "a.csv").read_text() == "first\n"
    assert not (folder / "a.csv").exists()
    assert files.perform(MoveFile("a.csv", "done/a.csv"), settings(folder)).status == "absent"  # a repeat
    (folder / "a.csv").write_text("second\n")
    assert files.perform(MoveFile("a.csv", "done/a.csv"), settings(folder)).status == "exists"
    assert (folder / "done" / "a.csv").read_text() == "first\n" and (folder / "a.csv").exists()
    with pytest.raises(FileEffectError, match="climbs out"):
        files.perform(MoveFile("a.csv", "../a.csv"), settings(folder))
    assert files.describe(MoveFile("a.csv", "done/a.csv"))["to"] == "done/a.csv"
    assert files.first_answer(MoveFile("a.csv", "done/a.csv")).status == "moved"
