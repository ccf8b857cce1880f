"""Large JSONL files worked on in worker processes, for ``annotate evaluate``: a file is cut into byte ranges
(``ranges``), each range is one task over the lines that start in it (``lines``), and ``run`` hands the tasks
to forked workers and gives their results back in file order.

Forked, so that the workers start with what this process holds (the modules, the gold's table, the rows of
the bootstrap: ``state()``) without pickling it; only the tasks and their small results cross. Where ``fork``
is not available, for a single task or a single CPU, the tasks run here, one after the other, with the same
results.

``no_gc``: the evaluation makes millions of small dicts and lists and keeps many of them (a chunk's documents,
the gold's index), none in a cycle; the cyclic garbage collector would rescan them again and again as they
pile up (a third of the time at 100,000 documents, growing faster than the input).

``one_blas_thread``: numpy's OpenBLAS splits a matrix product over threads of its own; where other processes
share the CPUs (the workers here, or anyone's), one thread waits for the other: the same product of the
bootstrap took 3 ms or 400 ms. The bootstrap spreads its blocks over processes itself.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")

_STATE: Any = None


@dataclass(frozen=True)
class Range:
    """The lines of ``path`` that start at a byte offset in ``[start, end)``."""

    path: Path
    start: int
    end: int


def ranges(path: Path, size: int) -> list[Range]:
    """``path`` cut every ``size`` bytes (at least one range, empty for an empty file)."""
    if size < 1:
        raise ValueError(f"the range size must be at least 1 byte; got {size}")
    total = path.stat().st_size
    return [Range(path, start, min(start + size, total)) for start in range(0, max(total, 1), size)]


def lines(r: Range) -> Iterator[tuple[int, int, bytes]]:
    """(index of the line within the range, its byte offset, its bytes) of the lines that start in ``r``, split at
    ``\\n`` only as ``schemas.files.iter_lines`` splits them (blank lines included: they are counted)."""
    with open(r.path, "rb") as f:
        position = r.start
        if position > 0:
            f.seek(position - 1)
            if f.read(1) != b"\n":  # inside a line that belongs to the range before
                position += len(f.readline())
        n = 0
        while position < r.end:
            raw = f.readline()
            if not raw:
                break
            yield n, position, raw
            n += 1
            position += len(raw)


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def state() -> Any:
    """What ``run`` was given as ``shared``, in a worker as in this process."""
    return _STATE


def run(task: Callable[[T], R], tasks: Sequence[T], shared: Any = None, workers: int | None = None) -> Iterator[R]:
    """``task(t)`` for each of ``tasks``, in order, in up to ``workers`` forked processes (default: one per CPU).

    Stopping early (an error in a result) cancels the tasks not started yet."""
    global _STATE
    n = min(workers if workers is not None else cpus(), len(tasks))
    _STATE = shared
    try:
        if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for t in tasks:
                yield task(t)
            return
        pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"))
        try:
            yield from pool.map(task, tasks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        _STATE = None


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and in the workers forked in it), as it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _openblas_threads() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """numpy's OpenBLAS (get, set) thread count, where numpy comes with the OpenBLAS of its wheels; else None."""
    for path in sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*.so")):
        lib = ctypes.CDLL(str(path))  # already loaded by numpy: the same library, not a second copy
        for suffix in ("64_", "_64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                return get, set_
    return None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's matrix products on one thread for the block (and in the workers forked in it), as before after."""
    threads = _openblas_threads()
    if threads is None:
        yield
        return
    get, set_ = threads
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
