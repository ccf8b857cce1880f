"""Whole Label Studio JSON exports -> documents: one per article per annotator, the latest winning.

A task's article is rebuilt from its data (``task_data``'s keys) and checked by text hash; its
annotations are converted by ``decode``; provenance comes from the annotation. Tasks and
annotations that cannot be read are rejected one at a time, never the whole export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from annotate.labelstudio.config import ENTITIES
from annotate.labelstudio.decode import ConversionOutcome, results_to_document
from annotate.labelstudio.entities import task_inventory
from annotate.labelstudio.ids import Rejected, Rejection
from annotate.labelstudio.repair import Repair
from annotate.labelstudio.wire import ExportedAnnotation, ExportedTask, ExportedUser
from schemas import AnnotatedDocument, Article, Provenance, TargetInventory, ToolkitError, sha256_of
from schemas.errors import first_error

# Article fields a task's data may carry besides text, article_id and sha256.
_ARTICLE_FIELDS = ("title", "outlet", "published", "url", "language", "story")


class SkippedCounts(BaseModel):
    cancelled: int = 0
    drafts: int = 0
    predictions: int = 0
    superseded: int = Field(default=0, description="Older annotations of an article by the same annotator.")
    tasks_without_annotations: int = 0


class ExportConversion(BaseModel):
    """A whole export converted: one document per article per annotator, and what happened on the way."""

    tasks: int
    annotations: int
    projects: list[int] = Field(default_factory=list, description="Project ids the tasks name.")
    documents: list[AnnotatedDocument]
    repairs: list[Repair] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    skipped: SkippedCounts = Field(default_factory=SkippedCounts)

    def annotators(self) -> list[str]:
        return sorted({d.provenance.annotator for d in self.documents})


def load_export(raw: bytes) -> list[Any]:
    """The task list of a Label Studio JSON export; ``ToolkitError`` with the position when it is not one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ToolkitError(f"export: not UTF-8 at byte {e.start}; give the JSON export file as Label Studio wrote it"
                           ) from None
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as e:
        # An unterminated string, or an error at the very end, means the text stopped mid-JSON.
        ends_early = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
        truncated = " (the file ends early: truncated download?)" if ends_early else ""
        raise ToolkitError(f"export: invalid JSON at line {e.lineno} column {e.colno} (char {e.pos}): {e.msg}"
                           f"{truncated}; download the export again") from None
    except (ValueError, RecursionError) as e:  # e.g. integers too long to parse, absurd nesting
        raise ToolkitError(f"export: cannot read the JSON ({e}); download the export again") from None
    if not isinstance(tasks, list):
        raise ToolkitError(f"export: top level is a JSON {type(tasks).__name__}, not a list of tasks; give a "
                           "Label Studio JSON export (format JSON, not JSON_MIN or CSV)")
    return tasks


def parse_export(
    raw: bytes,
    articles_by_id: Mapping[str, Article] | None = None,
    *,
    targets: TargetInventory | None = None,
    first_position: int = 0,
    annotation_mode: Literal["blind", "shared"] | None = None,
) -> ExportConversion:
    """Convert a full Label Studio JSON export (tasks with data, annotations, predictions, drafts).

    One document per article per annotator (the annotator is ``completed_by``'s email when the
    export has it, else ``user-<id>``); when an annotator has several annotations of one article
    the latest (``updated_at``, then id) wins. Cancelled annotations, drafts and predictions are
    counted, not converted. A task's article is rebuilt from its data and checked against
    ``data.sha256`` (and against ``articles_by_id`` when given, whose metadata then wins); a task
    that fails is rejected as a whole. Raises ``ToolkitError`` only when ``raw`` is no task list.
    ``first_position``: the position of ``raw``'s first task in the whole export (``raw`` is a piece of
    it), so that messages naming a task by position ("task #n") name it in the whole export.
    ``annotation_mode`` is written into every document's provenance (how the annotators worked, if known).
    """
    tasks = load_export(raw)
    out = ExportConversion(tasks=len(tasks), annotations=0, documents=[])
    latest: dict[tuple[str, str], tuple[tuple[float, int], ConversionOutcome, int, int]] = {}
    for n, raw_task in enumerate(tasks, first_position):
        bad_string = _unpaired_surrogate(raw_task)
        if bad_string is not None:
            task_id = raw_task.get("id") if isinstance(raw_task, dict) else None
            out.rejections.append(Rejection(
                region_id=None, task_id=task_id if type(task_id) is int else None,
                message=f"task #{n}: {bad_string} holds an unpaired UTF-16 surrogate (a \\udXXX escape), which is "
                        "not text; fix it in Label Studio (task left out)"))
            continue
        # Annotations are validated one at a time below, so that a malformed one is rejected alone.
        raw_annotations = raw_task.get("annotations") if isinstance(raw_task, dict) else None
        try:
            if isinstance(raw_annotations, list):
                task = ExportedTask.model_validate({**raw_task, "annotations": []})
            else:
                task = ExportedTask.model_validate(raw_task)
                raw_annotations = []
        except ValidationError as e:
            task_id = raw_task.get("id") if isinstance(raw_task, dict) else None
            out.rejections.append(Rejection(
                region_id=None, task_id=task_id if type(task_id) is int else None,
                message=f"task #{n}: not a Label Studio task ({first_error(e)}); task left out"))
            continue
        if task.project is not None and task.project not in out.projects:
            out.projects.append(task.project)
        out.skipped.drafts += len(task.drafts)
        out.skipped.predictions += len(task.predictions)
        if not raw_annotations:
            out.skipped.tasks_without_annotations += 1
            continue
        try:
            article = task_article(task, articles_by_id)
        except Rejected as e:
            out.rejections.append(Rejection(region_id=None, task_id=task.id, message=e.message))
            continue
        try:  # the entity list its annotators picked from; unreadable, each pick is rejected on its own
            entities = task_inventory(task.data.get(ENTITIES), f"task {task.id}")
        except Rejected as e:
            out.rejections.append(Rejection(region_id=None, task_id=task.id, message=e.message))
            entities = None
        for m, raw_annotation in enumerate(raw_annotations):
            out.annotations += 1
            try:
                annotation = ExportedAnnotation.model_validate(raw_annotation)
            except ValidationError as e:
                out.rejections.append(Rejection(
                    region_id=None, task_id=task.id,
                    message=f"task {task.id} annotation #{m}: malformed ({first_error(e)}); annotation left out"))
                continue
            if annotation.was_cancelled:
                out.skipped.cancelled += 1
                continue
            annotator = annotator_of(annotation)
            provenance, notes = _provenance(task, annotation, annotator, annotation_mode)
            try:
                outcome = results_to_document(article, annotation.result, provenance, targets=targets,
                                              entities=entities)
            except ToolkitError as e:
                out.rejections.append(Rejection(region_id=None, task_id=task.id, annotation_id=annotation.id,
                                                message=f"task {task.id} annotation {annotation.id}: {e}"))
                continue
            outcome.repairs[:0] = notes
            key = (article.id, annotator)
            kept = (latest_rank(annotation.updated_at or annotation.created_at, annotation.id), outcome, task.id,
                    annotation.id)
            previous = latest.get(key)
            if previous is not None:
                out.skipped.superseded += 1
                older, newer = sorted([previous, kept], key=lambda x: x[0])
                out.rejections.append(superseded(key, (older[2], older[3]), (newer[2], newer[3])))
                latest[key] = newer
            else:
                latest[key] = kept
    for _, outcome, task_id, annotation_id in latest.values():
        out.documents.append(outcome.document)
        out.repairs += [r.model_copy(update={"task_id": task_id, "annotation_id": annotation_id})
                        for r in outcome.repairs]
        out.rejections += [r.model_copy(update={"task_id": task_id, "annotation_id": annotation_id})
                           for r in outcome.rejections]
    out.documents.sort(key=lambda d: (d.article.id, d.provenance.annotator))
    return out


def latest_rank(moment: datetime | None, annotation_id: int | None) -> tuple[float, int]:
    """Where "the latest annotation wins" is decided: the larger rank is the later annotation.

    ``moment`` is ``updated_at``, else ``created_at``; none sorts first, and so does a naive datetime
    (Label Studio's are aware; aware and naive ones do not compare). Then the annotation id.
    """
    return (moment.timestamp() if moment and moment.tzinfo else float("-inf"), annotation_id or 0)


def superseded(key: tuple[str, str], older: tuple[int | None, int | None], newer: tuple[int | None, int | None]
               ) -> Rejection:
    """The report line for an (article, annotator)'s older annotation; ``older``/``newer``: (task, annotation) ids."""
    (article_id, annotator), (older_task, older_id), (newer_task, newer_id) = key, older, newer
    return Rejection(region_id=None, task_id=older_task, annotation_id=older_id,
                     message=f"article {article_id!r}, {annotator}: annotation {older_id} (task {older_task}) is "
                             f"superseded by the later annotation {newer_id} (task {newer_task}); kept the later one")


def _unpaired_surrogate(value: Any) -> str | None:
    """The path of the first string with a lone surrogate (JSON allows "\\ud800"; UTF-8 and pydantic do not)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return path or "the task"
        elif isinstance(v, dict):
            stack += [(f"{path}.{k}" if path else str(k), x) for k, x in v.items()]
            stack += [(f"{path} key", k) for k in v]
        elif isinstance(v, list):
            stack += [(f"{path}[{i}]", x) for i, x in enumerate(v)]
    return None


def task_article(task: ExportedTask, articles_by_id: Mapping[str, Article] | None) -> Article:
    """The article a task shows, rebuilt from its data, its sha256 checked; ``Rejected`` when it cannot be."""
    data = task.data
    where = f"task {task.id}"
    text, article_id, sha = data.get("text"), data.get("article_id"), data.get("sha256")
    if not isinstance(text, str) or not isinstance(article_id, str):
        raise Rejected(None, f"{where}: data needs text and article_id strings (has {', '.join(sorted(data))}); "
                              "import tasks with the toolkit's preloader")
    where = f"{where} (article {article_id!r})"
    actual = sha256_of(text)
    known = (articles_by_id or {}).get(article_id)
    if not isinstance(sha, str):
        if known is None:
            raise Rejected(None, f"{where}: data has no sha256 to check the text against; re-import the task "
                                  "with the toolkit's preloader, or give the articles to check against")
        sha = known.sha256
    if sha != actual:
        raise Rejected(None, f"{where}: data.sha256 {sha[:12]}... does not match the task text ({actual[:12]}...): "
                              "the text was changed in Label Studio, so offsets cannot be trusted; re-import the task")
    if known is not None:
        if known.sha256 != actual:
            raise Rejected(None, f"{where}: the task text differs from the article given (sha256 {actual[:12]}... "
                                  f"vs {known.sha256[:12]}...); the article changed since import: re-import it")
        return known
    # The preloader writes missing metadata as "" (Label Studio shows None as "null").
    fields = {k: data[k] for k in _ARTICLE_FIELDS if data.get(k) not in (None, "")}
    try:
        return Article(id=article_id, text=text, sha256=actual, **fields)
    except ValidationError as e:
        raise Rejected(None, f"{where}: data.{first_error(e)}; fix the task data") from None


def annotator_of(annotation: ExportedAnnotation) -> str:
    """The annotator's name: the email when the export expands the user, else ``user-<id>``; never merges unknowns."""
    user = annotation.completed_by
    if isinstance(user, ExportedUser):
        return user.email.strip() if user.email and user.email.strip() else f"user-{user.id}"
    if isinstance(user, int):
        return f"user-{user}"
    return f"annotation-{annotation.id}"  # no user recorded (deleted account): never merge two of them


def _provenance(
    task: ExportedTask, annotation: ExportedAnnotation, annotator: str, annotation_mode: str | None = None
) -> tuple[Provenance, list[Repair]]:
    fields = dict(annotator=annotator, origin="label-studio", task_id=task.id, annotation_id=annotation.id,
                  created_at=annotation.created_at, updated_at=annotation.updated_at,
                  lead_time=annotation.lead_time, ground_truth=annotation.ground_truth,
                  annotation_mode=annotation_mode)
    try:
        return Provenance(**fields), []
    except ValidationError as e:
        fields["lead_time"] = None
        note = Repair(region_id=None, reason=f"annotation {annotation.id}: lead_time {annotation.lead_time!r} "
                                             f"dropped ({first_error(e)})")
        return Provenance(**fields), [note]
