"""``annotate extract --input ARCHIVE --engine spark``: the one-machine run's files, byte for byte, from a Spark job in
local mode; bad input and a Spark that cannot start are one line, nothing written."""

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import subprocess

import pyarrow as pa
import pytest
from test_archive import BATCH, CLI, SYNTHETIC, polnear_rows, synthetic_rows, tree, write_parquet

from annotate.extract.model.train import train_model
from exports.archive.batch import ExtractorSpec
from exports.archive.local_run import run_archive
from exports.archive.predictions import read_predictions
from exports.archive.source import ArchiveSource
from exports.archive.spark_run import plan_batches, read_slice, run_archive_spark
from exports.archive.spark_session import spark_session
from schemas import ToolkitError
from schemas.documents import read_documents
from schemas.paths import REPO_ROOT

pytestmark = pytest.mark.spark


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(os.environ if env is None else env), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=REPO_ROOT, env=env)


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Synthetic and PolNeAR articles in three files of uneven sizes (batches span files), plus Spark's marker."""
    rows = synthetic_rows(SYNTHETIC) + polnear_rows()
    root = tmp_path_factory.mktemp("archive") / "in"
    write_parquet(root / "part-0.parquet", rows[:170])
    write_parquet(root / "part-1.parquet", rows[170:SYNTHETIC])
    write_parquet(root / "part-2.parquet", rows[SYNTHETIC:] or synthetic_rows(15, prefix="c"))
    (root / "_SUCCESS").write_text("")
    return root


def both(archive, tmp_path, **options):
    options = {"batch_size": BATCH, "partition_by": "outlet", **options}
    source = ArchiveSource.open(archive)
    local = run_archive(source, tmp_path / "local", workers=1, **options)
    spark = run_archive_spark(source, tmp_path / "spark", master="local[2]", **options)
    return local, spark


def test_the_plan_reads_the_batches_of_the_one_machine_run(archive):
    source = ArchiveSource.open(archive)
    plan = plan_batches(source, BATCH)
    expected = list(source.batches(BATCH))
    assert [n for n, _ in plan] == [n for n, _ in expected]
    assert any(len(pieces) > 1 for _, pieces in plan)  # a batch spans two files
    for (_, pieces), (_, articles) in zip(plan, expected):
        assert [a for piece in pieces for a in read_slice(source, piece)] == articles


def test_spark_writes_what_the_local_run_writes_byte_for_byte(spark, tmp_path, archive):
    local, result = both(archive, tmp_path)
    assert tree(tmp_path / "spark") == tree(tmp_path / "local")
    assert result.counts == local.counts and result.batches == local.batches
    assert result.counts["quotes"] > result.counts["articles"]  # the data exercises the extractor
    spark_docs = [d.model_dump() for d in read_predictions(tmp_path / "spark")]
    assert spark_docs == [d.model_dump() for d in read_predictions(tmp_path / "local")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the temp folder is gone


def test_a_trained_model_runs_in_the_executors_unpartitioned(spark, tmp_path, archive):
    model = tmp_path / "seeds.model"
    gold = read_documents([REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"])
    train_model(gold, model, source="seeds", params={"max_iterations": 20})
    local, result = both(archive, tmp_path, spec=ExtractorSpec(model=str(model)), partition_by=None,
                         batch_size=120)
    assert result.extractor == local.extractor and result.extractor != "baseline-0.2.0"
    assert tree(tmp_path / "spark") == tree(tmp_path / "local")


def test_a_non_empty_out_is_replaced_only_with_overwrite_and_only_at_the_end(spark, tmp_path, archive):
    source = ArchiveSource.open(archive)
    run_archive_spark(source, tmp_path / "out", master="local[2]", batch_size=200)
    with pytest.raises(ToolkitError, match="holds a run already; a Spark run writes its output whole"):
        run_archive_spark(source, tmp_path / "out", master="local[2]", batch_size=100)
    run_archive_spark(source, tmp_path / "out", master="local[2]", batch_size=100, overwrite=True)
    run_archive(source, tmp_path / "local", workers=1, batch_size=100)
    assert tree(tmp_path / "out") == tree(tmp_path / "local")


def test_an_error_in_an_executor_is_one_line_and_nothing_is_written(spark, tmp_path, archive, monkeypatch):
    def broken(*args):
        raise ToolkitError("model file unreadable on this node")

    monkeypatch.setattr("exports.archive.spark_run.batch_files", broken)  # pickled by value into the executors' task
    with pytest.raises(ToolkitError, match=r"^the Spark job failed: model file unreadable on this node; nothing was "
                                           r"written to .*/out$"):
        run_archive_spark(ArchiveSource.open(archive), tmp_path / "out", master="local[2]", batch_size=BATCH)
    assert list(tmp_path.iterdir()) == []


def test_bad_input_on_the_spark_engine_is_one_line_exit_2_and_nothing_written(tmp_path):
    rows = synthetic_rows(6)
    no_text = write_parquet(tmp_path / "no-text.parquet", [{"id": r["id"], "body": r["text"]} for r in rows],
                            pa.schema([("id", pa.string()), ("body", pa.string())]))
    null_text = write_parquet(tmp_path / "null-text.parquet", [{**r, "text": None} if i == 4 else r
                                                               for i, r in enumerate(rows)])
    empty_text = write_parquet(tmp_path / "empty-text.parquet", [{**r, "text": ""} if i == 1 else r
                                                                 for i, r in enumerate(rows)])
    twice = tmp_path / "twice"
    write_parquet(twice / "a.parquet", rows)
    write_parquet(twice / "b.parquet", synthetic_rows(3, seed=9, prefix="b") + [rows[5]])
    out = tmp_path / "out"
    for path, message in [
        (no_text, f"{no_text}: no column 'text' for the article text; its columns are id, body"),
        (null_text, f"{null_text} row 4: article 'a0004' has no text (null or empty)"),
        (empty_text, f"{empty_text} row 1: article 'a0001' has no text (null or empty)"),
        (twice, f"article id 'a0005' appears twice: {twice / 'a.parquet'} row 5 and {twice / 'b.parquet'} row 3"),
    ]:
        result = cli("extract", "--input", str(path), "--engine", "spark", "--out", str(out))
        assert result.returncode == 2, (path, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-text.parquet", "no-text.parquet",
                                                              "null-text.parquet", "twice"]
    for args, message in [(["--engine", "dask"], "--engine dask: choose local or spark"),
                          (["--master", "local[2]"], "--master: only with --engine spark")]:
        result = cli("extract", "--input", str(null_text), *args, "--out", str(out))
        assert result.returncode == 2 and message in result.stderr and not out.exists()


def test_without_java_spark_cannot_start_one_line_exit_2_nothing_written(tmp_path, archive):
    (tmp_path / "bin").mkdir()  # a PATH with no java on it
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    for extra, why in [({}, "no java on PATH and JAVA_HOME is not set"),
                       ({"JAVA_HOME": str(tmp_path)}, f"JAVA_HOME={tmp_path} has no bin/java")]:
        result = cli("extract", "--input", str(archive), "--engine", "spark", "--out", str(tmp_path / "out"),
                     env={**env, "PATH": str(tmp_path / "bin"), **extra})
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"error: Spark cannot start: {why}; install Debian's default-jre-headless or set JAVA_HOME"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_the_command_runs_a_spark_job_on_local_cores(tmp_path, archive):
    """The CLI's own session (``local[N]`` from --workers), in a process of its own: quiet, the local run's files."""
    result = cli("extract", "--input", str(archive), "--engine", "spark", "--workers", "2", "--batch-size", "100",
                 "--partition-by", "published", "--out", str(tmp_path / "spark"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote ") and " to " in result.stdout
    # Quiet: no log record below ERROR and no progress bar (a few start-up notices of the JVM and Spark remain).
    assert not [line for line in result.stderr.splitlines() if " WARN " in line or " INFO " in line
                or "[Stage" in line], result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr
    run_archive(ArchiveSource.open(archive), tmp_path / "local", workers=1, batch_size=100, partition_by="published")
    assert tree(tmp_path / "spark") == tree(tmp_path / "local")
