"""What a file effect names: a path inside the folder a connection's setting declares.

A recipe never names an absolute path; ``..``, a backslash, a control character and a hidden
name (the host's own journals and temporary files) are refused, and so is a symbolic link
leading out of the folder (:mod:`ledgerlink.contract.effects`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ledgerlink.contract.effects import FileEffect, ListFolder, MoveFile
from ledgerlink.errors import FileEffectError, quoted


def checked(text: object, *, folder: bool = False) -> PurePosixPath:
    """``text`` as a path relative to a connection's folder, naming a visible file (or, with
    ``folder``, a folder: ``"."`` is the connection's own).

    FileEffectError (permanent) for an absolute path, a drive, ``..``, a backslash, a
    control character, or a name starting with ``.`` (the host's own journal and temporary
    files are hidden)."""
    if not isinstance(text, str) or not text.strip():
        raise FileEffectError(f"a file effect needs a path relative to the connection's folder; got {quoted(text)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text) or "\\" in text:
        raise FileEffectError(f"the file path {quoted(text)} holds a control character or a backslash; "
                              f"write a path relative to the connection's folder, with / between folders")
    posix = PurePosixPath(text)
    if posix.is_absolute() or PureWindowsPath(text).drive:
        raise FileEffectError(f"the file path {quoted(text)} is absolute; a recipe names a path relative to "
                              f"the folder its connection's settings declare")
    if ".." in posix.parts:
        raise FileEffectError(f"the file path {quoted(text)} climbs out with '..'; a recipe names a path "
                              f"inside the folder its connection's settings declare")
    if folder:
        if any(part.startswith(".") for part in posix.parts):
            raise FileEffectError(f"the folder {quoted(text)} is hidden; name a folder whose name does not "
                                  f"start with '.'")
        return posix
    if posix.name.startswith(".") or posix.name in ("", ".") or text.endswith("/"):
        raise FileEffectError(f"the file path {quoted(text)} names a hidden file or a folder; name a file "
                              f"whose name does not start with '.'")
    return posix


def relative_path(effect: FileEffect) -> PurePosixPath:
    """The effect's path, checked (:func:`checked`; a move's destination too)."""
    if isinstance(effect, ListFolder):
        return checked(effect.path, folder=True)
    if isinstance(effect, MoveFile):
        checked(effect.to)
    return checked(effect.path)


def root_of(folder_setting: str, settings: Mapping[str, Any]) -> Path:
    """The real path of the folder ``folder_setting`` names; FileEffectError when none."""
    folder = settings.get(folder_setting)
    if not isinstance(folder, str) or not folder:
        raise FileEffectError(f"the connection declares no folder for files: set {folder_setting!r} "
                              f"in its [connections.NAME] table of ledgerlink.toml")
    return Path(os.path.realpath(folder))


def inside(root: Path, relative: PurePosixPath, shown: str, *, create: bool = False) -> Path:
    """The real folder ``relative`` names under ``root`` (created when ``create``).

    FileEffectError: permanent when a symbolic link leads out of ``root``; retry when the
    folder does not exist (and is not to be created), which an operator can fix."""
    place = Path(os.path.realpath(root / relative))
    if place != root and root not in place.parents:  # a symbolic link pointing out of the folder
        raise FileEffectError(f"the file path {quoted(shown)} leads out of the folder {str(root)!r} "
                              f"through a symbolic link")
    if create and not place.is_dir():
        place.mkdir(parents=True, exist_ok=True)
        return inside(root, relative, shown)
    if not place.is_dir():
        raise FileEffectError(f"the folder {str(place)!r} for {quoted(shown)} does not exist; create it",
                              kind="retry")
    return place


def target(effect: FileEffect, settings: Mapping[str, Any]) -> Path:
    """The absolute file an effect names on a connection with ``settings``.

    FileEffectError: permanent when the path is refused or the connection declares no
    folder; retry when the folder (or a subfolder the path names) does not exist, which an
    operator can fix."""
    relative = relative_path(effect)
    root = root_of(effect.folder_setting, settings)
    return inside(root, relative.parent, effect.path) / relative.name
