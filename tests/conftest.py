"""Shared fixtures: one real Label Studio server per test session, clients, fresh projects.

Use them from any test module::

    pytestmark = pytest.mark.server

    def test_something(ls_client, ls_project):
        ls_client.import_tasks(ls_project.id, [...])

``ls_server`` starts Label Studio only when a test asks for it (the first start runs
migrations: allow 20-70 s), on a free loopback port, with a temporary data directory and a
temporary ``ANNOTATE_HOME`` for the whole session. It is stopped at the end of the session,
also when tests fail; and the server is told to die with the test process if that is killed.

Its database is SQLite unless ``ANNOTATE_TEST_DATABASE=postgresql``: then a throwaway PostgreSQL
cluster (``postgres_cluster``, Debian's binaries) is started for the session and removed after it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import postgres_cluster as postgres
import pytest
from pydantic import SecretStr

from annotate.labelstudio import server
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.connection import ENV_TOKEN, ENV_URL, Connection
from annotate.labelstudio.credentials import load_admin_credentials
from annotate.labelstudio.database import DATABASES, Database

TEST_DATABASE_ENV = "ANNOTATE_TEST_DATABASE"


def session_database() -> Database:
    """The session server's database, from ``ANNOTATE_TEST_DATABASE`` (default sqlite)."""
    value = os.environ.get(TEST_DATABASE_ENV, "").strip().lower() or "sqlite"
    if value not in DATABASES:
        raise pytest.UsageError(f"{TEST_DATABASE_ENV}={value!r}: use one of {', '.join(DATABASES)}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class LocalServer:
    """The session's Label Studio: where it is, how to authenticate, where its files are."""

    url: str
    token: str  # the admin's legacy API token (``Authorization: Token <token>``)
    admin_email: str
    admin_password: str  # for logging in through the browser (/user/login/)
    home: Path  # ANNOTATE_HOME of the session: credentials.json, server.json, project.json
    state: server.ServerState  # pid, port, data_dir, log_file

    @property
    def connection(self) -> Connection:
        return Connection(url=self.url, token=SecretStr(self.token), source="test session")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A real Label Studio 1.23.2, started once per session through ``annotate.labelstudio.server.start``.

    Sets ``ANNOTATE_HOME`` to a temporary directory for the rest of the session (so the CLI and
    ``StudioClient.open()`` find this server) and removes ``ANNOTATE_LS_URL``/``ANNOTATE_LS_TOKEN``.
    """
    home = tmp_path_factory.mktemp("annotate-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("ANNOTATE_HOME", str(home))
    patch.delenv(ENV_URL, raising=False)
    patch.delenv(ENV_TOKEN, raising=False)
    state = cluster = None
    try:
        database = session_database()
        if database == "postgresql":
            # Asked for explicitly: missing binaries are an error here, not a skip.
            cluster = postgres.start_cluster(fsync=False)
        state = server.start(
            port=free_port(), data_dir=home / "label-studio-data", die_with_parent=True, database=database,
            postgres=cluster.settings if cluster is not None else None,
        )
        creds = load_admin_credentials()
        assert creds is not None
        yield LocalServer(
            url=state.url, token=creds.token.get_secret_value(), admin_email=creds.email,
            admin_password=creds.password.get_secret_value(), home=home, state=state,
        )
    finally:
        # A test may have changed ANNOTATE_HOME: point back at ours, and stop by the recorded pid.
        os.environ["ANNOTATE_HOME"] = str(home)
        if state is not None:
            server.stop(state=state)
        if cluster is not None:
            postgres.stop_cluster(cluster)
        patch.undo()


@pytest.fixture(scope="session")
def ls_client(ls_server: LocalServer) -> StudioClient:
    """A ``StudioClient`` for the session server, as the admin (``.sdk`` is the raw ``LabelStudio``)."""
    return StudioClient.open(ls_server.connection)


@pytest.fixture(scope="module")
def ls_project(request: pytest.FixtureRequest, ls_client: StudioClient) -> ProjectInfo:
    """A fresh project per test module, titled after the module, with the toolkit's labeling config
    (from the seeds' targets) and ``maximum_annotations=2``. Empty: preload what you need."""
    from annotate.labelstudio.config import generate_labeling_config
    from annotate.labelstudio.project import init_project
    from schemas.articles import load_targets
    from schemas.paths import SEED_TARGETS

    title = f"test {request.module.__name__}"
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    outcome = init_project(ls_client, config, title=title, maximum_annotations=2)
    assert outcome.action == "created", f"project {title!r} already existed"
    return outcome.project
