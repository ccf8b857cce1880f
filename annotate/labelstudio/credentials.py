"""Secrets kept on disk: the local server's admin credentials and annotators' passwords.

Files are JSON, mode 0600, written whole (temp file, then ``os.replace``), and refused when
other users can read them. Secrets are shown only redacted (``redact``) and never logged.
"""

from __future__ import annotations

import json
import secrets
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from schemas import ToolkitError
from schemas.errors import first_error
from schemas.files import write_atomically
from schemas.paths import state_dir

CREDENTIALS_FILE = "credentials.json"
ANNOTATOR_PASSWORDS_FILE = "annotator-passwords.json"


class AdminCredentials(BaseModel):
    """The local server's admin account and its legacy API token (``SecretStr`` keeps them out of reprs)."""

    model_config = ConfigDict(extra="forbid")

    email: str
    password: SecretStr
    token: SecretStr


def redact(secret: str | SecretStr) -> str:
    """The first 4 characters and an ellipsis: enough to tell secrets apart, too little to use."""
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return value[:4] + "…"


def new_password() -> str:
    # 24 URL-safe characters: within Label Studio's 8-128 length rule and easy to paste.
    return secrets.token_urlsafe(18)


def write_private_json(path: Path, payload: object) -> None:
    """Write JSON readable by the owner only, atomically: the file is 0600 from its first byte."""
    write_atomically(path, json.dumps(payload, indent=2) + "\n", private=True, make_parents=True)


def read_private_json(path: Path) -> object:
    """Read a secrets file, refusing one that group or others can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ToolkitError(f"{path}: mode {mode:o} lets other users read secrets; run `chmod 600 {path}`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ToolkitError(f"{path}:{e.lineno}: invalid JSON ({e.msg}); fix it or delete it to start over") from None


def credentials_path() -> Path:
    return state_dir() / CREDENTIALS_FILE


def load_admin_credentials(path: Path | None = None) -> AdminCredentials | None:
    path = path or credentials_path()
    if not path.exists():
        return None
    try:
        return AdminCredentials.model_validate(read_private_json(path))
    except ValidationError as e:
        raise ToolkitError(
            f"{path}: {first_error(e)}; fix it or delete it (and the server data) to start over"
        ) from None


def load_or_create_admin_credentials(path: Path | None = None) -> AdminCredentials:
    """The stored admin credentials, generated with ``secrets`` on first use."""
    path = path or credentials_path()
    existing = load_admin_credentials(path)
    if existing is not None:
        return existing
    creds = AdminCredentials(
        email="admin@annotate.local",
        password=SecretStr(new_password()),
        # Legacy tokens are 40 hex characters in Label Studio; any string longer than 5 is accepted.
        token=SecretStr(secrets.token_hex(20)),
    )
    write_private_json(
        path,
        {"email": creds.email, "password": creds.password.get_secret_value(), "token": creds.token.get_secret_value()},
    )
    return creds


def annotator_passwords_path() -> Path:
    return state_dir() / ANNOTATOR_PASSWORDS_FILE


def store_annotator_password(email: str, password: str, path: Path | None = None) -> Path:
    """Record an annotator's password (email -> password) in the 0600 file; returns its path."""
    path = path or annotator_passwords_path()
    stored = read_private_json(path) if path.exists() else {}
    if not isinstance(stored, dict):
        raise ToolkitError(f"{path}: expected a JSON object of email -> password; fix it or delete it")
    stored[email] = password
    write_private_json(path, stored)
    return path


def annotator_password(email: str, path: Path | None = None) -> str | None:
    path = path or annotator_passwords_path()
    if not path.exists():
        return None
    stored = read_private_json(path)
    return stored.get(email) if isinstance(stored, dict) else None
