"""The gridboard command as an operator uses it: exit codes, messages, and what is stored."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from core.cli import main
from core.models import Component, Measurement, User


@pytest.fixture
def url(db):
    return db.engine.url.render_as_string(hide_password=False)


def _count(db, model):
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


COMPONENTS = (
    "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
    "T1,Riverside,transformer,40,110,,\n"
    "L1,Riverside,line,,20,12.5,\n"
    "S1,Riverside,switch,,,,closed\n"
)


def test_import_components_then_measurements(db, url, tmp_path, capsys):
    components = tmp_path / "components.csv"
    components.write_text(COMPONENTS, encoding="utf-8")
    assert main(["import-components", str(components), "--database-url", url]) == 0
    assert "3 components added" in capsys.readouterr().out

    measurements = tmp_path / "measurements.csv"
    measurements.write_text(
        "component_name,substation,timestamp,measurement_type,value\n"
        "T1,Riverside,2024-05-01T13:45:00+02:00,power,12.5\n"
        "L1,Riverside,2024-05-01T13:45:00Z,current,140\n",
        encoding="utf-8",
    )
    assert main(["--database-url", url, "import-measurements", str(measurements)]) == 0
    assert "2 measurements added" in capsys.readouterr().out
    # the same file again: everything is already there
    assert main(["--database-url", url, "import-measurements", str(measurements)]) == 0
    assert "2 skipped" in capsys.readouterr().out
    assert _count(db, Measurement) == 2


def test_bad_rows_are_named_and_nothing_is_written(db, url, tmp_path, capsys):
    path = tmp_path / "components.csv"
    path.write_text(
        COMPONENTS + "T9,Riverside,transformer,nan,110,,\nX,Riverside,breaker,,,,\n",
        encoding="utf-8",
    )
    assert main(["--database-url", url, "import-components", str(path)]) == 1
    err = capsys.readouterr().err
    assert "line 5" in err and "capacity_mva" in err
    assert "line 6" in err and "breaker" in err
    assert "Traceback" not in err
    assert _count(db, Component) == 0


def test_missing_file_is_a_usage_error(url, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--database-url", url, "import-components", "/no/such/file.csv"])
    assert exit_.value.code == 2
    assert "no such file" in capsys.readouterr().err


def test_create_user_reads_the_password_from_stdin(db, url, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-Good-passw0rd\n"))
    assert (
        main(
            ["--database-url", url, "create-user", "Olga", "--role", "manager", "--password-stdin"]
        )
        == 0
    )
    assert "created manager olga" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("weak\n"))
    assert main(["--database-url", url, "create-user", "petr", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert _count(db, User) == 1


def test_seed_refuses_a_database_that_has_components(db, url, capsys):
    assert main(["--database-url", url, "seed", "--components", "10", "--per-component", "30"]) == 0
    assert _count(db, Component) == 10
    assert _count(db, Measurement) == 300
    assert main(["--database-url", url, "seed", "--components", "10"]) == 1
    assert "error:" in capsys.readouterr().err
    assert _count(db, Component) == 10


def test_unreachable_database_is_a_message(capsys):
    code = main(["--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "seed"])
    assert code == 1
    assert "cannot open the database" in capsys.readouterr().err


def test_installed_command_explains_itself_and_never_prints_tracebacks(tmp_path: Path):
    gridboard = Path(sys.executable).with_name("gridboard")
    helped = subprocess.run([gridboard, "--help"], capture_output=True, text=True, check=True)
    for command in ("seed", "import-components", "import-measurements", "create-user"):
        assert command in helped.stdout
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    refused = subprocess.run(
        [
            gridboard,
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "import-measurements",
            binary,
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "photo.csv" in refused.stderr and "Traceback" not in refused.stderr


def _seeded(url):
    assert (
        main(
            [
                "--database-url",
                url,
                "seed",
                "--components",
                "6",
                "--per-component",
                "300",
                "--end",
                "2024-05-08T00:00:00Z",
            ]
        )
        == 0
    )


def test_report_writes_every_table_as_csv_and_is_listed(db, url, tmp_path, capsys):
    from core.reports.jobs import list_reports

    _seeded(url)
    out = tmp_path / "out"
    args = ["--database-url", url, "report", "--start", "2024-05-05", "--end", "2024-05-08"]
    assert main([*args, "--tz", "Europe/Zurich", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "alarm_shares_by_voltage.csv",
        "components_by_type.csv",
        "daily_averages.csv",
        "daily_averages_by_voltage.csv",
        "limit_violations.csv",
        "line_length_by_voltage.csv",
        "transformer_capacity_by_voltage.csv",
    ]
    header = (out / "daily_averages.csv").read_text().splitlines()[0]
    assert header == (
        "day,measurement_type,component_type,avg_value,sample_count,min_value,max_value,partial_day"
    )
    by_level = (out / "daily_averages_by_voltage.csv").read_text().splitlines()[0]
    assert by_level == (
        "day,measurement_type,component_type,voltage_kv,avg_value,sample_count,min_value,max_value,"
        "partial_day"
    )
    # dates alone are Zurich's midnights: whole local days, the last one May 7th (the seeded
    # readings begin on May 7th at 01:15; the silent component's, ending two hours early, on
    # May 6th at 23:15), none of them partial
    daily = pl.read_csv(out / "daily_averages.csv")
    marks = dict(zip(daily["day"].to_list(), daily["partial_day"].to_list(), strict=False))
    assert marks == {"2024-05-06": False, "2024-05-07": False}
    with db.read() as session:
        (listed,) = list_reports(session=session)
    assert listed.requested_by == "system:cli" and listed.time_zone == "Europe/Zurich"

    assert main([*args[:3], "--start", "2024-05-08", "--end", "2024-05-01", "--out", str(out)]) == 1
    assert main([*args, "--tz", "Nowhere/Land", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "must be after start" in err and "Nowhere/Land" in err


def test_worker_once_drains_the_queue_and_rebuild_repairs(db, url, capsys):
    from datetime import UTC, datetime

    from core.reports.jobs import ReportStatus, list_reports, request_report
    from tests.factories import MANAGER

    _seeded(url)
    with db.write() as session:
        for day in (1, 2):
            request_report(
                session=session,
                actor=MANAGER,
                start=datetime(2024, 5, day, tzinfo=UTC),
                end=datetime(2024, 5, 8, tzinfo=UTC),
            )
    assert main(["--database-url", url, "worker", "--once", "--poll-seconds", "0.1"]) == 0
    with db.read() as session:
        assert {r.status for r in list_reports(session=session)} == {ReportStatus.COMPLETED}
    assert main(["--database-url", url, "rebuild-aggregates"]) == 0
    assert "rollup rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--lease-seconds", "0", "must be more than 0"),
        ("--lease-seconds", "soon", "'soon' is not a number of seconds"),
        ("--stop-grace-seconds", "-1", "must be a finite number >= 0, got -1"),
        ("--poll-seconds", "nan", "must be a finite number >= 0, got nan"),
    ],
)
def test_worker_timings_are_checked_before_anything_runs(url, capsys, option, value, reason):
    with pytest.raises(SystemExit) as exit_:
        main(["--database-url", url, "worker", option, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert option in err and reason in err


def test_a_worker_runs_polars_on_one_thread_unless_the_operator_says_otherwise(tmp_path):
    url = f"sqlite:///{tmp_path / 'gridboard.db'}"
    probe = (
        "import sys; from core.cli import main; "
        f"code = main(['--database-url', {url!r}, 'worker', '--once']); "
        "import polars; print(code, polars.thread_pool_size())"
    )
    environment = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    environment["GRIDBOARD_LOG_LEVEL"] = "WARNING"

    def run(**extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe],
            env=environment | extra,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    assert run() == "0 1"
    assert run(POLARS_MAX_THREADS="2") == "0 2"


def _out_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """--out values no report can be written into, and what the refusal names."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    taken = tmp_path / "taken"
    taken.mkdir()
    os.mkfifo(taken / "daily_averages.csv")
    (tmp_path / "listed").mkdir()
    (tmp_path / "listed" / "components_by_type.csv").mkdir()
    return {
        "the file itself": (a_file, f"{a_file} is a file, not a folder"),
        "under a file": (a_file / "out", f"{a_file} is a file, not a folder"),
        "deep under a file": (a_file / "a" / "b", f"{a_file} is a file, not a folder"),
        "a FIFO where a CSV goes": (taken, "daily_averages.csv is a named pipe (FIFO)"),
        "a folder where a CSV goes": (tmp_path / "listed", "components_by_type.csv is a folder"),
    }


def test_report_out_is_checked_before_the_report_is_computed_or_stored(db, url, tmp_path, capsys):
    from core.reports.jobs import count_reports

    args = ["--database-url", url, "report", "--start", "2024-05-05", "--end", "2024-05-08"]
    for case, (out, reason) in _out_cases(tmp_path).items():
        with pytest.raises(SystemExit) as exit_:
            main([*args, "--out", str(out)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2, case
        assert "--out" in err and reason in err and "Traceback" not in err, (case, err)
    with db.read() as session:
        assert count_reports(session=session) == 0
    assert not (tmp_path / "notes.txt").is_dir()


def test_a_report_that_fails_ends_with_its_error_and_status_1(
    db, url, tmp_path, capsys, monkeypatch
):
    from core.reports.jobs import runner

    def broken(*_args, **_kwargs):
        raise RuntimeError("no rows today")

    monkeypatch.setattr(runner, "compute_report", broken)
    out = tmp_path / "out"
    args = ["--database-url", url, "report", "--start", "2024-05-05", "--end", "2024-05-08"]
    assert main([*args, "--out", str(out)]) == 1
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: report 1 failed: ") and "RuntimeError" in line
    assert not out.exists()


def test_a_report_whose_files_cannot_be_written_says_it_is_stored(
    db, url, tmp_path, capsys, monkeypatch
):
    from core.reports.jobs import ReportStatus, get_report

    _seeded(url)

    def disk_full(_descriptor: int, _data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    out = tmp_path / "out"
    args = ["--database-url", url, "report", "--start", "2024-05-05", "--end", "2024-05-08"]
    assert main([*args, "--out", str(out)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: report 1 is stored, but writing its CSV files into {out} failed: "
        "No space left on device; download them from the app"
    )
    with db.read() as session:
        assert get_report(session=session, report_id=1).status is ReportStatus.COMPLETED


def test_report_dates_are_midnights_in_the_zone_given_with_tz(db, url, tmp_path):
    from datetime import UTC, datetime

    from core.reports.jobs import list_reports
    from core.reports.periods import partial_days

    out = tmp_path / "out"
    args = ["--database-url", url, "report", "--start", "2026-11-30", "--end", "2026-12-07"]
    assert main([*args, "--tz", "Europe/Berlin", "--out", str(out)]) == 0
    assert main([*args[:3], "--start", "2026-11-30T06:00", "--end", "2026-12-07T06:00+01:00",
                 "--tz", "Europe/Berlin", "--out", str(out)]) == 0  # fmt: skip
    with db.read() as session:
        later, first = list_reports(session=session)
    assert (first.period_start, first.period_end) == (
        datetime(2026, 11, 29, 23, tzinfo=UTC),
        datetime(2026, 12, 6, 23, tzinfo=UTC),
    )
    assert partial_days(first.period_start, first.period_end, time_zone="Europe/Berlin") == set()
    # a wall clock without an offset is Berlin's; one with an offset keeps its instant
    assert (later.period_start, later.period_end) == (
        datetime(2026, 11, 30, 5, tzinfo=UTC),
        datetime(2026, 12, 7, 5, tzinfo=UTC),
    )


def test_audit_log_writes_the_filtered_entries_newest_first(db, url, tmp_path, capsys):
    import csv

    from tests.factories import LINE, TRANSFORMER, make_component

    transformer = make_component(db, TRANSFORMER)
    line = make_component(db, LINE)
    out = tmp_path / "audit.csv"
    assert main(["--database-url", url, "audit-log", "--event", "component.create",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "2 audit log entries written to" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["target"] for r in rows] == [f"component {line.id}", f"component {transformer.id}"]
    assert {r["actor"] for r in rows} == {"mona"}
    assert main(["--database-url", url, "audit-log", "--actor", "nobody"]) == 0
    assert capsys.readouterr().out.splitlines() == ["time,actor,event,target,outcome,fields"]
    assert main(["--database-url", url, "audit-log", "--since", "2024-05-02T00:00:00Z",
                 "--until", "2024-05-01T00:00:00Z"]) == 1  # fmt: skip
    assert "until: must be after since" in capsys.readouterr().err


def test_every_action_takes_the_database_url_after_its_name(url, capsys):
    """``alarms``, ``limits`` and ``webhooks`` add actions; each takes ``--database-url`` as
    every command does, after its own name, and its help says what the option means."""
    for words in (["alarms", "list"], ["limits", "show"], ["webhooks", "list"]):
        assert main([*words, "--database-url", url]) == 0, words
        with pytest.raises(SystemExit):
            main([*words, "--help"])
        assert "GRIDBOARD_DATABASE_URL" in capsys.readouterr().out, words
