"""Desks kept in step: the same project (config, instructions) on every desk, and each article on the desks it is
routed to.

``init_blind`` writes the record (N, the config) and brings every active desk's project up to date;
``preload_blind`` routes the articles (``routing.plan_routes``), records the routes before anything is sent, and
then preloads each desk with what is routed to it. Both are idempotent: a rerun creates what is missing, so a task
deleted from one desk by hand, or a batch that failed half-way, is restored by running the same command again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from annotate.labelstudio.blind.desks import desk_client, in_home
from annotate.labelstudio.blind.record import BlindRecord, Desk, read_blind, write_blind
from annotate.labelstudio.blind.routing import plan_routes
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import ENTITIES
from annotate.labelstudio.entities import task_inventory
from annotate.labelstudio.export import load_export, task_article
from annotate.labelstudio.ids import Rejected
from annotate.labelstudio.preload import PreloadReport, baseline_prediction, preload
from annotate.labelstudio.project import InitOutcome, init_project
from annotate.labelstudio.wire import ExportedTask, Prediction
from schemas import Article, ToolkitError
from schemas.files import write_atomically
from schemas.inventory import EntityInventory

REMOVED_EXPORT = "removed.export.json"  # in the desk's home: what they had done when they were removed


class DeskInit(BaseModel):
    email: str
    url: str
    outcome: InitOutcome


class BlindPreloadReport(BaseModel):
    routed: dict[str, list[str]] = Field(default_factory=dict)  # article id -> annotators newly given it
    short: dict[str, int] = Field(default_factory=dict)  # article id -> annotators, when fewer than N
    desks: dict[str, PreloadReport] = Field(default_factory=dict)


def desk_project(desk: Desk, client: StudioClient) -> ProjectInfo:
    if desk.project_id is None:
        raise ToolkitError(f"the desk of {desk.email} has no project yet; run `annotate init --blind`")
    return client.get_project(desk.project_id)


def init_desk(record: BlindRecord, desk: Desk) -> DeskInit:
    """Create or update the desk's project; one annotation per task, since each desk has one annotator."""
    client = desk_client(desk)
    with in_home(desk.home):
        outcome = init_project(client, record.label_config, title=record.title, maximum_annotations=1,
                               instructions=record.instructions)
    desk.project_id = outcome.project.id
    return DeskInit(email=desk.email, url=client.url, outcome=outcome)


def init_blind(
    label_config: str, title: str, wanted: int, instructions: str | None = None
) -> tuple[BlindRecord, list[DeskInit]]:
    """Enter (or update) blind mode with N = ``wanted``; every active desk gets the project."""
    if wanted < 1:
        raise ToolkitError(f"--maximum-annotations {wanted}: give 1 or more annotators per article")
    record = read_blind()
    if record is None:
        record = BlindRecord(wanted=wanted, title=title, label_config=label_config, instructions=instructions)
    elif record.title != title:
        raise ToolkitError(f"blind mode is set up for project {record.title!r}, not {title!r}; "
                           "pass --title to match it")
    record.wanted, record.label_config, record.instructions = wanted, label_config, instructions
    write_blind(record)
    inits = [init_desk(record, desk) for desk in record.active_desks()]
    write_blind(record)
    return record, inits


def preload_blind(
    record: BlindRecord,
    articles: Sequence[Article],
    *,
    batch_size: int = 500,
    predictions: bool = True,
    predict: Callable[[Article], Prediction] = baseline_prediction,
    inventory_for: Callable[[Article], EntityInventory | None] | None = None,
) -> BlindPreloadReport:
    """Route ``articles`` to N active annotators each, record it, then import each desk's share (what it lacks)."""
    active = [d.email for d in record.active_desks()]
    if not active:
        raise ToolkitError("blind mode has no annotator yet; add them with `annotate annotators add EMAIL`")
    for article in articles:
        known = record.texts.get(article.id)
        if known is not None and known != article.sha256:
            raise ToolkitError(
                f"article {article.id!r} was routed with another text (sha256 {known[:12]}… then, "
                f"{article.sha256[:12]}… now); restore the original text, or give the new one another id"
            )
    done = {a: {d.email for d in record.desks.values() if not d.active and a in d.submitted} for a in record.routes}
    plan = plan_routes([a.id for a in articles], record.routes, active, record.wanted, done)
    for article in articles:
        record.routes.setdefault(article.id, []).extend(plan.added.get(article.id, []))
        record.texts[article.id] = article.sha256
    write_blind(record)  # routes first: an import that fails half-way is finished by the same command
    report = BlindPreloadReport(routed=plan.added, short=plan.short)
    by_id = {a.id: a for a in articles}
    for desk in record.active_desks():
        share = [by_id[a] for a, emails in record.routes.items() if desk.email in emails and a in by_id]
        client = desk_client(desk)
        report.desks[desk.email] = preload(client, desk_project(desk, client), share, batch_size=batch_size,
                                           predictions=predictions, predict=predict, inventory_for=inventory_for)
    return report


class Removal(BaseModel):
    email: str
    archive: str
    submitted: list[str]
    rerouted: dict[str, list[str]] = Field(default_factory=dict)  # article id -> annotators who now have it
    short: dict[str, int] = Field(default_factory=dict)


def remove_annotator(record: BlindRecord, email: str, stop: Callable[[Desk], object]) -> Removal:
    """Take ``email`` off half-way, losing nothing: their export is kept, their server stopped (``stop``), and the
    articles they had not submitted are routed to other annotators at once (texts from the kept export)."""
    desk = record.desk(email)
    if not desk.active:
        raise ToolkitError(f"{email} was already removed on {desk.removed_at:%Y-%m-%d %H:%M} UTC")
    client = desk_client(desk)
    raw = client.export_json(desk_project(desk, client).id)
    archive = desk.home / REMOVED_EXPORT
    write_atomically(archive, raw)
    tasks = [ExportedTask.model_validate(t) for t in load_export(raw)]
    submitted = sorted({str(t.data.get("article_id")) for t in tasks
                        if any(not a.was_cancelled and a.completed_by == desk.user_id for a in t.annotations)})
    desk.archive, desk.submitted, desk.removed_at = archive, submitted, datetime.now(UTC)
    write_blind(record)  # from here on they are removed, whatever happens next
    stop(desk)
    articles, lists = [], {}
    for task in tasks:
        article_id = str(task.data.get("article_id"))
        if article_id in record.routes and article_id not in submitted:
            try:
                articles.append(task_article(task, None))
                lists[article_id] = task_inventory(task.data.get(ENTITIES), f"task {task.id}")
            except Rejected as e:
                raise ToolkitError(f"{email} is removed, but {e.message}: preload that article again to reroute it"
                                   ) from None
    # The rerouted tasks keep the entity lists they had, so every copy of an article offers the same entities.
    report = preload_blind(
        record, articles, inventory_for=lambda a: lists.get(a.id),
        predict=lambda a: baseline_prediction(a, lists.get(a.id)),
    ) if articles and record.active_desks() else None
    return Removal(email=email, archive=str(archive), submitted=submitted,
                   rerouted=report.routed if report else {}, short=report.short if report else {})
