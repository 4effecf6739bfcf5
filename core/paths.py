"""Checks on paths the command line writes to: what is already there, and whether a folder
can be made and written. See docs/reference.md#the-command-line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_file_kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (a symbolic link is named as
    one, whatever it points to); ``None`` for a regular file or nothing there."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def output_folder_problem(folder: Path, file_names: list[str]) -> str | None:
    """Why ``folder`` cannot receive the files ``file_names`` (it, or what it would be made
    in, is not a writable folder; one of the files is there and is not a regular file), or
    ``None``. Nothing is created."""
    existing = folder
    while True:
        try:
            mode = existing.stat().st_mode
            break
        except (FileNotFoundError, NotADirectoryError):
            if existing.parent == existing:
                return f"none of the folders of {folder} exists"
            existing = existing.parent
        except OSError as error:
            return f"{existing} cannot be read ({error.strerror})"
    if not stat.S_ISDIR(mode):
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the folder {existing} is not writable"
    if existing == folder:
        for name in file_names:
            kind = special_file_kind(folder / name)
            if kind:
                return f"{folder / name} is {kind}, not a regular file"
    return None
