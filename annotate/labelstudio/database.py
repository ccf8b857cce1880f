"""Which database a local Label Studio uses: SQLite in its data directory, or an existing PostgreSQL.

Where a PostgreSQL database is comes from arguments, then ``ANNOTATE_PG_HOST``, ``ANNOTATE_PG_PORT``,
``ANNOTATE_PG_DB``, ``ANNOTATE_PG_USER`` and ``ANNOTATE_PG_PASSWORD``, then defaults
(``postgres_settings``); ``check_postgres`` connects once before a server is started on it. The
password is never printed: it travels only through the server's environment and a 0600 file
(``pg_password_path``) that helper commands read while that server runs.
Label Studio's own driver for it, psycopg 3 (``psycopg[binary]``), comes with label-studio.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from schemas import ToolkitError
from schemas.paths import state_dir

Database = Literal["sqlite", "postgresql"]
DATABASES: tuple[Database, ...] = ("sqlite", "postgresql")

# Where a PostgreSQL database is, read by ``postgres_settings`` when not given as arguments.
PG_ENV = {
    "host": "ANNOTATE_PG_HOST", "port": "ANNOTATE_PG_PORT", "name": "ANNOTATE_PG_DB",
    "user": "ANNOTATE_PG_USER", "password": "ANNOTATE_PG_PASSWORD",
}
PG_DEFAULTS = {"host": "127.0.0.1", "port": 5432, "name": "label_studio", "user": "postgres"}
PG_CONNECT_TIMEOUT = 10
PG_PASSWORD_FILE = "postgres-password.json"  # 0600; for helper commands while a PostgreSQL server runs


class PostgresTarget(BaseModel):
    """Where a PostgreSQL database is, without the password: safe to record and print."""

    model_config = ConfigDict(extra="forbid")

    host: str  # a name, an IP address, or a unix socket directory (starts with /)
    port: int = Field(ge=1, le=65535)
    name: str = Field(min_length=1)
    user: str = Field(min_length=1)

    def describe(self) -> str:
        return f"PostgreSQL database {self.name!r} at {self.host}:{self.port} as {self.user!r}"


class PostgresSettings(PostgresTarget):
    """A target plus its password. Empty password: libpq's own sources apply (PGPASSWORD, ~/.pgpass)."""

    password: SecretStr = SecretStr("")

    @property
    def target(self) -> PostgresTarget:
        return PostgresTarget(host=self.host, port=self.port, name=self.name, user=self.user)


def pg_password_path() -> Path:
    return state_dir() / PG_PASSWORD_FILE


def chosen_database(
    database: str, host: str | None = None, port: int | None = None, name: str | None = None,
    user: str | None = None,
) -> tuple[Database, PostgresSettings | None]:
    """The database ``annotate server start`` was asked for, with its PostgreSQL settings (None for SQLite).

    PostgreSQL options given with SQLite are an error rather than silently ignored.
    """
    if database not in DATABASES:
        raise ToolkitError(f"--database {database!r} is not supported; use one of: {', '.join(DATABASES)}")
    if database == "postgresql":
        return "postgresql", postgres_settings(host=host, port=port, name=name, user=user)
    given = [f"--pg-{n}" for n, v in (("host", host), ("port", port), ("db", name), ("user", user)) if v is not None]
    if given:
        raise ToolkitError(f"{', '.join(given)} only apply to PostgreSQL; add --database postgresql")
    return "sqlite", None


def postgres_settings(
    host: str | None = None, port: int | None = None, name: str | None = None, user: str | None = None,
) -> PostgresSettings:
    """Arguments first, then ``ANNOTATE_PG_*``, then defaults. The password only from the environment:
    a command line is readable by every local user."""
    given = {"host": host, "port": port, "name": name, "user": user}
    values: dict[str, object] = {}
    for field, variable in PG_ENV.items():
        value = given.get(field)
        if value is None:
            value = os.environ.get(variable)
            if value == "" and field != "password":
                value = None
        if value is None:
            value = PG_DEFAULTS.get(field, "")
        values[field] = value
    try:
        return PostgresSettings.model_validate(values)
    except ValidationError as e:
        error = e.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        source = f"--pg-{field}" if given.get(field) is not None else PG_ENV.get(field, field)
        shown = "" if field == "password" else f"={values.get(field)!r}"
        raise ToolkitError(f"{source}{shown}: {error['msg']}; fix it (see `annotate server start --help`)") from None


def check_postgres(settings: PostgresSettings, timeout: float = PG_CONNECT_TIMEOUT) -> None:
    """Connect once and run ``SELECT 1``; a one-line ToolkitError (never with the password) if that fails.

    Checked before Label Studio starts: it would otherwise die in migrations with a traceback in its log.
    """
    import psycopg

    password = settings.password.get_secret_value()
    try:
        with psycopg.connect(
            host=settings.host, port=settings.port, dbname=settings.name, user=settings.user,
            password=password or None, connect_timeout=max(1, int(timeout)), application_name="annotate-check",
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        if password:
            reason = reason.replace(password, "***")
        raise ToolkitError(f"cannot use the {settings.describe()}: {reason}; {_postgres_hint(reason)}") from None


def _postgres_hint(reason: str) -> str:
    lowered = reason.lower()
    if "password" in lowered or "authentication" in lowered or "role" in lowered:
        return f"check {PG_ENV['user']} and {PG_ENV['password']} (or ~/.pgpass)"
    if "database" in lowered and "does not exist" in lowered:
        return f"create it (`createdb`) or set {PG_ENV['name']} to an existing database"
    return f"start PostgreSQL there or set {PG_ENV['host']} and {PG_ENV['port']} to where it runs"
