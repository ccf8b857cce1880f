"""Set a local Label Studio user's password, by running a Django snippet in Label Studio's interpreter.

Label Studio's own ``reset_password`` takes the password on its command line (readable by every
local user in /proc), so the same two calls are made here with the password read from stdin, against
the database the running server uses (SQLite in its data directory, or the PostgreSQL that
``server.json`` records).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from annotate.labelstudio.server import child_env, read_state, recorded_postgres
from schemas import ToolkitError

# Run inside Label Studio's Django against the server's database.
_SET_PASSWORD = """
import json, sys
from label_studio.server import _setup_env
_setup_env()
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from users.models import User
request = json.loads(sys.stdin.read())
user = User.objects.filter(email=request["email"]).first()
if user is None:
    sys.exit("no user with email " + request["email"])
try:
    validate_password(request["password"], user)
except ValidationError as e:
    sys.exit("password rejected: " + " ".join(e.messages))
user.set_password(request["password"])
user.save(update_fields=["password"])
"""


def _database_env(data_dir: Path) -> dict[str, str]:
    # Helper commands must reach the database the running server uses, which for PostgreSQL is
    # not in the data directory: ask server.json which one serves ``data_dir``.
    state = read_state()
    if state is not None and state.database == "postgresql" and state.data_dir == data_dir.resolve():
        return child_env(data_dir, None, "postgresql", recorded_postgres(state))
    return child_env(data_dir, None)


def set_user_password(data_dir: Path, email: str, password: str, timeout: float = 120) -> None:
    """Give a user of the local server a password they can log in with (Django's hasher, LS's rules)."""
    env = _database_env(data_dir)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SET_PASSWORD], input=json.dumps({"email": email, "password": password}),
            env=env, capture_output=True, text=True, timeout=timeout, cwd=data_dir,
        )
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"setting the password of {email} timed out after {timeout:.0f} s; retry") from None
    if done.returncode != 0:
        reason = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        raise ToolkitError(f"could not set the password of {email} in {data_dir}: {reason[0].strip()}")
