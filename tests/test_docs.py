"""Every relative link in README.md, SECURITY.md and docs/ points at a file and heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)|!\[[^\]]*\]\((?P<image>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


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


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor
            and linked.suffix == ".md"
            and anchor not in anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no heading with that anchor")
    return broken


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
