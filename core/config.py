"""Typed settings, read from the environment (prefix ``GRIDBOARD_``) or from secret files named
like a setting in ``/run/secrets``. See docs/reference.md#configuration."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

SECRETS_DIR = Path("/run/secrets")

# Values that look like a secret but are not one: refused outside demo mode.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "xxx"})
# The cookie is an HS256 JWT: RFC 7518 (3.2) wants a key at least as long as the hash, 256 bits.
MIN_COOKIE_KEY_CHARACTERS = 32


# A browser's Origin header: scheme, host and an optional port, nothing else.
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


def _split_origins(text: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]


class Settings(BaseSettings):
    """Everything GridBoard reads from its environment.

    Each field is documented in docs/reference.md's configuration table (a test checks that).
    """

    model_config = SettingsConfigDict(
        env_prefix="GRIDBOARD_",
        extra="ignore",
        # Only when present: pydantic-settings warns about a missing secrets folder.
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
    )

    # The image sets GRIDBOARD_DATA_DIR, never the database URL: a URL in the environment would
    # win over the one a deployment gives as a secret file.
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Folder of the SQLite database used when no database URL is given.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql+psycopg://...; "
        "unset: sqlite:///DATA_DIR/gridboard.db.",
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: allows a generated cookie key and prints demo passwords.",
    )
    cookie_key: str = Field(
        default="",
        description="Secret that signs the sign-in cookie; required outside demo mode.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="How long a writer waits for another writer's lock before giving up "
        "(SQLite's busy timeout, PostgreSQL's lock_timeout of write transactions).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Least severe log records written: every write and report step is INFO.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="json: one JSON object per line; text: time level logger message key=value.",
    )
    log_file: str = Field(
        default="",
        description="Also write logs to this file, rotated by size; empty: standard output only.",
    )
    log_file_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="Size at which the log file is rotated (renamed to .1, .2, ...).",
    )
    log_file_backups: int = Field(
        default=5,
        ge=1,
        description="How many rotated log files are kept beside the current one.",
    )
    app_runs_reports: bool = Field(
        default=True,
        description="Each app process computes queued reports in a background thread; false "
        "leaves them to gridboard worker processes.",
    )

    import_max_rows: int = Field(
        default=5_000_000,
        ge=1,
        description="Most data rows one import file may hold (CSV lines after the header, "
        "Parquet rows from the file's metadata); a bigger file is refused before it is read.",
    )
    import_max_megabytes: int = Field(
        default=500,
        ge=1,
        description="Largest import file in megabytes (10^6 bytes): a CSV file's size, and for "
        "Parquet both its data uncompressed and its text once decoded.",
    )
    api_token_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="How long an API sign-in token (POST /auth/token) holds, in minutes.",
    )
    api_token_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long a machine API token holds when its maker names no expiry, in "
        "days; each token may be given its own (1 to 3650).",
    )
    api_max_body_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description="Largest body the API accepts for a bulk import; a larger one gets 413.",
    )

    cors_origins: str = Field(
        default="",
        description="Browser origins allowed to call the HTTP API (CORS), comma-separated, "
        "each scheme://host[:port]; empty: none (no CORS headers, as before).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Webhooks may target loopback and private addresses (a receiver on this "
        "host or network); false refuses them, so a webhook cannot reach internal services.",
    )

    @field_validator("cors_origins")
    @classmethod
    def _refuse_malformed_origins(cls, text: str) -> str:
        for origin in _split_origins(text):
            if not _ORIGIN.fullmatch(origin):
                msg = (
                    f"{origin!r} is not an origin: give scheme://host[:port] (no path, no "
                    "wildcard), e.g. https://grid.example.com,http://localhost:3000"
                )
                raise ValueError(msg)
        return text

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(_split_origins(self.cors_origins))

    @field_validator("database_url")
    @classmethod
    def _refuse_unknown_backend(cls, url: str) -> str:
        if url and not url.startswith(("sqlite", "postgresql")):
            msg = f"must be a sqlite:// or postgresql+psycopg:// URL, got {url!r}"
            raise ValueError(msg)
        return url

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _normalize_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        cleaned = value.strip()
        return (
            cleaned.upper()
            if cleaned.lower() in {"debug", "info", "warning", "error"}
            else cleaned.lower()
        )

    @model_validator(mode="after")
    def _default_database_in_data_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'gridboard.db'}"
        return self

    @model_validator(mode="after")
    def _drop_placeholder_key_outside_demo(self) -> Settings:
        if not self.demo and self.cookie_key.strip().lower() in PLACEHOLDER_SECRETS:
            self.cookie_key = ""
        return self

    def require_cookie_key(self) -> str:
        """The cookie key, refusing to go on with a missing or placeholder one outside demo."""
        key = self.cookie_key.strip()
        if key.lower() in PLACEHOLDER_SECRETS or len(key) < MIN_COOKIE_KEY_CHARACTERS:
            from core.errors import ConfigurationError

            raise ConfigurationError(
                "GRIDBOARD_COOKIE_KEY",
                "must be set to a random secret of at least "
                f"{MIN_COOKIE_KEY_CHARACTERS} characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(32))")',
            )
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once; a bad value is a ``ConfigurationError`` naming the variable."""
    from pydantic import ValidationError

    from core.errors import ConfigurationError

    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "GRIDBOARD_" + str(first["loc"][0]).upper() if first["loc"] else "GRIDBOARD_*"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(name, reason) from None
