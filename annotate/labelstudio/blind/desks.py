"""Each annotator's desk: a local Label Studio server of their own, their account on it, and a client for it.

A desk's server is a local server like the main one, only with its own home (``state_dir()/desks/<name>``): its
``server.json``, admin credentials, SQLite database and log live there. Desks always use SQLite: one annotator
writes to each, so the concurrency PostgreSQL is for does not arise.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from annotate.labelstudio import server
from annotate.labelstudio.annotators import AddedAnnotator, add_annotator, normalize_email
from annotate.labelstudio.blind.record import BlindRecord, Desk, desk_name, desks_root
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.connection import Connection
from annotate.labelstudio.credentials import load_admin_credentials
from schemas import ToolkitError

HOME_VARIABLE = "ANNOTATE_HOME"


@contextlib.contextmanager
def in_home(home: Path) -> Iterator[None]:
    """Let ``state_dir()`` name ``home`` for the length of the block.

    Every local-server helper (``server.json``, credentials, setting a password) finds its files through
    ``state_dir()``, which reads ``ANNOTATE_HOME`` on each call: pointing it at a desk's home reuses them all,
    unchanged, for that desk's server. The toolkit runs one command at a time in one thread, so nothing else
    sees the variable meanwhile.
    """
    before = os.environ.get(HOME_VARIABLE)
    os.environ[HOME_VARIABLE] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(HOME_VARIABLE, None)
        else:
            os.environ[HOME_VARIABLE] = before


def desk_home(email: str) -> Path:
    return (desks_root() / desk_name(email)).resolve()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def desk_running(desk: Desk) -> bool:
    with in_home(desk.home):
        current = server.status()
    return current.running and current.healthy


def start_desk(desk: Desk, die_with_parent: bool = False) -> server.ServerState:
    """Start the desk's server on a free loopback port (a no-op when it is already up)."""
    with in_home(desk.home):
        current = server.status()
        if current.running and current.state is not None:
            return current.state
        return server.start(host=server.DEFAULT_HOST, port=_free_port(server.DEFAULT_HOST),
                            die_with_parent=die_with_parent)


def stop_desk(desk: Desk) -> server.ServerState | None:
    """Stop the desk's server; None when it was not running."""
    with in_home(desk.home):
        return server.stop()


def desk_connection(desk: Desk) -> Connection:
    """The desk server's URL and its admin token (the toolkit's own account there, not the annotator's)."""
    with in_home(desk.home):
        current = server.status()
        creds = load_admin_credentials()
    if not current.running or current.state is None or creds is None:
        raise ToolkitError(
            f"the desk of {desk.email} is not running ({desk.home}); start it with `annotate server start`"
        )
    return Connection(url=current.state.url, token=creds.token, source=f"desk of {desk.email}")


def desk_client(desk: Desk) -> StudioClient:
    return StudioClient.open(desk_connection(desk))


def add_desk(
    record: BlindRecord, email: str, password: str | None = None, die_with_parent: bool = False
) -> tuple[Desk, AddedAnnotator]:
    """Give ``email`` a desk: its server started, their account on it with a password; recorded in ``record``."""
    email = normalize_email(email)
    existing = record.desks.get(email)
    if existing is not None and existing.active:
        raise ToolkitError(f"{email} already has a desk ({existing.home}); `annotate status` shows its address")
    if existing is not None:
        raise ToolkitError(f"{email} was removed on {existing.removed_at:%Y-%m-%d}; a removed desk is kept as "
                           "it was: add them under another email address")
    desk = Desk(email=email, home=desk_home(email), joined_at=datetime.now(UTC))
    state = start_desk(desk, die_with_parent=die_with_parent)
    with in_home(desk.home):
        added = add_annotator(desk_client(desk), email, state.data_dir, password=password)
    desk.user_id = added.user.id
    record.desks[email] = desk
    return desk, added
