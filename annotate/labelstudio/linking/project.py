"""The statement-linking project: created (idempotent), tasks preloaded (no duplicates), annotations pulled.

The project is found by its title (default ``LINKING_TITLE``) through ``project.init_project``,
which validates the config on the server first and changes only what differs; it is not recorded
in ``project.json``, which names the first project. A preload reads the (story, speaker, sha256)
of the tasks already there: an identical task is skipped, a task whose gold changed is refused,
and a task needing more buckets than the project's config has is refused before anything is
sent. A pull makes the full JSON export through the snapshot machinery (``snapshots.fetch_export``,
retried like the first project's pulls) and writes, all or nothing, the statements JSONL and
beside it ``<stem>.export.json`` (the raw export, unchanged) and ``<stem>.report.json``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.export import SkippedCounts
from annotate.labelstudio.ids import Rejection
from annotate.labelstudio.instructions import LINKING_SECTIONS, instructions_html
from annotate.labelstudio.linking.config import DEFAULT_BUCKETS, bucket_count, generate_linking_config
from annotate.labelstudio.linking.decode import LinkingGold
from annotate.labelstudio.linking.export import parse_linking_export
from annotate.labelstudio.linking.tasks import build_tasks
from annotate.labelstudio.project import DEFAULT_MAXIMUM_ANNOTATIONS, InitOutcome, init_project
from annotate.labelstudio.sdk_errors import RetryPolicy
from annotate.labelstudio.snapshots import fetch_export
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import write_statement_documents
from schemas.files import write_atomically
from schemas.paths import GUIDELINES
from schemas.statements import StatementDocument

LINKING_TITLE = "Statement linking"


class LinkingPreloadReport(BaseModel):
    project_id: int
    imported: int
    unchanged: int
    predictions: int
    seconds: float


class LinkingPullReport(BaseModel):
    """What ``<stem>.report.json`` of a linking pull holds."""

    project_id: int
    export_file: str
    statements_file: str
    tasks: int
    annotations: int
    documents: int
    statements: int
    annotators: list[str]
    skipped: SkippedCounts
    rejections: list[Rejection] = Field(default_factory=list)


def init_linking_project(
    client: StudioClient, buckets: int = DEFAULT_BUCKETS, title: str = LINKING_TITLE,
    maximum_annotations: int = DEFAULT_MAXIMUM_ANNOTATIONS,
) -> InitOutcome:
    """Create the linking project with ``buckets`` statement buckets, or bring its config up to date."""
    return init_project(client, generate_linking_config(buckets), title=title,
                        maximum_annotations=maximum_annotations, record=False,
                        instructions=instructions_html(GUIDELINES, LINKING_SECTIONS))


def linking_project(client: StudioClient, title: str = LINKING_TITLE) -> ProjectInfo:
    found = client.find_project(title)
    if found is None:
        raise ToolkitError(f"no project {title!r} on {client.url}; run `annotate statements init` first")
    bucket_count(found.label_config)  # a clear error when the title names another kind of project
    return found


def existing_tasks(client: StudioClient, project_id: int) -> dict[tuple[str | None, str], str]:
    """``{(story, speaker): sha256}`` of the project's tasks (ids and data only)."""
    found: dict[tuple[str | None, str], str] = {}
    for task in client.list_task_data(project_id):
        speaker = task.data.get("speaker")
        if isinstance(speaker, str):
            found[(task.data.get("story"), speaker)] = str(task.data.get("sha256", ""))
    return found


def preload_linking(
    client: StudioClient, project: ProjectInfo, gold: Sequence[AnnotatedDocument],
    predictions: Sequence[StatementDocument] | None = None, model_version: str = "linker",
) -> LinkingPreloadReport:
    """Import the (story, speaker) tasks the project lacks, with ``predictions`` pre-filling the buckets."""
    started = time.perf_counter()
    tasks = build_tasks(gold, predictions, bucket_count(project.label_config), model_version)
    existing = existing_tasks(client, project.id)
    new, unchanged = [], 0
    for task in tasks:
        key = (task.data.story, task.data.speaker)
        sha = existing.get(key)
        if sha is None:
            new.append(task)
        elif sha == task.data.sha256:
            unchanged += 1
        else:
            raise ToolkitError(
                f"speaker {key[1]!r} in story {key[0]!r} is already a task of project {project.id} made from other "
                f"gold (sha256 {sha[:12]}... there, {task.data.sha256[:12]}... now); pull its annotations with the "
                "old gold first, then delete the task in Label Studio and preload again")
    imported = predicted = 0
    if new:
        result = client.import_tasks(project.id, [t.to_json() for t in new])
        if result.task_count != len(new):
            raise ToolkitError(f"Label Studio created {result.task_count} tasks for {len(new)}")
        imported, predicted = result.task_count, result.prediction_count
    return LinkingPreloadReport(project_id=project.id, imported=imported, unchanged=unchanged,
                                predictions=predicted, seconds=time.perf_counter() - started)


def pull_linking(
    client: StudioClient, project: ProjectInfo, gold: Sequence[AnnotatedDocument], out: Path,
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
) -> LinkingPullReport:
    """Export the project, convert it against ``gold`` and write ``out`` (statements JSONL) and its siblings."""
    out = Path(out)
    if out.suffix != ".jsonl" or out.is_dir():
        raise ToolkitError(f"--out {out}: give a .jsonl file name for the statements, e.g. statements.jsonl")
    stem = out.with_name(out.name.removesuffix(".jsonl"))
    export_path, report_path = stem.with_name(stem.name + ".export.json"), stem.with_name(stem.name + ".report.json")
    raw = fetch_export(client, project.id, retry=retry)
    conversion = parse_linking_export(raw, LinkingGold.of(gold))
    report = LinkingPullReport(
        project_id=project.id, export_file=export_path.name, statements_file=out.name, tasks=conversion.tasks,
        annotations=conversion.annotations, documents=len(conversion.documents),
        statements=sum(len(d.statements) for d in conversion.documents), annotators=conversion.annotators(),
        skipped=conversion.skipped, rejections=conversion.rejections,
    )
    write_statement_documents(out, conversion.documents)  # checks the directory first
    write_atomically(export_path, raw)
    write_atomically(report_path, report.model_dump_json(indent=2) + "\n")  # last: the pull is complete
    return report
