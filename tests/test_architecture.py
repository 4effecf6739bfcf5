"""Structural rules of docs/architecture.md that a reader would otherwise have to trust."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_never_imports_streamlit():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if "streamlit" in n]
    assert offenders == []


def test_core_imports_without_streamlit_loaded():
    code = (
        "import sys, importlib, pkgutil, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "assert not any(n.startswith('streamlit') for n in sys.modules), 'streamlit loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _imported_modules(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def test_the_api_is_http_over_core_and_core_knows_no_http():
    api = _imported_modules(ROOT / "api")
    assert [
        (path, name) for path, name in api if name.split(".")[0] in ("streamlit", "views", "pages")
    ] == []
    assert [
        (path, name) for path, name in api if name.startswith("sqlalchemy") and "orm" not in name
    ] == []
    core = _imported_modules(ROOT / "core")
    web = ("fastapi", "starlette", "api")
    assert [(path, name) for path, name in core if name.split(".")[0] in web] == []


def _core_import_graph() -> dict[str, set[str]]:
    """Which core modules each core module imports (at the top or inside a function; not
    under ``if TYPE_CHECKING``), by dotted name; a package is its ``__init__``."""
    modules = {}
    for path in (ROOT / "core").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    targets.add(submodule if submodule in modules else node.module)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def test_core_has_no_import_cycles():
    graph = _core_import_graph()
    assert {"core", "core.backup", "core.db", "core.reports.jobs.runner"} <= graph.keys()
    cycles = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


# docs/architecture.md#layers: core is rooms by concern over a ground floor.
GROUND = {
    "core.config", "core.counts", "core.db", "core.db_errors", "core.domain",
    "core.driver_statements", "core.errors", "core.logs", "core.models", "core.paths",
    "core.remembered",
    "core.timestamps", "core.units", "core.validation", "core.import_errors",
    "core.model_base", "core.webhook_models", "core.periodic",
}  # fmt: skip
ROOMS = {
    "core.access", "core.grid", "core.measurements", "core.reports", "core.imports",
    "core.backup", "core.seed", "core.cli", "core.alarms", "core.notifications",
}  # fmt: skip
# Files out of every room: the exports, and a substation's diagram (its layout, its drawing).
ABOVE_THE_ROOMS = {
    "core", "core.exports", "core.streamed_files", "core.diagram", "core.diagram_layout",
}  # fmt: skip


def _room(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_every_core_module_is_on_the_ground_floor_or_in_a_room():
    placed = {
        module
        for module in _core_import_graph()
        if module not in GROUND | ABOVE_THE_ROOMS and _room(module) not in ROOMS
    }
    assert placed == set(), "name each new module's room in docs/architecture.md#layers"


def test_the_ground_floor_imports_no_room():
    graph = _core_import_graph()
    upward = {
        (module, target) for module in GROUND for target in graph[module] if target not in GROUND
    }
    assert upward == set()


def test_figures_are_views_and_core_draws_none():
    """Plotly figure builders are presentation: they live in views/figures, and core never
    imports Plotly or views."""
    core = _imported_modules(ROOT / "core")
    assert [(path, name) for path, name in core if name.split(".")[0] in ("plotly", "views")] == []
    figures = {path.stem for path in (ROOT / "views" / "figures").glob("*.py")}
    assert {"charts", "series_charts", "network_figure", "chart_text"} <= figures


MAX_MODULE_LINES = 400


def test_no_module_is_over_400_lines():
    """A module that grows past a few hundred lines is two modules (docs/architecture.md#layers):
    split it by concern and import each name from where it now lives."""
    sources = [ROOT / "app.py"]
    for folder in ("core", "api", "views", "pages"):
        sources += sorted((ROOT / folder).rglob("*.py"))
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sources
    }
    assert {path: lines for path, lines in lengths.items() if lines > MAX_MODULE_LINES} == {}


def test_mypy_checks_every_module_pages_and_app_included():
    """``make typecheck`` is mypy over ``[tool.mypy] files``: the page files, named as their
    URLs (``manage-components.py``), are no importable package, so they are listed as files."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    checked = {path for pattern in config["files"] for path in ROOT.glob(pattern)}
    checked = {
        source for path in checked for source in ([path] if path.is_file() else path.rglob("*.py"))
    }
    sources = {ROOT / "app.py"}
    for folder in ("core", "api", "views", "pages"):
        sources |= set((ROOT / folder).rglob("*.py"))
    assert sorted(str(path.relative_to(ROOT)) for path in sources - checked) == []
