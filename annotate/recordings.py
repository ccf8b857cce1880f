"""Recorded annotations: made once through a real Label Studio, replayed into any project.

``record`` submits hand-authored annotations (``annotate.authoring``) through the server as
the named annotators and keeps the server's own JSON export, so the recording is exactly what
an export contains. ``replay`` pushes a recorded export's annotations into another project (the
demo's), each as the same annotator, matching tasks by article id and text hash. Both are
idempotent: an annotator who already annotated a task is not asked again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from annotate.articles import load_articles
from annotate.client import ProjectInfo, StudioClient, UserInfo
from annotate.paths import SEEDS_DIR
from schemas import AnnotatedDocument, ToolkitError

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


def tasks_by_article(client: StudioClient, project: ProjectInfo) -> dict[str, Any]:
    return {t.data.get("article_id"): t for t in client.export_tasks(project.id)}


def record(client: StudioClient, project: ProjectInfo, docs: Sequence[AnnotatedDocument]) -> bytes:
    """Submit ``docs`` as their annotators (``provenance.annotator``); return the project's raw export."""
    from exports.labelstudio import document_to_results
    from exports.pull import fetch_export

    tasks = tasks_by_article(client, project)
    users = {u.email.lower(): u for u in client.list_users()}
    for doc in docs:
        task = tasks.get(doc.article.id)
        if task is None:
            raise ToolkitError(f"article {doc.article.id!r} is not a task of project {project.id}; preload it first")
        user = ensure_user(client, email_for(doc.provenance.annotator), users)
        if any(a.completed_by == user.id for a in task.annotations):
            continue
        client.create_annotation(task.id, document_to_results(doc), completed_by=user.id)
    return fetch_export(client, project.id)


def _recorded_annotations(path: Path) -> list[tuple[dict, dict]]:
    """(task, annotation) pairs of a recorded export, annotations with their annotator's email."""
    from exports.labelstudio import load_export

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ToolkitError(f"{path}: no such recording") from None
    pairs = []
    for n, task in enumerate(load_export(raw)):
        for annotation in task.get("annotations", []):
            who = annotation.get("completed_by")
            if not isinstance(who, dict) or not who.get("email"):
                raise ToolkitError(f"{path}: task {n} annotation {annotation.get('id')}: no annotator email; "
                                   "record with `annotate record` (which expands completed_by)")
            if not annotation.get("was_cancelled"):
                pairs.append((task, annotation))
    return pairs


def replay(client: StudioClient, project: ProjectInfo, path: Path = SEED_RECORDING) -> ReplayReport:
    """Create the recorded annotations in ``project`` as the same annotators (accounts made if missing)."""
    tasks = tasks_by_article(client, project)
    users = {u.email.lower(): u for u in client.list_users()}
    created = already = 0
    annotators: set[str] = set()
    for task_data, annotation in _recorded_annotations(path):
        data = task_data["data"]
        task = tasks.get(data.get("article_id"))
        if task is None:
            raise ToolkitError(f"{path}: article {data.get('article_id')!r} is not in project {project.id}; "
                               "preload the seeds first")
        if task.data.get("sha256") != data.get("sha256"):
            raise ToolkitError(f"{path}: article {data.get('article_id')!r} has a different text in project "
                               f"{project.id}; the recording does not apply to it")
        email = annotation["completed_by"]["email"].lower()
        annotators.add(email)
        user = ensure_user(client, email, users)
        if any(a.completed_by == user.id for a in task.annotations):
            already += 1
            continue
        client.create_annotation(task.id, annotation["result"], completed_by=user.id)
        created += 1
    return ReplayReport(created=created, already_there=already, annotators=sorted(annotators))


def record_seeds(client: StudioClient, authoring: Sequence[Path], out: Path = SEED_RECORDING) -> Path:
    """Record the seed annotations in a project of their own and keep the export (pretty-printed)."""
    from annotate.articles import load_targets
    from annotate.authoring import compile_file
    from annotate.paths import SEED_TARGETS
    from annotate.preload import preload
    from annotate.project import init_project
    from schemas.labeling_config import generate_labeling_config

    articles = load_articles([SEEDS_DIR])
    by_id = {a.id: a for a in articles}
    docs = [doc for path in authoring for doc in compile_file(path, by_id)]
    title = "seed annotations (recording)"
    project = init_project(client, generate_labeling_config(load_targets(SEED_TARGETS)), title=title,
                           maximum_annotations=len(authoring), record=False).project
    preload(client, project, articles, predictions=False)
    raw = record(client, project, docs)
    tasks = json.loads(raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out
