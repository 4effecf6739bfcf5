from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
# os.environ["X"], os.environ.get("X"), environ.setdefault("X"), os.getenv("X")...
ENV_READ = re.compile(
    r"""(?:environ(?:\.(?:get|setdefault|pop))?\s*[\[(]|getenv\s*\()\s*["'](?P<name>[A-Z][A-Z0-9_]*)["']"""
)
TABLE_ROW = re.compile(
    r"^\|\s*`(?P<name>[A-Z][A-Z0-9_]*)`\s*\|(?P<default>[^|]*)\|(?P<meaning>.*)\|\s*$"
)


def settings_fields() -> dict[str, object]:
    """Each field of ``Settings`` by the variable that sets it, with its default."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    fields = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        fields[(alias or prefix + name).upper()] = field.get_default(call_default_factory=True)
    return fields


def environment_reads(core: Path) -> set[str]:
    """Every variable that code under ``core`` reads from the environment by name."""
    return {
        match["name"]
        for path in core.rglob("*.py")
        for match in ENV_READ.finditer(path.read_text(encoding="utf-8"))
    }


def configuration_table(readme: str) -> dict[str, tuple[str, str]]:
    """The configuration table of docs/reference.md: (default, meaning) by variable."""
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = (TABLE_ROW.match(line) for line in section.splitlines())
    return {m["name"]: (m["default"].strip(), m["meaning"].strip()) for m in rows if m}


def shown_default(default: object) -> str:
    """A default as the reference shows it: relative to the checkout, ``(none)`` when empty."""
    if isinstance(default, bool):
        return str(default).lower()
    if default in ("", None):
        return "(none)"
    return str(default).replace(f"{ROOT}/", "")


def table_problems(table: dict[str, tuple[str, str]], core: Path) -> list[str]:
    problems = []
    fields = settings_fields()
    for name in sorted(fields.keys() | environment_reads(core)):
        if name not in table:
            problems.append(f"{name} is read by core but missing from the configuration table")
            continue
        default, meaning = table[name]
        if not default or not meaning:
            problems.append(f"{name}: the table gives no default or no meaning")
        elif name in fields:
            expected = shown_default(fields[name])
            cell = re.findall(r"`([^`]*)`", default) or [default]
            if expected not in cell:
                problems.append(f"{name}: the table says {default}, the default is {expected}")
    return problems


def test_readme_documents_every_setting_core_reads():
    table = configuration_table(REFERENCE.read_text(encoding="utf-8"))
    assert table_problems(table, ROOT / "core") == []
    assert len(table) >= len(Settings.model_fields)


def test_the_readme_check_catches_a_new_setting(tmp_path):
    table = configuration_table(REFERENCE.read_text(encoding="utf-8"))
    (tmp_path / "worker.py").write_text(
        'import os\nLEASE = float(os.environ.get("GRIDBOARD_WORKER_LEASE_SECONDS", "120"))\n'
        'HOME = os.getenv( "GRIDBOARD_HOME" )\n',
        encoding="utf-8",
    )
    assert table_problems(table, tmp_path) == [
        "GRIDBOARD_HOME is read by core but missing from the configuration table",
        "GRIDBOARD_WORKER_LEASE_SECONDS is read by core but missing from the configuration table",
    ]
    wrong = {**table, "GRIDBOARD_LOG_LEVEL": ("`DEBUG`", "how much is logged")}
    del wrong["GRIDBOARD_LOG_FILE"]
    assert table_problems(wrong, tmp_path / "nothing") == [
        "GRIDBOARD_LOG_FILE is read by core but missing from the configuration table",
        "GRIDBOARD_LOG_LEVEL: the table says `DEBUG`, the default is INFO",
    ]


@pytest.mark.parametrize(
    "key",
    ["", "changeme", "secret", "short", "sixteen-chars-ok", "a-key-of-thirty-one-characters!"],
)
def test_placeholder_cookie_key_is_refused(key):
    with pytest.raises(ConfigurationError, match="GRIDBOARD_COOKIE_KEY"):
        Settings(cookie_key=key, demo=False).require_cookie_key()


def test_real_cookie_key_is_accepted():
    key = "n0t-a-placeholder-but-a-real-key"
    assert Settings(cookie_key=key).require_cookie_key() == key


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="sqlite"):
        Settings(database_url="mysql://x")


def test_a_secret_file_sets_a_setting_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDBOARD_COOKIE_KEY", raising=False)
    monkeypatch.delenv("GRIDBOARD_DATABASE_URL", raising=False)
    (tmp_path / "gridboard_cookie_key").write_text("a-key-from-a-docker-secret-file-0123\n")
    (tmp_path / "GRIDBOARD_DATABASE_URL").write_text("postgresql+psycopg://gb:pw@db/gridboard")
    settings = Settings(_secrets_dir=tmp_path)
    assert settings.require_cookie_key() == "a-key-from-a-docker-secret-file-0123"
    assert settings.database_url == "postgresql+psycopg://gb:pw@db/gridboard"
    monkeypatch.setenv("GRIDBOARD_COOKIE_KEY", "the-environment-wins-over-files")
    assert Settings(_secrets_dir=tmp_path).cookie_key == "the-environment-wins-over-files"


def test_the_data_folder_holds_the_database_unless_a_url_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDBOARD_DATABASE_URL", raising=False)
    assert Settings().database_url == f"sqlite:///{ROOT / 'data' / 'gridboard.db'}"
    # the image: GRIDBOARD_DATA_DIR=/data in its environment, the URL in a secret file
    monkeypatch.setenv("GRIDBOARD_DATA_DIR", "/data")
    assert Settings(_secrets_dir=tmp_path).database_url == "sqlite:////data/gridboard.db"
    (tmp_path / "gridboard_database_url").write_text("postgresql+psycopg://gb:pw@db/gridboard\n")
    assert Settings(_secrets_dir=tmp_path).database_url == "postgresql+psycopg://gb:pw@db/gridboard"


def test_secrets_are_read_from_run_secrets_when_it_exists():
    from core import config

    expected = config.SECRETS_DIR if config.SECRETS_DIR.is_dir() else None
    assert Settings.model_config.get("secrets_dir") == expected
    assert Path("/run/secrets") == config.SECRETS_DIR
