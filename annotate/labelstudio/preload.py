"""Push articles into the project as tasks, with the baseline extractor's pre-annotations.

Idempotent: the (article id, sha256) pairs already in the project are fetched once, identical
articles are skipped, and an article whose id is there with a different text is refused unless
``new_revision`` is set, in which case it is imported as ``<id>@r2`` (then ``@r3``, ...).
Tasks go in batches (many tasks per request); the next batches are built (extraction included,
in worker processes when there are many) while the previous one is being imported (``bulk``).
Every prediction is checked on the client before it is sent: its offsets (``check_offsets``) and
its names against the project's labeling config (``prediction_check``). With predictions, a re-run
also gives theirs to tasks that have none. ``new_task`` and ``prediction_for`` build the wire
models of a task and its pre-annotations, for any document (the review push uses them too).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from annotate.extract.baseline import BASELINE_VERSION, extract
from annotate.extract.layers import with_claims_and_stances
from annotate.labelstudio.bulk import Built, Sent, built_batches, default_workers, send_all, send_predictions
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import ENTITIES, TASK_DATA_KEYS
from annotate.labelstudio.encode import document_to_items
from annotate.labelstudio.entities import task_entities
from annotate.labelstudio.prediction_check import ConfigNames
from annotate.labelstudio.wire import LabelsResult, NewTask, Prediction, ResultItem
from schemas import AnnotatedDocument, Article, TargetInventory, ToolkitError
from schemas.errors import first_error
from schemas.inventory import EntityInventory

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
    repaired: int = 0  # tasks already there that had no predictions and got theirs (not in ``predictions``)
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


def task_data(article: Article) -> dict[str, Any]:
    """The task's data: exactly the keys of TASK_DATA_KEYS, None as "" (Label Studio shows it blank), and an
    empty entity list (a list even when empty: on a string, Label Studio's dynamic choices block Submit)."""
    values: dict[str, Any] = {**article.model_dump(mode="json"), "article_id": article.id}
    return {key: [] if key == ENTITIES else "" if values.get(key) is None else str(values[key])
            for key in TASK_DATA_KEYS}


def new_task(
    article: Article, predictions: Sequence[Prediction] | None = None, extra_data: Mapping[str, str] | None = None,
    *, entities: EntityInventory | None = None,
) -> NewTask:
    """The task that shows ``article`` (``task_data``, then ``extra_data``'s keys) with ``predictions``.

    ``predictions`` None leaves the key out of the import; ``[]`` sends an empty list. ``entities``: the
    story's entity list the pickers show (data key ``entities``; without it the list is empty).
    """
    data: dict[str, Any] = {**task_data(article), **(extra_data or {})}
    if entities is not None:
        data[ENTITIES] = task_entities(entities)
    return NewTask(data=data, predictions=None if predictions is None else list(predictions))


def prediction_for(doc: AnnotatedDocument, model_version: str, *, entities: EntityInventory | None = None
                   ) -> Prediction:
    """``doc`` as a prediction (pre-annotation) labelled ``model_version``, offsets checked.

    ``entities``: the task's entity list; the document's entities it has are preselected in the picker.
    Raises ``ToolkitError`` when the labeling config cannot hold ``doc`` (``document_to_items``).
    """
    results = document_to_items(doc, entities)
    check_offsets(doc.article, results)
    return Prediction(model_version=model_version, result=results)


def baseline_prediction(article: Article, entities: EntityInventory | None = None,
                        targets: TargetInventory | None = None) -> Prediction:
    """The baseline extractor's pre-annotation as a Label Studio prediction; with the task's ``entities``,
    its entities are linked to the list's (``EntityInventory.canonical``) and preselected. Claims always,
    stances toward ``targets`` when given (``annotate.extract.layers``)."""
    doc = extract(article)
    if entities is not None:
        doc = entities.canonical(doc)
    return prediction_for(with_claims_and_stances(doc, targets), BASELINE_VERSION, entities=entities)


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


class ExistingTask(NamedTuple):
    """A task already in the project, as the re-run needs it."""

    id: int
    sha256: str
    predictions: int | None  # how many it has (None: the server did not say, so it is never "missing")
    data: dict[str, Any]


def existing_tasks(client: StudioClient, project_id: int) -> dict[str, ExistingTask]:
    """The project's tasks by article id, read once (ids, data and prediction counts only)."""
    found: dict[str, ExistingTask] = {}
    for task in client.list_task_data(project_id, prediction_counts=True):
        article_id = task.data.get("article_id")
        if article_id:
            found[str(article_id)] = ExistingTask(task.id, str(task.data.get("sha256", "")),
                                                  task.total_predictions, task.data)
    return found


def existing_articles(client: StudioClient, project_id: int) -> dict[str, str]:
    """``{article id: sha256}`` of the project's tasks, read once (ids and data only)."""
    return {article_id: task.sha256 for article_id, task in existing_tasks(client, project_id).items()}


def _json(model: BaseModel) -> bytes:
    return model.model_dump_json(exclude_none=True).encode()


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
    inventory_for: Callable[[Article], EntityInventory | None] | None = None,
    separate_predictions: bool = False,
    workers: int | None = None,
) -> PreloadReport:
    """Import the articles the project does not have yet; with ``predictions``, also give theirs to the
    tasks already there that have none (a batch whose predictions failed, an import with --no-predictions).

    ``inventory_for(article)``: the entity list of the article's story, given to its task (``new_task``).
    ``separate_predictions``: each batch's predictions in a request after its tasks' (``bulk``: faster only
    on a server that skips validating them). ``workers``: processes that build tasks (default
    ``bulk.default_workers``; 1 builds them here).

    ``on_batch(imported_now, total_to_import)`` reports progress (first with 0 once planned).
    """
    if batch_size < 1:
        raise ToolkitError(f"--batch-size {batch_size}: give 1 or more tasks per request")
    started = time.perf_counter()
    existing = existing_tasks(client, project.id)
    plan = plan_preload(articles, {article_id: t.sha256 for article_id, t in existing.items()}, new_revision)
    if plan.conflicts:
        first, sha = next(iter(plan.conflicts.items()))
        more = f" (and {len(plan.conflicts) - 1} more)" if len(plan.conflicts) > 1 else ""
        here = next(a.sha256 for a in articles if a.id == first)
        raise ToolkitError(
            f"article {first!r}{more} is already in project {project.id} with a different text "
            f"(sha256 {sha[:12]}… there, {here[:12]}… here); restore the original text, or pass --new-revision "
            f"to import it as {revision_id(first, 2)!r}"
        )
    # Label Studio does not reliably reject a prediction its config cannot show (prediction_check): we do.
    names = ConfigNames.parse(project.label_config or client.get_project(project.id).label_config) \
        if predictions else None

    def checked(article: Article, data: Mapping[str, Any]) -> Prediction:
        prediction = predict(article)
        check_offsets(article, prediction.result)  # again: ``predict`` need not be ``prediction_for``
        assert names is not None
        names.check(article.id, prediction.result, data)
        return prediction

    def build(article: Article) -> Built:  # runs in the worker processes
        entities = inventory_for(article) if inventory_for is not None else None
        if not predictions:
            return Built(_json(new_task(article, None, entities=entities)))
        task = new_task(article, [], entities=entities)
        prediction = checked(article, task.data)
        if separate_predictions:
            return Built(_json(new_task(article, None, entities=entities)), _json(prediction), 1)
        return Built(_json(task.model_copy(update={"predictions": [prediction]})), None, 1)

    given = {(a.id, a.sha256): a for a in articles}
    missing = [(existing[uid], _given(given, uid, existing[uid].sha256)) for uid in plan.unchanged
               if predictions and existing[uid].predictions == 0]

    def build_missing(article: Article) -> Built:  # the task is there: check against its data as stored
        return Built(None, _json(checked(article, existing[article.id].data)), 1)

    if workers is None:
        workers = default_workers(len(plan.new) + len(missing)) if predictions else 1
    repaired = _add_missing(client, project.id, missing, batch_size, build_missing, workers)

    total = len(plan.new)
    if on_batch is not None:
        on_batch(0, total)
    sent = Sent()
    try:
        send_all(client, project.id, built_batches(plan.new, batch_size, build, workers), sent,
                 on_sent=None if on_batch is None else lambda n: on_batch(n, total))
    except ToolkitError as e:
        then = ("; those imported without their predictions get them too" if separate_predictions else "")
        raise ToolkitError(
            f"{e} (imported {sent.tasks} of {total} before this; rerun the same command to continue: "
            f"articles already imported are skipped{then})"
        ) from None
    return PreloadReport(
        project_id=project.id, imported=sent.tasks, unchanged=len(plan.unchanged), revisions=plan.revisions,
        predictions=sent.predictions, repaired=repaired, seconds=time.perf_counter() - started,
    )


def _given(given: Mapping[tuple[str, str], Article], task_article_id: str, sha256: str) -> Article:
    """The article given for a task already there, under the id the task has (a revision's, maybe)."""
    if (task_article_id, sha256) in given:
        return given[task_article_id, sha256]
    m = _REVISION.match(task_article_id)
    assert m is not None, "plan_preload found this task unchanged, so it is an article's id or its revision's"
    return given[m["base"], sha256].model_copy(update={"id": task_article_id})


def _add_missing(
    client: StudioClient, project_id: int, missing: Sequence[tuple[ExistingTask, Article]], batch_size: int,
    build: Callable[[Article], Built], workers: int,
) -> int:
    """Predictions for tasks already in the project that have none; how many were added."""
    added = 0
    ids = {article.id: task.id for task, article in missing}
    batches = built_batches([article for _, article in missing], batch_size, build, workers)
    try:
        for batch_articles, built in zip(_chunks([a for _, a in missing], batch_size), batches, strict=True):
            added += send_predictions(client, project_id, [
                (ids[a.id], b.prediction) for a, b in zip(batch_articles, built, strict=True) if b.prediction])
    except ToolkitError as e:
        raise ToolkitError(
            f"{e} (added predictions to {added} of the {len(missing)} tasks that had none; rerun the same command "
            "to continue)"
        ) from None
    finally:
        batches.close()
    return added


def _chunks(items: Sequence[Article], size: int) -> list[Sequence[Article]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
