"""Label Studio on PostgreSQL: where the settings come from, failures that name their cause without
the password, and a real server on a throwaway cluster whose data is really in PostgreSQL.

The cluster tests need Debian's PostgreSQL server binaries (``apt-get install -y postgresql``;
``.ci/run`` installs them) and are skipped, saying so, without them.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import string
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import postgres_cluster as postgres
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio import database, server
from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.connection import ENV_TOKEN, ENV_URL
from annotate.labelstudio.credentials import load_admin_credentials
from annotate.labelstudio.preload import baseline_prediction, task_data
from annotate.labelstudio.project import init_project
from schemas import ToolkitError
from schemas.articles import load_articles, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

ANNOTATE = Path(sys.executable).parent / "annotate"
PG_ENV_NAMES = [*database.PG_ENV.values()]
runner = CliRunner()
needs_postgres = pytest.mark.skipif(
    postgres.find_bin_dir() is None,
    reason="PostgreSQL server binaries missing under /usr/lib/postgresql/<version>/bin: "
    "`apt-get install -y postgresql` (.ci/run installs them)",
)


def free_port() -> int:
    return postgres.free_port()  # nobody listens there: connections are refused at once


@pytest.fixture
def no_pg_env(monkeypatch) -> None:
    for name in PG_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def closed(password: str = "") -> database.PostgresSettings:
    return database.PostgresSettings(host="127.0.0.1", port=free_port(), name="label_studio", user="annotate",
                                   password=SecretStr(password))


# ---------------------------------------------------------------- no PostgreSQL needed


def test_settings_come_from_arguments_then_environment_then_defaults(no_pg_env, monkeypatch):
    assert database.postgres_settings().target.model_dump() == database.PG_DEFAULTS
    assert database.postgres_settings().password.get_secret_value() == ""
    monkeypatch.setenv("ANNOTATE_PG_HOST", "db.internal")
    monkeypatch.setenv("ANNOTATE_PG_PORT", "6543")
    monkeypatch.setenv("ANNOTATE_PG_DB", "annotations")
    monkeypatch.setenv("ANNOTATE_PG_PASSWORD", "from-the-environment")
    from_env = database.postgres_settings()
    assert (from_env.host, from_env.port, from_env.name, from_env.user) == ("db.internal", 6543, "annotations",
                                                                            "postgres")
    assert from_env.password.get_secret_value() == "from-the-environment"
    given_args = database.postgres_settings(host="/run/postgresql", port=5433, name="ls", user="ann")
    assert given_args.target.model_dump() == {"host": "/run/postgresql", "port": 5433, "name": "ls", "user": "ann"}
    assert given_args.password.get_secret_value() == "from-the-environment"
    assert "from-the-environment" not in repr(given_args) + given_args.target.model_dump_json()


@pytest.mark.parametrize("value, error", [("abc", "valid integer"), ("70000", "less than or equal to 65535")])
def test_bad_port_in_the_environment_names_the_variable(no_pg_env, monkeypatch, value, error):
    monkeypatch.setenv("ANNOTATE_PG_PORT", value)
    with pytest.raises(ToolkitError, match=rf"ANNOTATE_PG_PORT='{value}': .*{error}.*annotate server start --help"):
        database.postgres_settings()


def test_bad_port_given_as_an_option_names_the_option(no_pg_env):
    with pytest.raises(ToolkitError, match=r"--pg-port=0: .*greater than or equal to 1"):
        database.postgres_settings(port=0)


def test_child_env_points_label_studio_at_our_database_only(monkeypatch, tmp_path):
    # Label Studio reads LABEL_STUDIO_X before HEARTEX_X before X: inherited ones would win over ours.
    monkeypatch.setenv("LABEL_STUDIO_POSTGRE_HOST", "elsewhere.example")
    monkeypatch.setenv("HEARTEX_POSTGRE_PASSWORD", "inherited-password")
    monkeypatch.setenv("POSTGRE_PORT", "1")
    monkeypatch.setenv("LABEL_STUDIO_DJANGO_DB", "sqlite")
    target = database.PostgresSettings(host="127.0.0.1", port=5544, name="ls", user="ann", password=SecretStr("pw-1"))
    env = server.child_env(tmp_path, None, "postgresql", target)
    assert {k: env[k] for k in env if "POSTGRE" in k or "DJANGO_DB" in k} == {
        "DJANGO_DB": "postgresql", "POSTGRE_HOST": "127.0.0.1", "POSTGRE_PORT": "5544", "POSTGRE_NAME": "ls",
        "POSTGRE_USER": "ann", "POSTGRE_PASSWORD": "pw-1"}
    sqlite_env = server.child_env(tmp_path, None)
    assert sqlite_env["DJANGO_DB"] == "sqlite" and not [k for k in sqlite_env if "POSTGRE" in k]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=12, max_size=40))
def test_unreachable_postgresql_is_one_line_naming_where_and_never_the_password(password):
    unreachable = closed(password)
    with pytest.raises(ToolkitError, match=rf"cannot use the PostgreSQL database 'label_studio' at 127\.0\.0\.1:"
                                           rf"{unreachable.port} as 'annotate': .*refused.*ANNOTATE_PG_HOST") as caught:
        database.check_postgres(unreachable, timeout=2)
    message = str(caught.value)
    assert "\n" not in message and password not in message


def test_start_checks_postgresql_before_starting_anything(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    with pytest.raises(ToolkitError, match=r"cannot use the PostgreSQL database .*refused"):
        server.start(port=free_port(), data_dir=tmp_path / "data", database="postgresql", postgres=closed("pw"))
    assert server.read_state() is None and not (tmp_path / "data").exists()
    assert not database.pg_password_path().exists()


def test_postgresql_settings_for_a_sqlite_server_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    with pytest.raises(ToolkitError, match="PostgreSQL settings were given for a SQLite server; pass --database"):
        server.start(port=free_port(), data_dir=tmp_path / "data", postgres=closed())
    with pytest.raises(ToolkitError, match="--database 'mysql' is not supported; use one of: sqlite, postgresql"):
        server.start(port=free_port(), data_dir=tmp_path / "data", database="mysql")  # type: ignore[arg-type]


def test_helper_commands_need_the_password_file_of_a_postgresql_server(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    state = server.ServerState(pid=1, host="127.0.0.1", port=8080, data_dir=tmp_path / "data",
                               log_file=tmp_path / "log", database="postgresql", postgres=closed().target,
                               started_at="2026-01-01T00:00:00Z")
    with pytest.raises(ToolkitError, match=r"postgres-password\.json is missing; restart the server"):
        server.recorded_postgres(state)
    database.pg_password_path().write_text('["not", "an object"]')
    database.pg_password_path().chmod(0o600)
    with pytest.raises(ToolkitError, match=r'postgres-password\.json: expected \{"password": ...\}; restart'):
        server.recorded_postgres(state)
    with pytest.raises(ToolkitError, match=r"server\.json does not use PostgreSQL"):
        server.recorded_postgres(state.model_copy(update={"database": "sqlite", "postgres": None}))


def test_missing_postgresql_binaries_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres, "DEBIAN_ROOT", tmp_path)
    assert postgres.find_bin_dir() is None
    with pytest.raises(ToolkitError, match=r"no PostgreSQL server binaries under .*apt-get install -y postgresql"):
        postgres.start_cluster()


def run_cli(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (*PG_ENV_NAMES, ENV_URL, ENV_TOKEN)}
    return subprocess.run([str(ANNOTATE), *args], capture_output=True, text=True, timeout=300,
                          env={**clean, "ANNOTATE_HOME": str(home), **env})


def test_cli_pg_options_need_database_postgresql(tmp_path):
    done = run_cli(["server", "start", "--pg-host", "db.internal", "--pg-port", "5433"], tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: --pg-host, --pg-port only apply to PostgreSQL; add --database postgresql\n"


def test_cli_unreachable_postgresql_exits_2_with_one_line_and_no_password(tmp_path):
    secret = "do-not-print-this-password-7f3a"
    done = run_cli(["server", "start", "--database", "postgresql", "--port", str(free_port())], tmp_path,
                   ANNOTATE_PG_PORT=str(free_port()), ANNOTATE_PG_PASSWORD=secret)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: cannot use the PostgreSQL database 'label_studio' at 127.0.0.1:")
    assert done.stderr.count("\n") == 1 and secret not in done.stdout + done.stderr
    assert not (tmp_path / "server.json").exists()


# ---------------------------------------------------------------- a throwaway cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[postgres.LocalCluster]:
    with postgres.throwaway_cluster(fsync=False) as c:
        yield c


@needs_postgres
def test_wrong_password_is_named_as_such(cluster):
    wrong = cluster.settings.model_copy(update={"password": SecretStr("not-the-password-123")})
    with pytest.raises(ToolkitError, match=r"password authentication failed .*check ANNOTATE_PG_USER and "
                                           r"ANNOTATE_PG_PASSWORD") as caught:
        database.check_postgres(wrong)
    assert "not-the-password-123" not in str(caught.value)


@needs_postgres
def test_missing_database_says_how_to_create_it(cluster):
    missing = cluster.settings.model_copy(update={"name": "no_such_db"})
    with pytest.raises(ToolkitError, match=r'database "no_such_db" does not exist; create it \(`createdb`\)'):
        database.check_postgres(missing)


@needs_postgres
def test_throwaway_cluster_runs_unprivileged_and_leaves_nothing_behind():
    c = postgres.start_cluster(database="scratch", fsync=False)
    try:
        assert c.psql("SELECT current_database()") == "scratch"
        owner = (c.directory / "data").stat().st_uid
        assert owner != 0 or os.geteuid() != 0  # PostgreSQL refuses root; as root it runs as `postgres`
    finally:
        postgres.stop_cluster(c)
    assert c.process.poll() is not None and not c.directory.exists()
    with pytest.raises(ToolkitError, match="refused"):
        database.check_postgres(c.settings, timeout=2)


@needs_postgres
def test_cluster_on_a_taken_port_fails_with_postgres_own_reason():
    before = set(Path(tempfile.gettempdir()).glob("annotate-pg-*"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ToolkitError, match=r"postgres exited with code \d+ while starting: .*could not create "
                                               r"any TCP/IP sockets"):
            postgres.start_cluster(port=port, fsync=False)
    assert set(Path(tempfile.gettempdir()).glob("annotate-pg-*")) <= before  # its directory is gone too


@needs_postgres
def test_psql_errors_carry_postgresql_reason(cluster):
    with pytest.raises(ToolkitError, match=r'psql on PostgreSQL database .* failed: .*column "nope" does not exist'):
        cluster.psql("SELECT nope")


# ---------------------------------------------------------------- Label Studio on the cluster


@pytest.fixture(scope="module")
def pg_server(cluster, tmp_path_factory) -> Iterator[server.ServerState]:
    """Label Studio on ``cluster``, with its own ANNOTATE_HOME for this module (the session's is restored)."""
    home = tmp_path_factory.mktemp("pg-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("ANNOTATE_HOME", str(home))
    for name in (ENV_URL, ENV_TOKEN):
        patch.delenv(name, raising=False)
    state = None
    try:
        state = server.start(port=free_port(), data_dir=home / "data", die_with_parent=True, database="postgresql",
                             postgres=cluster.settings)
        yield state
    finally:
        os.environ["ANNOTATE_HOME"] = str(home)
        if state is not None:
            server.stop(state=state)
        patch.undo()


@pytest.mark.server
@needs_postgres
def test_server_records_where_the_data_is_but_never_the_password(cluster, pg_server):
    password = cluster.settings.password.get_secret_value()
    recorded = json.loads(server.state_path().read_text())
    assert recorded["database"] == "postgresql"
    assert recorded["postgres"] == cluster.settings.target.model_dump()
    assert stat.S_IMODE(database.pg_password_path().stat().st_mode) == 0o600
    assert server.recorded_postgres(pg_server).password.get_secret_value() == password
    status = runner.invoke(app, ["server", "status"])
    assert status.exit_code == 0, status.output
    assert f"PostgreSQL database 'label_studio' at 127.0.0.1:{cluster.settings.port} as 'annotate'" in status.output
    cmdline = Path(f"/proc/{pg_server.pid}/cmdline").read_bytes().decode(errors="replace")
    for text in (server.state_path().read_text(), pg_server.log_file.read_text(errors="replace"), cmdline,
                 status.output):
        assert password not in text
    assert not (pg_server.data_dir / "label_studio.sqlite3").exists()


@pytest.mark.server
@needs_postgres
def test_init_preload_annotate_pull_with_every_row_in_postgresql(cluster, pg_server, tmp_path):
    assert runner.invoke(app, ["init", "--title", "pg flow"]).exit_code == 0
    preloaded = runner.invoke(app, ["preload", str(SEEDS_DIR)])
    assert preloaded.exit_code == 0, preloaded.output
    client = StudioClient.open()
    project = client.find_project("pg flow")
    tasks = {t.data["article_id"]: t.id for t in client.export_tasks(project.id)}
    articles = load_articles([SEEDS_DIR])
    # An annotator with a password set in PostgreSQL (not in a SQLite file) can log in.
    annotator = add_annotator(client, "pg.annotator@example.org", pg_server.data_dir, password="Harbor-Tulip-8812")
    assert login_token(pg_server.url, "pg.annotator@example.org", "Harbor-Tulip-8812") is not None
    admin = client.whoami()
    for article in articles:
        client.create_annotation(tasks[article.id], baseline_prediction(article).result, completed_by=admin.id)
    client.create_annotation(tasks[articles[0].id], baseline_prediction(articles[0]).result,
                             completed_by=annotator.user.id)

    pulled = runner.invoke(app, ["pull", "--out", str(tmp_path / "pg.docs.jsonl")])
    assert pulled.exit_code == 0, pulled.output
    docs = (tmp_path / "pg.docs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(docs) == len(articles) + 1

    pid = project.id
    assert cluster.psql(f"SELECT count(*) FROM task WHERE project_id = {pid}") == str(len(articles))
    assert cluster.psql(f"SELECT count(*) FROM prediction WHERE project_id = {pid}") == str(len(articles))
    assert cluster.psql(f"SELECT count(*) FROM task_completion WHERE project_id = {pid}") == str(len(articles) + 1)
    by_user = cluster.psql(f"SELECT u.email, count(*) FROM task_completion c JOIN htx_user u ON u.id = "
                           f"c.completed_by_id WHERE c.project_id = {pid} GROUP BY u.email ORDER BY u.email")
    assert by_user.splitlines() == sorted([f"{admin.email}|{len(articles)}", "pg.annotator@example.org|1"])
    assert cluster.psql("SELECT password LIKE 'pbkdf2_%' FROM htx_user WHERE email = 'pg.annotator@example.org'") == "t"
    assert not (pg_server.data_dir / "label_studio.sqlite3").exists()


def login_token(url: str, email: str, password: str) -> str | None:
    """Log in through the login form, then fetch the user's own API token; None if the login fails."""
    with httpx.Client(base_url=url, timeout=60) as browser:
        browser.get("/user/login/")
        browser.post("/user/login/", data={"email": email, "password": password,
                                           "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                     headers={"Referer": f"{url}/user/login/"})
        token = browser.get("/api/current-user/token")
        return token.json()["token"] if token.status_code == 200 else None


@pytest.mark.server
@needs_postgres
def test_concurrent_annotators_lose_nothing(cluster, pg_server):
    client = StudioClient.open()
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    project = init_project(client, config, title="pg concurrent", maximum_annotations=4).project
    task_ids = client.import_tasks(project.id, [{"data": task_data(a)} for a in load_articles([SEEDS_DIR])]).task_ids
    before = int(cluster.psql(f"SELECT count(*) FROM task_completion WHERE project_id = {project.id}"))
    tokens = {}
    for n in range(4):
        email = f"concurrent{n}@example.org"
        add_annotator(client, email, pg_server.data_dir, password=f"Quartz-Meadow-{n}4{n}7")
        tokens[email] = login_token(pg_server.url, email, f"Quartz-Meadow-{n}4{n}7")
    acknowledged: dict[str, list[int]] = {email: [] for email in tokens}
    start = threading.Barrier(len(tokens))

    def annotate_all(email: str) -> None:
        with httpx.Client(base_url=pg_server.url, timeout=60, headers={"Authorization": f"Token {tokens[email]}"}) \
                as api:
            start.wait(60)
            for task_id in task_ids * 3:  # each task three times: writers meet on the same rows
                r = api.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], "lead_time": 1.0})
                if r.status_code == 201:
                    acknowledged[email].append(r.json()["id"])

    threads = [threading.Thread(target=annotate_all, args=(email,)) for email in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert all(len(ids) == len(task_ids) * 3 for ids in acknowledged.values())
    exported = {a.id for t in client.export_tasks(project.id) for a in t.annotations}
    assert {i for ids in acknowledged.values() for i in ids} <= exported
    after = int(cluster.psql(f"SELECT count(*) FROM task_completion WHERE project_id = {project.id}"))
    assert after - before == 4 * len(task_ids) * 3


@pytest.mark.server
@pytest.mark.slow
@needs_postgres
def test_cli_start_on_a_database_made_with_other_credentials_is_refused(cluster, pg_server, tmp_path):
    s = cluster.settings
    done = run_cli(["server", "start", "--database", "postgresql", "--port", str(free_port()),
                    "--pg-host", s.host, "--pg-port", str(s.port), "--pg-user", s.user], tmp_path / "home",
                   ANNOTATE_PG_DB=s.name, ANNOTATE_PG_PASSWORD=s.password.get_secret_value())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "starting Label Studio 1.23.2 on 127.0.0.1:" in done.stdout
    assert done.stderr.startswith(f"error: the PostgreSQL database 'label_studio' at 127.0.0.1:{s.port} as "
                                  "'annotate' was created with other credentials than ")
    assert done.stderr.count("\n") == 1
    assert s.password.get_secret_value() not in done.stdout + done.stderr
    assert not (tmp_path / "home" / "server.json").exists()
    assert not (tmp_path / "home" / database.PG_PASSWORD_FILE).exists()
    assert load_admin_credentials(tmp_path / "home" / "credentials.json") is not None
