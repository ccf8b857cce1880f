"""A project's full JSON export, made of export snapshots in batches of task ids, retried when the server fails.

The export comes from export snapshots (``projects.exports.create`` + ``download``), which can
expand ``completed_by`` so the raw file names annotators by email. Open-source Label Studio
builds a snapshot inside the request, so one snapshot of a large project can outlast any
timeout: the export is made in batches of task ids (a temporary Data Manager view filtering
``tasks:id`` to a range), and the pieces are joined into one file. Label Studio writes a
snapshot with ``json.JSONEncoder(ensure_ascii=False).iterencode`` over the task list (data_export/
mixins.py), that is ``[`` + tasks joined by ``", "`` + ``]``; the pieces are joined the same way,
so the file is byte for byte the single snapshot of the same tasks (tests/test_pull_scale.py
checks it) and no piece needs keeping: nothing in the raw export is ever lost.

Every request is a ``StudioClient`` call run inside ``StudioClient.retrying``, where failures are
retried or become ``ToolkitError`` (sdk_errors.py words them all); this module only orchestrates:
batches, waiting for a snapshot, checking what was downloaded, and sweeping up.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import IO

from annotate.labelstudio.client import Snapshot, StudioClient
from annotate.labelstudio.sdk_errors import RetryPolicy, TransientFailure, to_stderr
from schemas import ToolkitError

# Tasks per export request: 500 tasks x 2 annotations (~26 MB) take ~4.7 s to export on 2 cores, and
# converting one batch is the pull's peak memory (574 MiB; 269 MiB at 100, 13 % slower). BENCHMARKS.md
# "Export at scale".
DEFAULT_BATCH_SIZE = 500
SERIALIZATION = {"annotations__completed_by": {"only_id": False}}  # annotators by email in the raw file


class _Incomplete(TransientFailure):
    """A download that ended before the end of the JSON list (the connection died mid-stream)."""


class _ExportFailed(TransientFailure):
    """Label Studio marked the snapshot failed (e.g. SQLite "database is locked"): worth another try."""


def download_export(
    client: StudioClient,
    project_id: int,
    dest: IO[bytes],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
    say: Callable[[str], None] = to_stderr,
) -> list[tuple[int, int]]:
    """Write the project's JSON export (all tasks, annotators by email) to ``dest`` (opened ``w+b``).

    ``batch_size`` 0: one snapshot of the whole project, as the UI makes it. Returns the byte
    ranges of ``dest`` that hold each batch's tasks (the inside of its list), for converting
    one batch at a time.
    """
    timeout = retry.timeout
    tag = f"annotate pull {secrets.token_hex(6)}"  # names every view and snapshot this pull makes
    dest.write(b"[")
    pieces: list[tuple[int, int]] = []
    done = False
    try:
        # A project that does not exist answers an empty task list: ask for it first, for a clear 404.
        client.retrying(f"reading project {project_id}", retry, say,
                        lambda: client.read_project(project_id, timeout=timeout))
        if batch_size == 0:
            batches: list[tuple[int, int] | None] = [None]
        else:
            batches = client.retrying(f"finding the task ids of project {project_id}", retry, say,
                                      lambda: _id_ranges(client, project_id, batch_size, timeout))
        for n, batch in enumerate(batches, 1):
            what = f"exporting project {project_id}"
            if batch is not None:
                what += f" (batch {n}/{len(batches)}: task ids {batch[0]}-{batch[1]})"
            piece = client.retrying(what, retry, say, lambda b=batch: _export_piece(
                client, project_id, b, tag, dest, bool(pieces), timeout))
            if piece is not None:
                pieces.append(piece)
        done = True
    finally:
        # After a failure the server is likely unreachable: do not keep the user waiting for the sweep.
        _sweep(client, project_id, tag, timeout if done else min(timeout, 10.0))
    dest.write(b"]")
    return pieces


def _id_ranges(client: StudioClient, project_id: int, batch_size: int, timeout: float) -> list[tuple[int, int]]:
    """Task id ranges of about ``batch_size`` tasks each, covering every task of the project now.

    Listing all ids is slow (the task list prefetches every annotation: 82 s for 20,000 tasks),
    but the task at one position of the id order is cheap (~0.15 s): ask for the task at every
    ``batch_size``-th position and the last one. Consecutive ranges leave no gap, so a task
    deleted meanwhile only makes a batch smaller.
    """
    def task_at(position: int) -> tuple[int | None, int]:
        return client.task_at(project_id, position, timeout=timeout)

    first, total = task_at(0)
    if first is None:
        return []
    starts = sorted({first, *(task_at(k)[0] for k in range(batch_size, total, batch_size))} - {None})
    last = max(task_at(total - 1)[0] or 0, starts[-1])
    return [(lo, hi - 1) for lo, hi in itertools.pairwise(starts)] + [(starts[-1], last)]


def _export_piece(
    client: StudioClient, project_id: int, id_range: tuple[int, int] | None, tag: str, dest: IO[bytes],
    after: bool, timeout: float,
) -> tuple[int, int] | None:
    """One snapshot (of the tasks in ``id_range``, or of all) appended to ``dest`` without its brackets.

    On any failure ``dest`` is cut back to where it was, so a retry starts clean.
    """
    mark = dest.tell()
    try:
        view_id = None if id_range is None else client.create_filter_view(project_id, tag, id_range, timeout=timeout)
        snapshot = client.create_snapshot(project_id, tag, SERIALIZATION, view_id=view_id, timeout=timeout)
        if snapshot.status != "completed":
            # Open source without Redis exports inside the request; with Redis it runs as a job.
            snapshot = _wait_for(client, project_id, snapshot, timeout)
        if after:
            dest.write(b", ")
        start = dest.tell()
        md5 = _copy_list_inside(client.download_snapshot(project_id, snapshot.id, timeout=timeout), dest)
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
        client.delete_snapshot(project_id, snapshot.id, timeout=timeout)
        if view_id is not None:
            client.delete_view(view_id, timeout=timeout)
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


def _wait_for(client: StudioClient, project_id: int, snapshot: Snapshot, timeout: float) -> Snapshot:
    deadline = time.monotonic() + timeout
    while snapshot.status != "completed":
        if snapshot.status == "failed":
            raise _ExportFailed(f"failed to export (export {snapshot.id}; see the server log)")
        if time.monotonic() > deadline:
            raise _ExportFailed(f"did not finish export {snapshot.id} in {timeout:.0f} s")
        time.sleep(1)
        snapshot = client.get_snapshot(project_id, snapshot.id, timeout=timeout)
    return snapshot


def _sweep(client: StudioClient, project_id: int, tag: str, timeout: float) -> None:
    """Best effort: delete this pull's views and snapshots left by failed attempts (a timed-out
    create may still have been carried out). The server may be gone: then they stay."""
    with suppress(Exception):
        for snapshot in client.list_snapshots(project_id, timeout=timeout):
            if snapshot.title == tag:
                client.delete_snapshot(project_id, snapshot.id, timeout=timeout)
    with suppress(Exception):
        for view in client.list_views(project_id, timeout=timeout):
            if view.title == tag:
                client.delete_view(view.id, timeout=timeout)


def fetch_export(client: StudioClient, project_id: int, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 retry: RetryPolicy = RetryPolicy()) -> bytes:  # noqa: B008 (frozen)
    """The project's full JSON export as bytes (for small projects; ``pull`` streams to disk)."""
    with tempfile.TemporaryFile() as f:
        download_export(client, project_id, f, batch_size=batch_size, retry=retry)
        f.seek(0)
        return f.read()
