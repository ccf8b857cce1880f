"""Pulls: a project's full JSON export, kept byte for byte, and the documents converted from it.

A pull writes three files with one stem into ``state_dir()/pulls`` (or beside ``--out``)::

    <UTC timestamp>-project<id>.export.json   the export exactly as Label Studio sent it
    <UTC timestamp>-project<id>.docs.jsonl    one AnnotatedDocument per article per annotator
    <UTC timestamp>-project<id>.report.json   repairs, rejections and skipped counts (PullReport)

Nothing is written where a reader could see it until everything is known: the export and the
documents grow in hidden temporary files beside their destination; only then is each name
claimed with ``O_EXCL`` (a busy stem gets ``-2``, ``-3``, ...) and the files renamed into
place, the report last: a pull is complete when its report is. Any failure (the server gone,
a download dying mid-stream, Ctrl-C) removes the temporary files and leaves no pull behind (a
pull killed outright leaves only hidden ``.pull-*.tmp`` files); the one exception is an export
that cannot be converted, which is kept for inspection.

The export is made in batches of task ids (``snapshots``); requests that fail because the server
is down, slow or overloaded are retried with exponential backoff (``RetryPolicy``), each retry
reported on stderr in one line; the documents are converted one piece at a time and spooled to
disk, so memory holds one batch, not the project.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal, NamedTuple

from pydantic import BaseModel, Field

from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.export import ExportConversion, SkippedCounts, latest_rank, parse_export, superseded
from annotate.labelstudio.ids import Rejection
from annotate.labelstudio.project import current_project
from annotate.labelstudio.repair import Repair
from annotate.labelstudio.sdk_errors import RetryPolicy, to_stderr
from annotate.labelstudio.snapshots import DEFAULT_BATCH_SIZE, download_export
from schemas import Article, ToolkitError
from schemas.files import write_atomically
from schemas.paths import state_dir

PULLS_DIR = "pulls"
EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX = ".export.json", ".docs.jsonl", ".report.json"
SUFFIXES = (EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX)


class LeadTimes(BaseModel):
    """Seconds per annotation as Label Studio recorded them (``lead_time``), for one annotator's kept annotations."""

    annotations: int  # with a lead time
    median: float
    total: float

    @classmethod
    def of(cls, seconds: list[float]) -> LeadTimes:
        return cls(annotations=len(seconds), median=statistics.median(seconds), total=sum(seconds))


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
    lead_times: dict[str, LeadTimes] = Field(default_factory=dict)  # annotator -> the kept annotations' lead times


class PullResult(BaseModel):
    export_path: Path
    docs_path: Path
    report_path: Path
    report: PullReport


def pulls_dir() -> Path:
    return state_dir() / PULLS_DIR


# ---------------------------------------------------------------- converting, one piece at a time


class _Kept(NamedTuple):
    rank: tuple[float, int]
    offset: int
    length: int
    task_id: int | None
    annotation_id: int | None
    repairs: list[Repair]
    rejections: list[Rejection]
    lead_time: float | None


class _Merge:
    """Conversions of consecutive pieces of one export, merged as ``parse_export`` merges tasks:
    per (article, annotator) the latest annotation wins, also across pieces. Documents are
    spooled to ``spool`` as JSON lines, so memory holds one piece's documents at a time."""

    def __init__(self, spool: IO[bytes]):
        self.spool = spool
        self.total = ExportConversion(tasks=0, annotations=0, documents=[])
        self.latest: dict[tuple[str, str], _Kept] = {}

    def add(self, part: ExportConversion) -> None:
        total = self.total
        total.tasks += part.tasks
        total.annotations += part.annotations
        total.projects += [p for p in part.projects if p not in total.projects]
        for name in SkippedCounts.model_fields:
            setattr(total.skipped, name, getattr(total.skipped, name) + getattr(part.skipped, name))
        # A kept document's own repairs and rejections carry its annotation id: they go (or stay) with it.
        own = {d.provenance.annotation_id for d in part.documents} - {None}
        repairs: dict[int | None, list[Repair]] = defaultdict(list)
        rejections: dict[int | None, list[Rejection]] = defaultdict(list)
        for r in part.repairs:
            (repairs[r.annotation_id] if r.annotation_id in own else total.repairs).append(r)
        for r in part.rejections:
            (rejections[r.annotation_id] if r.annotation_id in own else total.rejections).append(r)
        for doc in part.documents:
            p = doc.provenance
            line = (doc.model_dump_json() + "\n").encode("utf-8")
            kept = _Kept(latest_rank(p.updated_at or p.created_at, p.annotation_id), self.spool.tell(), len(line),
                         p.task_id, p.annotation_id, repairs[p.annotation_id], rejections[p.annotation_id],
                         p.lead_time)
            self.spool.write(line)
            key = (doc.article.id, p.annotator)
            previous = self.latest.get(key)
            if previous is None:
                self.latest[key] = kept
                continue
            older, newer = sorted([previous, kept], key=lambda k: k.rank)
            total.skipped.superseded += 1
            total.rejections.append(superseded(key, (older.task_id, older.annotation_id),
                                               (newer.task_id, newer.annotation_id)))
            self.latest[key] = newer

    def write_documents(self, dest: IO[bytes]) -> tuple[int, list[str]]:
        """The kept documents in ``parse_export``'s order (article id, annotator); their count and annotators."""
        for key in sorted(self.latest):
            kept = self.latest[key]
            self.spool.seek(kept.offset)
            dest.write(self.spool.read(kept.length))
            self.total.repairs += kept.repairs
            self.total.rejections += kept.rejections
        return len(self.latest), sorted({annotator for _, annotator in self.latest})

    def lead_times(self) -> dict[str, LeadTimes]:
        seconds: dict[str, list[float]] = defaultdict(list)
        for (_, annotator), kept in sorted(self.latest.items()):
            if kept.lead_time is not None:
                seconds[annotator].append(kept.lead_time)
        return {annotator: LeadTimes.of(values) for annotator, values in seconds.items()}


def _pieces(raw: IO[bytes], pieces: list[tuple[int, int]] | None) -> Iterator[bytes]:
    """Each piece as a JSON list of its own; ``None``: the whole file is one piece."""
    if pieces is None:
        raw.seek(0)
        yield raw.read()
        return
    for start, end in pieces:
        raw.seek(start)
        yield b"[" + raw.read(end - start) + b"]"


# ---------------------------------------------------------------- pulls


class _Scratch:
    """Hidden temporary files beside the pull's destination; whatever was not renamed away is removed."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.token = secrets.token_hex(4)
        self.paths: list[Path] = []

    def path(self, what: str) -> Path:
        path = self.directory / f".pull-{self.token}.{what}.tmp"
        self.paths.append(path)
        return path

    def __enter__(self) -> _Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)


def pull_from_server(
    project_id: int | None = None,
    *,
    client: StudioClient | None = None,
    out: Path | None = None,
    articles_by_id: Mapping[str, Article] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
    say: Callable[[str], None] = to_stderr,
    annotation_mode: Literal["blind", "shared"] = "shared",
) -> PullResult:
    """Export the project (default: the one ``annotate init`` recorded), keep the bytes, convert them.

    ``annotation_mode`` goes into each document's provenance: a project on one server is shared (every annotator
    can see the others' annotations) unless the caller knows better (``annotate.labelstudio.blind.pull``).
    """
    client = client or StudioClient.open_retrying(retry, say)
    if project_id is None:
        project_id = current_project(client).id
    pulled_at = datetime.now(UTC)
    with _Scratch(_out_directory(out)) as scratch:
        raw_path = scratch.path("export")
        with open(raw_path, "w+b") as raw:
            pieces = download_export(client, project_id, raw, batch_size=batch_size, retry=retry, say=say)
            _sync(raw)
        return _convert_and_place(raw_path, pieces, scratch, out, articles_by_id,
                                  f"{client.url} project {project_id}", project_id, pulled_at, annotation_mode)


def pull_from_file(
    path: Path,
    *,
    out: Path | None = None,
    articles_by_id: Mapping[str, Article] | None = None,
) -> PullResult:
    """Convert an export downloaded from Label Studio's UI (no server needed); a copy of it is kept too."""
    pulled_at = datetime.now(UTC)
    with _Scratch(_out_directory(out)) as scratch:
        raw_path = scratch.path("export")
        try:
            shutil.copyfile(path, raw_path)  # converted from the copy that is kept: both are the same bytes
        except FileNotFoundError:
            raise ToolkitError(f"{path}: no such file; give the JSON export downloaded from Label Studio") from None
        except IsADirectoryError:
            raise ToolkitError(f"{path}: is a directory; give the JSON export file") from None
        except OSError as e:
            raise ToolkitError(f"{path}: cannot read it ({e.strerror}); check its permissions") from None
        return _convert_and_place(raw_path, None, scratch, out, articles_by_id, str(path), None, pulled_at)


def _convert_and_place(
    raw_path: Path, pieces: list[tuple[int, int]] | None, scratch: _Scratch, out: Path | None,
    articles_by_id: Mapping[str, Article] | None, source: str, project_id: int | None, pulled_at: datetime,
    annotation_mode: Literal["blind", "shared"] | None = None,
) -> PullResult:
    """Convert the raw export piece by piece into temporary files, then claim the names and rename.

    ``project_id`` None: a file, named after the one project its tasks name, if they name one. An
    export from a server that cannot be converted is kept; a file that cannot be is only reported.
    """
    docs_tmp = scratch.path("docs")
    try:
        with open(raw_path, "rb") as raw, open(scratch.path("spool"), "w+b") as spool, open(docs_tmp, "wb") as docs:
            merge = _Merge(spool)
            for piece in _pieces(raw, pieces):
                merge.add(parse_export(piece, articles_by_id, first_position=merge.total.tasks,
                                       annotation_mode=annotation_mode))
            documents, annotators = merge.write_documents(docs)
            _sync(docs)
    except ToolkitError as e:
        if project_id is None:
            raise ToolkitError(f"{source}: {str(e).removeprefix('export: ')}") from None
        paths = _claim(out, f"{_timestamp(pulled_at)}-project{project_id}")  # kept, whatever the conversion says
        os.replace(raw_path, paths[0])
        for path in paths[1:]:
            path.unlink()
        raise ToolkitError(f"{e} (the raw export is kept in {paths[0]})") from None
    conversion = merge.total
    if project_id is None and len(conversion.projects) == 1:
        project_id = conversion.projects[0]
    sha256, size = _digest(raw_path)
    paths = _claim(out, f"{_timestamp(pulled_at)}-" + (f"project{project_id}" if project_id else "export"))
    export_path, docs_path, report_path = paths
    report = PullReport(
        source=source, project_id=project_id, pulled_at=pulled_at, export_file=export_path.name,
        export_sha256=sha256, export_bytes=size, tasks=conversion.tasks, annotations=conversion.annotations,
        documents=documents, annotators=annotators, skipped=conversion.skipped, repairs=conversion.repairs,
        rejections=conversion.rejections, lead_times=merge.lead_times(),
    )
    try:
        os.replace(raw_path, export_path)
        os.replace(docs_tmp, docs_path)
        write_atomically(report_path, report.model_dump_json(indent=2) + "\n")  # fills the claim
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    return PullResult(export_path=export_path, docs_path=docs_path, report_path=report_path, report=report)


def _sync(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())


def _digest(path: Path) -> tuple[str, int]:
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
        return digest.hexdigest(), f.tell()


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _out_directory(out: Path | None) -> Path:
    """Where the pull's files go (created if need be): ``out`` itself, its parent for a ``.jsonl`` path."""
    directory = out.parent if out is not None and out.suffix == ".jsonl" and not out.is_dir() else out
    directory = directory if directory is not None else pulls_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ToolkitError(f"{directory}: cannot create the output directory ({e.strerror}); choose another --out"
                           ) from None
    return directory


def _claim(out: Path | None, stem: str) -> list[Path]:
    """Claim the three output paths with O_EXCL: never someone else's file, never overwritten.

    ``out`` is a directory (default: the pulls directory) or the documents' ``.jsonl`` path,
    whose stem then names the other two files beside it.
    """
    directory = _out_directory(out)
    if out is not None and out.suffix == ".jsonl" and not out.is_dir():
        stem = out.name.removesuffix(".jsonl").removesuffix(".docs")
        candidates = [[directory / f"{stem}{s}" for s in SUFFIXES]]
        candidates[0][1] = out
    else:
        candidates = [[directory / f"{stem}{'' if n == 1 else f'-{n}'}{s}" for s in SUFFIXES] for n in range(1, 100)]
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

