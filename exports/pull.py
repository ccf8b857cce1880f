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

The export comes from export snapshots (``projects.exports.create`` + ``download``), which can
expand ``completed_by`` so the raw file names annotators by email. Open-source Label Studio
builds a snapshot inside the request, so one snapshot of a large project can outlast any
timeout: the export is made in batches of task ids (a temporary Data Manager view filtering
``tasks:id`` to a range), and the pieces are joined into one file. Label Studio writes a
snapshot with ``json.JSONEncoder(ensure_ascii=False).iterencode`` over the task list (data_export/
mixins.py), that is ``[`` + tasks joined by ``", "`` + ``]``; the pieces are joined the same way,
so the file is byte for byte the single snapshot of the same tasks (tests/test_pull_scale.py
checks it) and no piece needs keeping: nothing in the raw export is ever lost.

Requests that fail because the server is down, slow or overloaded are retried with exponential
backoff (``RetryPolicy``), each retry reported on stderr in one line; the documents are
converted one piece at a time and spooled to disk, so memory holds one batch, not the project.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from annotate.paths import state_dir
from exports.labelstudio import ExportConversion, Rejection, SkippedCounts, parse_export
from exports.repair import Repair
from schemas import Article, ToolkitError

if TYPE_CHECKING:
    from annotate.client import StudioClient

PULLS_DIR = "pulls"
EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX = ".export.json", ".docs.jsonl", ".report.json"
SUFFIXES = (EXPORT_SUFFIX, DOCS_SUFFIX, REPORT_SUFFIX)
# Tasks per export request: 500 tasks x 2 annotations (~26 MB) take ~4.7 s to export on 2 cores, and
# converting one batch is the pull's peak memory (574 MiB; 269 MiB at 100, 13 % slower). BENCHMARKS.md
# "Export at scale".
DEFAULT_BATCH_SIZE = 500
_TASK_POSITION = re.compile(r"^task #(\d+):")  # how parse_export names a task it cannot read
SERIALIZATION = {"annotations__completed_by": {"only_id": False}}  # annotators by email in the raw file
T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How hard a pull tries when Label Studio is down or slow. Each step (listing the task ids,
    exporting one batch, connecting) is retried on its own: at most ``retries`` times, waiting
    ``first_wait`` seconds and doubling, and no retry starts after ``retry_for`` seconds."""

    model_config = ConfigDict(frozen=True)

    retries: int = Field(default=5, ge=0)
    first_wait: float = Field(default=1.0, ge=0)
    retry_for: float = Field(default=120.0, ge=0)
    timeout: float = Field(default=300.0, gt=0, description="Seconds a request may stay silent before it fails.")


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


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- retries


class _Incomplete(Exception):
    """A download that ended before the end of the JSON list (the connection died mid-stream)."""


class _ExportFailed(Exception):
    """Label Studio marked the snapshot failed (e.g. SQLite "database is locked"): worth another try."""


def _transient(error: BaseException) -> bool:
    """Worth retrying: the server is down, slow, restarting or overloaded; not a refusal of the request."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(error, (_Incomplete, _ExportFailed)):
        return True
    if isinstance(error, httpx.UnsupportedProtocol):
        return False
    if isinstance(error, httpx.TransportError):  # refused, reset, timed out, body cut short
        return True
    return isinstance(error, ApiError) and (error.status_code in (408, 429) or (error.status_code or 0) >= 500)


def _as_toolkit_error(client: StudioClient, what: str, error: Exception) -> ToolkitError:
    """The client's own one-line message for ``error`` (StudioClient._errors is where SDK errors are worded)."""
    if isinstance(error, ToolkitError):
        return error
    if isinstance(error, (_Incomplete, _ExportFailed)):
        return ToolkitError(f"Label Studio at {client.url} {error} while {what}")
    try:
        with client._errors(what):
            raise error
    except ToolkitError as translated:
        return translated
    raise AssertionError("unreachable")  # _errors translates every exception it is given or re-raises it


def _reason(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    if isinstance(error, (_Incomplete, _ExportFailed)):
        text = str(error)
    else:
        text = f"HTTP {status}" if status else f"{type(error).__name__}: {error}".rstrip(": ")
    return " ".join(text.split())[:200]


def _retrying(
    client: StudioClient, what: str, policy: RetryPolicy, say: Callable[[str], None], action: Callable[[], T]
) -> T:
    """``action()``, retried with exponential backoff while it fails for a transient reason."""
    started = time.monotonic()
    for attempt in itertools.count(1):
        try:
            return action()
        except Exception as e:
            if not _transient(e):
                raise _as_toolkit_error(client, what, e) from None
            wait = policy.first_wait * 2 ** (attempt - 1)
            elapsed = time.monotonic() - started
            if attempt > policy.retries or elapsed + wait > policy.retry_for:
                raise ToolkitError(
                    f"{_as_toolkit_error(client, what, e)} (gave up after {attempt} attempts in {elapsed:.0f} s; "
                    "raise --retries/--retry-for or pull again later; nothing was written)"
                ) from None
            say(f"pull: Label Studio at {client.url} failed while {what} ({_reason(e)}); "
                f"retry {attempt}/{policy.retries} in {wait:.1f} s")
            time.sleep(wait)
    raise AssertionError("unreachable")


def open_client(policy: RetryPolicy, say: Callable[[str], None] = _to_stderr) -> StudioClient:
    """``StudioClient.open()`` whose first request is retried like the pull's (a server restarting)."""
    from label_studio_sdk import LabelStudio

    from annotate.client import StudioClient, check_url, resolve_connection

    connection = resolve_connection()
    url = check_url(connection.url, connection.source)
    token = connection.token.get_secret_value()
    client = StudioClient(LabelStudio(base_url=url, api_key=token, timeout=policy.timeout), token)
    options = {"max_retries": 0, "timeout": policy.timeout}
    _retrying(client, f"connecting (token from {connection.source})", policy, say,
              lambda: client.sdk.users.whoami(request_options=options))
    return client


# ---------------------------------------------------------------- the export, in batches


def download_export(
    client: StudioClient,
    project_id: int,
    dest: IO[bytes],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
    say: Callable[[str], None] = _to_stderr,
) -> list[tuple[int, int]]:
    """Write the project's JSON export (all tasks, annotators by email) to ``dest`` (opened ``w+b``).

    ``batch_size`` 0: one snapshot of the whole project, as the UI makes it. Returns the byte
    ranges of ``dest`` that hold each batch's tasks (the inside of its list), for converting
    one batch at a time.
    """
    options = {"max_retries": 0, "timeout": retry.timeout}  # the SDK's own retries would hide ours
    tag = f"annotate pull {secrets.token_hex(6)}"  # names every view and snapshot this pull makes
    dest.write(b"[")
    pieces: list[tuple[int, int]] = []
    done = False
    try:
        # A project that does not exist answers an empty task list: ask for it first, for a clear 404.
        _retrying(client, f"reading project {project_id}", retry, say,
                  lambda: client.sdk.projects.get(project_id, request_options=options))
        if batch_size == 0:
            batches: list[tuple[int, int] | None] = [None]
        else:
            batches = _retrying(client, f"finding the task ids of project {project_id}", retry, say,
                                lambda: _id_ranges(client, project_id, batch_size, options))
        for n, batch in enumerate(batches, 1):
            what = f"exporting project {project_id}"
            if batch is not None:
                what += f" (batch {n}/{len(batches)}: task ids {batch[0]}-{batch[1]})"
            piece = _retrying(client, what, retry, say,
                              lambda b=batch: _export_piece(client, project_id, b, tag, dest, bool(pieces), options))
            if piece is not None:
                pieces.append(piece)
        done = True
    finally:
        # After a failure the server is likely unreachable: do not keep the user waiting for the sweep.
        _sweep(client, project_id, tag, options if done else {**options, "timeout": min(retry.timeout, 10.0)})
    dest.write(b"]")
    return pieces


def _id_ranges(
    client: StudioClient, project_id: int, batch_size: int, options: dict[str, Any]
) -> list[tuple[int, int]]:
    """Task id ranges of about ``batch_size`` tasks each, covering every task of the project now.

    Listing all ids is slow (the task list prefetches every annotation: 82 s for 20,000 tasks),
    but the task at one position of the id order is cheap (~0.15 s): ask for the task at every
    ``batch_size``-th position and the last one. Consecutive ranges leave no gap, so a task
    deleted meanwhile only makes a batch smaller.
    """
    from label_studio_sdk.core.api_error import ApiError

    def task_at(position: int) -> tuple[int | None, int]:
        try:
            page = client.sdk.tasks.list(project=project_id, page=position + 1, page_size=1, fields="task_only",
                                         include="id", request_options=options)
        except ApiError as e:
            if e.status_code == 404:  # past the end: tasks were deleted since the count
                return None, 0
            raise
        return (page.items[0].id if page.items else None), page.response.total

    first, total = task_at(0)
    if first is None:
        return []
    starts = sorted({first, *(task_at(k)[0] for k in range(batch_size, total, batch_size))} - {None})
    last = max(task_at(total - 1)[0] or 0, starts[-1])
    return [(lo, hi - 1) for lo, hi in itertools.pairwise(starts)] + [(starts[-1], last)]


def _export_piece(
    client: StudioClient, project_id: int, id_range: tuple[int, int] | None, tag: str, dest: IO[bytes],
    after: bool, options: dict[str, Any],
) -> tuple[int, int] | None:
    """One snapshot (of the tasks in ``id_range``, or of all) appended to ``dest`` without its brackets.

    On any failure ``dest`` is cut back to where it was, so a retry starts clean.
    """
    sdk = client.sdk
    mark = dest.tell()
    try:
        filters = {}
        if id_range is not None:  # "in" is inclusive at both ends (data_manager/managers.py)
            view = sdk.views.create(project=project_id, data={"title": tag, "filters": {"conjunction": "and", "items": [
                {"filter": "filter:tasks:id", "operator": "in", "type": "Number",
                 "value": {"min": id_range[0], "max": id_range[1]}}]}}, request_options=options)
            filters = {"task_filter_options": {"view": view.id}}
        snapshot = sdk.projects.exports.create(project_id, title=tag, serialization_options=SERIALIZATION,
                                               request_options=options, **filters)
        if snapshot.status != "completed":
            # Open source without Redis exports inside the request; with Redis it runs as a job.
            snapshot = _wait_for(client, project_id, snapshot, options)
        if after:
            dest.write(b", ")
        start = dest.tell()
        md5 = _copy_list_inside(sdk.projects.exports.download(project_id, snapshot.id, export_type="JSON",
                                                              request_options=options), dest)
        end = dest.tell()
        # The download has no Content-Length (a dying server just ends it) and may be cut right after an
        # inner "]": the MD5 Label Studio recorded for the snapshot's file is the real check.
        if snapshot.md5 and md5 != snapshot.md5:
            raise _Incomplete(f"sent an export whose MD5 {md5[:12]}... is not the snapshot's {snapshot.md5[:12]}... "
                              f"({end - start + 2} bytes: cut short?)")
    except BaseException:
        dest.seek(mark)
        dest.truncate()
        raise
    # Each snapshot holds a copy of its tasks on the server's disk: delete it now (the sweep retries).
    with suppress(Exception):
        sdk.projects.exports.delete(project_id, snapshot.id, request_options=options)
        if id_range is not None:
            sdk.views.delete(str(view.id), request_options=options)
    if start == end:  # no tasks left in the range (deleted meanwhile): no separator either
        dest.seek(mark)
        dest.truncate()
        return None
    return start, end


def _copy_list_inside(chunks: Iterable[bytes], dest: IO[bytes]) -> str:
    """Stream a JSON list to ``dest`` without its ``[`` and ``]``; the MD5 of all it received.

    A list without its closing bracket (cut short) raises ``_Incomplete``.
    """
    start = dest.tell()
    first = True
    md5 = hashlib.md5(usedforsecurity=False)
    for chunk in chunks:
        md5.update(chunk)
        if first and chunk:
            if chunk[:1] != b"[":
                raise ToolkitError(f"Label Studio's export starts with {chunk[:20]!r}, not a JSON list; is this "
                                   "Label Studio 1.23 answering, and the export format JSON?")
            chunk, first = chunk[1:], False
        dest.write(chunk)
    end = dest.tell()
    if first or end == start:
        raise _Incomplete("sent an empty export")
    dest.seek(end - 1)
    if dest.read(1) != b"]":
        raise _Incomplete(f"sent an export cut short ({end - start + 1} bytes, no closing bracket)")
    dest.seek(end - 1)
    dest.truncate()
    return md5.hexdigest()


def _wait_for(client: StudioClient, project_id: int, snapshot: Any, options: dict[str, Any]) -> Any:
    deadline = time.monotonic() + options["timeout"]
    while snapshot.status != "completed":
        if snapshot.status == "failed":
            raise _ExportFailed(f"failed to export (export {snapshot.id}; see the server log)")
        if time.monotonic() > deadline:
            raise _ExportFailed(f"did not finish export {snapshot.id} in {options['timeout']:.0f} s")
        time.sleep(1)
        snapshot = client.sdk.projects.exports.get(project_id, snapshot.id, request_options=options)
    return snapshot


def _sweep(client: StudioClient, project_id: int, tag: str, options: dict[str, Any]) -> None:
    """Best effort: delete this pull's views and snapshots left by failed attempts (a timed-out
    create may still have been carried out). The server may be gone: then they stay."""
    sdk = client.sdk
    with suppress(Exception):
        for snapshot in sdk.projects.exports.list(project_id, request_options=options):
            if snapshot.title == tag:
                sdk.projects.exports.delete(project_id, snapshot.id, request_options=options)
    with suppress(Exception):
        for view in sdk.views.list(project=project_id, request_options=options):
            if isinstance(view.data, dict) and view.data.get("title") == tag:
                sdk.views.delete(str(view.id), request_options=options)


def fetch_export(client: StudioClient, project_id: int, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 retry: RetryPolicy = RetryPolicy()) -> bytes:  # noqa: B008 (frozen)
    """The project's full JSON export as bytes (for small projects; ``pull`` streams to disk)."""
    import tempfile

    with tempfile.TemporaryFile() as f:
        download_export(client, project_id, f, batch_size=batch_size, retry=retry)
        f.seek(0)
        return f.read()


# ---------------------------------------------------------------- converting, one piece at a time


class _Kept(NamedTuple):
    rank: tuple[float, int]
    offset: int
    length: int
    task_id: int | None
    annotation_id: int | None
    repairs: list[Repair]
    rejections: list[Rejection]


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
        # parse_export counts positions from the start of what it was given: make them the export's.
        renumber = partial(_TASK_POSITION.sub, lambda m: f"task #{int(m[1]) + total.tasks}:")
        part.rejections = [r.model_copy(update={"message": renumber(r.message, count=1)}) for r in part.rejections]
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
            kept = _Kept(_rank(p.updated_at or p.created_at, p.annotation_id), self.spool.tell(), len(line),
                         p.task_id, p.annotation_id, repairs[p.annotation_id], rejections[p.annotation_id])
            self.spool.write(line)
            key = (doc.article.id, p.annotator)
            previous = self.latest.get(key)
            if previous is None:
                self.latest[key] = kept
                continue
            older, newer = sorted([previous, kept], key=lambda k: k.rank)
            total.skipped.superseded += 1
            # Worded as parse_export words the same case within one piece.
            total.rejections.append(Rejection(
                region_id=None, task_id=older.task_id, annotation_id=older.annotation_id,
                message=f"article {key[0]!r}, {key[1]}: annotation {older.annotation_id} (task {older.task_id}) is "
                        f"superseded by the later annotation {newer.annotation_id} (task {newer.task_id}); "
                        "kept the later one"))
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


def _rank(moment: datetime | None, annotation_id: int | None) -> tuple[float, int]:
    # parse_export's order: updated_at (else created_at; none sorts first), then annotation id.
    return (moment.timestamp() if moment and moment.tzinfo else float("-inf"), annotation_id or 0)


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
    say: Callable[[str], None] = _to_stderr,
) -> PullResult:
    """Export the project (default: the one ``annotate init`` recorded), keep the bytes, convert them."""
    client = client or open_client(retry, say)
    if project_id is None:
        from annotate.project import current_project

        project_id = current_project(client).id
    pulled_at = datetime.now(UTC)
    with _Scratch(_out_directory(out)) as scratch:
        raw_path = scratch.path("export")
        with open(raw_path, "w+b") as raw:
            pieces = download_export(client, project_id, raw, batch_size=batch_size, retry=retry, say=say)
            _sync(raw)
        return _convert_and_place(raw_path, pieces, scratch, out, articles_by_id,
                                  f"{client.url} project {project_id}", project_id, pulled_at)


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
                merge.add(parse_export(piece, articles_by_id))
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
        rejections=conversion.rejections,
    )
    try:
        os.replace(raw_path, export_path)
        os.replace(docs_tmp, docs_path)
        _write(report_path, (report.model_dump_json(indent=2) + "\n").encode("utf-8"))
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


def _write(path: Path, data: bytes) -> None:
    """Fill a claimed path: temporary file beside it, then rename over the (empty) claim."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            _sync(f)
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
