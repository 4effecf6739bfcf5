"""``gridboard alarms`` and ``gridboard limits`` as an operator uses them."""

from __future__ import annotations

from core.cli import main
from tests.alarms.support import T0, alarms
from tests.factories import make_component


def _csv(tmp_path, component_id, values):
    path = tmp_path / "m.csv"
    rows = [f"{component_id},voltage,2024-03-01T00:0{i}:00Z,{v}" for i, v in enumerate(values)]
    path.write_text("component_id,measurement_type,timestamp,value\n" + "\n".join(rows) + "\n")
    return path


def test_limits_set_show_and_alarms_evaluate_list(db, tmp_path, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    transformer = make_component(db)
    path = _csv(tmp_path, transformer.id, [110, 114, 110])
    assert main(["--database-url", url, "import-measurements", str(path)]) == 0
    assert [a.kind.value for a in alarms(db)] == []  # 114 is inside the default warning, 115.5
    assert main([
        "--database-url", url, "limits", "set", "--component", str(transformer.id),
        "--measurement-type", "voltage", "--high-alarm", "113",
    ]) == 0  # fmt: skip
    assert main(["--database-url", url, "alarms", "evaluate", "--since", "2024-03-01"]) == 0
    assert "1 alarms raised, 1 cleared" in capsys.readouterr().out
    assert main(["--database-url", url, "alarms", "evaluate", "--since", "2024-03-01"]) == 0
    assert "0 alarms raised, 0 cleared" in capsys.readouterr().out
    [alarm] = alarms(db)
    assert (alarm.kind.value, alarm.limit, alarm.raised_at) == (
        "high_alarm",
        113.0,
        T0.replace(minute=1),
    )
    assert main(["--database-url", url, "alarms", "list", "--state", "all"]) == 0
    listed = capsys.readouterr().out
    assert "cleared_unacknowledged" in listed and "high_alarm" in listed and "114" in listed
    assert main(["--database-url", url, "limits", "show", "--component", str(transformer.id)]) == 0
    assert "voltage: high_alarm 113" in capsys.readouterr().out


def test_bad_limits_are_named_without_a_traceback(db, capsys):
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "limits", "set", "--default", "volts=3"]) == 1
    assert "volts: is not a limit default" in capsys.readouterr().err
    level = ["--level", "line:x", "--measurement-type", "current", "--high-alarm", "3"]
    assert main(["--database-url", url, "limits", "set", *level]) == 1
    assert "--level: give TYPE:KV" in capsys.readouterr().err
    assert main(["--database-url", url, "alarms", "list", "--state", "red"]) == 1
    assert "--state: must be one of" in capsys.readouterr().err
