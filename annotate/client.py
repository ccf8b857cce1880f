"""Talking to Label Studio: where the server is, and a thin typed layer over the SDK.

``connect()`` finds the server (``ANNOTATE_LS_URL`` + ``ANNOTATE_LS_TOKEN``, else the config file
``label-studio.json`` in ``state_dir()``, else the local server started by ``annotate server
start``), checks the token with one request and returns a ``label_studio_sdk.LabelStudio``.
``StudioClient`` wraps it with the calls the toolkit needs and returns pydantic models.

Every SDK or HTTP error is turned into a one-line ``ToolkitError`` in ``_translated`` and
nowhere else; messages never contain the token (it is scrubbed even from server replies).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from annotate.articles import first_error
from annotate.credentials import read_private_json, redact
from annotate.paths import state_dir
from schemas import ToolkitError

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

ENV_URL = "ANNOTATE_LS_URL"
ENV_TOKEN = "ANNOTATE_LS_TOKEN"
REMOTE_CONFIG_FILE = "label-studio.json"
DEFAULT_TIMEOUT = 120.0


class NotFoundError(ToolkitError):
    """The server answered 404: the project, task or user does not exist (or the URL is not Label Studio)."""


class Connection(BaseModel):
    """Where the server is and how to authenticate; ``source`` says where this came from."""

    url: str
    token: SecretStr
    source: str


class RemoteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    token: SecretStr


class ProjectInfo(BaseModel):
    id: int
    title: str
    label_config: str = ""
    maximum_annotations: int = 1
    task_number: int | None = None
    total_annotations_number: int | None = None


class UserInfo(BaseModel):
    id: int
    email: str
    username: str = ""


class ImportResult(BaseModel):
    task_count: int
    prediction_count: int = 0
    task_ids: list[int] = Field(default_factory=list)


class TaskData(BaseModel):
    """A task's id and data only (keys of ``TASK_DATA_KEYS``)."""

    id: int
    data: dict[str, Any]


class ExportedAnnotation(BaseModel):
    """One annotation as Label Studio's JSON export gives it (``result`` stays Label Studio JSON)."""

    model_config = ConfigDict(extra="ignore")

    id: int
    completed_by: int
    result: list[dict[str, Any]] = Field(default_factory=list)
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ExportedTask(BaseModel):
    """One task of a JSON export: its data (keys of ``TASK_DATA_KEYS``) and its annotations."""

    model_config = ConfigDict(extra="ignore")

    id: int
    data: dict[str, Any]
    annotations: list[ExportedAnnotation] = Field(default_factory=list)
    predictions: list[Any] = Field(default_factory=list)


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
    from annotate import server
    from annotate.credentials import load_admin_credentials

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


def connect(connection: Connection | None = None, timeout: float = DEFAULT_TIMEOUT) -> LabelStudio:
    """A ``LabelStudio`` client whose URL and token were checked with one request."""
    from label_studio_sdk import LabelStudio

    connection = connection or resolve_connection()
    url = check_url(connection.url, connection.source)
    token = connection.token.get_secret_value()
    with _translated(f"connecting (token from {connection.source})", url, token):
        ls = LabelStudio(base_url=url, api_key=token, timeout=timeout)
        ls.users.whoami(request_options={"max_retries": 0})  # a wrong URL should fail at once, not after retries
    return ls


@contextmanager
def _translated(what: str, url: str, token: str | None) -> Iterator[None]:
    """The one place SDK and HTTP errors become ToolkitError (with the token scrubbed)."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as e:
        error = NotFoundError if e.status_code == 404 else ToolkitError
        raise error(_scrub(_api_message(e, what, url), token)) from None
    except httpx.ConnectError as e:
        raise ToolkitError(
            _scrub(f"cannot reach Label Studio at {url} while {what} ({e}); start it with `annotate server start` "
                   f"or check {ENV_URL}", token)
        ) from None
    except httpx.TimeoutException:
        raise ToolkitError(f"Label Studio at {url} timed out while {what}; retry, or use smaller batches") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
        raise ToolkitError(_scrub(f"Label Studio URL {url!r} is not usable ({e}); e.g. http://127.0.0.1:8080",
                                  token)) from None
    except httpx.HTTPError as e:
        message = f"HTTP error talking to {url} while {what}: {type(e).__name__}: {e}"
        raise ToolkitError(_scrub(message, token)) from None


def _scrub(message: str, token: str | None) -> str:
    message = " ".join(message.split())  # one line, whatever the server sent
    return message.replace(token, redact(token)) if token else message


def _api_message(e: Any, what: str, url: str) -> str:
    code = e.status_code
    if code in (401, 403):
        return (
            f"Label Studio at {url} refused the API token ({code}) while {what}; check {ENV_TOKEN} or the "
            "credentials file, and that legacy tokens are enabled for the organization"
        )
    if code == 404:
        return f"not found at {url} while {what} (404); is this a Label Studio {_expected()} server, and the id right?"
    return f"Label Studio at {url} answered {code} while {what}: {_reason(e.body)}"


def _expected() -> str:
    from annotate.server import LABEL_STUDIO_VERSION

    return LABEL_STUDIO_VERSION


def _reason(body: Any) -> str:
    """The server's own explanation, from the shapes Label Studio uses for errors."""
    if isinstance(body, dict):
        details = body.get("validation_errors") or body.get("detail") or body
        if isinstance(details, dict):
            return "; ".join(f"{k}: {_flatten(v)}" for k, v in details.items())
        return _flatten(details)
    text = _flatten(body)
    return text[:500] + ("…" if len(text) > 500 else "")


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class StudioClient:
    """The toolkit's calls to Label Studio, typed; errors as ``ToolkitError``."""

    def __init__(self, ls: LabelStudio, token: str | None = None):
        self.sdk = ls
        self.url = ls._client_wrapper.get_base_url()
        self._token = token if token is not None else ls._client_wrapper._tokens_client._api_key

    @classmethod
    def open(cls, connection: Connection | None = None) -> StudioClient:
        connection = connection or resolve_connection()
        return cls(connect(connection), connection.token.get_secret_value())

    def _errors(self, what: str):
        return _translated(what, self.url, self._token)

    # Projects

    def find_project(self, title: str) -> ProjectInfo | None:
        """The project with exactly this title (the API only filters by substring)."""
        with self._errors(f"looking for project {title!r}"):
            matches = [p for p in self.sdk.projects.list(title=title) if p.title == title]
        if len(matches) > 1:
            ids = ", ".join(str(p.id) for p in matches)
            raise ToolkitError(
                f"{len(matches)} projects are titled {title!r} (ids {ids}); delete or rename all but one"
            )
        return self.get_project(matches[0].id) if matches else None

    def list_projects(self) -> list[ProjectInfo]:
        with self._errors("listing projects"):
            projects = list(self.sdk.projects.list())
        return [_project_info(p) for p in projects]

    def get_project(self, project_id: int) -> ProjectInfo:
        with self._errors(f"reading project {project_id}"):
            p = self.sdk.projects.get(project_id)
        return _project_info(p)

    def validate_config(self, label_config: str, project_id: int | None = None) -> None:
        """Ask the server whether the config is valid (for a project: also against its annotations)."""
        with self._errors("validating the labeling config"):
            if project_id is None:
                # No SDK method for the project-less validator: same http client, same errors.
                response = self.sdk._client_wrapper.httpx_client.request(
                    "api/projects/validate/", method="POST", json={"label_config": label_config}
                )
                if response.status_code >= 300:
                    from label_studio_sdk.core.api_error import ApiError

                    raise ApiError(status_code=response.status_code, body=_json_or_text(response))
            else:
                self.sdk.projects.validate_label_config(id=project_id, label_config=label_config)

    def create_project(self, title: str, label_config: str, maximum_annotations: int) -> ProjectInfo:
        with self._errors(f"creating project {title!r}"):
            p = self.sdk.projects.create(
                title=title, label_config=label_config, maximum_annotations=maximum_annotations
            )
        return self.get_project(p.id)

    def update_project(self, project_id: int, **fields: Any) -> ProjectInfo:
        with self._errors(f"updating project {project_id}"):
            self.sdk.projects.update(project_id, **fields)
        return self.get_project(project_id)

    # Tasks

    def import_tasks(self, project_id: int, tasks: Sequence[dict[str, Any]], timeout: float = 600) -> ImportResult:
        """One bulk import request. No retries: a retried import could create tasks twice."""
        with self._errors(f"importing {len(tasks)} tasks into project {project_id}"):
            r = self.sdk.projects.import_tasks(
                id=project_id, request=list(tasks), return_task_ids=True,
                request_options={"max_retries": 0, "timeout": timeout},
            )
        return ImportResult(task_count=r.task_count or 0, prediction_count=r.prediction_count or 0,
                            task_ids=list(r.task_ids or []))

    def list_task_data(self, project_id: int, page_size: int = 1000) -> list[TaskData]:
        """Every task's id and data, without annotations or predictions.

        The data manager's ``include`` returns only the named fields: measured about twice as
        fast as the JSON export for tasks with predictions.
        """
        with self._errors(f"listing the tasks of project {project_id}"):
            pager = self.sdk.tasks.list(project=project_id, include="id,data", page_size=page_size)
            return [TaskData(id=t.id, data=t.data or {}) for t in pager]

    def export_tasks(self, project_id: int) -> list[ExportedTask]:
        """Every task with its data and annotations, through the JSON export (one request).

        Faster than paging the full task list, which serializes every prediction in full.
        """
        with self._errors(f"exporting project {project_id}"):
            raw = b"".join(self.sdk.projects.exports.download_sync(
                project_id, export_type="JSON", download_all_tasks=True,
                request_options={"timeout": 600},
            ))
        try:
            return [ExportedTask.model_validate(t) for t in json.loads(raw)]
        except (ValueError, ValidationError) as e:
            raise ToolkitError(
                f"export of project {project_id} from {self.url} is not the expected JSON ({e})"
            ) from None

    def create_annotation(self, task_id: int, result: list[dict[str, Any]], completed_by: int | None = None) -> int:
        """Annotate a task (as another user with ``completed_by``); returns the annotation id."""
        with self._errors(f"annotating task {task_id}"):
            a = self.sdk.annotations.create(id=task_id, result=result, completed_by=completed_by)
        return a.id

    # Users

    def whoami(self) -> UserInfo:
        with self._errors("asking who the token belongs to"):
            u = self.sdk.users.whoami()
        return UserInfo(id=u.id, email=u.email or "", username=u.username or "")

    def list_users(self) -> list[UserInfo]:
        with self._errors("listing users"):
            users = self.sdk.users.list()
        return [UserInfo(id=u.id, email=u.email or "", username=u.username or "") for u in users]

    def create_user(self, email: str, username: str) -> UserInfo:
        with self._errors(f"creating user {email}"):
            u = self.sdk.users.create(email=email, username=username)
        return UserInfo(id=u.id, email=u.email or email, username=u.username or username)


def _project_info(sdk_project: Any) -> ProjectInfo:
    # The SDK's models leave unset counters as None; ours use their defaults instead.
    fields = {name: getattr(sdk_project, name, None) for name in ProjectInfo.model_fields}
    return ProjectInfo.model_validate({k: v for k, v in fields.items() if v is not None})


def _json_or_text(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
