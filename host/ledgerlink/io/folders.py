"""Watched folders: listing a folder's files and moving one away (:class:`ListFolder`,
:class:`MoveFile` of :mod:`ledgerlink.contract.effects`), for triggers that read files
dropped there.

A move never replaces a file: it links the file under its new name (which fails if that
name is taken) and then removes the old name, both atomic on POSIX, so a file is at one of
its two names (for a moment at both, never at neither), and a move repeated after a crash
finds the file gone and answers ``absent``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract.effects import FileEntry, FileResult, ListFolder, MoveFile
from ledgerlink.io.file_paths import checked, inside, root_of


def list_folder(effect: ListFolder, settings: Mapping[str, Any]) -> FileResult:
    """The visible regular files directly in the folder, by name; ``absent`` without it."""
    relative = checked(effect.path, folder=True)
    root = root_of(effect.folder_setting, settings)
    if not (root / relative).is_dir():
        return FileResult(effect.path, 0, "absent")
    folder = inside(root, relative, effect.path)
    entries = []
    with os.scandir(folder) as found:
        for item in found:
            if item.name.startswith("."):
                continue
            info = item.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode):
                entries.append(FileEntry(item.name, info.st_size, info.st_mtime_ns))
    return FileResult(effect.path, 0, "listed", entries=tuple(sorted(entries, key=lambda e: e.name)))


def move_file(effect: MoveFile, settings: Mapping[str, Any]) -> FileResult:
    """Move ``effect.path`` to ``effect.to`` without replacing a file (module docstring)."""
    source, destination = checked(effect.path), checked(effect.to)
    root = root_of(effect.folder_setting, settings)
    origin = inside(root, source.parent, effect.path) / source.name
    if not origin.exists():
        return FileResult(effect.path, 0, "absent")
    target = inside(root, destination.parent, effect.to, create=True) / destination.name
    try:
        os.link(origin, target, follow_symlinks=False)
    except FileExistsError:
        return FileResult(effect.path, 0, "exists")
    except FileNotFoundError:  # moved by another process meanwhile
        return FileResult(effect.path, 0, "absent")
    os.unlink(origin)
    for place in {origin.parent, target.parent}:
        fd = os.open(place, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return FileResult(effect.path, 0, "moved")
