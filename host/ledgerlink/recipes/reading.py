"""Reading recipe files: a JSON file parsed with its problems said, and the paths given
expanded (a directory gives its ``*.json`` files)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import Problem

__all__ = ["expand_paths", "read_json_file"]


def read_json_file(path: Path, file: str) -> tuple[Any, list[Problem]]:
    """Parse a JSON file; bad JSON or a missing file is a Problem with line and column."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None, [Problem(file, "", "no such file; check the path")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, "", f"cannot be read: {exc}")]
    try:
        return jsonio.loads(text), []
    except jsonio.JSONDecodeError as exc:
        fix = "nest less deeply there" if "nested more than" in exc.msg else "fix the syntax there"
        return None, [Problem(file, "", f"not valid JSON at line {exc.line}, column {exc.column}: "
                                        f"{exc.msg}; {fix}")]


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given; directories give their ``*.json`` files, sorted."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                problems.append(Problem(str(path), "", "directory holds no *.json recipe"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), "", "no such file or directory; check the path"))
    return files, problems
