"""Effects beyond HTTP: what an action yields to have the host read or write a file.

An action stays sans-I/O: instead of writing, its generator yields :class:`WriteFile` or
:class:`AppendFile` (or :class:`ReadFile` to read one), the host performs it
(:mod:`ledgerlink.io.files`) and sends back a :class:`FileResult`, as it sends back a
:class:`~ledgerlink.contract.Response` for a :class:`~ledgerlink.contract.Request`. Dry-run
shows the effect (kind, path, mode, the exact content) and answers it without touching the
disk (a read as if the file did not exist yet).

A file that is rewritten as a whole from its old content (a workbook with one more row) is
read with :class:`ReadFile` and replaced with a :class:`WriteFile` naming the
``expect_sha256`` it read: the host compares and replaces under the file's lock, and
answers ``conflict`` (writing nothing) when another writer replaced it in between, so the
action reads again instead of losing the other writer's row.

A watched folder is read with :class:`ListFolder` (its files, their sizes and modification
times) and :class:`ReadFile`, and a file handled is put away with :class:`MoveFile` (into
``done/`` or ``failed/``), never deleted.

The path is relative to the folder a connection setting names (``folder_setting``, by default
``folder``): a recipe never names an absolute path, and ``..`` is refused, so a connection's
files stay in its folder.

Each effect carries the step's idempotency key (``ctx.idempotency_key``). The host keeps,
beside the file, a journal of the keys it applied, so a retried step whose first attempt
wrote but was never acknowledged (a crash, a lost lease) does not write twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: the connection setting naming the folder, when the effect names none
FOLDER_SETTING = "folder"


@dataclass(frozen=True)
class WriteFile:
    """Replace a whole file atomically: readers see the old content or the new, never a mix.

    ``content`` is bytes, or text encoded with ``encoding``.
    """

    path: str
    content: bytes | str
    #: the step's idempotency key (``ctx.idempotency_key``)
    key: str
    encoding: str = "utf-8"
    #: the connection setting that names the folder ``path`` is relative to
    folder_setting: str = FOLDER_SETTING
    #: the SHA-256 (hex) of the content this write replaces, as a :class:`ReadFile` answered
    #: it (that of no bytes when the file is absent); None replaces whatever is there
    expect_sha256: str | None = None

    mode: ClassVar[str] = "write"


@dataclass(frozen=True)
class AppendFile:
    """Append one record to a file (created if absent), once per idempotency key.

    ``content`` is the whole record (its line ending included), bytes or text encoded with
    ``encoding``. Appends to one file are serialised by a lock, so records never interleave.
    ``header`` (a CSV header line, a byte-order mark) is written before the record when, under
    that lock, the file is absent or empty: once per file, whichever writer comes first.
    """

    path: str
    content: bytes | str
    #: the step's idempotency key (``ctx.idempotency_key``)
    key: str
    encoding: str = "utf-8"
    #: the connection setting that names the folder ``path`` is relative to
    folder_setting: str = FOLDER_SETTING
    #: written first when the file is absent or empty (bytes, or text in ``encoding``)
    header: bytes | str = b""

    mode: ClassVar[str] = "append"


@dataclass(frozen=True)
class ReadFile:
    """Read a whole file, under the lock its writers take: never a record half appended.

    Answered with the content and its SHA-256 (status ``read``), or no bytes and status
    ``absent``. Reading writes nothing, so it carries no key. With ``journal``, the answer
    also holds what the host's journal beside the file says was appended to it
    (:attr:`FileResult.journal`), read under the same lock.
    """

    path: str
    #: the connection setting that names the folder ``path`` is relative to
    folder_setting: str = FOLDER_SETTING
    #: also answer the journal's appends (a reader telling ledgerlink's rows from a person's)
    journal: bool = False

    mode: ClassVar[str] = "read"


@dataclass(frozen=True)
class ListFolder:
    """List the visible files of a folder (not its subfolders, not hidden files).

    Answered with one :class:`FileEntry` per file, by name (status ``listed``), or none and
    status ``absent`` when the folder does not exist.
    """

    #: the folder, relative to the connection's (``"."``: that folder itself)
    path: str = "."
    #: the connection setting that names the folder ``path`` is relative to
    folder_setting: str = FOLDER_SETTING

    mode: ClassVar[str] = "list"


@dataclass(frozen=True)
class MoveFile:
    """Move a file to ``to`` (both relative to the same folder), never over another file.

    The folder ``to`` is in is created if missing. Answered ``moved``; ``absent`` when there
    is no file at ``path`` (an earlier attempt moved it); ``exists`` when a file is already at
    ``to``, and nothing was moved.
    """

    path: str
    to: str
    #: the connection setting that names the folder both paths are relative to
    folder_setting: str = FOLDER_SETTING

    mode: ClassVar[str] = "move"


@dataclass(frozen=True)
class FileEntry:
    """One file of a :class:`ListFolder` answer."""

    name: str
    size: int
    #: its modification time, in nanoseconds since the epoch
    mtime_ns: int


#: every effect the host performs on files
FileEffect = WriteFile | AppendFile | ReadFile | ListFolder | MoveFile


@dataclass(frozen=True)
class FileResult:
    """The host's answer to a file effect, given back to the action generator."""

    #: the path as the effect named it (relative to the connection's folder)
    path: str
    #: bytes this effect put in the file (0 when its key had already been applied)
    bytes_written: int
    #: "written" (a WriteFile), "appended" (an AppendFile), or "already_applied": the key
    #: was applied by an earlier attempt, whose answer was lost, and nothing was written now;
    #: "conflict": a WriteFile's ``expect_sha256`` no longer matched, nothing was written;
    #: "read" or "absent" for a ReadFile; "listed" or "absent" for a ListFolder; "moved",
    #: "absent" or "exists" for a MoveFile
    status: str
    #: what a ReadFile read (empty otherwise, and for an absent file)
    content: bytes = b""
    #: the SHA-256 (hex) of the file's content before this effect (a ReadFile's answer; that
    #: of no bytes for an absent file)
    sha256: str = ""
    #: a ListFolder's files, by name
    entries: tuple[FileEntry, ...] = ()
    #: a ReadFile with ``journal``: each append the journal records, oldest first, as
    #: :class:`JournalAppend` s
    journal: tuple["JournalAppend", ...] = ()


@dataclass(frozen=True)
class JournalAppend:
    """One append the host's journal records: the key's bytes were written at ``offset``
    (after the header, for the first append of a file, whose ``offset`` is 0 and whose bytes
    begin with the header)."""

    key: str
    offset: int
    length: int
    #: SHA-256 (hex) of the bytes appended
    sha256: str
