"""Pulls: a project's full JSON export, kept byte for byte, and the documents converted from it.

A pull writes three files with one stem into ``state_dir()/pulls`` (or beside ``--out``)::

    <UTC timestamp>-project<id>.export.json   the export exactly as Label Studio sent it
    <UTC timestamp>-project<id>.docs.jsonl    one AnnotatedDocument per article per annotator
    <UTC timestamp>-project<id>.report.json   repairs, rejections and skipped counts (PullReport)

Files are never overwritten: each name is claimed with ``O_EXCL`` (a busy stem gets ``-2``,
``-3``, ...), then filled through a temporary file and a rename, so no reader sees half a file.
The report is written last: a pull is complete when its report is.

The export comes from an export snapshot (``projects.exports.create`` + ``download``), not from
paging through tasks, and asks Label Studio to expand ``completed_by`` so the raw file itself
names annotators by email.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from annotate.paths import state_dir
from exports.labelstudio import ExportConversion, Rejection, SkippedCounts, parse_export
from exports.repair import Repair
from schemas import Article, ToolkitError

if TYPE_CHECKING:
    from annotate.client import StudioClient

PULLS_DIR = "pulls"
EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX = ".export.json", ".docs.jsonl", ".report.json"
SUFFIXES = (EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX)
EXPORT_TIMEOUT = 600.0  # seconds; open-source Label Studio builds the export inside the request


class PullReport(BaseModel):
    """What ``<stem>.report.json`` holds."""

    source: str
    project_id: int | None
    pulled_at: datetime
    export_file: str
    export_sha256: str
    export_bytes: int
    tasks: int
    annotations: int
    documents: int
    annotators: list[str]
    skipped: SkippedCounts
    repairs: list[Repair]
    rejections: list[Rejection]


class PullResult(BaseModel):
    export_path: Path
    docs_path: Path
    report_path: Path
    report: PullReport


def pulls_dir() -> Path:
    return state_dir() / PULLS_DIR


def fetch_export(client: StudioClient, project_id: int) -> bytes:
    """The project's full JSON export (all tasks, every annotation with its annotator's email)."""
    sdk = client.sdk
    # StudioClient._errors is the client's one place that turns SDK/HTTP errors into ToolkitError.
    with client._errors(f"exporting project {project_id}"):
        snapshot = sdk.projects.exports.create(
            project_id, title="annotate pull",
            serialization_options={"annotations__completed_by": {"only_id": False}},
            request_options={"timeout": EXPORT_TIMEOUT},
        )
        try:
            if snapshot.status != "completed":
                # Open source without Redis exports inside the request; with Redis it runs as a job.
                snapshot = _wait_for(client, project_id, snapshot.id)
            return b"".join(sdk.projects.exports.download(
                project_id, snapshot.id, export_type="JSON", request_options={"timeout": EXPORT_TIMEOUT},
            ))
        finally:
            sdk.projects.exports.delete(project_id, snapshot.id)  # the pull keeps its own copy


def _wait_for(client: StudioClient, project_id: int, export_id: int):
    import time

    deadline = time.monotonic() + EXPORT_TIMEOUT
    while time.monotonic() < deadline:
        snapshot = client.sdk.projects.exports.get(project_id, export_id)
        if snapshot.status == "completed":
            return snapshot
        if snapshot.status == "failed":
            raise ToolkitError(f"Label Studio failed to export project {project_id} (export {export_id}); "
                               "see the server log, then pull again")
        time.sleep(1)
    raise ToolkitError(f"the export of project {project_id} did not finish in {EXPORT_TIMEOUT:.0f} s; pull again later")


def pull_from_server(
    project_id: int | None = None,
    *,
    client: StudioClient | None = None,
    out: Path | None = None,
    articles_by_id: Mapping[str, Article] | None = None,
) -> PullResult:
    """Export the project (default: the one ``annotate init`` recorded), keep the bytes, convert them."""
    from annotate.client import StudioClient

    client = client or StudioClient.open()
    if project_id is None:
        from annotate.project import current_project

        project_id = current_project(client).id
    pulled_at = datetime.now(UTC)
    raw = fetch_export(client, project_id)
    paths = _claim(out, f"{_timestamp(pulled_at)}-project{project_id}")
    _write(paths[0], raw)  # kept first and unchanged, whatever the conversion thinks of it
    try:
        conversion = parse_export(raw, articles_by_id)
    except ToolkitError as e:
        for path in paths[1:]:
            path.unlink(missing_ok=True)
        raise ToolkitError(f"{e} (the raw export is kept in {paths[0]})") from None
    return _finish(paths, raw, conversion, f"{client.url} project {project_id}", project_id, pulled_at)


def pull_from_file(
    path: Path,
    *,
    out: Path | None = None,
    articles_by_id: Mapping[str, Article] | None = None,
) -> PullResult:
    """Convert an export downloaded from Label Studio's UI (no server needed); a copy of it is kept too."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ToolkitError(f"{path}: no such file; give the JSON export downloaded from Label Studio") from None
    except IsADirectoryError:
        raise ToolkitError(f"{path}: is a directory; give the JSON export file") from None
    try:
        conversion = parse_export(raw, articles_by_id)
    except ToolkitError as e:
        raise ToolkitError(f"{path}: {str(e).removeprefix('export: ')}") from None
    project_id = conversion.projects[0] if len(conversion.projects) == 1 else None
    pulled_at = datetime.now(UTC)
    paths = _claim(out, f"{_timestamp(pulled_at)}-" + (f"project{project_id}" if project_id else "export"))
    _write(paths[0], raw)
    return _finish(paths, raw, conversion, str(path), project_id, pulled_at)


def _finish(
    paths: list[Path], raw: bytes, conversion: ExportConversion, source: str, project_id: int | None,
    pulled_at: datetime,
) -> PullResult:
    export_path, docs_path, report_path = paths
    _write(docs_path, "".join(d.model_dump_json() + "\n" for d in conversion.documents).encode("utf-8"))
    report = PullReport(
        source=source, project_id=project_id, pulled_at=pulled_at, export_file=export_path.name,
        export_sha256=hashlib.sha256(raw).hexdigest(), export_bytes=len(raw), tasks=conversion.tasks,
        annotations=conversion.annotations, documents=len(conversion.documents),
        annotators=conversion.annotators(), skipped=conversion.skipped, repairs=conversion.repairs,
        rejections=conversion.rejections,
    )
    _write(report_path, (report.model_dump_json(indent=2) + "\n").encode("utf-8"))
    return PullResult(export_path=export_path, docs_path=docs_path, report_path=report_path, report=report)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _claim(out: Path | None, stem: str) -> list[Path]:
    """Claim the three output paths with O_EXCL: never someone else's file, never overwritten.

    ``out`` is a directory (default: the pulls directory) or the documents' ``.jsonl`` path,
    whose stem then names the other two files beside it.
    """
    if out is not None and out.suffix == ".jsonl" and not out.is_dir():
        directory, stem = out.parent, out.name.removesuffix(".jsonl").removesuffix(".docs")
        candidates = [[directory / f"{stem}{s}" for s in SUFFIXES]]
        candidates[0][1] = out
    else:
        directory = out if out is not None else pulls_dir()
        candidates = [[directory / f"{stem}{'' if n == 1 else f'-{n}'}{s}" for s in SUFFIXES] for n in range(1, 100)]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ToolkitError(f"{directory}: cannot create the output directory ({e.strerror}); choose another --out"
                           ) from None
    for paths in candidates:
        claimed = []
        try:
            for path in paths:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                claimed.append(path)
            return paths
        except FileExistsError:
            for path in claimed:
                path.unlink()
        except OSError as e:
            for path in claimed:
                path.unlink()
            raise ToolkitError(f"{paths[len(claimed)]}: cannot write ({e.strerror}); choose another --out") from None
    taken = next(p for p in candidates[-1] if p.exists())
    raise ToolkitError(f"{taken} already exists and pulls are never overwritten; choose another --out")


def _write(path: Path, data: bytes) -> None:
    """Fill a claimed path: temporary file beside it, then rename over the (empty) claim."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def latest_pull_docs(directory: Path | None = None) -> Path:
    """The documents of the newest complete pull in the pulls directory."""
    directory = directory or pulls_dir()
    complete = []
    for docs in directory.glob(f"*{DOCS_SUFFIX}"):
        report = docs.with_name(docs.name.removesuffix(DOCS_SUFFIX) + REPORT_SUFFIX)
        if report.exists() and report.stat().st_size > 0:
            complete.append((docs.name[:16], report.stat().st_mtime_ns, docs))
    if not complete:
        raise ToolkitError(f"no pull in {directory} yet; run `annotate pull` first, or give the documents' JSONL paths")
    return max(complete)[2]


def summary(result: PullResult) -> str:
    """A few lines for the terminal."""
    r = result.report
    skipped = r.skipped
    lines = [
        f"pulled {r.source}: {r.tasks} tasks, {r.annotations} annotations -> {r.documents} documents "
        f"by {len(r.annotators)} annotators ({', '.join(r.annotators) or 'none'})",
        f"skipped: {skipped.cancelled} cancelled, {skipped.drafts} drafts, {skipped.predictions} predictions, "
        f"{skipped.superseded} superseded, {skipped.tasks_without_annotations} tasks without annotations",
        f"{len(r.repairs)} repairs, {len(r.rejections)} rejections (details in the report)",
    ]
    lines += [f"  rejected: {x.message}" for x in r.rejections[:5]]
    if len(r.rejections) > 5:
        lines.append(f"  ... and {len(r.rejections) - 5} more")
    lines += [f"export:    {result.export_path}", f"documents: {result.docs_path}", f"report:    {result.report_path}"]
    return "\n".join(lines)
