"""A linking project's JSON export -> one ``StatementDocument`` per story per annotator.

Per (story, speaker) task and annotator the latest annotation wins (``export.latest_rank``, as in
the first project); the winners of one story's tasks are joined into the annotator's document for
that story. Cancelled annotations, drafts and predictions are counted, not converted. A task or
annotation that cannot be trusted (``decode``) is rejected alone, never the whole export.

Provenance: the annotator (``completed_by``'s email when the export has it, else ``user-<id>``),
origin ``label-studio``; task and annotation ids when one annotation made the document (a story
with several speakers has several tasks: then None), the earliest ``created_at``, the latest
``updated_at``, the summed ``lead_time``, and ``ground_truth`` when every annotation is one.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel, Field, ValidationError

from annotate.labelstudio.export import SkippedCounts, annotator_of, latest_rank, load_export
from annotate.labelstudio.ids import Rejection
from annotate.labelstudio.linking.decode import LinkingGold, decode_result, read_task_data, statement_document
from annotate.labelstudio.wire import ExportedAnnotation, ExportedTask
from schemas import Provenance, ToolkitError
from schemas.errors import first_error
from schemas.statements import Statement, StatementDocument


class LinkingConversion(BaseModel):
    """A linking export converted, and what happened on the way."""

    tasks: int
    annotations: int
    documents: list[StatementDocument] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    skipped: SkippedCounts = Field(default_factory=SkippedCounts)

    def annotators(self) -> list[str]:
        return sorted({d.provenance.annotator for d in self.documents})


class _Kept(NamedTuple):
    rank: tuple[float, int]
    task_id: int
    annotation: ExportedAnnotation
    statements: list[Statement]
    rejections: list[Rejection]


def parse_linking_export(raw: bytes, gold: LinkingGold) -> LinkingConversion:
    """Convert a linking project's full JSON export; ``ToolkitError`` only when ``raw`` is no task list."""
    tasks = load_export(raw)
    out = LinkingConversion(tasks=len(tasks), annotations=0)
    latest: dict[tuple[str | None, str, str], _Kept] = {}  # (story, speaker, annotator)
    for n, raw_task in enumerate(tasks):
        try:
            task = ExportedTask.model_validate(raw_task)
        except ValidationError as e:
            out.rejections.append(Rejection(region_id=None, message=f"task #{n}: not a Label Studio task "
                                                                    f"({first_error(e)}); task left out"))
            continue
        out.skipped.drafts += len(task.drafts)
        out.skipped.predictions += len(task.predictions)
        if not task.annotations:
            out.skipped.tasks_without_annotations += 1
            continue
        for annotation in task.annotations:
            out.annotations += 1
            if annotation.was_cancelled:
                out.skipped.cancelled += 1
                continue
            where = f"task {task.id} annotation {annotation.id}"
            try:
                data = read_task_data(task.data, f"task {task.id}")
                statements, rejections = decode_result(data, annotation.result, gold, where)
            except ToolkitError as e:
                out.rejections.append(Rejection(region_id=None, task_id=task.id, annotation_id=annotation.id,
                                                message=f"{e} (annotation left out)"))
                continue
            rejections = [r.model_copy(update={"task_id": task.id, "annotation_id": annotation.id})
                          for r in rejections]
            kept = _Kept(latest_rank(annotation.updated_at or annotation.created_at, annotation.id), task.id,
                         annotation, statements, rejections)
            key = (data.story, data.speaker, annotator_of(annotation))
            previous = latest.get(key)
            if previous is not None:
                out.skipped.superseded += 1
                older, kept = sorted([previous, kept], key=lambda k: k.rank)
                out.rejections.append(Rejection(
                    region_id=None, task_id=older.task_id, annotation_id=older.annotation.id,
                    message=f"story {key[0]!r}, speaker {key[1]!r}, {key[2]}: annotation {older.annotation.id} is "
                            f"superseded by the later annotation {kept.annotation.id}; kept the later one"))
            latest[key] = kept
    stories: dict[tuple[str | None, str], list[_Kept]] = {}
    for (story, _, annotator), kept in sorted(latest.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2])):
        stories.setdefault((story, annotator), []).append(kept)
        out.rejections += kept.rejections
    for (story, annotator), kepts in sorted(stories.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        statements = [s for k in kepts for s in k.statements] + gold.single_statements(story)
        try:
            out.documents.append(statement_document(story, statements, _provenance(annotator, kepts), gold))
        except ToolkitError as e:
            out.rejections.append(Rejection(region_id=None, message=f"{e} (document left out)"))
    return out


def _provenance(annotator: str, kepts: list[_Kept]) -> Provenance:
    annotations = [k.annotation for k in kepts]
    one = len(kepts) == 1
    created = [a.created_at for a in annotations if a.created_at is not None]
    updated = [a.updated_at for a in annotations if a.updated_at is not None]
    leads = [a.lead_time for a in annotations]
    lead = sum(x for x in leads if x is not None) if all(x is not None and x >= 0 for x in leads) else None
    return Provenance(
        annotator=annotator, origin="label-studio", task_id=kepts[0].task_id if one else None,
        annotation_id=annotations[0].id if one else None, created_at=_first(created, min),
        updated_at=_first(updated, max), lead_time=lead, ground_truth=all(a.ground_truth for a in annotations),
    )


def _first(moments: list[datetime], pick) -> datetime | None:  # noqa: ANN001 - min or max
    try:
        return pick(moments) if moments else None
    except TypeError:  # aware and naive datetimes do not compare
        return None
