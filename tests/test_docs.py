"""Every relative link in README.md, SECURITY.md, docs/ and the module headers points at a file
and heading; every module header is one to three lines with such a link."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)|!\[[^\]]*\]\((?P<image>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
DOC_IN_HEADER = re.compile(r"(?<![\w./-])(?P<target>[\w./-]+\.md(?:#[\w-]+)?)")
HEADER_LINES = 3
MODULES = sorted(
    [ROOT / "app.py"]
    + [
        path
        for folder in ("core", "api", "views", "pages")
        for path in (ROOT / folder).rglob("*.py")
    ]
)


def anchors(markdown: str) -> set[str]:
    """The anchors a Markdown renderer like GitHub's gives each heading."""
    found = set()
    for match in HEADING.finditer(FENCE.sub("", markdown)):
        title = re.sub(r"[`*_]", "", match["title"]).strip().lower()
        found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    targets = (m["target"] or m["image"] for m in LINK.finditer(text))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def link_problem(target: str, *, folder: Path, page: Path) -> str | None:
    """Why ``target`` (a path relative to ``folder``, maybe with ``#anchor``; an anchor alone
    is in ``page``) points at nothing, or ``None``."""
    file_part, _, anchor = target.partition("#")
    linked = (folder / file_part).resolve() if file_part else page
    if not linked.exists():
        return f"{target}: no such file"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text("utf-8")):
        return f"{target}: no heading with that anchor"
    return None


def broken_links(path: Path) -> list[str]:
    problems = (link_problem(t, folder=path.parent, page=path) for t in relative_links(path))
    return [problem for problem in problems if problem]


def header_problems(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the docstring at the top of ``path``: missing, longer than
    ``HEADER_LINES``, no link to a document, or a link (from ``root``) that points at nothing."""
    source = path.read_text(encoding="utf-8")
    if not source.strip():
        return []  # an empty __init__.py
    header = ast.get_docstring(ast.parse(source), clean=True)
    if not header:
        return ["no docstring"]
    problems = []
    lines = len(header.strip().splitlines())
    if lines > HEADER_LINES:
        problems.append(f"{lines} lines, more than {HEADER_LINES}")
    targets = [match["target"] for match in DOC_IN_HEADER.finditer(header)]
    if not targets:
        problems.append("no link to the doc that explains why")
    for target in targets:
        problem = link_problem(target, folder=root, page=path)
        if problem:
            problems.append(problem)
    return problems


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_something_that_exists(path: Path):
    assert broken_links(path) == []


def test_a_broken_link_is_reported(tmp_path: Path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# Here\n\n## Two words\n", encoding="utf-8")
    page.write_text(
        "[ok](there.md#two-words) [gone](missing.md) [anchor](there.md#nowhere) "
        "[web](https://example.com/x)\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "there.md#nowhere: no heading with that anchor",
    ]


def _header_owner(path: Path) -> bool:
    """A migration keeps Alembic's docstring: the revision and what it changed."""
    return "versions" not in path.relative_to(ROOT).parts


def test_every_module_header_says_what_it_holds_in_a_few_lines_and_links_why():
    problems = {
        str(path.relative_to(ROOT)): found
        for path in MODULES
        if _header_owner(path) and (found := header_problems(path))
    }
    assert problems == {}


def test_a_bad_module_header_is_reported(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "why.md").write_text("# Why\n\n## Reports\n", encoding="utf-8")
    good = tmp_path / "good.py"
    good.write_text('"""Holds reports.\nSee docs/why.md#reports."""\n', encoding="utf-8")
    long = tmp_path / "long.py"
    long.write_text('"""One.\n\nTwo.\nThree. See docs/why.md."""\n', encoding="utf-8")
    broken = tmp_path / "broken.py"
    broken.write_text('"""Holds. See docs/why.md#nowhere and docs/gone.md."""\n', encoding="utf-8")
    bare = tmp_path / "bare.py"
    bare.write_text('"""Holds things."""\nX = 1\n', encoding="utf-8")
    (tmp_path / "none.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "empty.py").write_text("", encoding="utf-8")
    assert header_problems(good, tmp_path) == []
    assert header_problems(long, tmp_path) == ["4 lines, more than 3"]
    assert header_problems(broken, tmp_path) == [
        "docs/why.md#nowhere: no heading with that anchor",
        "docs/gone.md: no such file",
    ]
    assert header_problems(bare, tmp_path) == ["no link to the doc that explains why"]
    assert header_problems(tmp_path / "none.py", tmp_path) == ["no docstring"]
    assert header_problems(tmp_path / "empty.py", tmp_path) == []


def test_no_file_cites_a_design_document_outside_the_repository():
    cited = []
    for path in ROOT.rglob("*"):
        if any(part in {".git", ".venv", "node_modules", "data"} for part in path.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".yaml", ".cfg"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            if path != Path(__file__) and re.search(r"(?<![/\w])(DESIGN|STYLE)\.md\b", text):
                cited.append(str(path.relative_to(ROOT)))
    assert cited == []
