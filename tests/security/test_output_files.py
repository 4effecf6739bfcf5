"""Every command that writes a file it is given refuses a FIFO, a socket, a folder and a
symbolic link (to a file, a FIFO or nothing) and leaves it exactly as it was; all in a tmp folder,
never at a system path. On both databases (the exports read them)."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import main
from core.errors import InvalidInput
from tests.factories import make_component


@pytest.fixture
def url(db):
    make_component(db)
    return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def specials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Special files in their own folder, keyed by the kind the refusal must name; a regular
    file ``victim.csv`` holds what the links point at."""
    folder = tmp_path / "out"
    folder.mkdir()
    victim = folder / "victim.csv"
    victim.write_text("keep me\n")
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    (folder / "to-file.csv").symlink_to(victim)
    (folder / "to-fifo.csv").symlink_to(fifo)
    (folder / "dangling.csv").symlink_to(folder / "nowhere.csv")
    (folder / "folder.csv").mkdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    monkeypatch.chdir(folder)  # a short relative name: socket paths are limited to about 100 bytes
    try:
        listener.bind("socket.csv")
        yield {
            "named pipe (FIFO)": fifo,
            "symbolic link": folder / "to-file.csv",
            "symbolic link ": folder / "to-fifo.csv",
            "symbolic link  ": folder / "dangling.csv",
            "folder": folder / "folder.csv",
            "socket": folder / "socket.csv",
        }
    finally:
        listener.close()


def _untouched(folder: Path) -> None:
    assert (folder / "victim.csv").read_text() == "keep me\n"
    assert stat.S_ISFIFO((folder / "pipe.csv").lstat().st_mode)
    assert (folder / "to-file.csv").readlink() == folder / "victim.csv"
    assert (folder / "to-fifo.csv").readlink() == folder / "pipe.csv"
    assert (folder / "dangling.csv").is_symlink() and not (folder / "nowhere.csv").exists()
    assert (folder / "folder.csv").is_dir() and not list((folder / "folder.csv").iterdir())
    assert stat.S_ISSOCK((folder / "socket.csv").lstat().st_mode)
    assert not [path for path in folder.iterdir() if path.name.endswith(".partial")]


COMMANDS = {
    "export-components": ["export-components"],
    "export-components --format parquet": ["export-components", "--format", "parquet"],
    "export-measurements": ["export-measurements", "--component-id", "1"],
    "diagram": ["diagram", "Riverside", "--out"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_exports_refuse_special_files_and_leave_them_as_they_were(url, specials, capsys, command):
    for kind, target in specials.items():
        code = main(["--database-url", url, *command, str(target)])
        err = capsys.readouterr().err
        assert code == 1, (kind, err)
        assert f"is a {kind.strip()}" in err and "not a regular file" in err, (kind, err)
        assert "Traceback" not in err
    _untouched(specials["folder"].parent)


def test_an_export_still_writes_a_new_file_and_replaces_a_regular_one(url, tmp_path, capsys):
    out = tmp_path / "components.csv"
    assert main(["--database-url", url, "export-components", str(out)]) == 0
    first = out.read_text()
    assert first.startswith("id,name,substation")
    out.write_text("old\n")
    assert main(["--database-url", url, "export-components", str(out)]) == 0
    assert out.read_text() == first and not out.is_symlink()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["components.csv"]


def test_report_out_refuses_a_link_where_a_csv_goes(url, specials, capsys):
    folder = specials["folder"].parent
    (folder / "components_by_type.csv").symlink_to(folder / "victim.csv")
    args = ["--database-url", url, "report", "--start", "2024-05-05", "--end", "2024-05-08"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--out", str(folder)])
    assert exit_.value.code == 2
    assert "components_by_type.csv is a symbolic link" in capsys.readouterr().err
    _untouched(folder)


def test_backup_refuses_a_socket_and_links_to_a_file_or_a_fifo(url, specials, capsys):
    folder = specials["folder"].parent
    for kind, target in specials.items():
        assert main(["--database-url", url, "backup", str(target), "--force"]) == 1, kind
        err = capsys.readouterr().err
        assert kind.strip() in err and "nothing was written" in err, (kind, err)
    _untouched(folder)


def test_a_fifo_put_where_the_file_goes_while_it_is_written_stays(tmp_path, monkeypatch):
    """The check is made again just before the rename: a FIFO (or link) that appears while the
    file is being written is not replaced."""
    from core.paths import write_file

    target = tmp_path / "export.csv"
    real_write = os.write

    def write_then_swap(descriptor: int, data: bytes) -> int:
        if not target.exists():
            os.mkfifo(target)
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", write_then_swap)
    with pytest.raises(InvalidInput, match="named pipe"):
        write_file(target, b"a,b\n", lambda reason: InvalidInput.single("OUT", reason))
    monkeypatch.undo()
    assert stat.S_ISFIFO(target.lstat().st_mode)
    assert [path.name for path in tmp_path.iterdir()] == ["export.csv"]
