"""The local server's lifecycle, credentials and connection errors, against a real Label Studio."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LocalServer, free_port
from pydantic import SecretStr
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio import server
from annotate.labelstudio.client import StudioClient, connect
from annotate.labelstudio.connection import Connection, resolve_connection
from annotate.labelstudio.credentials import (
    credentials_path,
    load_or_create_admin_credentials,
    read_private_json,
    redact,
    write_private_json,
)
from schemas import ToolkitError

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# No server needed


def test_child_env_scrubs_settings_label_studio_would_read(monkeypatch, tmp_path):
    for name in ("PORT", "HOST", "USERNAME", "PASSWORD", "USER_TOKEN", "DATABASE_NAME"):
        monkeypatch.setenv(name, "from-ci")
        monkeypatch.setenv(f"HEARTEX_{name}", "from-ci")
    monkeypatch.setenv("PATH_KEEP_ME", "yes")
    creds = load_or_create_admin_credentials(tmp_path / "c.json")
    env = server.child_env(tmp_path, creds)
    assert "from-ci" not in env.values()
    assert env["PATH_KEEP_ME"] == "yes"
    assert env["LABEL_STUDIO_PASSWORD"] == creds.password.get_secret_value()
    assert env["LATEST_VERSION_CHECK"] == "false" and env["COLLECT_ANALYTICS"] == "false"
    assert env["SENTRY_DSN"] == "" and env["LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"] == "true"
    assert "LABEL_STUDIO_PASSWORD" not in server.child_env(tmp_path, None)


def test_credentials_are_generated_once_and_private(tmp_path):
    path = tmp_path / "state" / "credentials.json"
    first = load_or_create_admin_credentials(path)
    assert mode(path) == 0o600
    assert load_or_create_admin_credentials(path) == first
    assert len(first.token.get_secret_value()) == 40 and len(first.password.get_secret_value()) >= 16
    assert first.token.get_secret_value() not in repr(first)


def test_redact_keeps_four_characters():
    assert redact("abcdefgh") == "abcd…"
    assert redact(SecretStr("0123456789")) == "0123…"


def test_secrets_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "credentials.json"
    write_private_json(path, {"email": "a@b.c", "password": "p" * 10, "token": "t" * 40})
    os.chmod(path, 0o644)
    with pytest.raises(ToolkitError, match=r"mode 644 .*chmod 600"):
        read_private_json(path)


def test_port_taken_fails_loudly_before_starting(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ToolkitError, match=rf"port {port} on 127.0.0.1 is already in use.*--port"):
            server.start(port=port, data_dir=tmp_path / "data")
    assert not (tmp_path / "server.json").exists()


def test_unresolvable_host_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    with pytest.raises(ToolkitError, match="cannot resolve"):
        server.start(host="no-such-host.invalid", port=free_port(), data_dir=tmp_path / "data")


def test_server_that_dies_while_starting_shows_its_log(monkeypatch, tmp_path):
    # A real fault: a "database" that is not SQLite makes Label Studio exit during migrations.
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    data = tmp_path / "data"
    data.mkdir()
    (data / "label_studio.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ToolkitError, match=r"exited with code \d+ while starting; last lines of .*not a database"):
        server.start(port=free_port(), data_dir=data, timeout=120)
    assert not (tmp_path / "server.json").exists()


def test_stop_when_nothing_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    assert server.stop() is None
    assert runner.invoke(app, ["server", "status"]).output.strip() == "stopped"


def test_bad_url_is_refused_with_a_clear_message():
    with pytest.raises(ToolkitError, match=r"'localhost:8080' .* is not an http\(s\) URL"):
        connect(Connection(url="localhost:8080", token=SecretStr("x" * 40), source="test"))


def test_unreachable_server(monkeypatch):
    with pytest.raises(ToolkitError, match=r"cannot reach Label Studio at http://127.0.0.1:\d+ .*server start"):
        connect(Connection(url=f"http://127.0.0.1:{free_port()}", token=SecretStr("x" * 40), source="test"))


def test_env_needs_both_url_and_token(monkeypatch):
    monkeypatch.setenv("ANNOTATE_LS_URL", "http://127.0.0.1:8080")
    monkeypatch.delenv("ANNOTATE_LS_TOKEN", raising=False)
    with pytest.raises(ToolkitError, match="ANNOTATE_LS_TOKEN is not set"):
        resolve_connection()


def test_remote_config_file_is_used_and_must_be_private(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    monkeypatch.delenv("ANNOTATE_LS_URL", raising=False)
    monkeypatch.delenv("ANNOTATE_LS_TOKEN", raising=False)
    path = tmp_path / "label-studio.json"
    write_private_json(path, {"url": "https://ls.example.org", "token": "remote-token-123456"})
    found = resolve_connection()
    assert (found.url, found.token.get_secret_value(), found.source) == (
        "https://ls.example.org", "remote-token-123456", str(path))
    os.chmod(path, 0o640)
    with pytest.raises(ToolkitError, match="chmod 600"):
        resolve_connection()


def test_no_server_anywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    monkeypatch.delenv("ANNOTATE_LS_URL", raising=False)
    monkeypatch.delenv("ANNOTATE_LS_TOKEN", raising=False)
    with pytest.raises(ToolkitError, match="no Label Studio server: run `annotate server start`"):
        resolve_connection()


# Against the session's server


@pytest.mark.server
def test_session_server_is_running_on_loopback(ls_server: LocalServer):
    status = server.status()
    assert status.running and status.healthy
    assert status.state is not None and status.state.pid == ls_server.state.pid
    assert ls_server.url.startswith("http://127.0.0.1:")
    out = runner.invoke(app, ["server", "status"]).output
    assert f"running at {ls_server.url} (pid {ls_server.state.pid})" in out


@pytest.mark.server
def test_credentials_file_is_0600_and_token_works(ls_server: LocalServer, ls_client: StudioClient):
    assert mode(credentials_path()) == 0o600
    assert mode(ls_server.state.log_file) == 0o600
    assert json.loads(credentials_path().read_text())["token"] == ls_server.token
    assert ls_client.whoami().email == ls_server.admin_email


@pytest.mark.server
def test_secrets_never_reach_the_log_or_the_command_line(ls_server: LocalServer):
    log = ls_server.state.log_file.read_text(errors="replace")
    cmdline = Path(f"/proc/{ls_server.state.pid}/cmdline").read_bytes().decode()
    for secret in (ls_server.token, ls_server.admin_password):
        assert secret not in log
        assert secret not in cmdline


@pytest.mark.server
def test_port_of_a_running_server_is_refused(ls_server: LocalServer, monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))  # another home: not "already running"
    with pytest.raises(ToolkitError, match=f"port {ls_server.state.port} on 127.0.0.1 is already in use"):
        server.start(port=ls_server.state.port, data_dir=tmp_path / "data")


@pytest.mark.server
def test_second_start_in_the_same_home_is_refused(ls_server: LocalServer):
    with pytest.raises(ToolkitError, match=r"already running at .*annotate server stop"):
        server.start(port=free_port())


@pytest.mark.server
def test_bad_token_gives_a_clear_error_without_the_token(ls_server: LocalServer):
    token = "wrong-secret-token-0123456789abcdef"
    with pytest.raises(ToolkitError, match=r"refused the API token \(401\)") as caught:
        connect(Connection(url=ls_server.url, token=SecretStr(token), source="test"))
    assert token not in str(caught.value) and token[:12] not in str(caught.value)


@pytest.mark.server
def test_cli_bad_token_exits_2_with_one_line(ls_server: LocalServer):
    token = "another-wrong-token-0123456789"
    env = {**os.environ, "ANNOTATE_LS_URL": ls_server.url, "ANNOTATE_LS_TOKEN": token}
    script = Path(sys.executable).parent / "annotate"
    done = subprocess.run([str(script), "status"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: Label Studio at") and done.stderr.count("\n") == 1
    assert token not in done.stderr + done.stdout


def copy_database(ls_server: LocalServer, data: Path) -> Path:
    """A consistent copy of the session server's SQLite database (and SECRET_KEY file) in ``data``."""
    data.mkdir()
    source = sqlite3.connect(ls_server.state.data_dir / "label_studio.sqlite3")
    with sqlite3.connect(data / "label_studio.sqlite3") as target:
        source.backup(target)
    source.close()
    if (ls_server.state.data_dir / ".env").exists():
        (data / ".env").write_bytes((ls_server.state.data_dir / ".env").read_bytes())
    return data


@pytest.mark.server
@pytest.mark.slow
def test_database_made_with_other_credentials_is_refused(ls_server: LocalServer, monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))  # a new home: new credentials, but an old database
    data = copy_database(ls_server, tmp_path / "data")
    with pytest.raises(ToolkitError, match=r"was created with other credentials than .*credentials.json"):
        server.start(port=free_port(), data_dir=data)
    assert server.read_state() is None
    assert servers_using(data) == []


def servers_using(data: Path) -> list[int]:
    """Pids of live Label Studio processes started on ``data``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(data) in (proc / "cmdline").read_text(errors="replace"):
                found += [int(proc.name)] if server.is_label_studio(int(proc.name)) else []
        except OSError:  # the process ended while we looked
            continue
    return found


@pytest.mark.server
@pytest.mark.slow
def test_cli_lifecycle_start_status_stop(ls_server: LocalServer, monkeypatch, tmp_path):
    """A second server from a copy of the session's database (no migrations): start, status, stop."""
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    data = copy_database(ls_server, tmp_path / "data")
    # The copied database knows the session's admin: use the same credentials.
    write_private_json(tmp_path / "credentials.json", read_private_json(ls_server.home / "credentials.json"))
    port = free_port()
    started = runner.invoke(app, ["server", "start", "--port", str(port), "--data-dir", str(data)])
    try:
        assert started.exit_code == 0, started.output
        assert f"running at http://127.0.0.1:{port}" in started.output
        assert "(in full in" in started.output
        creds = json.loads((tmp_path / "credentials.json").read_text())
        assert creds["token"] not in started.output and creds["password"] not in started.output
        pid = server.read_state().pid
        assert server.is_label_studio(pid)
        assert "running at" in runner.invoke(app, ["server", "status"]).output
    finally:
        stopped = runner.invoke(app, ["server", "stop"])
    assert stopped.output.strip() == f"stopped Label Studio (pid {pid})"
    assert not server.is_label_studio(pid)
    assert not server.health(f"http://127.0.0.1:{port}")
    assert runner.invoke(app, ["server", "status"]).output.strip() == "stopped"


def test_chosen_database_sqlite_postgresql_and_misplaced_options(monkeypatch):
    from annotate.labelstudio.database import chosen_database

    for variable in ("ANNOTATE_PG_HOST", "ANNOTATE_PG_PORT", "ANNOTATE_PG_DB", "ANNOTATE_PG_USER"):
        monkeypatch.delenv(variable, raising=False)
    assert chosen_database("sqlite") == ("sqlite", None)
    database, settings = chosen_database("postgresql", host="db.internal", port=6543, name="ls", user="me")
    assert database == "postgresql" and (settings.host, settings.port, settings.name, settings.user) == (
        "db.internal", 6543, "ls", "me")
    with pytest.raises(ToolkitError, match=r"--database 'mysql' is not supported; use one of: sqlite, postgresql"):
        chosen_database("mysql")
    with pytest.raises(ToolkitError, match=r"--pg-host, --pg-user only apply to PostgreSQL; add --database postgresql"):
        chosen_database("sqlite", host="h", user="u")
