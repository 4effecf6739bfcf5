"""Where the command line writes files: what is already at a path, whether a folder can be
made and written, and the one way a file given by the user is written (whole, then renamed into
place, never over a special file). See docs/reference.md#the-command-line."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable, Iterable
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


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be made in ``folder`` (missing, not a folder, not writable), or
    ``None``."""
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def output_file_problem(path: Path) -> str | None:
    """Why a file given by the user may not be written at ``path``, as a clause, or ``None``.

    Writing renames a finished file into place, which would replace whatever is there: so a
    folder, a symbolic link (to anything: ``/dev/null`` included), a FIFO, a device or a socket
    is refused, whoever runs the command. Every command that writes a user's file asks this."""
    problem = folder_problem(path.parent)
    if problem:
        return problem
    kind = special_file_kind(path)
    if kind:
        return f"{path} is {kind}, not a regular file"
    return None


def temporary_next_to(path: Path) -> Path:
    """A hidden, unguessable file name in ``path``'s folder, so that the final rename is
    atomic and nobody can have put a link there first."""
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.partial"


def put_in_place(temporary: Path, destination: Path, refuse: Callable[[str], Exception]) -> None:
    """Make the finished ``temporary`` file the ``destination``, durably, in one rename; what
    is at ``destination`` is checked again first, since it may have changed while the file was
    being written (``temporary`` is removed and ``refuse``'s error raised)."""
    problem = output_file_problem(destination)
    if problem:
        temporary.unlink(missing_ok=True)
        raise refuse(problem)
    _fsync(temporary)
    temporary.replace(destination)
    _fsync(destination.parent)


def write_file(path: Path, data: bytes, refuse: Callable[[str], Exception]) -> None:
    """``write_chunks`` with the file's bytes in one piece."""
    write_chunks(path, [data], refuse)


def write_chunks(path: Path, chunks: Iterable[bytes], refuse: Callable[[str], Exception]) -> None:
    """Write ``chunks`` (made as they are written, so a file of any size passes through the
    memory of one) as the regular file ``path``: refused (``refuse``'s error, nothing
    written) by ``output_file_problem``; else written whole beside it (a new file, links not
    followed), then put in place. An OS error (disk full), or any error making a chunk,
    leaves nothing behind."""
    problem = output_file_problem(path)
    if problem:
        raise refuse(problem)
    temporary = temporary_next_to(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        descriptor = os.open(temporary, flags, 0o666)
        try:
            for chunk in chunks:
                left = memoryview(chunk)
                while left:
                    left = left[os.write(descriptor, left) :]
        finally:
            os.close(descriptor)
        put_in_place(temporary, path, refuse)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        where = f" ({error.filename})" if error.filename else ""
        raise refuse(f"{error.strerror or error}{where}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
