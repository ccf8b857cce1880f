"""The one place that calls the Label Studio SDK: a thin typed layer over it, snapshot exports included.

``connect()`` checks a ``Connection`` (``connection.resolve_connection()``) with one request and
returns a ``label_studio_sdk.LabelStudio``. ``StudioClient`` wraps it with the calls the toolkit
needs and returns pydantic models or plain values, never the SDK's objects. Its errors are worded
in ``sdk_errors`` (``ToolkitError``, the token scrubbed); the snapshot-export calls leave them to
``retrying``, which retries what is transient.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from annotate.labelstudio.connection import Connection, check_url, resolve_connection
from annotate.labelstudio.sdk_errors import RetryPolicy, retrying, to_stderr, translated_errors
from annotate.labelstudio.wire import ExportedTask, NewTask, ResultItem, to_json
from schemas import ToolkitError

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

DEFAULT_TIMEOUT = 120.0
T = TypeVar("T")


class ProjectInfo(BaseModel):
    id: int
    title: str
    label_config: str = ""
    maximum_annotations: int = 1
    expert_instruction: str = ""
    show_instruction: bool = False
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
    """A task's id and data only (keys of ``TASK_DATA_KEYS``); its prediction count when asked for."""

    id: int
    data: dict[str, Any]
    total_predictions: int | None = None


class Snapshot(BaseModel):
    """An export snapshot on the server: its file can be downloaded once ``status`` is "completed"."""

    id: int
    title: str = ""
    status: str | None = None  # "created", "in_progress", "failed" or "completed"
    md5: str | None = None  # of the snapshot's file, as the server recorded it


class ViewInfo(BaseModel):
    """A Data Manager view (tab); ``title`` is the one its data names, if any."""

    id: int
    title: str | None = None


def connect(connection: Connection | None = None, timeout: float = DEFAULT_TIMEOUT) -> LabelStudio:
    """A ``LabelStudio`` client whose URL and token were checked with one request."""
    from label_studio_sdk import LabelStudio

    connection = connection or resolve_connection()
    url = check_url(connection.url, connection.source)
    token = connection.token.get_secret_value()
    with translated_errors(f"connecting (token from {connection.source})", url, token):
        ls = LabelStudio(base_url=url, api_key=token, timeout=timeout)
        ls.users.whoami(request_options={"max_retries": 0})  # a wrong URL should fail at once, not after retries
    return ls


def _once(timeout: float) -> dict[str, Any]:
    """Request options for one attempt: the SDK's own retries would hide ours (``retrying``)."""
    return {"max_retries": 0, "timeout": timeout}


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

    @classmethod
    def open_retrying(cls, policy: RetryPolicy, say: Callable[[str], None] = to_stderr) -> StudioClient:
        """``open()`` whose first request is retried like a pull's steps (a server restarting)."""
        from label_studio_sdk import LabelStudio

        connection = resolve_connection()
        url = check_url(connection.url, connection.source)
        token = connection.token.get_secret_value()
        client = cls(LabelStudio(base_url=url, api_key=token, timeout=policy.timeout), token)
        client.retrying(f"connecting (token from {connection.source})", policy, say,
                        lambda: client.sdk.users.whoami(request_options=_once(policy.timeout)))
        return client

    def _errors(self, what: str):
        return translated_errors(what, self.url, self._token)

    def retrying(self, what: str, policy: RetryPolicy, say: Callable[[str], None], action: Callable[[], T]) -> T:
        """``action()`` (calls of the snapshot-export section below), retried with exponential backoff while
        it fails for a transient reason; any failure that is left becomes a ``ToolkitError``."""
        return retrying(what, self.url, self._token, policy, say, action)

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

    def create_project(self, title: str, label_config: str, maximum_annotations: int, **fields: Any) -> ProjectInfo:
        with self._errors(f"creating project {title!r}"):
            p = self.sdk.projects.create(
                title=title, label_config=label_config, maximum_annotations=maximum_annotations, **fields
            )
        return self.get_project(p.id)

    def update_project(self, project_id: int, **fields: Any) -> ProjectInfo:
        with self._errors(f"updating project {project_id}"):
            self.sdk.projects.update(project_id, **fields)
        return self.get_project(project_id)

    # Tasks

    def import_tasks(
        self, project_id: int, tasks: Sequence[NewTask | dict[str, Any]], timeout: float = 600
    ) -> ImportResult:
        """One bulk import request. No retries: a retried import could create tasks twice."""
        return self.import_tasks_json(project_id, json_array(tasks), len(tasks), timeout)

    def import_tasks_json(self, project_id: int, body: bytes, count: int, timeout: float = 600) -> ImportResult:
        """One bulk import of ``body``, a JSON array of ``count`` tasks (``json_array``); no retries.

        The body is sent as it is: the SDK's ``import_tasks`` re-encodes every value in Python first
        (``jsonable_encoder``), measured at 2.2 ms per task with predictions, more than the server's own work
        without them.
        """
        with self._errors(f"importing {count} tasks into project {project_id}"):
            r = self._post_json(f"api/projects/{project_id}/import", body, timeout, params={"return_task_ids": "true"})
        return ImportResult(task_count=r.get("task_count") or 0, prediction_count=r.get("prediction_count") or 0,
                            task_ids=list(r.get("task_ids") or []))

    def import_predictions_json(self, project_id: int, body: bytes, count: int, timeout: float = 600) -> int:
        """One bulk import of predictions (a JSON array of ``count`` objects, each with its ``task`` id) into
        tasks of the project (``/api/projects/{id}/import/predictions``); the number the server created.

        Label Studio 1.23 validates them against the labeling config here unless the server runs with
        ``fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short``; when validation is on but
        ``fflag_feat_utc_210_prediction_validation_15082025`` off (the shipped default), an invalid one is
        dropped without an error: compare the count.
        """
        with self._errors(f"importing {count} predictions into project {project_id}"):
            r = self._post_json(f"api/projects/{project_id}/import/predictions", body, timeout)
        return int(r.get("created") or 0)

    def _post_json(self, path: str, body: bytes, timeout: float, params: dict[str, str] | None = None) -> Any:
        """POST a ready JSON body with the SDK's own HTTP client (its URL and token), one attempt."""
        from label_studio_sdk.core.api_error import ApiError

        response = self.sdk._client_wrapper.httpx_client.request(
            path, method="POST", content=body, params=params, headers={"Content-Type": "application/json"},
            request_options={"max_retries": 0, "timeout": timeout},
        )
        if response.status_code >= 300:
            raise ApiError(status_code=response.status_code, body=_json_or_text(response))
        return response.json()

    def list_task_data(
        self, project_id: int, page_size: int = 1000, *, prediction_counts: bool = False
    ) -> list[TaskData]:
        """Every task's id and data (and, with ``prediction_counts``, how many predictions it has), without
        annotations or predictions.

        The data manager's ``include`` returns only the named fields: measured about twice as
        fast as the JSON export for tasks with predictions.
        """
        include = "id,data,total_predictions" if prediction_counts else "id,data"
        with self._errors(f"listing the tasks of project {project_id}"):
            pager = self.sdk.tasks.list(project=project_id, include=include, page_size=page_size)
            return [TaskData(id=t.id, data=t.data or {},
                             total_predictions=getattr(t, "total_predictions", None) if prediction_counts else None)
                    for t in pager]

    def export_json(self, project_id: int) -> bytes:
        """The project's whole JSON export, as the server sent it (one request)."""
        with self._errors(f"exporting project {project_id}"):
            return b"".join(self.sdk.projects.exports.download_sync(
                project_id, export_type="JSON", download_all_tasks=True,
                request_options={"timeout": 600},
            ))

    def export_tasks(self, project_id: int) -> list[ExportedTask]:
        """Every task with its data and annotations, through the JSON export (one request).

        Faster than paging the full task list, which serializes every prediction in full.
        """
        raw = self.export_json(project_id)
        try:
            return [ExportedTask.model_validate(t) for t in json.loads(raw)]
        except (ValueError, ValidationError) as e:
            raise ToolkitError(
                f"export of project {project_id} from {self.url} is not the expected JSON ({e})"
            ) from None

    def create_annotation(
        self, task_id: int, result: Sequence[ResultItem | dict[str, Any]], completed_by: int | None = None
    ) -> int:
        """Annotate a task (as another user with ``completed_by``); returns the annotation id."""
        with self._errors(f"annotating task {task_id}"):
            a = self.sdk.annotations.create(id=task_id, result=to_json(list(result)), completed_by=completed_by)
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

    # Snapshot exports (snapshots.py). Each call is one attempt with its own timeout and leaves the
    # SDK's errors untranslated: run them inside ``retrying``, which retries or words them.

    def read_project(self, project_id: int, *, timeout: float) -> ProjectInfo:
        """``get_project`` for ``retrying``: a project that does not exist raises the server's 404."""
        return _project_info(self.sdk.projects.get(project_id, request_options=_once(timeout)))

    def task_at(self, project_id: int, position: int, *, timeout: float) -> tuple[int | None, int]:
        """The id of the task at ``position`` (0-based) in the id order, and the project's task count.

        A position past the end (tasks deleted meanwhile): ``(None, 0)``.
        """
        from label_studio_sdk.core.api_error import ApiError

        try:
            page = self.sdk.tasks.list(project=project_id, page=position + 1, page_size=1, fields="task_only",
                                       include="id", request_options=_once(timeout))
        except ApiError as e:
            if e.status_code == 404:  # past the end: tasks were deleted since the count
                return None, 0
            raise
        return (page.items[0].id if page.items else None), page.response.total

    def create_filter_view(self, project_id: int, title: str, id_range: tuple[int, int], *, timeout: float) -> int:
        """A Data Manager view of the tasks whose ids are in ``id_range`` (both ends included); its id."""
        # "in" is inclusive at both ends (data_manager/managers.py)
        ids = {"filter": "filter:tasks:id", "operator": "in", "type": "Number",
               "value": {"min": id_range[0], "max": id_range[1]}}
        view = self.sdk.views.create(project=project_id, data={
            "title": title, "filters": {"conjunction": "and", "items": [ids]}}, request_options=_once(timeout))
        return view.id

    def list_views(self, project_id: int, *, timeout: float) -> list[ViewInfo]:
        views = self.sdk.views.list(project=project_id, request_options=_once(timeout))
        return [ViewInfo(id=v.id, title=_view_title(v.data)) for v in views]

    def delete_view(self, view_id: int, *, timeout: float) -> None:
        self.sdk.views.delete(str(view_id), request_options=_once(timeout))

    def create_snapshot(
        self, project_id: int, title: str, serialization: dict[str, Any], *, view_id: int | None = None,
        timeout: float,
    ) -> Snapshot:
        """A snapshot of the project's tasks (of the view's only, with ``view_id``), serialized with
        ``serialization`` (the export's ``serialization_options``)."""
        filters = {} if view_id is None else {"task_filter_options": {"view": view_id}}
        return _snapshot(self.sdk.projects.exports.create(
            project_id, title=title, serialization_options=serialization, request_options=_once(timeout), **filters))

    def get_snapshot(self, project_id: int, snapshot_id: int, *, timeout: float) -> Snapshot:
        return _snapshot(self.sdk.projects.exports.get(project_id, snapshot_id, request_options=_once(timeout)))

    def download_snapshot(self, project_id: int, snapshot_id: int, *, timeout: float) -> Iterator[bytes]:
        """The snapshot's JSON file, streamed in chunks as they arrive (the request starts at the first)."""
        return self.sdk.projects.exports.download(project_id, snapshot_id, export_type="JSON",
                                                  request_options=_once(timeout))

    def delete_snapshot(self, project_id: int, snapshot_id: int, *, timeout: float) -> None:
        self.sdk.projects.exports.delete(project_id, snapshot_id, request_options=_once(timeout))

    def list_snapshots(self, project_id: int, *, timeout: float) -> list[Snapshot]:
        return [_snapshot(s) for s in self.sdk.projects.exports.list(project_id, request_options=_once(timeout))]


def json_array(items: Sequence[BaseModel | dict[str, Any]]) -> bytes:
    """``items`` as one JSON array (None fields of models left out, as ``to_json``), serialized by pydantic."""
    return b"[" + b",".join(
        i.model_dump_json(exclude_none=True).encode() if isinstance(i, BaseModel) else json.dumps(to_json(i)).encode()
        for i in items
    ) + b"]"


def _project_info(sdk_project: Any) -> ProjectInfo:
    # The SDK's models leave unset counters as None; ours use their defaults instead.
    fields = {name: getattr(sdk_project, name, None) for name in ProjectInfo.model_fields}
    return ProjectInfo.model_validate({k: v for k, v in fields.items() if v is not None})


def _snapshot(sdk_export: Any) -> Snapshot:
    return Snapshot(id=sdk_export.id, title=sdk_export.title or "", status=sdk_export.status, md5=sdk_export.md5)


def _view_title(data: Any) -> str | None:
    title = data.get("title") if isinstance(data, dict) else None
    return title if isinstance(title, str) else None


def _json_or_text(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
