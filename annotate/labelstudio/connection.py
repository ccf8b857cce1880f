"""Where the Label Studio server is and which token to use; no request is made here.

``resolve_connection()`` looks at ``ANNOTATE_LS_URL`` + ``ANNOTATE_LS_TOKEN``, else the config file
``label-studio.json`` in ``state_dir()``, else the local server started by ``annotate server
start``. ``client.connect()`` checks what it finds with one request.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from annotate.labelstudio import server
from annotate.labelstudio.credentials import load_admin_credentials, read_private_json
from schemas import ToolkitError
from schemas.errors import first_error
from schemas.paths import state_dir

ENV_URL = "ANNOTATE_LS_URL"
ENV_TOKEN = "ANNOTATE_LS_TOKEN"
REMOTE_CONFIG_FILE = "label-studio.json"


class Connection(BaseModel):
    """Where the server is and how to authenticate; ``source`` says where this came from."""

    url: str
    token: SecretStr
    source: str


class RemoteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    token: SecretStr


def remote_config_path() -> Path:
    return state_dir() / REMOTE_CONFIG_FILE


def resolve_connection() -> Connection:
    """The server to use: environment, then config file, then the local server."""
    url, token = os.environ.get(ENV_URL), os.environ.get(ENV_TOKEN)
    if url or token:
        if not (url and token):
            missing = ENV_TOKEN if url else ENV_URL
            raise ToolkitError(f"{missing} is not set while {ENV_URL if url else ENV_TOKEN} is; set both or neither")
        return Connection(url=url, token=SecretStr(token), source="environment")
    path = remote_config_path()
    if path.exists():
        try:
            config = RemoteConfig.model_validate(read_private_json(path))
        except ValidationError as e:
            raise ToolkitError(f"{path}: {first_error(e)}; it needs {{\"url\": ..., \"token\": ...}}") from None
        return Connection(url=config.url, token=config.token, source=str(path))
    status = server.status()
    creds = load_admin_credentials()
    if not status.running or status.state is None or creds is None:
        raise ToolkitError(
            f"no Label Studio server: run `annotate server start`, or set {ENV_URL} and {ENV_TOKEN} "
            f"(or write {path}) for a remote one"
        )
    return Connection(url=status.state.url, token=creds.token, source="local server")


def check_url(url: str, source: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as e:  # e.g. "http://[::1" (unclosed IPv6 bracket): urlsplit raises instead of parsing
        raise ToolkitError(f"Label Studio URL {url!r} (from {source}) cannot be parsed ({e}); "
                           "e.g. http://127.0.0.1:8080") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ToolkitError(f"Label Studio URL {url!r} (from {source}) is not an http(s) URL; e.g. http://127.0.0.1:8080")
    return url.rstrip("/")
