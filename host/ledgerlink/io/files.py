"""Performing an action's file effects: the analogue of :mod:`ledgerlink.io.outbound`.

:func:`perform` writes or appends (:mod:`ledgerlink.contract.effects`) exactly once per
idempotency key, durably, and reads:

- **Whole-file write**: the content goes to a temporary file in the same folder, which is
  fsynced, put in place with ``os.replace`` (atomic on POSIX), then the folder is fsynced,
  so the new name survives a power cut.
- **Append**: under an exclusive lock, one record is appended (after the effect's header
  when the file is empty) and the file fsynced.
- **Compare and replace**: a whole-file write naming ``expect_sha256`` replaces the file
  only if, under the lock, its content still has that digest; else it answers ``conflict``.
- **Read**: under the same lock (after the repair below), so a reader never sees a record
  half appended.

Beside each file, the hidden journal ``.NAME.ledgerlink-journal`` holds one JSON line per
applied key, written *before* the effect and fsynced: ``{"key", "mode", "length", "sha256"}``
plus the ``offset`` an append starts at and the SHA-256 of the bytes before it (``before``).
Under the lock, the last journal line is checked against the file first; a line whose effect
is not in the file (the process died between the two) is dropped, and a torn append is cut
off at its offset. An append moved by a person's edit of the file (the bytes before it
changed, or the file not ending inside it) is no torn one: the file is kept, the key applied. Then a key already in the
journal is answered ``already_applied`` without writing. A read may ask for the journal's
appends too (``ReadFile(journal=True)``): a reader of the file tells the rows ledgerlink
appended from a person's by them. Hence, whatever moment a process
dies at, a retried step writes its record once:

- before the journal line is durable: nothing was written, the retry writes;
- after it, before the effect is complete: the retry drops the line (and the torn tail)
  and writes;
- after the effect, before the step is acknowledged: the retry finds its key and writes
  nothing.

Only earlier lines are trusted without a check, since each operation repairs the last
line before adding one. The folder is the connection's: files in it are written by
ledgerlink alone.
"""

from __future__ import annotations

import base64
import fcntl
import glob
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract.effects import (AppendFile, FileEffect, FileResult, JournalAppend, ListFolder, MoveFile,
                                         ReadFile, WriteFile)
from ledgerlink.io import folders
from ledgerlink.io.file_paths import relative_path, target  # relative_path: what dry-run checks
from ledgerlink.errors import FileEffectError, quoted
from ledgerlink.io.outbound import Sent, redact

__all__ = ["JOURNAL_SUFFIX", "content_bytes", "describe", "first_answer", "header_bytes", "perform",
           "perform_logged", "relative_path", "target"]

JOURNAL_SUFFIX = ".ledgerlink-journal"
#: mode of a file this module creates
FILE_MODE = 0o644


def content_bytes(effect: FileEffect) -> bytes:
    """The exact bytes the effect writes (none for a read); FileEffectError when its text
    cannot be encoded."""
    if isinstance(effect, (ReadFile, ListFolder, MoveFile)):
        return b""
    return _encoded(effect, effect.content)


def header_bytes(effect: FileEffect) -> bytes:
    """The bytes an append writes first into an empty file (none for other effects)."""
    return _encoded(effect, effect.header) if isinstance(effect, AppendFile) else b""


def _encoded(effect: AppendFile | FileEffect, text: bytes | str) -> bytes:
    if isinstance(text, bytes):
        return text
    try:
        return text.encode(effect.encoding)
    except LookupError:
        raise FileEffectError(f"unknown encoding {effect.encoding!r} for {quoted(effect.path)}") from None
    except UnicodeEncodeError as exc:
        raise FileEffectError(f"the content for {quoted(effect.path)} holds {quoted(exc.object[exc.start:exc.end])}, "
                              f"which encoding {effect.encoding!r} cannot hold") from None


def describe(effect: FileEffect, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The effect as dry-run and the run log show it: kind, mode, path and the exact
    content (text in its encoding, else base64), secret values redacted."""
    secrets = [s for s in secrets if isinstance(s, str) and s]
    shown: dict[str, Any] = {"kind": "file", "mode": effect.mode, "path": redact(effect.path, secrets),
                             "folder_setting": effect.folder_setting}
    if isinstance(effect, MoveFile):
        shown["to"] = redact(effect.to, secrets)
    if isinstance(effect, (ReadFile, ListFolder, MoveFile)):
        return shown
    data = content_bytes(effect)
    shown["bytes"] = len(data)
    try:
        shown["encoding"] = effect.encoding
        shown["content"] = redact(data.decode(effect.encoding), secrets)
        if header_bytes(effect):
            shown["header_if_empty"] = redact(header_bytes(effect).decode(effect.encoding), secrets)
    except UnicodeDecodeError:
        del shown["encoding"]
        shown.pop("content", None)
        shown["content_base64"] = base64.b64encode(data).decode("ascii")
        if header_bytes(effect):
            shown["header_if_empty_base64"] = base64.b64encode(header_bytes(effect)).decode("ascii")
    if isinstance(effect, WriteFile) and effect.expect_sha256 is not None:
        shown["expect_sha256"] = effect.expect_sha256
    return shown


# --- performing it -----------------------------------------------------------------------

def perform(effect: FileEffect, settings: Mapping[str, Any]) -> FileResult:
    """Write or append ``effect`` once per key, or read (see the module's docstring); list
    a folder or move a file (:mod:`ledgerlink.io.folders`)."""
    try:
        if isinstance(effect, ListFolder):
            return folders.list_folder(effect, settings)
        if isinstance(effect, MoveFile):
            return folders.move_file(effect, settings)
    except OSError as exc:
        raise FileEffectError(f"{effect.mode} of {quoted(effect.path)} failed: {exc.strerror or exc}; "
                              f"it is tried again", kind="retry") from None
    path = target(effect, settings)
    data = content_bytes(effect)
    try:
        if isinstance(effect, ReadFile) and not path.exists():
            return FileResult(effect.path, 0, "absent", sha256=_sha256(b""))
        with _Journal(path) as journal:
            if isinstance(effect, ReadFile):
                content = path.read_bytes() if path.exists() else b""
                return FileResult(effect.path, 0, "read" if path.exists() else "absent",
                                  content=content, sha256=_sha256(content),
                                  journal=journal.appends() if effect.journal else ())
            if journal.applied(effect.key):
                return FileResult(effect.path, 0, "already_applied")
            if isinstance(effect, AppendFile):
                written = _append(path, journal, effect.key, data, header_bytes(effect))
                return FileResult(effect.path, written, "appended")
            if effect.expect_sha256 is not None:
                current = _sha256(path.read_bytes() if path.exists() else b"")
                if current != effect.expect_sha256:
                    return FileResult(effect.path, 0, "conflict", sha256=current)
            _write(path, journal, effect.key, data)
            return FileResult(effect.path, len(data), "written")
    except OSError as exc:
        raise FileEffectError(f"{effect.mode} to {quoted(effect.path)} failed: {exc.strerror or exc}; "
                              f"it is tried again", kind="retry") from None
    except (ValueError, KeyError) as exc:  # a journal line ledgerlink did not write
        raise FileEffectError(f"the journal {str(path.with_name(f'.{path.name}{JOURNAL_SUFFIX}'))!r} "
                              f"cannot be read ({type(exc).__name__}); it is written by ledgerlink alone: "
                              f"restore it") from None


def first_answer(effect: FileEffect) -> FileResult:
    """What the first attempt of ``effect`` is answered (dry-run answers with it): a read
    finds the file absent, an append writes its header too."""
    if isinstance(effect, (ReadFile, ListFolder)):
        return FileResult(effect.path, 0, "absent", sha256=_sha256(b""))
    if isinstance(effect, MoveFile):
        return FileResult(effect.path, 0, "moved")
    if isinstance(effect, AppendFile):
        return FileResult(effect.path, len(header_bytes(effect)) + len(content_bytes(effect)), "appended")
    return FileResult(effect.path, len(content_bytes(effect)), "written")


def perform_logged(effect: FileEffect, settings: Mapping[str, Any], secrets: Iterable[str],
                   records: list[Sent]) -> FileResult:
    """:func:`perform`, with what was done appended to ``records`` for the run log (as
    :func:`ledgerlink.io.outbound.send` gives what it sent), also when it failed."""
    secrets = list(secrets)
    started = time.perf_counter()
    shown = describe(effect, secrets)
    try:
        result = perform(effect, settings)
    except FileEffectError as exc:
        records.append(Sent(shown, None, exc.message, time.perf_counter() - started))
        raise
    answer = {"path": result.path, "bytes_written": result.bytes_written, "status": result.status}
    if isinstance(effect, ReadFile):
        answer["bytes_read"] = len(result.content)
    if isinstance(effect, ListFolder):
        answer["files"] = [entry.name for entry in result.entries]
    records.append(Sent(shown, None, redact(jsonio.dumps(answer), secrets), time.perf_counter() - started))
    return result


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _append(path: Path, journal: "_Journal", key: str, data: bytes, header: bytes) -> int:
    """Append ``data`` (after ``header`` when the file is empty); the bytes written."""
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        offset = os.fstat(fd).st_size
        if offset == 0:
            data = header + data
        journal.add({"key": key, "mode": "append", "offset": offset, "length": len(data), "sha256": _sha256(data),
                     "before": _sha256(os.pread(fd, offset, 0) if offset else b"")})
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_folder(path.parent)
    return len(data)


def _write(path: Path, journal: "_Journal", key: str, data: bytes) -> None:
    journal.add({"key": key, "mode": "write", "length": len(data), "sha256": _sha256(data)})
    mode = path.stat().st_mode & 0o777 if path.exists() else FILE_MODE
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _visible(path: Path, record: Mapping[str, Any]) -> bool:
    """Whether the effect a journal line announces is in the file."""
    length = int(record["length"])
    try:
        with open(path, "rb") as handle:
            if record.get("mode") == "append":
                handle.seek(int(record["offset"]))
                data = handle.read(length)
            else:  # the whole file, and not a byte more
                data = handle.read(length + 1)
    except FileNotFoundError:
        return False
    return len(data) == length and _sha256(data) == record["sha256"]


def _edited(path: Path, record: Mapping[str, Any]) -> bool:
    """Whether an append that is not where its journal line says was moved by a person's
    edit of the file (a row deleted, inserted or changed before it), not cut short by a
    crash: a crash leaves the bytes before the record as they were (``before``, their
    SHA-256) and the file ending inside the record. An edited file is kept whole, the key
    still applied. A line written before ``before`` was kept is read as a crash."""
    if record.get("mode") != "append" or "before" not in record or not path.exists():
        return False
    offset = int(record["offset"])
    with open(path, "rb") as handle:
        prefix = handle.read(offset)
        size = offset + len(handle.read(int(record["length"])))
    torn = len(prefix) == offset and size < offset + int(record["length"]) and _sha256(prefix) == record["before"]
    return not torn


class _Journal:
    """The journal of applied keys beside ``path``, locked exclusively while open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.with_name(f".{path.name}{JOURNAL_SUFFIX}")
        #: the journal's complete lines, after the repair
        self.lines = b""

    def __enter__(self) -> "_Journal":
        created = not self.file.exists()
        self.fd = os.open(self.file, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            if created:
                _fsync_folder(self.file.parent)
            self._repair()
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock

    def _repair(self) -> None:
        size = os.fstat(self.fd).st_size
        text = os.pread(self.fd, size, 0)
        complete = text[:text.rfind(b"\n") + 1]  # a line cut by a crash was never acted on
        lines = complete.splitlines(keepends=True)
        if lines:
            last = jsonio.loads(lines[-1])
            if not _visible(self.path, last) and not _edited(self.path, last):
                if last.get("mode") == "append" and self.path.exists() and \
                        self.path.stat().st_size > int(last["offset"]):
                    with open(self.path, "r+b") as data:  # cut the torn record off
                        data.truncate(int(last["offset"]))
                        os.fsync(data.fileno())
                complete = complete[:len(complete) - len(lines[-1])]
                lines.pop()
        if len(complete) != size:
            os.ftruncate(self.fd, len(complete))
            os.fsync(self.fd)
        self.lines = complete
        for stale in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):  # a write that died before replace
            stale.unlink(missing_ok=True)

    def applied(self, key: str) -> bool:
        """Whether a line of the journal is ``key``'s (each line starts with its key)."""
        start = ("\n" + jsonio.dumps({"key": key})[:-1] + ",").encode("utf-8")
        return start in b"\n" + self.lines

    def appends(self) -> tuple[JournalAppend, ...]:
        """The appends the journal records, oldest first (a ReadFile's ``journal``)."""
        found = (jsonio.loads(line) for line in self.lines.splitlines())
        return tuple(JournalAppend(str(r["key"]), int(r["offset"]), int(r["length"]), str(r["sha256"]))
                     for r in found if r.get("mode") == "append")

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one line and fsync it: durable before the effect it announces."""
        line = (jsonio.dumps(record) + "\n").encode("utf-8")
        os.pwrite(self.fd, line, len(self.lines))
        os.fsync(self.fd)
        self.lines += line

