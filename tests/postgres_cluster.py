"""A throwaway local PostgreSQL cluster for tests, benchmarks and trying things out.

Debian's ``postgresql`` package puts ``initdb`` and ``postgres`` in ``/usr/lib/postgresql/<ver>/bin``.
``throwaway_cluster()`` initialises a cluster in a new temporary directory, runs ``postgres`` in the
foreground as our child on a free loopback port (its unix socket in the same directory, so nothing
touches ``/var/run/postgresql``), creates one database, and removes everything on exit.

PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres`` system user
(``subprocess`` switches the user itself, so no ``runuser``/``su`` process sits in between and
the parent-death signal reaches ``postgres`` directly).

Nothing here is needed to use ``annotate server start --database postgresql`` with a real,
long-lived PostgreSQL: that only needs the ``ANNOTATE_PG_*`` settings (``annotate.labelstudio.database``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from annotate.labelstudio.database import PostgresSettings, check_postgres
from annotate.labelstudio.server import log_tail
from schemas import ToolkitError

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"  # created by Debian's package; the cluster's owner when we are root
SUPERUSER = "annotate"  # the cluster's superuser; Label Studio connects as it
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LocalCluster:
    """A running throwaway cluster: how to connect, where it lives, its process."""

    settings: PostgresSettings  # TCP on 127.0.0.1, password authentication
    directory: Path  # data dir ``data/``, socket dir ``socket/``, ``postgres.log``
    process: subprocess.Popen
    bin_dir: Path

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    def psql(self, sql: str, database: str | None = None) -> str:
        """Run one statement with ``psql`` (unaligned, tuples only) and return its output."""
        env = {**os.environ, "PGPASSWORD": self.settings.password.get_secret_value()}
        done = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", self.settings.host, "-p", str(self.settings.port), "-U", self.settings.user,
             "-d", database or self.settings.name, "-c", sql],
            env=env, capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            raise ToolkitError(f"psql on {self.settings.describe()} failed: {done.stderr.strip()}")
        return done.stdout.strip()


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` with ``initdb`` and ``postgres``, else None."""
    found = [d / "bin" for d in DEBIAN_ROOT.glob("*") if all((d / "bin" / b).exists() for b in ("initdb", "postgres"))]
    found.sort(key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    return found[-1] if found else None


def require_bin_dir() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise ToolkitError(
            f"no PostgreSQL server binaries under {DEBIAN_ROOT}/<version>/bin; "
            "install them with `apt-get install -y postgresql`"
        )
    return bin_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as when we are root; None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise ToolkitError(
            f"running as root, PostgreSQL needs an unprivileged user and there is no {SYSTEM_USER!r} user; "
            "install Debian's `postgresql` package (it creates one) or run as a normal user"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _die_with_parent_hook() -> Callable[[], None]:
    """A preexec function: SIGQUIT (immediate shutdown) to postgres if we die, even by SIGKILL.

    It runs after the user switch, so the setting survives it; libc is loaded here, before the fork,
    because the unprivileged child may not be able to read this Python's files (e.g. under /root).
    """
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(1, signal.SIGQUIT)  # PR_SET_PDEATHSIG

    return hook


def start_cluster(
    database: str = "label_studio", port: int | None = None, fsync: bool = True, die_with_parent: bool = True
) -> LocalCluster:
    """initdb + postgres + CREATE DATABASE in a new temporary directory; raise ToolkitError on failure.

    ``fsync=False`` (tests) trades crash safety, which a throwaway cluster does not need, for speed.
    """
    bin_dir = require_bin_dir()
    owner = _run_as()
    port = port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="annotate-pg-"))  # 0700, in /tmp (traversable by the owner)
    data, sockets = directory / "data", directory / "socket"
    password = secrets.token_urlsafe(18)
    pwfile = directory / "pwfile"
    ids = {} if owner is None else {"user": owner[0], "group": owner[1]}
    # initdb and postgres read LC_*/LANG; a clean environment keeps them from failing on a locale
    # the machine lacks (C.UTF-8 is always there).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    try:
        with os.fdopen(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(password + "\n")
        sockets.mkdir()
        if owner is not None:
            for path in (directory, pwfile, sockets):
                os.chown(path, *owner)
        done = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            env=env, cwd=directory, capture_output=True, text=True, timeout=120, **ids,
        )
        pwfile.unlink()
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            raise ToolkitError(f"initdb in {data} failed: {lines[-1] if lines else 'no output'}")
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
                    "-c", f"fsync={'on' if fsync else 'off'}"]
        if not fsync:
            settings += ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = os.open(directory / "postgres.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), *settings],
                env=env, cwd=directory, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent_hook() if die_with_parent else None, **ids,
            )
        finally:
            os.close(log)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    admin = PostgresSettings(host="127.0.0.1", port=port, name="postgres", user=SUPERUSER, password=SecretStr(password))
    cluster = LocalCluster(settings=admin, directory=directory, process=process, bin_dir=bin_dir)
    try:
        _wait_ready(cluster)
        _create_database(cluster, database)
    except BaseException:
        stop_cluster(cluster)
        raise
    return LocalCluster(settings=admin.model_copy(update={"name": database}), directory=directory,
                        process=process, bin_dir=bin_dir)


def _wait_ready(cluster: LocalCluster) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = cluster.process.poll()
        if code is not None:
            # The message carries the log's end: the directory is removed when the start fails.
            raise ToolkitError(f"postgres exited with code {code} while starting: {log_tail(cluster.log_file, 3)}")
        try:
            check_postgres(cluster.settings, timeout=2)
            return
        except ToolkitError:
            time.sleep(0.3)
    raise ToolkitError(
        f"postgres did not accept connections within {START_TIMEOUT:.0f} s: {log_tail(cluster.log_file, 3)}"
    )


def _create_database(cluster: LocalCluster, name: str) -> None:
    import psycopg
    from psycopg import sql

    s = cluster.settings
    with psycopg.connect(host=s.host, port=s.port, dbname="postgres", user=s.user,
                         password=s.password.get_secret_value(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop_cluster(cluster: LocalCluster, grace: float = 30.0) -> None:
    """Fast shutdown (SIGINT: disconnect clients, checkpoint), SIGQUIT after ``grace``; then delete it all."""
    try:
        for sig in (signal.SIGINT, signal.SIGQUIT):
            if cluster.process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                cluster.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                cluster.process.wait(timeout=grace)
        if cluster.process.poll() is None:  # immediate shutdown ignored: the last resort
            cluster.process.kill()
            cluster.process.wait(timeout=grace)
    finally:
        shutil.rmtree(cluster.directory, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster(database: str = "label_studio", fsync: bool = True) -> Iterator[LocalCluster]:
    """A running cluster for the ``with`` block; stopped and deleted afterwards, also on errors."""
    cluster = start_cluster(database=database, fsync=fsync)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
