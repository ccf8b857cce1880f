"""Streaming evaluation: chunked equals whole (seeds, PolNeAR dev against the baseline, several gold annotators),
the blocked bootstrap equals the one-matrix bootstrap, and errors are the ones of reading everything at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from annotate.extract import extract
from exports.agreement_report import read_agreement_report
from exports.evaluate import compute_evaluation, evaluate_files
from exports.evaluation_inputs import InputInfo, read_gold, read_jsonl
from exports.evaluation_stream import resample_sums
from exports.metrics import resample_weights
from schemas import Provenance, ToolkitError
from schemas.articles import load_articles
from schemas.documents import write_documents
from schemas.paths import REPO_ROOT, SEEDS_DIR

SEED_GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
SEED_AGREEMENT = SEEDS_DIR / "annotations" / "agreement.json"
POLNEAR_DEV = REPO_ROOT.parent / "shared" / "corpora" / "polnear" / "dev"
ALL = 10**9  # a chunk larger than any input: everything at once


def whole(gold: Path, pred: Path, agreement: Path | None = None, resamples: int = 200) -> str:
    """The report of everything in memory, in one chunk: the computation as it was before streaming."""
    gold_docs, info = read_gold(gold)
    report = compute_evaluation(gold_docs, read_jsonl(pred, "--pred"), gold_info=info, pred_info=InputInfo(str(pred)),
                                agreement=read_agreement_report(agreement) if agreement else None,
                                ceiling_source=str(agreement) if agreement else None, resamples=resamples, chunk=ALL)
    return report.model_dump_json(indent=1)


def streamed(gold: Path, pred: Path, chunk: int, agreement: Path | None = None, resamples: int = 200) -> str:
    return evaluate_files(gold, pred, agreement=agreement, resamples=resamples, chunk=chunk).model_dump_json(indent=1)


@pytest.fixture(scope="module")
def seed_pred(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeds") / "pred.jsonl"
    write_documents(path, [extract(a) for a in load_articles([SEEDS_DIR])])
    return path


@pytest.mark.parametrize("chunk", [1, 7, ALL])
def test_seeds_chunked_equal_whole(seed_pred, chunk):
    expected = whole(SEED_GOLD, seed_pred, SEED_AGREEMENT)
    assert json.loads(expected)["articles_evaluated"] >= 4  # something was evaluated
    assert streamed(SEED_GOLD, seed_pred, chunk, SEED_AGREEMENT) == expected


def test_several_gold_annotators_far_apart_in_the_file(seed_pred, tmp_path):
    """Each article's gold documents are fetched together even when the file puts them far apart."""
    gold = [located.doc for located in read_jsonl(SEED_GOLD, "--gold")]
    second = [d.model_copy(update={"provenance": Provenance(annotator="second", origin="import")}) for d in gold]
    path = tmp_path / "gold.jsonl"
    write_documents(path, [*gold, *second[::-1]])
    expected = whole(path, seed_pred)
    assert json.loads(expected)["pairs_evaluated"] == 2 * json.loads(expected)["articles_evaluated"]
    for chunk in (1, 3, ALL):
        assert streamed(path, seed_pred, chunk) == expected


@pytest.fixture(scope="module")
def polnear(tmp_path_factory) -> tuple[Path, Path]:
    if not POLNEAR_DEV.is_dir():
        pytest.skip(f"PolNeAR dev is not at {POLNEAR_DEV}")
    tmp = tmp_path_factory.mktemp("polnear")
    annotate = str(Path(sys.executable).with_name("annotate"))
    subprocess.run([annotate, "import", "brat", str(POLNEAR_DEV), "--out", str(tmp / "gold.jsonl")], check=True,
                   capture_output=True)
    subprocess.run([annotate, "extract", str(POLNEAR_DEV / "text"), "--out", str(tmp / "pred.jsonl")], check=True,
                   capture_output=True)
    return tmp / "gold.jsonl", tmp / "pred.jsonl"


def test_polnear_dev_against_the_baseline_chunked_equal_whole(polnear):
    gold, pred = polnear
    expected = whole(gold, pred, resamples=100)
    report = json.loads(expected)
    assert report["pairs_evaluated"] > report["articles_evaluated"] > 50  # several annotators per article
    for chunk in (1, 7, ALL):
        assert streamed(gold, pred, chunk, resamples=100) == expected


def test_blocked_resamples_equal_the_one_weight_matrix():
    rows = np.random.default_rng(1).integers(0, 50, size=(37, 5)).astype(np.float32) / 2  # half credits
    expected = resample_weights(37, 101, seed=3) @ rows.astype(np.float64)
    for block_bytes in (1, 8 * 37 * 10, 2**30):  # one resample (and one column) a block, ten, all
        assert np.array_equal(resample_sums(rows, 101, 3, block_bytes=block_bytes), expected)


# --- errors: the same as reading everything first -----------------------------------------------------------


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write(path: Path, lines_: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines_), encoding="utf-8")
    return path


def run_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", "evaluate", *map(str, args)],
                          capture_output=True, text=True)


def test_a_prediction_of_no_gold_article_is_listed_and_none_at_all_is_the_error(seed_pred, tmp_path):
    record = json.loads(lines(seed_pred)[0])
    record["article"]["id"] = "not-in-the-gold"
    stray = json.dumps(record)
    mixed = write(tmp_path / "mixed.jsonl", [*lines(seed_pred), stray])
    report = evaluate_files(SEED_GOLD, mixed, resamples=10, chunk=2)
    assert [(u.article_id, u.reason, u.where) for u in report.unmatched_predictions] == [
        ("not-in-the-gold", "not in the gold", f"{mixed}:{len(lines(seed_pred)) + 1}")]
    only = write(tmp_path / "only.jsonl", [stray])
    result = run_cli("--gold", SEED_GOLD, "--pred", only)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "none of the 1 predictions is of a gold article" in result.stderr


def test_a_second_prediction_is_reported_after_a_bad_line_further_down(seed_pred, tmp_path):
    first = lines(seed_pred)[0]
    pred = write(tmp_path / "pred.jsonl", [first, first, "{not json"])
    with pytest.raises(ToolkitError, match=r"pred\.jsonl:3: invalid JSON"):
        evaluate_files(SEED_GOLD, pred, chunk=1)
    write(pred, [first, first])
    with pytest.raises(ToolkitError, match=r"pred\.jsonl:2: a second prediction for article .* first is at "
                                           r".*pred\.jsonl:1"):
        evaluate_files(SEED_GOLD, pred, chunk=1)


def test_gold_problems_in_the_order_reading_the_gold_whole_reports_them(seed_pred, tmp_path):
    gold_lines = lines(SEED_GOLD)
    swapped = json.loads(gold_lines[0])
    swapped["provenance"]["origin"] = "prediction"
    gold = write(tmp_path / "gold.jsonl", [json.dumps(swapped), *gold_lines[1:], "{not json"])
    with pytest.raises(ToolkitError, match=r"gold\.jsonl:\d+: invalid JSON"):  # every line is read first
        evaluate_files(gold, seed_pred)
    write(gold, [json.dumps(swapped), *gold_lines[1:], gold_lines[1]])
    with pytest.raises(ToolkitError, match=r"gold\.jsonl:1: a model prediction .* did you swap"):
        evaluate_files(gold, seed_pred)
    write(gold, [*gold_lines, gold_lines[1]])
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: annotator .* already has a document"):
        evaluate_files(gold, seed_pred)
    with pytest.raises(ToolkitError, match=r"--pred .*missing\.jsonl: no such file"):
        evaluate_files(SEED_GOLD, tmp_path / "missing.jsonl")
    empty = write(tmp_path / "empty.jsonl", [""])
    with pytest.raises(ToolkitError, match=r"--pred .*empty\.jsonl: no documents in the file"):
        evaluate_files(SEED_GOLD, empty)


def test_a_bad_gold_line_is_an_error_even_when_nothing_predicts_its_article(seed_pred, tmp_path):
    gold_lines = lines(SEED_GOLD)
    record = json.loads(gold_lines[-1])
    record["article"]["id"] = "unpredicted"
    record["quotes"][0]["content"][0]["text"] = "x" * len(record["quotes"][0]["content"][0]["text"])
    gold = write(tmp_path / "gold.jsonl", [*gold_lines, json.dumps(record)])
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: quote 'q\w*' content fragment 0"):
        evaluate_files(gold, seed_pred)
    # ... and it comes before a problem of the predictions, as when the gold is read whole first
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: quote"):
        evaluate_files(gold, tmp_path / "missing.jsonl")
    result = run_cli("--gold", gold, "--pred", tmp_path / "missing.jsonl")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"gold.jsonl:{len(gold_lines) + 1}: quote" in result.stderr


def test_the_index_skips_blank_lines_as_the_reader_does(seed_pred, tmp_path):
    """Blank lines (Unicode spaces too) are skipped as ``iter_lines`` skips them, and numbered as it numbers them."""
    gold = write(tmp_path / "gold.jsonl", ["", *lines(SEED_GOLD)[:2], "\u3000", *lines(SEED_GOLD)[2:], " "])
    assert streamed(gold, seed_pred, 2, resamples=20).replace(str(gold), "G") == \
        streamed(SEED_GOLD, seed_pred, 2, resamples=20).replace(str(SEED_GOLD), "G")
