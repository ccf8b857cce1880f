"""The blind pull: every desk pulled as an ordinary pull, then merged into one set of documents.

Each desk's pull (``annotate.labelstudio.pull``: the raw export kept byte for byte, its documents and report) goes
into ``<stem>.desks/<name>/``; a removed annotator's desk is converted from the export kept at removal. The merged
``<stem>.docs.jsonl`` holds one document per article per annotator, each marked ``annotation_mode="blind"``, and
``<stem>.report.json`` (``BlindPullReport``) says what each desk gave, what was left out (an annotation by another
account than the desk's annotator) and the drift ``annotate status`` would show. A desk that cannot be read fails
the pull, with the others' files removed: a merged pull is whole or absent.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from annotate.labelstudio.blind.desks import desk_client
from annotate.labelstudio.blind.record import BlindRecord, Desk, desk_name
from annotate.labelstudio.blind.status import Drift, blind_status, exported_tasks
from annotate.labelstudio.blind.sync import desk_project
from annotate.labelstudio.ids import Rejection
from annotate.labelstudio.pull import LeadTimes, PullReport, pull_from_file, pull_from_server, pulls_dir
from schemas import ToolkitError
from schemas.documents import iter_documents, write_documents
from schemas.files import write_atomically


class DeskPull(BaseModel):
    email: str
    state: str  # "active" or "removed"
    report: PullReport
    documents: int  # kept in the merge
    left_out: list[str] = Field(default_factory=list)  # annotators of documents that are not the desk's
    lead_times: LeadTimes | None = None  # of the kept documents


class BlindPullReport(BaseModel):
    annotation_mode: str = "blind"
    pulled_at: datetime
    wanted: int
    documents: int
    annotators: list[str]
    desks: list[DeskPull]
    rejections: list[Rejection]
    drift: list[Drift]
    short: dict[str, int]  # article id -> submitted annotations, when fewer than N


class BlindPullResult(BaseModel):
    docs_path: Path
    report_path: Path
    desks_dir: Path
    report: BlindPullReport


def _pull_desk(desk: Desk, out: Path, options: dict[str, Any]) -> PullReport:
    out.mkdir(parents=True)
    if desk.active:
        client = desk_client(desk)
        return pull_from_server(desk_project(desk, client).id, client=client, out=out, **options).report
    if desk.archive is None:
        raise ToolkitError(f"{desk.email} was removed without a kept export; nothing of theirs can be pulled")
    return pull_from_file(desk.archive, out=out, articles_by_id=options.get("articles_by_id")).report


def pull_blind(record: BlindRecord, out: Path | None = None, **options: Any) -> BlindPullResult:
    """Pull every desk and merge; the merged files are written last, so a failure leaves no merged pull.

    ``options`` go to each desk's ``pull_from_server`` (``articles_by_id``, ``batch_size``, ``retry``).
    """
    pulled_at = datetime.now(UTC)
    directory = out or pulls_dir()
    stem = f"{pulled_at:%Y%m%dT%H%M%SZ}-blind"
    desks_dir = directory / f"{stem}.desks"
    docs_path, report_path = directory / f"{stem}.docs.jsonl", directory / f"{stem}.report.json"
    if desks_dir.exists() or docs_path.exists():
        raise ToolkitError(f"{docs_path} already exists and pulls are never overwritten; retry in a second")
    desks, documents, rejections, exports = [], [], [], {}
    try:
        for desk in record.desks.values():
            desk_out = desks_dir / desk_name(desk.email)
            report = _pull_desk(desk, desk_out, options)
            exports[desk.email] = desk_out / report.export_file
            kept, left_out, lead_times = 0, [], []
            for _, doc in iter_documents(desk_out / report.export_file.replace(".export.json", ".docs.jsonl")):
                # The export kept at removal names users by id (the plain export endpoint), a live pull by email.
                if doc.provenance.annotator not in (desk.email, f"user-{desk.user_id}"):
                    left_out.append(doc.provenance.annotator)
                    continue
                provenance = doc.provenance.model_copy(update={"annotation_mode": "blind", "annotator": desk.email})
                documents.append(doc.model_copy(update={"provenance": provenance}))
                kept += 1
                if doc.provenance.lead_time is not None:
                    lead_times.append(doc.provenance.lead_time)
            rejections += report.rejections
            desks.append(DeskPull(email=desk.email, state="active" if desk.active else "removed", report=report,
                                  documents=kept, left_out=sorted(set(left_out)),
                                  lead_times=LeadTimes.of(lead_times) if lead_times else None))
        # The drift, from the exports just pulled rather than exporting every desk a second time.
        status = blind_status(record, tasks_of=lambda desk: exported_tasks(exports[desk.email]))
    except BaseException:
        shutil.rmtree(desks_dir, ignore_errors=True)
        raise
    documents.sort(key=lambda d: (d.article.id, d.provenance.annotator))
    merged = BlindPullReport(
        pulled_at=pulled_at, wanted=record.wanted, documents=len(documents),
        annotators=sorted({d.provenance.annotator for d in documents}), desks=desks, rejections=rejections,
        drift=status.drift, short={a.article_id: len(a.done) for a in status.short()},
    )
    write_documents(docs_path, documents)
    write_atomically(report_path, merged.model_dump_json(indent=2) + "\n")  # last: the pull is complete
    return BlindPullResult(docs_path=docs_path, report_path=report_path, desks_dir=desks_dir, report=merged)
