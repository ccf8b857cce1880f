"""An archive's predictions on one machine: batches of articles fanned out to worker processes, written
crash-safe as partitioned Parquet (``annotate extract --input ARCHIVE --out DIR --workers N``).

The parent reads the archive in batches of ``batch_size`` articles (numbered in archive order, so the same on
every run), keeps at most ``AHEAD`` batches per worker in flight (memory stays flat), and writes each result as
it comes back, in batch order: the part files, then the batch's done-marker (``exports.archive.output``). A
worker runs ``batch.extract_rows`` and encodes the batch's Parquet files itself, so the parent only moves bytes.
``--workers 1`` runs the same function in-process; the files are byte for byte those of any other N.

Before anything is written: the options, the extractor (model and targets files), the archive's columns and
every row (``ArchiveSource.check``), and OUT (a different earlier run is refused). A rerun of the same command
skips done batches and redoes the rest, so a worker that died (or a run killed outright) loses no article and
duplicates none.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from annotate.extract.layers import LAYERS_VERSION
from exports.archive import output
from exports.archive.batch import ExtractorSpec, extract_rows, extractor_for
from exports.archive.source import ArchiveSource
from exports.dataset.configs import ANNOTATIONS, ARTICLES, ConfigSpec
from schemas import Article, ToolkitError
from schemas.paths import SEED_TARGETS
from schemas.version import SCHEMA_VERSION

DEFAULT_BATCH_SIZE = 500
AHEAD = 2  # batches in flight per worker: one being extracted, one queued so the worker never waits


@dataclass(frozen=True)
class ArchiveResult:
    out: Path
    extractor: str
    batches: int
    resumed: int  # batches an earlier run had already done
    counts: dict[str, int]  # articles, quotes, claims, stances


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_key(source: ArchiveSource, spec: ExtractorSpec, extractor: str, partition_by: str | None,
            batch_size: int) -> dict:
    """What makes two runs the same run (the worker count does not: it changes no byte of the output)."""
    targets = Path(spec.targets) if spec.targets is not None else SEED_TARGETS
    key = {"input": source.fingerprint(), "extractor": extractor, "layers": LAYERS_VERSION,
           "model": None if spec.model is None else _digest(Path(spec.model)), "targets": _digest(targets),
           "partition_by": partition_by, "batch_size": batch_size, "schema_version": SCHEMA_VERSION}
    return json.loads(json.dumps(key))  # as the run record will read back


def _parquet(config: ConfigSpec, rows: list[dict]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=config.features.arrow_schema), sink)
    return sink.getvalue().to_pybytes()


def batch_files(batch: int, articles: Sequence[Article], spec: ExtractorSpec, partition_by: str | None
                ) -> tuple[int, dict[str, bytes], dict[str, int]]:
    """One batch: its part files (relative path -> Parquet bytes) and its counts."""
    rows = extract_rows(articles, spec)
    groups: dict[str, tuple[list[dict], list[dict]]] = {}
    for article, annotation in zip(rows.articles, rows.annotations):
        group = groups.setdefault(output.partition_folder(partition_by, article), ([], []))
        group[0].append(article)
        group[1].append(annotation)
    files = {}
    for folder, (article_rows, annotation_rows) in sorted(groups.items()):
        files[output.part_path(ARTICLES.name, folder, batch)] = _parquet(ARTICLES, article_rows)
        files[output.part_path(ANNOTATIONS.name, folder, batch)] = _parquet(ANNOTATIONS, annotation_rows)
    counts = {"articles": len(rows.articles),
              **{layer: sum(len(r[layer]) for r in rows.annotations) for layer in ("quotes", "claims", "stances")}}
    return batch, files, counts


def _pool(workers: int) -> ProcessPoolExecutor:
    # Forked on Linux: workers inherit the loaded extractor (and a model's tagger) and import nothing.
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _run_batches(source: ArchiveSource, out: Path, skip: set[int], spec: ExtractorSpec, partition_by: str | None,
                 batch_size: int, workers: int, total: int) -> None:
    work = source.batches(batch_size, skip=skip)
    if workers == 1:
        for batch, articles in work:
            output.commit(out, *batch_files(batch, articles, spec, partition_by))
        return
    pool = _pool(workers)
    in_flight: deque[Future] = deque()
    try:
        for batch, articles in work:
            in_flight.append(pool.submit(batch_files, batch, articles, spec, partition_by))
            while len(in_flight) >= AHEAD * workers:
                output.commit(out, *in_flight.popleft().result())
        while in_flight:
            output.commit(out, *in_flight.popleft().result())
    except BrokenProcessPool:
        for future in in_flight:  # what finished before the pool broke is kept
            if future.done() and not future.cancelled() and future.exception() is None:
                output.commit(out, *future.result())
        done = len(output.finished(out))
        raise ToolkitError(f"a worker process died (killed, or out of memory?); {done} of {total} batches done; "
                           "run the same command again to finish") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def checked_run_key(source: ArchiveSource, out: Path, spec: ExtractorSpec, *, workers: int,
                    partition_by: str | None, batch_size: int) -> dict:
    """The options every engine takes, checked before anything is read or written; the run's key."""
    if workers < 1:
        raise ToolkitError(f"--workers {workers}: give 1 or more worker processes (or cores)")
    if batch_size < 1:
        raise ToolkitError(f"--batch-size {batch_size}: give 1 or more articles per batch")
    if partition_by is not None and partition_by not in output.PARTITION_KEYS:
        raise ToolkitError(f"--partition-by {partition_by}: choose one of {', '.join(output.PARTITION_KEYS)}")
    if source.root.is_dir() and out.resolve().is_relative_to(source.root.resolve()):
        raise ToolkitError(f"--out {out} is inside the archive {source.root}; write the predictions elsewhere")
    extractor = extractor_for(spec).name  # a bad model or targets file stops here
    return run_key(source, spec, extractor, partition_by, batch_size)


def run_archive(source: ArchiveSource, out: Path, *, workers: int = 1, partition_by: str | None = None,
                spec: ExtractorSpec | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                overwrite: bool = False) -> ArchiveResult:
    """Predict every article of ``source`` into ``out`` (or finish an interrupted run of the same command)."""
    spec = spec or ExtractorSpec()
    out = Path(out)
    key = checked_run_key(source, out, spec, workers=workers, partition_by=partition_by, batch_size=batch_size)
    record = output.prepare(out, key, overwrite)
    if record is None:
        articles = source.check()  # the whole input checked before the first byte is written
        total = -(-articles // batch_size)
        output.start(out, key, articles, total)
    else:
        total = int(record["batches"])
    done = output.clear_unfinished(out)
    _run_batches(source, out, set(done), spec, partition_by, batch_size, workers, total)
    finished = output.finished(out)
    if len(finished) != total:
        raise ToolkitError(f"{out}: {len(finished)} of {total} batches done, but the archive has no more rows: it "
                           "changed during the run; run again with --overwrite")
    counts = output.finish(out, key, total, finished)
    return ArchiveResult(out, key["extractor"], total, len(done), counts)
