"""The Label Studio project: created from the labeling config, found again by title, and its progress.

``init_project`` is idempotent by title: it creates the project once and afterwards only updates
the label config (or ``maximum_annotations``) when they changed. Every config is validated by
the live server before it is used. The project id is recorded in ``project.json`` in
``state_dir()`` together with the server URL, so later commands find the project.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Literal

from pydantic import BaseModel

from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.sdk_errors import NotFoundError
from annotate.labelstudio.wire import ExportedTask
from schemas import ToolkitError
from schemas.files import read_model, write_atomically
from schemas.paths import state_dir

DEFAULT_TITLE = "News attribution"
DEFAULT_MAXIMUM_ANNOTATIONS = 2  # several annotators per article is the normal case
PROJECT_FILE = "project.json"


class ProjectRecord(BaseModel):
    """What ``project.json`` remembers: which project on which server."""

    server_url: str
    project_id: int
    title: str


class InitOutcome(BaseModel):
    project: ProjectInfo
    action: Literal["created", "updated", "unchanged"]
    changed: list[str] = []


class ProjectStatus(BaseModel):
    """Progress of annotation: per annotator, and which articles still need annotations."""

    project: ProjectInfo
    tasks: int
    annotations: int
    per_annotator: dict[str, int]
    wanted: int
    short: dict[str, int]  # article id -> annotations so far, for articles with fewer than ``wanted``
    median_lead_time: dict[str, float] = {}  # annotator -> median seconds per submitted annotation (LS's lead_time)


def record_path():
    return state_dir() / PROJECT_FILE


def record_project(server_url: str, project: ProjectInfo) -> None:
    record = ProjectRecord(server_url=server_url, project_id=project.id, title=project.title)
    write_atomically(record_path(), record.model_dump_json(indent=2) + "\n", make_parents=True)


def read_record() -> ProjectRecord | None:
    path = record_path()
    if not path.exists():
        return None
    return read_model(path, ProjectRecord, "run `annotate init` to write it again")


def init_project(
    client: StudioClient,
    label_config: str,
    title: str = DEFAULT_TITLE,
    maximum_annotations: int = DEFAULT_MAXIMUM_ANNOTATIONS,
    record: bool = True,
    instructions: str | None = None,
) -> InitOutcome:
    """Create the project, or bring its config up to date; validated by the server first.

    ``record`` makes it the project later commands use (a side project, e.g. a recording, is not).
    ``instructions`` (HTML, ``annotate.labelstudio.instructions``) are shown to annotators before and while they
    label; kept up to date like the config.
    """
    if maximum_annotations < 1:
        raise ToolkitError(f"--maximum-annotations {maximum_annotations}: give 1 or more annotations per article")
    existing = client.find_project(title)
    if existing is None:
        client.validate_config(label_config)
        shown = {} if instructions is None else {"expert_instruction": instructions, "show_instruction": True}
        project = client.create_project(title, label_config, maximum_annotations, **shown)
        outcome = InitOutcome(project=project, action="created")
    else:
        changes: dict[str, object] = {}
        # The server trims surrounding whitespace (DRF CharField), so compare trimmed.
        if existing.label_config.strip() != label_config.strip():
            # Validated against this project: the server also refuses a config that would orphan annotations.
            client.validate_config(label_config, project_id=existing.id)
            changes["label_config"] = label_config
        if existing.maximum_annotations != maximum_annotations:
            changes["maximum_annotations"] = maximum_annotations
        if instructions is not None and (existing.expert_instruction.strip() != instructions.strip()
                                         or not existing.show_instruction):
            changes.update(expert_instruction=instructions, show_instruction=True)
        if changes:
            project = client.update_project(existing.id, **changes)
            outcome = InitOutcome(project=project, action="updated", changed=sorted(changes))
        else:
            outcome = InitOutcome(project=existing, action="unchanged")
    if record:
        record_project(client.url, outcome.project)
    return outcome


def current_project(client: StudioClient) -> ProjectInfo:
    """The project recorded by ``annotate init`` for this server."""
    record = read_record()
    if record is None or record.server_url != client.url:
        found = client.find_project(DEFAULT_TITLE)
        if found is None:
            where = "" if record is None else f" (project.json is for {record.server_url})"
            raise ToolkitError(f"no project on {client.url}{where}; run `annotate init` first")
        record_project(client.url, found)
        return found
    try:
        return client.get_project(record.project_id)
    except NotFoundError:
        raise ToolkitError(
            f"project {record.project_id} recorded in {record_path()} is gone from {client.url}; "
            "run `annotate init` to create it again"
        ) from None


def summarize(project: ProjectInfo, tasks: list[ExportedTask], emails: dict[int, str]) -> ProjectStatus:
    """Count submitted (not skipped) annotations per annotator and per article."""
    per_annotator: Counter[str] = Counter()
    lead_times: dict[str, list[float]] = {}
    short: dict[str, int] = {}
    total = 0
    for task in tasks:
        done = [a for a in task.annotations if not a.was_cancelled]
        total += len(done)
        for a in done:
            name = emails.get(a.completed_by, f"user {a.completed_by}")
            per_annotator[name] += 1
            if a.lead_time is not None:
                lead_times.setdefault(name, []).append(a.lead_time)
        if len(done) < project.maximum_annotations:
            short[str(task.data.get("article_id") or f"task {task.id}")] = len(done)
    return ProjectStatus(
        project=project, tasks=len(tasks), annotations=total, per_annotator=dict(per_annotator.most_common()),
        wanted=project.maximum_annotations, short=short,
        median_lead_time={name: statistics.median(values) for name, values in sorted(lead_times.items())},
    )


def project_status(client: StudioClient, project: ProjectInfo) -> ProjectStatus:
    emails = {u.id: u.email for u in client.list_users()}
    return summarize(project, client.export_tasks(project.id), emails)
