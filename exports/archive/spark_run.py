"""An archive's predictions as a Spark job (``annotate extract --input ARCHIVE --out DIR --engine spark``).

The same batches as the one-machine run (``local_run``): ``batch_size`` articles in archive order, numbered from
1. The driver checks the options, the extractor and the whole archive (``ArchiveSource.check``: for now this
pre-pass runs on the driver), then plans each batch as row ranges of the archive's files (from the Parquet
metadata, no row read) and hands one batch per Spark task to the executors. An executor reads its rows, runs
``batch.extract_rows`` through ``local_run``'s per-batch step and writes the batch's part files and done-marker
itself, into a hidden temp folder beside OUT (executors must see the input and OUT, as Spark's own file sources
and writers need them to). A retried task rewrites the same files under the same names. When every batch is
done the driver writes the card and manifest and moves the folder's contents into OUT, the manifest last: the
files are byte for byte those of ``local_run``, and a failed job leaves nothing in OUT.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow.parquet as pq

from exports.archive import output
from exports.archive.batch import ExtractorSpec
from exports.archive.local_run import DEFAULT_BATCH_SIZE, ArchiveResult, batch_files, checked_run_key
from exports.archive.source import READ_ROWS, ArchiveSource, article_of_record
from exports.archive.spark_session import default_master, spark_session
from schemas import Article, ToolkitError

Slice = tuple[int, int, int]  # (file index in the source, first row, row after the last)
_TOOLKIT_ERROR = re.compile(r"ToolkitError: (.+)")  # a user-fixable error raised in an executor, in Spark's trace


def _reason(e: Exception) -> str:
    """One line for a failed job: an executor's ToolkitError when it raised one, else the exception's first line."""
    text = str(e)
    found = _TOOLKIT_ERROR.search(text)
    return found.group(1).strip() if found else (text.strip().splitlines() or [type(e).__name__])[0][:300]


def plan_batches(source: ArchiveSource, size: int) -> list[tuple[int, list[Slice]]]:
    """Each batch's row ranges, numbered as ``ArchiveSource.batches`` numbers them (a batch may span files)."""
    plan: list[tuple[int, list[Slice]]] = []
    current: list[Slice] = []
    filled = 0
    for index, f in enumerate(source.files):
        row = 0
        while row < f.rows:
            take = min(size - filled, f.rows - row)
            current.append((index, row, row + take))
            row, filled = row + take, filled + take
            if filled == size:
                plan.append((len(plan) + 1, current))
                current, filled = [], 0
    if current:
        plan.append((len(plan) + 1, current))
    return plan


def read_slice(source: ArchiveSource, piece: Slice) -> Iterator[Article]:
    """The articles of rows [start, stop) of one file, reading only the row groups that hold them."""
    index, start, stop = piece
    f = source.files[index]
    parquet = pq.ParquetFile(f.path)
    groups, first_row, offset = [], None, 0
    for g in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(g).num_rows
        if offset + rows > start and offset < stop:
            groups.append(g)
            first_row = offset if first_row is None else first_row
        offset += rows
    row = first_row or 0
    for batch in parquet.iter_batches(batch_size=READ_ROWS, row_groups=groups, columns=sorted(set(f.columns.values()))):
        values = {field: batch.column(column).to_pylist() for field, column in f.columns.items()}
        for i in range(batch.num_rows):
            if start <= row < stop:
                record = {**{k: v[i] for k, v in values.items()}, **f.constants}
                yield article_of_record(record, f"{f.path} row {row}")
            row += 1


def _task(source: ArchiveSource, spec: ExtractorSpec, partition_by: str | None, folder: str):
    """The per-partition function run in the executors: each batch extracted, its files committed to ``folder``."""

    def run(batches: Iterable[tuple[int, list[Slice]]]) -> Iterator[int]:
        for number, pieces in batches:
            articles = [a for piece in pieces for a in read_slice(source, piece)]
            output.commit(Path(folder), *batch_files(number, articles, spec, partition_by))
            yield number

    return run


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ToolkitError(f"--out {out}: is a file; give a directory (new or empty) for the predicted dataset")
    if out.is_dir() and any(out.iterdir()):
        if not (out / output.PROGRESS / output.RUN_RECORD).is_file():
            raise ToolkitError(f"--out {out}: not empty and not the output of `annotate extract --input`; give a new "
                               "or empty directory")
        if not overwrite:
            raise ToolkitError(f"--out {out} holds a run already; a Spark run writes its output whole: give a new "
                               "--out, or --overwrite to replace that run")


def _move_into(tmp: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    output.remove_run(out)  # an earlier run (--overwrite), only now that the new one is complete
    names = [n for n in (output.PROGRESS, *(c.name for c in output.CONFIGS), output.CARD) if (tmp / n).exists()]
    for name in [*names, output.MANIFEST]:  # the manifest last: it marks a finished run
        (tmp / name).rename(out / name)
    tmp.rmdir()


def run_archive_spark(source: ArchiveSource, out: Path, *, workers: int = 1, master: str | None = None,
                      partition_by: str | None = None, spec: ExtractorSpec | None = None,
                      batch_size: int = DEFAULT_BATCH_SIZE, overwrite: bool = False) -> ArchiveResult:
    """Predict every article of ``source`` into ``out`` with a Spark job (``master``: None for the default)."""
    spec = spec or ExtractorSpec()
    out = Path(out)
    key = checked_run_key(source, out, spec, workers=workers, partition_by=partition_by, batch_size=batch_size)
    _check_out(out, overwrite)
    articles = source.check()  # the pre-pass, on the driver
    plan = plan_batches(source, batch_size)
    session = spark_session(master if master is not None else default_master(workers))
    tmp = out.parent / f".{out.name}.spark-{uuid.uuid4().hex[:12]}"
    try:
        output.start(tmp, key, articles, len(plan))
        rdd = session.sparkContext.parallelize(plan, numSlices=len(plan))  # one task per batch
        rdd.mapPartitions(_task(source, spec, partition_by, str(tmp.resolve()))).collect()
        finished = output.finished(tmp)
        if len(finished) != len(plan):
            raise ToolkitError(f"Spark finished with {len(finished)} of {len(plan)} batches written; run again")
        counts = output.finish(tmp, key, len(plan), finished)
        _move_into(tmp, out)
    except Exception as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, ToolkitError):
            raise
        raise ToolkitError(f"the Spark job failed: {_reason(e)}; nothing was written to {out}") from None
    return ArchiveResult(out, key["extractor"], len(plan), 0, counts)
