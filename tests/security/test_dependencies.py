"""Dependencies are locked: ``make`` installs with ``-c constraints.txt``, which pins every
package GridBoard and its tests need (directly or not) to one version, and this environment
has exactly those versions. Updating is on purpose: ``make lock``, review, ``make test``.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator and version.strip(), f"constraints.txt: {line!r} is not pinned with =="
        key = canonicalize_name(name)
        assert key not in pins, f"constraints.txt pins {name} twice"
        pins[key] = version.strip()
    return pins


def _needed() -> set[str]:
    """Every distribution that ``pip install -e .[test]`` brings in, by requirement closure."""
    needed: set[str] = set()
    todo = [("gridboard", frozenset({"test"}))]
    while todo:
        name, extras = todo.pop()
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker and not any(
                requirement.marker.evaluate(environment) for environment in environments
            ):
                continue
            key = canonicalize_name(requirement.name)
            if key not in needed:
                needed.add(key)
                todo.append((requirement.name, frozenset(requirement.extras)))
    return needed


def test_make_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # The project install (not pip upgrading itself, nor make lock's scratch venv).
    project_installs = re.compile(r"\$\(BIN\)/.*pip install .*-e ")
    installs = [line for line in makefile.splitlines() if project_installs.search(line)]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    assert re.search(r"^lock:", makefile, re.MULTILINE), "make lock refreshes the pins on purpose"


def test_every_package_installed_is_pinned_and_at_its_pin():
    pins = _pins()
    needed = _needed()
    unpinned = sorted(needed - set(pins))
    assert not unpinned, f"not pinned in constraints.txt (run make lock): {unpinned}"
    drifted = {
        name: (metadata.version(name), pins[name])
        for name in sorted(needed)
        if metadata.version(name) != pins[name]
    }
    assert not drifted, f"installed versions differ from constraints.txt: {drifted}"


def test_direct_dependencies_have_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    unbounded = [text for text in direct if not Requirement(text).specifier]
    assert not unbounded, f"give these a version range in pyproject.toml: {unbounded}"
