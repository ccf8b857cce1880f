"""Push articles into the project as tasks, with the baseline extractor's pre-annotations.

Idempotent: the (article id, sha256) pairs already in the project are fetched once, identical
articles are skipped, and an article whose id is there with a different text is refused unless
``new_revision`` is set, in which case it is imported as ``<id>@r2`` (then ``@r3``, ...).
Tasks go in batches (many tasks per request); the next batch is built (extraction included)
while the previous one is being imported. ``new_task`` and ``prediction_for`` build the wire
models of a task and its pre-annotations, for any document (the review push uses them too).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from annotate.extract.baseline import BASELINE_VERSION, extract
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import TASK_DATA_KEYS
from annotate.labelstudio.encode import document_to_items
from annotate.labelstudio.wire import LabelsResult, NewTask, Prediction, ResultItem
from schemas import AnnotatedDocument, Article, ToolkitError
from schemas.errors import first_error

DEFAULT_BATCH_SIZE = 500
_REVISION = re.compile(r"^(?P<base>.+)@r(?P<n>[1-9][0-9]*)$")


class PreloadPlan(BaseModel):
    """What a preload will do, decided before anything is sent."""

    new: list[Article] = Field(default_factory=list)  # ids already rewritten for revisions
    unchanged: list[str] = Field(default_factory=list)  # ids already in the project with the same text
    revisions: dict[str, str] = Field(default_factory=dict)  # original id -> revision id it is imported as
    conflicts: dict[str, str] = Field(default_factory=dict)  # id -> sha256 in the project (text differs)


class PreloadReport(BaseModel):
    project_id: int
    imported: int
    unchanged: int
    revisions: dict[str, str]
    predictions: int
    seconds: float


def revision_id(article_id: str, n: int) -> str:
    return article_id if n == 1 else f"{article_id}@r{n}"


def plan_preload(articles: Sequence[Article], existing: dict[str, str], new_revision: bool) -> PreloadPlan:
    """Compare articles with the project's ``{article id: sha256}``; pure, so it is tested alone."""
    revisions: dict[str, dict[int, str]] = {}  # base id -> {revision number: sha256}
    for article_id, sha in existing.items():
        m = _REVISION.match(article_id)
        base, n = (m["base"], int(m["n"])) if m and int(m["n"]) > 1 else (article_id, 1)
        revisions.setdefault(base, {})[n] = sha
    plan = PreloadPlan()
    planned: set[str] = set()
    for article in articles:
        if article.id in planned:  # the same article given twice: one task
            continue
        planned.add(article.id)
        known = revisions.get(article.id, {})
        same = [n for n, sha in known.items() if sha == article.sha256]
        if same:
            plan.unchanged.append(revision_id(article.id, min(same)))
        elif 1 not in known:
            plan.new.append(article)
        elif not new_revision:
            plan.conflicts[article.id] = known[1]
        else:
            rid = revision_id(article.id, max(known) + 1)
            try:
                plan.new.append(Article.model_validate({**article.model_dump(), "id": rid}))
            except ValidationError as e:
                raise ToolkitError(
                    f"article {article.id!r}: revision id {rid!r} is not valid ({first_error(e)})"
                ) from None
            plan.revisions[article.id] = rid
    return plan


def task_data(article: Article) -> dict[str, str]:
    """The task's data: exactly the keys of TASK_DATA_KEYS, None as "" (Label Studio shows it blank)."""
    values: dict[str, Any] = {**article.model_dump(mode="json"), "article_id": article.id}
    return {key: "" if values.get(key) is None else str(values[key]) for key in TASK_DATA_KEYS}


def new_task(
    article: Article, predictions: Sequence[Prediction] | None = None, extra_data: Mapping[str, str] | None = None
) -> NewTask:
    """The task that shows ``article`` (``task_data``, then ``extra_data``'s keys) with ``predictions``.

    ``predictions`` None leaves the key out of the import; ``[]`` sends an empty list.
    """
    data = {**task_data(article), **(extra_data or {})}
    return NewTask(data=data, predictions=None if predictions is None else list(predictions))


def prediction_for(doc: AnnotatedDocument, model_version: str) -> Prediction:
    """``doc`` as a prediction (pre-annotation) labelled ``model_version``, offsets checked.

    Raises ``ToolkitError`` when the labeling config cannot hold ``doc`` (``document_to_items``).
    """
    results = document_to_items(doc)
    check_offsets(doc.article, results)
    return Prediction(model_version=model_version, result=results)


def baseline_prediction(article: Article) -> Prediction:
    """The baseline extractor's pre-annotation as a Label Studio prediction."""
    return prediction_for(extract(article), BASELINE_VERSION)


def check_offsets(article: Article, results: Sequence[ResultItem]) -> None:
    """Every region must quote the article exactly (half-open code-point offsets).

    Only ``labels`` results carry the region's own text: a per-region ``textarea`` keeps what
    the annotator typed in ``value.text``.
    """
    for item in results:
        if isinstance(item, LabelsResult) and article.text[item.value.start:item.value.end] != item.value.text:
            raise ToolkitError(
                f"article {article.id!r}: prediction region {item.id!r} [{item.value.start}, {item.value.end}) "
                f"does not match its text {item.value.text!r}; the extractor or converter has a bug, "
                "run with --no-predictions meanwhile"
            )


def existing_articles(client: StudioClient, project_id: int) -> dict[str, str]:
    """``{article id: sha256}`` of the project's tasks, read once (ids and data only)."""
    found: dict[str, str] = {}
    for task in client.list_task_data(project_id):
        article_id = task.data.get("article_id")
        if article_id:
            found[str(article_id)] = str(task.data.get("sha256", ""))
    return found


def _batches(items: Sequence[Article], size: int) -> Iterator[Sequence[Article]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def preload(
    client: StudioClient,
    project: ProjectInfo,
    articles: Sequence[Article],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    predictions: bool = True,
    new_revision: bool = False,
    predict: Callable[[Article], Prediction] = baseline_prediction,
    on_batch: Callable[[int, int], None] | None = None,
) -> PreloadReport:
    """Import the articles the project does not have yet.

    ``on_batch(imported_now, total_to_import)`` reports progress (first with 0 once planned).
    """
    if batch_size < 1:
        raise ToolkitError(f"--batch-size {batch_size}: give 1 or more tasks per request")
    started = time.perf_counter()
    plan = plan_preload(articles, existing_articles(client, project.id), new_revision)
    if plan.conflicts:
        first, sha = next(iter(plan.conflicts.items()))
        more = f" (and {len(plan.conflicts) - 1} more)" if len(plan.conflicts) > 1 else ""
        here = next(a.sha256 for a in articles if a.id == first)
        raise ToolkitError(
            f"article {first!r}{more} is already in project {project.id} with a different text "
            f"(sha256 {sha[:12]}… there, {here[:12]}… here); restore the original text, or pass --new-revision "
            f"to import it as {revision_id(first, 2)!r}"
        )

    def build(batch: Sequence[Article]) -> list[NewTask]:
        return [new_task(a, [predict(a)] if predictions else None) for a in batch]

    total = len(plan.new)
    if on_batch is not None:
        on_batch(0, total)

    def collect(pending: tuple[Future, int], imported: int, predicted: int) -> tuple[int, int]:
        future, sent = pending
        result = future.result()
        if result.task_count != sent:
            raise ToolkitError(f"Label Studio created {result.task_count} tasks for a batch of {sent}")
        if on_batch is not None:
            on_batch(sent, total)
        return imported + result.task_count, predicted + result.prediction_count

    imported = predicted = 0
    # One worker: the next batch is built (extraction is CPU work) while this one is in flight.
    with ThreadPoolExecutor(max_workers=1) as sender:
        pending: tuple[Future, int] | None = None
        try:
            for batch in _batches(plan.new, batch_size):
                tasks = build(batch)
                if pending is not None:
                    done, pending = pending, None
                    imported, predicted = collect(done, imported, predicted)
                pending = (sender.submit(client.import_tasks, project.id, tasks), len(tasks))
            if pending is not None:
                done, pending = pending, None
                imported, predicted = collect(done, imported, predicted)
        except ToolkitError as e:
            if pending is not None and not pending[0].cancel():
                try:  # the batch in flight may still succeed: count it, so the message is true
                    imported, predicted = collect(pending, imported, predicted)
                except ToolkitError:
                    pass
            raise ToolkitError(
                f"{e} (imported {imported} of {total} before this; rerun the same command to continue: "
                "articles already imported are skipped)"
            ) from None
    return PreloadReport(
        project_id=project.id, imported=imported, unchanged=len(plan.unchanged), revisions=plan.revisions,
        predictions=predicted, seconds=time.perf_counter() - started,
    )

