"""Recorded annotations: made once through a real Label Studio, replayed into any project.

``record`` submits hand-authored annotations (``annotate.formats.authoring``) through the server as
the named annotators and keeps the server's own JSON export, so the recording is exactly what
an export contains. ``replay`` pushes a recorded export's annotations into another project (the
demo's), each as the same annotator, matching tasks by article id and text hash. Both are
idempotent: an annotator who already annotated a task is not asked again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from annotate.formats.authoring import compile_file
from annotate.labelstudio.client import ProjectInfo, StudioClient, UserInfo
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.encode import document_to_items
from annotate.labelstudio.export import load_export
from annotate.labelstudio.preload import preload
from annotate.labelstudio.project import init_project
from annotate.labelstudio.snapshots import fetch_export
from annotate.labelstudio.wire import ExportedAnnotation, ExportedTask, ExportedUser
from schemas import AnnotatedDocument, ToolkitError
from schemas.articles import load_articles, load_targets
from schemas.errors import first_error
from schemas.files import write_atomically
from schemas.paths import SEED_TARGETS, SEEDS_DIR

SEED_RECORDING = SEEDS_DIR / "annotations" / "seed-annotations.export.json"
ANNOTATOR_DOMAIN = "example.org"  # annotator "annotator-1" logs in as annotator-1@example.org


class ReplayReport(BaseModel):
    created: int
    already_there: int
    annotators: list[str]


def email_for(annotator: str) -> str:
    return annotator if "@" in annotator else f"{annotator}@{ANNOTATOR_DOMAIN}"


def ensure_user(client: StudioClient, email: str, users: dict[str, UserInfo]) -> UserInfo:
    """The user with this email, created (without a password) when missing."""
    if email not in users:
        users[email] = client.create_user(email=email, username=email.split("@")[0])
    return users[email]


def tasks_by_article(client: StudioClient, project: ProjectInfo) -> dict[str, ExportedTask]:
    return {t.data.get("article_id"): t for t in client.export_tasks(project.id)}


def record(client: StudioClient, project: ProjectInfo, docs: Sequence[AnnotatedDocument]) -> bytes:
    """Submit ``docs`` as their annotators (``provenance.annotator``); return the project's raw export."""
    tasks = tasks_by_article(client, project)
    users = {u.email.lower(): u for u in client.list_users()}
    for doc in docs:
        task = tasks.get(doc.article.id)
        if task is None:
            raise ToolkitError(f"article {doc.article.id!r} is not a task of project {project.id}; preload it first")
        user = ensure_user(client, email_for(doc.provenance.annotator), users)
        if any(a.completed_by == user.id for a in task.annotations):
            continue
        client.create_annotation(task.id, document_to_items(doc), completed_by=user.id)
    return fetch_export(client, project.id)


def _recorded_annotations(path: Path) -> list[tuple[ExportedTask, ExportedAnnotation, str]]:
    """(task, annotation, annotator's email) of a recorded export's annotations that were not cancelled."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ToolkitError(f"{path}: no such recording") from None
    recorded = []
    for n, raw_task in enumerate(load_export(raw)):
        try:
            task = ExportedTask.model_validate(raw_task)
        except ValidationError as e:
            raise ToolkitError(f"{path}: task {n}: not a Label Studio task ({first_error(e)}); record it again "
                               "with `annotate record`") from None
        for annotation in task.annotations:
            who = annotation.completed_by
            if not isinstance(who, ExportedUser) or not who.email:
                raise ToolkitError(f"{path}: task {n} annotation {annotation.id}: no annotator email; "
                                   "record with `annotate record` (which expands completed_by)")
            if not annotation.was_cancelled:
                recorded.append((task, annotation, who.email))
    return recorded


def replay(client: StudioClient, project: ProjectInfo, path: Path = SEED_RECORDING) -> ReplayReport:
    """Create the recorded annotations in ``project`` as the same annotators (accounts made if missing)."""
    tasks = tasks_by_article(client, project)
    users = {u.email.lower(): u for u in client.list_users()}
    created = already = 0
    annotators: set[str] = set()
    for recorded, annotation, email in _recorded_annotations(path):
        data = recorded.data
        task = tasks.get(data.get("article_id"))
        if task is None:
            raise ToolkitError(f"{path}: article {data.get('article_id')!r} is not in project {project.id}; "
                               "preload the seeds first")
        if task.data.get("sha256") != data.get("sha256"):
            raise ToolkitError(f"{path}: article {data.get('article_id')!r} has a different text in project "
                               f"{project.id}; the recording does not apply to it")
        email = email.lower()
        annotators.add(email)
        user = ensure_user(client, email, users)
        if any(a.completed_by == user.id for a in task.annotations):
            already += 1
            continue
        client.create_annotation(task.id, annotation.result, completed_by=user.id)
        created += 1
    return ReplayReport(created=created, already_there=already, annotators=sorted(annotators))


def record_seeds(client: StudioClient, authoring: Sequence[Path], out: Path = SEED_RECORDING) -> Path:
    """Record the seed annotations in a project of their own and keep the export (pretty-printed)."""
    articles = load_articles([SEEDS_DIR])
    by_id = {a.id: a for a in articles}
    docs = [doc for path in authoring for doc in compile_file(path, by_id)]
    title = "seed annotations (recording)"
    project = init_project(client, generate_labeling_config(load_targets(SEED_TARGETS)), title=title,
                           maximum_annotations=len(authoring), record=False).project
    preload(client, project, articles, predictions=False)
    raw = record(client, project, docs)
    tasks = json.loads(raw)
    write_atomically(out, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", make_parents=True)
    return out
