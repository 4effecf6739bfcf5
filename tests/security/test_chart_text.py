"""Text from data in every chart GridBoard draws (component and substation names, labels,
time zones, messages, a report table's text) reads as typed: never a link, a tag, a hover
template's value or TeX.

Each figure builder of ``core`` (found by introspection: a new one fails here until it is
listed) and each page with a chart is given hostile names; every text of the figure's JSON is
read with ``tests/security/plotly_text.py``, a model of plotly.js's text rendering."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest

from core.domain import MeasurementType
from core.grid.network import read_network
from core.measurements.measurements import add_measurement
from core.reports import kpis
from core.reports.jobs import request_report
from core.reports.violations import ALARM_SHARES, LIMIT_VIOLATIONS, SCHEMAS
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component
from tests.report_runs import run_next
from tests.security.plotly_text import acted_on, shown, texts
from views.figures.chart_text import plain
from views.figures.charts import (
    alarm_shares_figure,
    base_layout,
    components_by_type_figure,
    components_figure,
    daily_averages_figure,
    empty_figure,
    limit_violations_figure,
    report_figure,
    voltage_by_level_figure,
)
from views.figures.network_figure import network_figure, network_view
from views.figures.series_charts import Panel, component_label, stacked_series_figure

ROOT = Path(__file__).resolve().parents[2]
FIGURE_MODULES = (
    "views.figures.charts",
    "views.figures.series_charts",
    "views.figures.network_figure",
)
# Each carries a distinct mark ("evil.example/...") that escaping leaves as it is.
NAME = '<a href="https://evil.example/phish">Sign in again</a> <b>b</b> <i>i</i> %{y} $x$ &lt;'
SUBSTATION = (
    '<span style="font-size:90px">evil.example/sub</span><br><sub>1</sub><sup>2</sup> '
    "&amp; %{customdata[0]} $$"
)
OTHER_END = '<a href="javascript:alert(1)">evil.example/end</a>'
MARKS = {NAME: "evil.example/phish", SUBSTATION: "evil.example/sub", OTHER_END: "evil.example/end"}
NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def assert_reads_as_typed(figure: go.Figure | str, *hostiles: str) -> None:
    """Nothing in the figure's text is markup GridBoard did not write, and each of
    ``hostiles`` is in it, read as typed wherever a text carries it."""
    spec = figure if isinstance(figure, str) else figure.to_json()
    seen = set()
    for where, text, template in texts(spec):
        extra = acted_on(text, template=template)
        assert not extra, f"{where}: Plotly would act on {extra} in {text!r}"
        read = shown(text, template=template)
        for hostile in hostiles:
            if MARKS[hostile] in text or MARKS[hostile] in read:
                assert hostile in read, f"{where} reads {read!r}, not the name as typed"
                seen.add(hostile)
    assert seen == set(hostiles), f"not in the chart at all: {set(hostiles) - seen}"


def _series(count: int = 3, *, samples: int = 1) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": [NOW + timedelta(hours=i) for i in range(count)],
            "value": [20.0 + i for i in range(count)],
            "min_value": [19.0 + i for i in range(count)],
            "max_value": [21.0 + i for i in range(count)],
            "sample_count": [samples] * count,
        }
    )


def _daily(*, with_level: bool) -> pl.DataFrame:
    rows = {
        "day": [date(2024, 5, 1), date(2024, 5, 2)],
        "measurement_type": ["voltage", "voltage"],
        "component_type": [NAME, NAME],
        "avg_value": [20.1, 20.2],
        "sample_count": [96, 40],
        "min_value": [19.0, 19.5],
        "max_value": [21.0, 21.5],
        "partial_day": [False, True],
    }
    return pl.DataFrame(rows | ({"voltage_kv": [20.0, 20.0]} if with_level else {}))


# Every figure builder, called with hostile text wherever it takes text, and the texts that
# must then be in the figure (none where a builder takes no text from data).
BUILDERS: dict[str, tuple[Callable[[], go.Figure], tuple[str, ...]]] = {
    "views.figures.charts.base_layout": (lambda: base_layout(go.Figure()), ()),
    "views.figures.charts.empty_figure": (lambda: empty_figure(f"No data for {NAME}"), (NAME,)),
    "views.figures.charts.daily_averages_figure": (
        lambda: daily_averages_figure(_daily(with_level=False)),
        (NAME,),
    ),
    "views.figures.charts.voltage_by_level_figure": (
        lambda: voltage_by_level_figure(_daily(with_level=True)),
        (NAME,),
    ),
    "views.figures.charts.components_by_type_figure": (
        lambda: components_by_type_figure(pl.DataFrame({"component_type": [NAME], "count": [3]})),
        (NAME,),
    ),
    "views.figures.charts.report_figure": (
        lambda: report_figure(
            kpis.COMPONENTS_BY_TYPE, pl.DataFrame({"component_type": [SUBSTATION], "count": [1]})
        ),
        (SUBSTATION,),
    ),
    "views.figures.charts.components_figure": (
        lambda: components_figure(
            {NAME: _series(), SUBSTATION: _series()}, measurement_type=MeasurementType.POWER
        ),
        (NAME, SUBSTATION),
    ),
    "views.figures.charts.limit_violations_figure": (
        lambda: limit_violations_figure(
            pl.DataFrame(
                [(1, NAME, SUBSTATION, "line", 20.0, "voltage", "high_alarm", 2, 5400.0, 23.0)],
                schema=SCHEMAS[LIMIT_VIOLATIONS],
                orient="row",
            )
        ),
        (NAME, SUBSTATION),
    ),
    "views.figures.charts.alarm_shares_figure": (
        lambda: alarm_shares_figure(
            pl.DataFrame(
                [(NAME, 20.0, 3, 60.0, 1.5, 120.0, 3.0)],
                schema=SCHEMAS[ALARM_SHARES],
                orient="row",
            )
        ),
        (NAME,),
    ),
    "views.figures.series_charts.stacked_series_figure": (
        lambda: stacked_series_figure(
            [
                Panel(MeasurementType.VOLTAGE, {NAME: _series(samples=4)}),
                Panel(MeasurementType.CURRENT, {NAME: _series(1)}),
            ],
            time_zone="Europe/Berlin",
        ),
        (NAME,),
    ),
}


def _figure_builders() -> set[str]:
    """Every public function of the figure modules that returns a figure."""
    found = set()
    for module_name in FIGURE_MODULES:
        module = importlib.import_module(module_name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            returns = str(inspect.signature(function).return_annotation)
            if (
                function.__module__ == module_name
                and not name.startswith("_")
                and "Figure" in returns
            ):
                found.add(f"{module_name}.{name}")
    return found


def test_every_figure_builder_is_checked_with_hostile_text():
    network = {
        "views.figures.network_figure.network_figure",
        "views.figures.network_figure.network_view",
    }
    assert _figure_builders() == set(BUILDERS) | network


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_a_figure_shows_hostile_text_as_typed(builder):
    build, hostiles = BUILDERS[builder]
    assert_reads_as_typed(build(), *hostiles)


def test_compared_components_read_as_typed_with_their_substations():
    labels = {
        component_label(NAME, SUBSTATION, alone=False): _series(),
        component_label(OTHER_END, SUBSTATION, alone=False): _series(),
    }
    figure = stacked_series_figure([Panel(MeasurementType.VOLTAGE, labels)])
    assert_reads_as_typed(figure, NAME, SUBSTATION, OTHER_END)
    assert f"{NAME} · {SUBSTATION}" in {shown(trace.name) for trace in figure.data}


def test_plain_text_is_read_back_exactly_and_the_model_catches_raw_markup():
    hostile = f"{NAME} {SUBSTATION} {OTHER_END} &#37; &nbsp; % $ &"
    assert shown(plain(hostile)) == hostile
    assert shown(plain(hostile), template=True) == hostile
    assert acted_on(plain(hostile), template=True) == []
    assert acted_on(NAME, template=True) == [
        '<a href="https://evil.example/phish">',
        "</a>",
        "<i>",
        "</i>",
        "TeX $x$",
    ]
    assert shown(NAME, template=True) != NAME


def test_the_network_diagram_and_its_view_read_as_typed(db):
    make_component(db, TRANSFORMER, name=NAME, substation=SUBSTATION)
    make_component(db, LINE, name=f"{NAME} 2", substation=SUBSTATION, to_substation=OTHER_END)
    with db.read() as session:
        figure = network_figure(read_network(session=session), highlight=[SUBSTATION])
        _network, found, viewed = network_view(session=session, search="evil.example/sub")
    assert found == [SUBSTATION]
    for drawn in (figure, viewed):
        assert_reads_as_typed(drawn, NAME, SUBSTATION, OTHER_END)


def _measure(db, component_id, value):
    with db.write() as session:
        for hours in range(3):
            add_measurement(
                session=session,
                actor=MANAGER,
                component_id=component_id,
                measurement_type="voltage",
                timestamp=NOW - timedelta(hours=hours),
                value=value,
            )


def _hostile_grid(db):
    transformer = make_component(db, TRANSFORMER, name=NAME, substation=SUBSTATION)
    line = make_component(db, LINE, name=OTHER_END, substation=SUBSTATION, to_substation="East")
    _measure(db, transformer.id, 110.0)
    _measure(db, line.id, 20.0)
    return transformer, line


def _charts(at) -> list[str]:
    charts = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert charts, "the page drew no chart"
    return charts


def test_the_substation_page_chart_shows_names_as_typed_not_as_links(open_app, app_db):
    _hostile_grid(app_db)
    at = open_app(as_user="ulf", page="pages/substation.py", query={"name": SUBSTATION})
    (chart,) = _charts(at)
    assert_reads_as_typed(chart, NAME, OTHER_END)


def test_a_component_page_compared_with_another_shows_both_as_typed(open_app, app_db):
    transformer, line = _hostile_grid(app_db)
    at = open_app(as_user="ulf", page="pages/component.py", query={"component": transformer.id})
    (alone,) = _charts(at)
    assert_reads_as_typed(alone, NAME)
    at.session_state["compare.ids"] = [line.id]
    at.run()
    (compared,) = _charts(at)
    assert_reads_as_typed(compared, NAME, SUBSTATION, OTHER_END)


def test_a_reports_charts_carry_no_markup(open_app, app_db):
    _hostile_grid(app_db)
    with app_db.write() as session:
        record = request_report(
            session=session,
            actor=MANAGER,
            start=NOW - timedelta(days=2),
            end=NOW + timedelta(days=1),
        )
    assert run_next(app_db, "test-worker") == record.id
    at = open_app(as_user="ulf", page="pages/report.py", query={"report": record.id})
    charts = _charts(at)
    assert len(charts) == 7  # the five tables', the limit violations' and the alarm shares'
    for chart in charts:
        assert_reads_as_typed(chart)


def test_the_network_page_shows_names_as_typed(open_app, app_db):
    _hostile_grid(app_db)
    at = open_app(as_user="ulf", page="pages/network.py")
    (chart,) = _charts(at)
    assert_reads_as_typed(chart, SUBSTATION, OTHER_END)  # a line's name, a substation's


PAINTING = {"Figure", "add_trace", "add_annotation", "update_layout", "update_traces", "add_shape"}


def test_pages_and_views_only_show_figures_that_core_built():
    """Every chart's text passes through ``views.figures.chart_text.plain`` in a builder: no page or
    view makes or changes a figure itself."""
    painted = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("views/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr in PAINTING:
                painted.append(f"{path.name}:{node.lineno} {called.attr}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                painted += [
                    f"{path.name}:{node.lineno} {m}"
                    for m in modules
                    if m.startswith("plotly") and m != "plotly.graph_objects"
                ]
    assert painted == []
