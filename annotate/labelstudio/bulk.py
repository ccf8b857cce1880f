"""How preload sends: tasks built in worker processes, imported in batches with one request in flight.

Building a task with its prediction (extraction, conversion, checks) costs several ms of CPU per
article, about what the server spends importing it; so on a machine with more than one core,
worker processes build the next batches while the server imports this one (``built_batches``).
A worker returns each task's JSON ready to send (``Built``), so only bytes cross between processes,
and the request body is joined from them (``StudioClient.import_tasks_json``), not encoded again.
Workers are forked (Linux), so the build function needs no pickling; they are started before the
sending thread, and they only compute.

Predictions go either with their tasks (the default: one import request per batch; Label Studio
creates a batch's tasks and predictions in one transaction, so a batch is in whole or not at all) or
``separate``-ly: a batch's tasks in one request, then their predictions in another
(``/import/predictions``). That path pays only on a server started with
``fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short``, where it skips Label
Studio's validation (``prediction_check`` holds on the client instead); without the flag that
endpoint validates too and recounts every task of the project on each request. A failure between
the two requests leaves tasks without predictions: preload's re-run finds them and adds theirs.

Requests are never sent in parallel: Label Studio's server is one process whose work is CPU-bound
under one interpreter lock, and two imports in flight were measured slower than one (and SQLite
takes one writer at a time).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from annotate.labelstudio.client import StudioClient
from schemas import Article, ToolkitError

PARALLEL_MIN = 200  # fewer articles than this are built in this process: forking would cost more than it saves
MAX_WORKERS = 4
CHUNK = 50  # articles per job sent to a worker: small enough to share a batch between workers
AHEAD = 2  # batches built ahead of the one being sent, so memory stays bounded


class Built(NamedTuple):
    """One article, ready to send."""

    task: bytes | None  # the task's JSON (with its predictions unless they go separately); None: predictions only
    prediction: bytes | None = None  # the prediction's JSON when it goes separately (no "task" key yet)
    predictions: int = 0  # how many predictions the task carries or goes with


Build = Callable[[Article], Built]


def default_workers(count: int) -> int:
    """Worker processes for building ``count`` tasks: one per core (at most ``MAX_WORKERS``), or none."""
    if count < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


_build: Build | None = None  # set in each worker process by _start_worker


def _start_worker(build: Build) -> None:
    global _build
    _build = build
    # Fresh standard streams: a thread of the parent (a progress bar's) may have held their locks at the fork,
    # and the worker flushes them when it ends. It only computes: nothing of its own is lost.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the worker's whole life
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def _build_chunk(articles: Sequence[Article]) -> list[Built]:
    assert _build is not None, "worker not initialised"
    return [_build(a) for a in articles]


def built_batches(articles: Sequence[Article], batch_size: int, build: Build, workers: int) -> Iterator[list[Built]]:
    """``build`` applied to every article, yielded batch by batch in order; with ``workers`` > 1 in that
    many forked processes, up to ``AHEAD`` batches ahead of the consumer."""
    batches = [articles[i:i + batch_size] for i in range(0, len(articles), batch_size)]
    if workers <= 1:
        for batch in batches:
            yield [build(a) for a in batch]
        return
    chunk = max(1, min(CHUNK, -(-batch_size // workers)))
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(build,))
    queued: deque[list[Future[list[Built]]]] = deque()
    todo = iter(batches)

    def queue_next() -> None:
        batch = next(todo, None)
        if batch is not None:
            queued.append([pool.submit(_build_chunk, batch[i:i + chunk]) for i in range(0, len(batch), chunk)])

    try:
        for _ in range(AHEAD + 1):
            queue_next()  # the first submit forks the workers, before any sending thread exists
        while queued:
            jobs = queued.popleft()
            built = [b for job in jobs for b in job.result()]
            queue_next()
            yield built
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def json_list(parts: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


def with_task_id(task_id: int, prediction: bytes) -> bytes:
    """A prediction's JSON object (``Prediction.model_dump_json``, never empty) with its ``task`` key added."""
    if not prediction.startswith(b'{"'):
        raise ValueError("a prediction's JSON must be an object with fields")
    return b'{"task":%d,%s' % (task_id, prediction[1:])


@dataclass
class Sent:
    """What the server confirmed so far; true even when a batch fails half-way."""

    tasks: int = 0
    predictions: int = 0


def send_batch(client: StudioClient, project_id: int, built: Sequence[Built], sent: Sent) -> list[int]:
    """Import one batch of new tasks (their predictions with them, or right after); their ids."""
    tasks = [b.task for b in built if b.task is not None]
    if len(tasks) != len(built):
        raise ValueError("send_batch needs every task's JSON; send_predictions adds predictions to tasks")
    r = client.import_tasks_json(project_id, json_list(tasks), len(built))
    if r.task_count != len(built):
        raise ToolkitError(f"Label Studio created {r.task_count} tasks for a batch of {len(built)}")
    sent.tasks += r.task_count
    separate = [(task_id, b.prediction) for task_id, b in zip(r.task_ids, built) if b.prediction is not None]
    if separate:
        if len(r.task_ids) != len(built):
            raise ToolkitError(f"Label Studio returned {len(r.task_ids)} task ids for a batch of {len(built)}")
        sent.predictions += send_predictions(client, project_id, separate)
    else:
        _check_predictions(r.prediction_count, sum(b.predictions for b in built))
        sent.predictions += r.prediction_count
    return r.task_ids


def send_predictions(client: StudioClient, project_id: int, predictions: Sequence[tuple[int, bytes]]) -> int:
    """Import predictions into existing tasks, one request; how many were created (all, or it raises)."""
    body = json_list([with_task_id(task_id, p) for task_id, p in predictions])
    created = client.import_predictions_json(project_id, body, len(predictions))
    _check_predictions(created, len(predictions))
    return created


def _check_predictions(created: int, expected: int) -> None:
    # Label Studio drops, without an error, the predictions of a task import it cannot save, and on the
    # predictions import each one it finds invalid (shipped flags): the count is the only sign.
    if created != expected:
        raise ToolkitError(
            f"Label Studio created {created} of {expected} predictions (it drops those it cannot save or finds "
            "invalid against the labeling config without an error; its log says which)"
        )


def send_all(
    client: StudioClient, project_id: int, batches: Generator[list[Built], None, None], sent: Sent,
    on_sent: Callable[[int], None] | None = None,
) -> None:
    """Send each batch (``send_batch``) while the next is being built; ``on_sent(tasks)`` after each.

    On the first error, the batch in flight is waited for (so ``sent`` is true) and the error raised;
    ``batches`` is closed either way (its workers stopped).
    """
    # One sending thread: the next batch is built (in this process or the workers) while this one is in flight.
    with ThreadPoolExecutor(max_workers=1) as sender:
        pending: tuple[Future[list[int]], int] | None = None

        def collect() -> None:
            nonlocal pending
            future, count = pending  # type: ignore[misc]
            pending = None
            future.result()
            if on_sent is not None:
                on_sent(count)

        try:
            for built in batches:
                if pending is not None:
                    collect()
                pending = (sender.submit(send_batch, client, project_id, built, sent), len(built))
            if pending is not None:
                collect()
        except ToolkitError:
            if pending is not None and not pending[0].cancel():
                try:  # the batch in flight may still succeed: it is counted in ``sent`` either way
                    pending[0].result()
                except ToolkitError:
                    pass
            raise
        finally:
            batches.close()
