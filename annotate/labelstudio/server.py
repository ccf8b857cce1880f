"""A local Label Studio server: start it detached, find it again, stop it.

The server is the ``label-studio`` console script from the same environment as this Python,
bound to loopback by default, with its SQLite database in a data directory under
``state_dir()``. Its pid and port are recorded in ``server.json`` so later commands find it.
Admin credentials come from ``annotate.labelstudio.credentials`` and reach the child through its
environment, never its command line (which every local user can read in /proc).

With ``database="postgresql"`` the database is an existing PostgreSQL database instead (the
data directory still holds media and exports); ``annotate.labelstudio.database`` says where it is
and checks it. Its password, like the admin's, travels only through the child's environment and a
0600 file that helper commands (``annotate.labelstudio.set_password``) read, and is never printed.

No CLI code here: ``annotate.cli.server`` prints; this module raises ``ToolkitError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from annotate.labelstudio.credentials import (
    AdminCredentials,
    credentials_path,
    load_or_create_admin_credentials,
    read_private_json,
    write_private_json,
)
from annotate.labelstudio.database import (
    DATABASES,
    PG_ENV,
    Database,
    PostgresSettings,
    PostgresTarget,
    check_postgres,
    pg_password_path,
    postgres_settings,
)
from schemas import ToolkitError
from schemas.files import read_model, write_atomically
from schemas.paths import state_dir

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# First start on an empty database runs migrations: 20-70 s seen on 2 shared cores; leave headroom.
DEFAULT_START_TIMEOUT = 240.0
STATE_FILE = "server.json"
LOG_FILE = "label-studio.log"
DATA_DIR = "label-studio-data"

# Label Studio reads each setting as LABEL_STUDIO_<NAME>, HEARTEX_<NAME> or bare <NAME>; a CI
# environment that sets PORT or PASSWORD would silently change the server we start.
_SCRUBBED = (
    "PORT", "HOST", "USERNAME", "PASSWORD", "USER_TOKEN", "DATABASE_NAME", "DJANGO_DB", "BASE_DATA_DIR",
    "POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT",
)
_PREFIXES = ("", "LABEL_STUDIO_", "HEARTEX_")
_QUIET_ENV = {
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",  # accounts only by invite or by `annotators add`
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # a plain token the SDK and tests can use at once
    "COLLECT_ANALYTICS": "false",
    "LATEST_VERSION_CHECK": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
}

class ServerState(BaseModel):
    """What ``server.json`` records about the server we started."""

    model_config = ConfigDict(extra="forbid")

    pid: int
    host: str
    port: int
    data_dir: Path
    log_file: Path
    database: Database = "sqlite"
    postgres: PostgresTarget | None = None  # where the data is when database == "postgresql"
    started_at: datetime

    @property
    def url(self) -> str:
        return server_url(self.host, self.port)


class ServerStatus(BaseModel):
    running: bool
    healthy: bool
    state: ServerState | None = None


def server_url(host: str, port: int) -> str:
    # A wildcard bind is reached through loopback; IPv6 literals need brackets in URLs.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def state_path() -> Path:
    return state_dir() / STATE_FILE


def default_data_dir() -> Path:
    return state_dir() / DATA_DIR


def label_studio_command() -> Path:
    """The ``label-studio`` script beside this interpreter, at the pinned version."""
    script = Path(sys.executable).parent / "label-studio"
    try:
        version = metadata.version("label-studio")
    except metadata.PackageNotFoundError:
        version = None
    if version is None or not script.exists():
        raise ToolkitError(
            f"Label Studio is not installed beside {sys.executable}; "
            f"run `pip install 'label-studio=={LABEL_STUDIO_VERSION}'` in that environment"
        )
    if version != LABEL_STUDIO_VERSION:
        raise ToolkitError(
            f"Label Studio {version} is installed but the toolkit is tested with {LABEL_STUDIO_VERSION}; "
            f"run `pip install 'label-studio=={LABEL_STUDIO_VERSION}'`"
        )
    return script


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on (host, port) or the address cannot be bound.

    Checked before starting because Label Studio silently moves to the next free port.
    SO_REUSEADDR matches what Django's server sets, so a socket lingering in TIME_WAIT does
    not count as taken, while a listening socket does.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ToolkitError(
            f"--host {host!r}: cannot resolve it ({e.strerror}); give an IP address such as 127.0.0.1"
        ) from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError:
            return True
    return False


def child_env(
    data_dir: Path, creds: AdminCredentials | None, database: Database = "sqlite",
    postgres: PostgresSettings | None = None,
) -> dict[str, str]:
    """The server's environment: inherited, scrubbed of settings we own, telemetry off.

    ``creds`` None: for helper commands that must not create or change the admin account.
    """
    env = {k: v for k, v in os.environ.items() if not any(k == p + name for p in _PREFIXES for name in _SCRUBBED)}
    env.update(_QUIET_ENV)
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(data_dir)
    if database == "sqlite":
        env["DJANGO_DB"] = "sqlite"
        env["LABEL_STUDIO_DATABASE_NAME"] = str(data_dir / "label_studio.sqlite3")
    else:
        if postgres is None:
            raise ValueError("database='postgresql' needs postgres settings")
        env["DJANGO_DB"] = "postgresql"
        # An empty password is passed as such: Django then leaves it to libpq (PGPASSWORD, ~/.pgpass)
        # instead of Label Studio's default "postgres".
        env.update({
            "POSTGRE_HOST": postgres.host, "POSTGRE_PORT": str(postgres.port), "POSTGRE_NAME": postgres.name,
            "POSTGRE_USER": postgres.user, "POSTGRE_PASSWORD": postgres.password.get_secret_value(),
        })
    if creds is None:
        return env
    # Applied by Label Studio only when the user does not exist yet (first start of a database).
    env["LABEL_STUDIO_USERNAME"] = creds.email
    env["LABEL_STUDIO_PASSWORD"] = creds.password.get_secret_value()
    env["LABEL_STUDIO_USER_TOKEN"] = creds.token.get_secret_value()
    return env


def read_state() -> ServerState | None:
    path = state_path()
    if not path.exists():
        return None
    return read_model(path, ServerState, "delete it if no server is running")


def _write_state(state: ServerState) -> None:
    write_atomically(state_path(), state.model_dump_json(indent=2) + "\n", make_parents=True)


def _reap(pid: int) -> None:
    # When this process started the server (tests), collect its exit status so it is not a zombie.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def is_label_studio(pid: int) -> bool:
    """True when ``pid`` is a live Label Studio process (not a zombie, not a reused pid)."""
    _reap(pid)
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): fall back to "a process with that pid exists"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    if status.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    return "label-studio" in cmdline


def health(url: str, timeout: float = 2.0) -> bool:
    """True when ``url``/health answers ``{"status": "UP"}``."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as r:  # noqa: S310 (our own URL)
            return json.loads(r.read()).get("status") == "UP"
    except (OSError, ValueError):
        return False


def log_tail(path: Path, lines: int = 6) -> str:
    """The last non-empty lines of a log, joined on one line for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail) or "(log is empty)"


def _bound_where_asked(log: Path, host: str, port: int) -> bool:
    # Django prints the address it really serves; tells our server apart from another on the port.
    shown = host if ":" not in host else f"[{host}]"
    return f"Starting development server at http://{shown}:{port}/" in log.read_text(errors="replace")


def start(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    timeout: float = DEFAULT_START_TIMEOUT,
    die_with_parent: bool = False,
    database: Database = "sqlite",
    postgres: PostgresSettings | None = None,
) -> ServerState:
    """Start Label Studio in the background and wait until it is healthy; raise if it cannot.

    ``die_with_parent`` (tests): the server gets SIGTERM if this process dies, even by SIGKILL.
    ``database="postgresql"``: ``postgres`` says where (default: ``postgres_settings()``, the environment).
    """
    if database not in DATABASES:
        raise ToolkitError(f"--database {database!r} is not supported; use one of: {', '.join(DATABASES)}")
    if database == "postgresql":
        postgres = postgres or postgres_settings()
    elif postgres is not None:
        raise ToolkitError("PostgreSQL settings were given for a SQLite server; pass --database postgresql")
    current = status()
    if current.running and current.state is not None:
        raise ToolkitError(
            f"Label Studio is already running at {current.state.url} (pid {current.state.pid}); "
            "run `annotate server stop` first"
        )
    script = label_studio_command()
    if port_in_use(host, port):
        raise ToolkitError(
            f"port {port} on {host} is already in use; stop whatever listens there or pass --port with a free port"
        )
    if postgres is not None:
        check_postgres(postgres)
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    creds = load_or_create_admin_credentials()
    state_dir().mkdir(parents=True, exist_ok=True)
    log_file = state_dir() / LOG_FILE
    command = [
        str(script), "start", "--no-browser", "--data-dir", str(data_dir),
        "--internal-host", host, "--port", str(port),
        # --debug only stops Label Studio from moving to another port when this one is taken
        # (label_studio/server.py, _get_free_port): we want a loud failure, not a surprise port.
        "--debug",
        "--enable-legacy-api-token",
    ]
    if postgres is not None:  # before the server exists, so helper commands never find it missing
        write_private_json(pg_password_path(), {"password": postgres.password.get_secret_value()})
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as log, _removed_on_error(pg_password_path()):
        process = subprocess.Popen(
            command,
            env=child_env(data_dir, creds, database, postgres),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,  # its own process group: survives our exit, stopped as a group
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    state = ServerState(
        pid=process.pid, host=host, port=port, data_dir=data_dir, log_file=log_file, database=database,
        postgres=postgres.target if postgres is not None else None, started_at=datetime.now(UTC),
    )
    _write_state(state)
    try:
        _wait_healthy(process, state, timeout)
        _check_token(state, creds)
    except BaseException:
        _terminate(process.pid, grace=10)
        state_path().unlink(missing_ok=True)
        pg_password_path().unlink(missing_ok=True)
        raise
    return state


@contextlib.contextmanager
def _removed_on_error(path: Path):
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _die_with_parent() -> None:
    # Linux prctl(PR_SET_PDEATHSIG, SIGTERM): no leftover server when a test run is killed.
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_healthy(process: subprocess.Popen, state: ServerState, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise ToolkitError(
                f"Label Studio exited with code {code} while starting; last lines of {state.log_file}: "
                f"{log_tail(state.log_file)}"
            )
        if health(state.url) and _bound_where_asked(state.log_file, state.host, state.port):
            return
        time.sleep(0.5)
    raise ToolkitError(
        f"Label Studio did not answer {state.url}/health within {timeout:.0f} s; last lines of {state.log_file}: "
        f"{log_tail(state.log_file)}"
    )


def _check_token(state: ServerState, creds: AdminCredentials) -> None:
    # Label Studio applies the token only when it creates the admin: a database made with other
    # credentials starts fine but would refuse every later command.
    request = urllib.request.Request(
        f"{state.url}/api/current-user/whoami", headers={"Authorization": f"Token {creds.token.get_secret_value()}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 (our own URL)
            return
    except urllib.error.HTTPError as e:
        if e.code not in (401, 403):
            message = f"Label Studio at {state.url} answered {e.code} to a token check; see {state.log_file}"
            raise ToolkitError(message) from None
    if state.postgres is not None:
        raise ToolkitError(
            f"the {state.postgres.describe()} was created with other credentials than {credentials_path()}; "
            f"restore that file, or use a new empty database ({PG_ENV['name']})"
        )
    raise ToolkitError(
        f"the database in {state.data_dir} was created with other credentials than {credentials_path()}; "
        "restore that file, or start with a new --data-dir"
    )


def _terminate(pid: int, grace: float) -> None:
    """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)  # the group we created with start_new_session; pgid == pid
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not is_label_studio(pid):
                return
            time.sleep(0.2)


def stop(grace: float = 20.0, state: ServerState | None = None) -> ServerState | None:
    """Stop the recorded server (or the one ``state`` describes); returns its state, None if none was."""
    state = state or read_state()
    if state is None:
        return None
    if is_label_studio(state.pid):
        _terminate(state.pid, grace)
        if is_label_studio(state.pid):
            raise ToolkitError(f"Label Studio (pid {state.pid}) did not stop; stop it by hand with `kill {state.pid}`")
    recorded = read_state()
    if recorded is not None and recorded.pid == state.pid:
        state_path().unlink(missing_ok=True)
        pg_password_path().unlink(missing_ok=True)
    return state


def status() -> ServerStatus:
    """Whether the recorded server is running and answering /health."""
    state = read_state()
    if state is None or not is_label_studio(state.pid):
        return ServerStatus(running=False, healthy=False, state=state)
    return ServerStatus(running=True, healthy=health(state.url), state=state)


def recorded_postgres(state: ServerState) -> PostgresSettings:
    """The full settings of a PostgreSQL server we started: its target from ``server.json``, the
    password from the 0600 file written at start."""
    if state.postgres is None:
        raise ToolkitError(f"the server recorded in {state_path()} does not use PostgreSQL")
    path = pg_password_path()
    if not path.exists():
        raise ToolkitError(f"{path} is missing; restart the server with `annotate server stop` and `start`")
    payload = read_private_json(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("password"), str):
        raise ToolkitError(f"{path}: expected {{\"password\": ...}}; restart the server to rewrite it")
    return PostgresSettings(**state.postgres.model_dump(), password=SecretStr(payload["password"]))
