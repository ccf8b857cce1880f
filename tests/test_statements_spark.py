"""Statement linking on Spark (local mode) against the one-machine linker: the same statements, and clear errors."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from annotate.cli.app import app
from annotate.extract.statements import DEFAULT_SETTINGS, link_documents, link_mentions
from annotate.extract.statements.candidates import block_candidates, blocks_of
from exports.archive.predictions import read_predictions
from exports.archive.spark_linking import iter_passing, passing_pairs, spark_link_documents, spark_link_mentions
from exports.archive.spark_session import spark_session
from schemas.documents import read_documents, read_statement_documents
from schemas.errors import ToolkitError
from schemas.paths import REPO_ROOT, SEEDS_DIR

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # the benchmark's generator of quotes with known groups
from bench_statement_candidates import synthetic_archive  # noqa: E402

from tests.test_archive import run, synthetic_rows, write_parquet  # noqa: E402  (a small extraction run)

pytestmark = pytest.mark.spark
SEED_GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"


@pytest.fixture(scope="module")
def spark():
    return spark_session("local[2]", "test statements")


@pytest.fixture(scope="module")
def gold():
    return read_documents([SEED_GOLD])


@pytest.fixture(scope="module")
def archive():
    # 600 quotes of 12 speakers: blocks of ~20-170 quotes, variants, excerpts and copies of known statements
    return synthetic_archive(600, quotes_per_speaker=50)


@pytest.mark.parametrize("use_stories", [True, False])
def test_the_seed_gold_gives_the_same_statement_documents(spark, gold, use_stories):
    one = link_documents(gold, use_stories=use_stories)
    assert any(len(s.renderings) > 1 for d in one for s in d.statements)
    assert spark_link_documents(gold, use_stories=use_stories, spark=spark) == one


def test_synthetic_quotes_give_the_same_statements_as_both_one_machine_methods(spark, archive):
    found = spark_link_mentions(archive.mentions, use_stories=False, spark=spark)
    linked = [s for s in found if len(s.keys) > 1]
    assert len(linked) > 50  # the variant groups are there to be found
    for method in ("lsh", "exhaustive"):
        one = link_mentions(archive.mentions, use_stories=False, method=method)
        assert [(s.keys, s.speaker, s.story) for s in found] == [(s.keys, s.speaker, s.story) for s in one]
    # the links that made each statement: every passing pair, as the exhaustive comparison finds them (the
    # one-machine LSH may miss some that its components do not need); only how they were found differs
    assert [[(p.left, p.right, p.score, p.rule) for p in s.links] for s in found] == \
        [[(p.left, p.right, p.score, p.rule) for p in s.links] for s in one]


def test_spark_finds_every_passing_pair_of_the_exhaustive_comparison(spark, archive):
    blocks = blocks_of(archive.mentions, use_stories=False)
    spark_pairs = set(iter_passing(passing_pairs(spark, blocks, threshold=0.75, settings=DEFAULT_SETTINGS)))
    exhaustive = set()
    for b, block in enumerate(blocks):
        found = block_candidates([m.words for m in block.mentions], method="exhaustive", min_score=0.75)
        found = found.passing(0.75)
        exhaustive.update((b, int(i), int(j)) for i, j in zip(found.left.tolist(), found.right.tolist()))
    assert len(exhaustive) > 100
    assert spark_pairs == exhaustive


def test_a_different_threshold_changes_both_engines_alike(spark, archive):
    mentions = archive.mentions[:200]
    one = link_mentions(mentions, use_stories=False, threshold=0.95)
    found = spark_link_mentions(mentions, use_stories=False, threshold=0.95, spark=spark)
    assert [s.keys for s in found] == [s.keys for s in one]
    assert len(one) != len(link_mentions(mentions, use_stories=False))


def test_the_cli_links_on_spark(spark, tmp_path):
    out = tmp_path / "statements.jsonl"
    result = CliRunner().invoke(app, ["statements", "link", str(SEED_GOLD), "--out", str(out), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert read_statement_documents([out]) == link_documents(read_documents([SEED_GOLD]))


# --- bad input: one line, before Spark starts -------------------------------------------------------------------


def test_bad_input_is_one_line(gold, archive, monkeypatch):
    with pytest.raises(ToolkitError, match=r"link threshold 1.5"):
        spark_link_mentions(archive.mentions, threshold=1.5)
    with pytest.raises(ToolkitError, match=r"appears twice"):
        spark_link_mentions([archive.mentions[0], archive.mentions[0]])
    with pytest.raises(ToolkitError, match=r"comes in two documents"):
        spark_link_documents([gold[0], gold[0]])


def test_no_java_is_one_line(archive, monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ToolkitError, match=r"^Spark cannot start: JAVA_HOME=.* has no bin/java") as e:
        spark_link_mentions(archive.mentions[:20], use_stories=False)
    assert "\n" not in str(e.value)


def test_the_cli_rejects_an_unknown_engine(tmp_path):
    result = CliRunner().invoke(app, ["statements", "link", str(SEED_GOLD), "--out", str(tmp_path / "x.jsonl"),
                                      "--engine", "dask"])
    assert isinstance(result.exception, ToolkitError)
    assert str(result.exception) == "--engine 'dask': use local or spark"
    assert not (tmp_path / "x.jsonl").exists()



def test_the_cli_links_the_predictions_of_an_archive_run(spark, tmp_path):
    source = write_parquet(tmp_path / "in" / "part-0.parquet", synthetic_rows(60, prefix="t"))
    run(source.parent, tmp_path / "run", workers=1)
    expected = link_documents(read_predictions(tmp_path / "run"))
    assert any(len(s.renderings) > 1 for d in expected for s in d.statements)  # the same remarks recur
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.jsonl"
        result = CliRunner().invoke(app, ["statements", "link", str(tmp_path / "run"), "--out", str(out),
                                          "--engine", engine])
        assert result.exit_code == 0, result.output
        assert read_statement_documents([out]) == expected
