"""``GET /substations/{name}/diagram.svg``: every role and a read token get the diagram, the
same bytes ``gridboard diagram`` writes; an unknown substation is 404; the CLI refuses special
files as the exports do."""

from __future__ import annotations

import os
from typing import Any

import pytest

from core.cli import main
from tests.api.conftest import bearer
from tests.factories import LINE, SWITCH, make_component

SVG_PATH = "/substations/Riverside/diagram.svg"


def _url(db: Any) -> str:
    return str(db.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def grid(people, world):
    make_component(people, LINE, to_substation="Hill <top> & co")
    make_component(people, SWITCH, status="open")
    return world


def test_every_role_and_a_read_token_get_the_diagram_the_cli_writes(
    client, people, grid, manager_headers, user_headers, tmp_path, capsys
):
    out = tmp_path / "riverside.svg"
    assert main(["--database-url", _url(people), "diagram", "Riverside", "--out", str(out)]) == 0
    assert "written to" in capsys.readouterr().out
    for headers in (manager_headers, user_headers, bearer(grid.read_token)):
        answer = client.get(SVG_PATH, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/svg+xml"
        assert answer.content == out.read_bytes()
    assert b'data-state="open"' in out.read_bytes()
    assert b"to Hill &lt;top&gt; &amp; co" in out.read_bytes()


def test_a_name_in_the_url_is_read_quoted(client, people, user_headers):
    make_component(people, SWITCH, substation="Ost/West & Süd")
    quoted = "/substations/Ost%2FWest%20%26%20S%C3%BCd/diagram.svg"
    answer = client.get(quoted, headers=user_headers)
    assert answer.status_code == 200, answer.text
    assert "Ost/West &amp; Süd" in answer.text


def test_an_unknown_substation_is_404_in_the_api_and_refused_by_the_cli(
    client, people, world, user_headers, tmp_path, capsys
):
    answer = client.get("/substations/Nowhere/diagram.svg", headers=user_headers)
    assert answer.status_code == 404
    assert answer.json() == {
        "detail": "no component is in or connected to substation 'Nowhere'",
        "problems": [],
    }
    out = tmp_path / "nowhere.svg"
    assert main(["--database-url", _url(people), "diagram", "Nowhere", "--out", str(out)]) == 1
    assert "no component is in or connected to substation 'Nowhere'" in capsys.readouterr().err
    assert not out.exists()


def test_the_cli_refuses_a_special_file_and_writes_nothing(people, world, tmp_path, capsys):
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    url = _url(people)
    assert main(["--database-url", url, "diagram", "Riverside", "--out", str(fifo)]) == 1
    assert "is a named pipe (FIFO), not a regular file" in capsys.readouterr().err
    link = tmp_path / "link.svg"
    link.symlink_to(tmp_path / "elsewhere.svg")
    assert main(["--database-url", url, "diagram", "Riverside", "--out", str(link)]) == 1
    assert "is a symbolic link" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.svg").exists()
