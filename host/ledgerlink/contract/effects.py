"""Effects beyond HTTP: what an action yields to have the host write a file.

An action stays sans-I/O: instead of writing, its generator yields :class:`WriteFile` or
:class:`AppendFile`, the host performs it (:mod:`ledgerlink.io.files`) and sends back a
:class:`FileResult`, as it sends back a :class:`~ledgerlink.contract.Response` for a
:class:`~ledgerlink.contract.Request`. Dry-run shows the effect (kind, path, mode, the exact
content) and answers it without touching the disk.

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

    mode: ClassVar[str] = "write"


@dataclass(frozen=True)
class AppendFile:
    """Append one record to a file (created if absent), once per idempotency key.

    ``content`` is the whole record (its line ending included), bytes or text encoded with
    ``encoding``. Appends to one file are serialised by a lock, so records never interleave.
    """

    path: str
    content: bytes | str
    #: the step's idempotency key (``ctx.idempotency_key``)
    key: str
    encoding: str = "utf-8"
    #: the connection setting that names the folder ``path`` is relative to
    folder_setting: str = FOLDER_SETTING

    mode: ClassVar[str] = "append"


#: every effect the host performs on files
FileEffect = WriteFile | AppendFile


@dataclass(frozen=True)
class FileResult:
    """The host's answer to a file effect, given back to the action generator."""

    #: the path as the effect named it (relative to the connection's folder)
    path: str
    #: bytes this effect put in the file (0 when its key had already been applied)
    bytes_written: int
    #: "written" (a WriteFile), "appended" (an AppendFile), or "already_applied": the key
    #: was applied by an earlier attempt, whose answer was lost, and nothing was written now
    status: str
