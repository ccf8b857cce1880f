"""Blind-mode progress, per annotator and per article, and every way the desks have drifted from the routes.

Each desk is read through its JSON export (``StudioClient.export_tasks``); a removed annotator's desk through the
export kept when they were removed. What cannot be read is said, with why, and the rest is still reported.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from annotate.labelstudio.blind.desks import desk_client
from annotate.labelstudio.blind.record import BlindRecord, Desk
from annotate.labelstudio.blind.sync import desk_project
from annotate.labelstudio.export import load_export
from annotate.labelstudio.wire import ExportedAnnotation, ExportedTask
from schemas import ToolkitError

DriftKind = Literal["missing", "unrouted", "text differs", "foreign annotation", "unreadable"]


class Drift(BaseModel):
    kind: DriftKind
    email: str
    article_id: str | None = None
    message: str


class DeskStatus(BaseModel):
    email: str
    state: Literal["active", "removed", "unreadable"]
    url: str | None = None
    project_id: int | None = None
    routed: int = 0
    submitted: list[str] = Field(default_factory=list)  # article ids
    skipped: list[str] = Field(default_factory=list)
    waiting: list[str] = Field(default_factory=list)  # routed, neither submitted nor skipped
    lead_times: list[float] = Field(default_factory=list)  # seconds per submitted annotation, as LS records it

    @property
    def median_lead_time(self) -> float | None:
        return statistics.median(self.lead_times) if self.lead_times else None


class ArticleStatus(BaseModel):
    article_id: str
    routed: list[str]
    done: list[str]
    waiting: list[str]  # active annotators it is routed to who have not submitted it


class BlindStatus(BaseModel):
    wanted: int
    desks: list[DeskStatus]
    articles: list[ArticleStatus]
    drift: list[Drift]

    def short(self) -> list[ArticleStatus]:
        """Articles with fewer than N submitted annotations."""
        return [a for a in self.articles if len(a.done) < self.wanted]


def exported_tasks(path: Path) -> list[ExportedTask]:
    """The tasks of a JSON export on disk (the one kept at removal, or a desk's in a pull)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ToolkitError(f"{path}: cannot read the export ({e.strerror})") from None
    try:
        return [ExportedTask.model_validate(t) for t in load_export(raw)]
    except ValidationError as e:
        raise ToolkitError(f"{path}: not a Label Studio JSON export ({e.errors()[0]['msg']})") from None


def _by(annotation: ExportedAnnotation, desk: Desk) -> bool:
    user = annotation.completed_by
    user_id = user if isinstance(user, int) else getattr(user, "id", None)
    return user_id == desk.user_id


def read_desk(
    record: BlindRecord, desk: Desk, drift: list[Drift], tasks_of: Callable[[Desk], list[ExportedTask]] | None = None,
) -> tuple[DeskStatus, list[ExportedTask]]:
    """One desk's status and tasks; ``drift`` gets what does not match the routes."""
    routed = {a for a, emails in record.routes.items() if desk.email in emails}
    status = DeskStatus(email=desk.email, state="active" if desk.active else "removed", project_id=desk.project_id,
                        routed=len(routed))
    try:
        if tasks_of is not None:
            tasks = tasks_of(desk)
        elif desk.active:
            client = desk_client(desk)
            status.url = client.url
            tasks = client.export_tasks(desk_project(desk, client).id)
        elif desk.archive is not None:
            tasks = exported_tasks(desk.archive)
        else:
            tasks = []
    except ToolkitError as e:
        status.state = "unreadable"
        drift.append(Drift(kind="unreadable", email=desk.email, message=f"{desk.email}: {e}"))
        return status, []
    present: dict[str, ExportedTask] = {}
    for task in tasks:
        article_id = str(task.data.get("article_id") or f"task {task.id}")
        present[article_id] = task
        if article_id not in routed:
            drift.append(Drift(kind="unrouted", email=desk.email, article_id=article_id, message=(
                f"{article_id} is in the project of {desk.email} but was never routed to them (added by hand?); "
                "its annotations are pulled, delete the task if it should not be there")))
        elif record.texts.get(article_id) not in (None, task.data.get("sha256")):
            drift.append(Drift(kind="text differs", email=desk.email, article_id=article_id, message=(
                f"{article_id} has another text in the project of {desk.email} than the one routed "
                f"(sha256 {str(task.data.get('sha256'))[:12]}…); its annotations are not comparable with the others'")))
        done = [a for a in task.annotations if _by(a, desk)]
        for foreign in (a for a in task.annotations if not _by(a, desk)):
            drift.append(Drift(kind="foreign annotation", email=desk.email, article_id=article_id, message=(
                f"annotation {foreign.id} of {article_id} in the project of {desk.email} is by another account "
                f"({foreign.completed_by}); it is left out of pulls")))
        if any(not a.was_cancelled for a in done):
            status.submitted.append(article_id)
            status.lead_times += [a.lead_time for a in done if not a.was_cancelled and a.lead_time is not None]
        elif done:
            status.skipped.append(article_id)
    if desk.active:
        for article_id in sorted(routed - set(present)):
            drift.append(Drift(kind="missing", email=desk.email, article_id=article_id, message=(
                f"{article_id} is routed to {desk.email} but missing from their project (task deleted?); "
                "run `annotate preload` with the same articles to restore it")))
        status.waiting = sorted(routed & set(present) - set(status.submitted) - set(status.skipped))
    elif desk.archive is None:
        status.submitted = list(desk.submitted)
    status.submitted.sort()
    status.skipped.sort()
    return status, tasks


def blind_status(record: BlindRecord, tasks_of: Callable[[Desk], list[ExportedTask]] | None = None) -> BlindStatus:
    """Per annotator and per article: routed, done, waiting; and the drift found on the way."""
    drift: list[Drift] = []
    desks = [read_desk(record, desk, drift, tasks_of)[0] for desk in record.desks.values()]
    by_email = {d.email: d for d in desks}
    articles = []
    for article_id, emails in sorted(record.routes.items()):
        done = [e for e in emails if article_id in by_email[e].submitted]
        waiting = [e for e in emails if record.desks[e].active and e not in done]
        articles.append(ArticleStatus(article_id=article_id, routed=list(emails), done=done, waiting=waiting))
    return BlindStatus(wanted=record.wanted, desks=desks, articles=articles, drift=drift)
