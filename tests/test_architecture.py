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
