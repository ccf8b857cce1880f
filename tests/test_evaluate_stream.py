"""Streaming evaluation: read in byte ranges by worker processes equals everything in memory in one chunk (seeds,
PolNeAR dev against the baseline, several gold annotators), the fast reader accepts and refuses exactly what
the model does, token overlap on the touched stretches equals token overlap on the whole text, the blocked
bootstrap equals its one count matrix, and errors are the ones of reading everything at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from annotate.extract import extract
from exports.agreement_report import read_agreement_report
from exports.compare import Layer, Tokens, extract_units
from exports.evaluate import compute_evaluation, evaluate_files
from exports.evaluation_inputs import InputInfo, read_gold, read_jsonl
from exports.evaluation_read import FAST, RECHECKED, document_dict, fast_document, read_line
from exports.evaluation_stream import RESAMPLE_BLOCK, resample_counts, resample_sums
from exports.evaluation_units import DocsBuilder, Speakers
from exports.evaluation_workers import lines as lines_of
from exports.evaluation_workers import ranges
from schemas import AnnotatedDocument, Article, Provenance, Quote, Span, ToolkitError
from schemas.articles import load_articles
from schemas.documents import iter_documents, write_documents
from schemas.paths import REPO_ROOT, SEEDS_DIR

SEED_GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
SEED_AGREEMENT = SEEDS_DIR / "annotations" / "agreement.json"
POLNEAR_DEV = REPO_ROOT.parent / "shared" / "corpora" / "polnear" / "dev"
ALL = 10**9  # a chunk (or byte range) larger than any input: everything at once


def whole(gold: Path, pred: Path, agreement: Path | None = None, resamples: int = 200) -> str:
    """The report of everything in memory, in one chunk, in this process."""
    gold_docs, info = read_gold(gold)
    report = compute_evaluation(gold_docs, read_jsonl(pred, "--pred"), gold_info=info, pred_info=InputInfo(str(pred)),
                                agreement=read_agreement_report(agreement) if agreement else None,
                                ceiling_source=str(agreement) if agreement else None, resamples=resamples, chunk=ALL)
    return report.model_dump_json(indent=1)


def streamed(gold: Path, pred: Path, range_bytes: int, workers: int = 2, agreement: Path | None = None,
             resamples: int = 200) -> str:
    return evaluate_files(gold, pred, agreement=agreement, resamples=resamples, workers=workers,
                          range_bytes=range_bytes).model_dump_json(indent=1)


@pytest.fixture(scope="module")
def seed_pred(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeds") / "pred.jsonl"
    write_documents(path, [extract(a) for a in load_articles([SEEDS_DIR])])
    return path


@pytest.mark.parametrize(("range_bytes", "workers"), [(2000, 2), (2000, 1), (30_000, 2), (ALL, 1)])
def test_seeds_in_ranges_and_workers_equal_whole(seed_pred, range_bytes, workers):
    expected = whole(SEED_GOLD, seed_pred, SEED_AGREEMENT)
    assert json.loads(expected)["articles_evaluated"] >= 4  # something was evaluated
    assert streamed(SEED_GOLD, seed_pred, range_bytes, workers, SEED_AGREEMENT) == expected


def test_chunks_in_memory_equal_one_chunk(seed_pred):
    gold, _ = read_gold(SEED_GOLD)
    pred = read_jsonl(seed_pred, "--pred")
    one = compute_evaluation(gold, pred, resamples=50, chunk=ALL)
    assert compute_evaluation(gold, pred, resamples=50, chunk=1) == one
    assert compute_evaluation(gold, pred[::-1], resamples=50, chunk=3).figures == one.figures


def test_several_gold_annotators_far_apart_in_the_file(seed_pred, tmp_path):
    """Each article's gold documents are fetched together even when the file puts them far apart."""
    gold = [located.doc for located in read_jsonl(SEED_GOLD, "--gold")]
    second = [d.model_copy(update={"provenance": Provenance(annotator="second", origin="import")}) for d in gold]
    path = tmp_path / "gold.jsonl"
    write_documents(path, [*gold, *second[::-1]])
    expected = whole(path, seed_pred)
    assert json.loads(expected)["pairs_evaluated"] == 2 * json.loads(expected)["articles_evaluated"]
    for range_bytes in (3000, ALL):
        assert streamed(path, seed_pred, range_bytes) == expected


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


def test_polnear_dev_against_the_baseline_in_ranges_equal_whole(polnear):
    gold, pred = polnear
    expected = whole(gold, pred, resamples=100)
    report = json.loads(expected)
    assert report["pairs_evaluated"] > report["articles_evaluated"] > 50  # several annotators per article
    for range_bytes in (20_000, ALL):
        assert streamed(gold, pred, range_bytes, resamples=100) == expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text("x\r \u2028", max_size=6), max_size=8), st.booleans(), st.integers(1, 12))
def test_byte_ranges_give_each_line_once_with_its_offset(tmp_path, parts, newline_at_end, size):
    path = tmp_path / "lines.txt"
    data = ("\n".join(parts) + ("\n" if newline_at_end else "")).encode("utf-8")
    path.write_bytes(data)
    expected, offset = [], 0
    while offset < len(data):  # lines end at "\n" only (the "\r" and U+2028 in them stay)
        end = data.find(b"\n", offset) + 1 or len(data)
        expected.append((offset, data[offset:end]))
        offset = end
    got = [(offset, raw) for r in ranges(path, size) for _, offset, raw in lines_of(r)]
    assert got == expected


# --- the bootstrap ------------------------------------------------------------------------------------------


def test_blocked_resamples_equal_the_one_count_matrix():
    rows = np.random.default_rng(1).integers(0, 50, size=(37, 5)).astype(np.float32) / 2  # half credits
    rows[:, 2] = 0  # a column that is zero everywhere stays zero
    resamples = 2 * RESAMPLE_BLOCK + 7  # two whole blocks and a part
    counts = resample_counts(37, resamples, seed=3)
    assert counts.shape == (resamples, 37) and (counts.sum(axis=1) == 37).all()  # 37 draws with replacement
    expected = counts @ rows.astype(np.float64)
    for workers in (1, 2):
        assert np.array_equal(resample_sums(rows, resamples, 3, workers=workers), expected)
    assert np.array_equal(resample_counts(37, RESAMPLE_BLOCK, seed=3), counts[:RESAMPLE_BLOCK])  # per block
    assert not np.array_equal(resample_counts(37, resamples, seed=4), counts)


def test_resampled_articles_are_drawn_uniformly():
    counts = resample_counts(20, 2000, seed=0)
    assert abs(counts.mean() - 1) < 1e-12  # n draws of n articles: one each on average, exactly
    assert np.allclose(counts.mean(axis=0), 1, atol=0.1)  # no article favoured
    assert abs(counts.var() - (1 - 1 / 20)) < 0.05  # multinomial variance n p (1 - p)


# --- the fast reader ----------------------------------------------------------------------------------------


def test_the_fast_reader_recheks_every_validator_of_the_models():
    """If a validator is added to the models, the fast path turns itself off; this test says so first."""
    assert FAST, f"the models' validators are no longer {sorted(RECHECKED)}: re-check the new ones in _consistent"


def _paths(value, path=()):
    """Every (path, value) of a JSON value; of a list, its first two items (the rest are alike)."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _paths(v, (*path, i))


def _changes(value, ids: list[str]) -> list:
    """What a value may become: each a small mistake a file can hold (``_DELETE``: the key or item removed)."""
    if isinstance(value, bool):
        return [not value, None]
    if isinstance(value, int):
        return [value + 1, value - 1, -1, str(value), None, _DELETE]
    if isinstance(value, str):
        flipped = value[:-1] + ("1" if value[-1:] == "0" else "0")  # hex stays hex: a wrong hash, not a bad one
        return ["", flipped, value + "x", "a b", *ids, None, _DELETE]
    if isinstance(value, list):
        return [[], [*value, value[0]] if value else [1], value[::-1], value[:1] * 2, None, _DELETE]
    if isinstance(value, dict):
        return [{**value, "unexpected": 1}, {}, None, _DELETE]
    return [*ids, 0, _DELETE]  # None: given after all


_DELETE = object()


def _set(record: dict, path: tuple, value) -> dict:
    record = json.loads(json.dumps(record))
    parent = record
    for k in path[:-1]:
        parent = parent[k]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return record


def _rich(record: dict) -> dict:
    """A seed document with a quote of two fragments and text marked out of scope, so that order matters."""
    text = record["article"]["text"]
    quote = record["quotes"][0]
    s, e = quote["content"][0]["start"], quote["content"][0]["end"]
    quote["content"] = [{"start": s, "end": s + 2, "text": text[s:s + 2]},
                        {"start": s + 3, "end": e, "text": text[s + 3:e]}]
    record["out_of_scope"] = [{"id": "o1", "label": "Discard", "spans": [
        {"start": 0, "end": 1, "text": text[0]}, {"start": 2, "end": 3, "text": text[2]}]}]
    return record


def test_the_fast_reader_accepts_and_refuses_exactly_what_the_model_does(tmp_path):
    """Every value of a document changed in every way of ``_changes``: where the model (``iter_documents``)
    refuses the line, the fast reader raises the same message; where it accepts it, the same units."""
    seeds = [json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines()]
    path, outcomes = tmp_path / "one.jsonl", {"accepted": 0, "refused": 0}
    for record in (seeds[0], _rich(seeds[1])):
        ids = [record["entities"][0]["id"], record["mentions"][0]["id"], record["quotes"][0]["id"],
               record["quotes"][1]["id"], record["mentions"][1]["entity_id"], "favor", "mixed", "no"]
        for where, value in list(_paths(record))[1:]:
            for change in _changes(value, ids):
                line = json.dumps(_set(record, where, change), ensure_ascii=sum(outcomes.values()) % 2 == 0)
                path.write_text("\n" + line + "\n", encoding="utf-8")
                try:
                    [(_, expected)] = list(iter_documents(path))
                except ToolkitError as e:
                    outcomes["refused"] += 1
                    with pytest.raises(ToolkitError, match=f"^{re.escape(str(e))}$"):
                        read_line(line.encode("utf-8"), path, 2, 1)
                    continue
                outcomes["accepted"] += 1
                fast, model = DocsBuilder(Speakers()), DocsBuilder(Speakers())
                fast.add(fast_document(line.encode("utf-8")))  # the fast path's own (None would fail here)
                model.add(document_dict(expected))
                assert repr(fast.docs()) == repr(model.docs()), where  # the same units, speakers, stances
    assert outcomes["accepted"] > 500 and outcomes["refused"] > 1000, outcomes


def test_the_fast_reader_on_lines_that_are_not_documents(tmp_path):
    path = tmp_path / "x.jsonl"
    for raw, message in [(b"{not json\n", r"x\.jsonl:5: invalid JSON \(.*\); one annotated document per line"),
                         (b'{"a": "\xff"}\n', r"x\.jsonl: not UTF-8 at byte 107; convert the file to UTF-8"),
                         (b'"\\ud800"\n', r"x\.jsonl:5: Input should be a valid dictionary"),
                         (b"[]\n", r"x\.jsonl:5: Input should be a valid dictionary")]:
        with pytest.raises(ToolkitError, match=message):
            read_line(raw, path, 5, 100)
    for blank in (b"\n", b"  \r\n", "\u3000\u2028\n".encode()):
        assert read_line(blank, path, 5, 100) is None


# --- token overlap on the touched stretches -------------------------------------------------------------------

WORDS = st.text(st.sampled_from("ab_1é ,.\"'\t\u3000-"), min_size=1, max_size=60)


@st.composite
def quote_docs(draw) -> tuple[AnnotatedDocument, AnnotatedDocument]:
    """A text of words of any length (some longer than the stretches' margins), spaces, punctuation and
    non-ASCII, and two documents of quotes whose fragments start and end anywhere, mid-word too."""
    text = draw(st.lists(WORDS, min_size=1, max_size=12).map("".join))
    docs = []
    for origin in ("gold", "prediction"):
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8, unique=True)))
        quotes = [Quote(id=f"q{n}", kind=draw(st.sampled_from(["direct", "indirect", "mixed"])),
                        content=[Span.of(text, a, b)]) for n, (a, b) in enumerate(zip(cuts[::2], cuts[1::2]))]
        docs.append(AnnotatedDocument(article=Article.from_text("t", text),
                                      provenance=Provenance(annotator=origin, origin=origin), quotes=quotes))
    return docs[0], docs[1]


def whole_text_token_counts(gold: AnnotatedDocument, pred: AnnotatedDocument, label: str | None):
    """(correct predicted, predicted, correct gold, gold) tokens, counted on the tokens of the whole text."""
    tokens = Tokens.of([gold, pred])
    units = extract_units([gold, pred], Layer.QUOTE).in_tokens(tokens)
    size = len(tokens.start)

    def covered(doc: int, only: str | None) -> np.ndarray:
        mask = np.zeros(size, dtype=bool)
        for s in range(len(units.seg_unit)):
            unit = units.seg_unit[s]
            if units.doc[unit] == doc and (only is None or units.labels[units.label[unit]] == only):
                mask[units.seg_start[s]:units.seg_end[s]] = True
        return mask

    gold_all, pred_all = covered(0, None), covered(1, None)
    gold_mine, pred_mine = covered(0, label), covered(1, label)
    return (int((pred_mine & gold_all).sum()), int(pred_mine.sum()), int((gold_mine & pred_all).sum()),
            int(gold_mine.sum()))


def _long_word(gold: tuple[int, int], pred: tuple[int, int]) -> tuple[AnnotatedDocument, AnnotatedDocument]:
    text = "x" * 100 + " y."
    return tuple(AnnotatedDocument(article=Article.from_text("t", text),
                                   provenance=Provenance(annotator=origin, origin=origin),
                                   quotes=[Quote(id="q", kind="direct", content=[Span.of(text, *span)])])
                 for origin, span in (("gold", gold), ("prediction", pred)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quote_docs())
@example(_long_word((0, 2), (60, 62)))  # one token touched far apart: in one stretch, not two
@example(_long_word((60, 62), (0, 2)))
@example(_long_word((30, 32), (70, 103)))
def test_token_overlap_on_touched_stretches_equals_the_whole_text(docs):
    gold, pred = docs
    report = compute_evaluation([gold], [pred], resamples=1)
    for label in (None, "direct", "indirect", "mixed"):
        f = report.figure("token_overlap", "quote", "token", label)
        assert (f.correct_pred, f.n_pred, f.correct_gold, f.n_gold) == whole_text_token_counts(gold, pred, label)


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
    report = evaluate_files(SEED_GOLD, mixed, resamples=10, range_bytes=2000)
    assert [(u.article_id, u.reason, u.where) for u in report.unmatched_predictions] == [
        ("not-in-the-gold", "not in the gold", f"{mixed}:{len(lines(seed_pred)) + 1}")]
    only = write(tmp_path / "only.jsonl", [stray])
    result = run_cli("--gold", SEED_GOLD, "--pred", only)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "none of the 1 predictions is of a gold article" in result.stderr


@pytest.mark.parametrize("range_bytes", [1000, ALL])
def test_a_second_prediction_is_reported_after_a_bad_line_further_down(seed_pred, tmp_path, range_bytes):
    first = lines(seed_pred)[0]
    pred = write(tmp_path / "pred.jsonl", [first, first, "{not json"])
    with pytest.raises(ToolkitError, match=r"pred\.jsonl:3: invalid JSON"):
        evaluate_files(SEED_GOLD, pred, range_bytes=range_bytes)
    write(pred, [first, first])
    with pytest.raises(ToolkitError, match=r"pred\.jsonl:2: a second prediction for article .* first is at "
                                           r".*pred\.jsonl:1"):
        evaluate_files(SEED_GOLD, pred, range_bytes=range_bytes)


def test_the_first_bad_prediction_line_is_the_error_whichever_worker_reads_it(seed_pred, tmp_path):
    good = lines(seed_pred)
    broken = json.loads(good[1])
    broken["quotes"][0]["content"][0]["start"] += 1
    pred = write(tmp_path / "pred.jsonl", [good[0], "", json.dumps(broken), *good[2:], "{not json"])
    for range_bytes, workers in ((500, 2), (ALL, 1)):
        with pytest.raises(ToolkitError, match=r"pred\.jsonl:3: quotes\.0\.content\.0: span .* covers"):
            evaluate_files(SEED_GOLD, pred, range_bytes=range_bytes, workers=workers)


def test_gold_problems_in_the_order_reading_the_gold_whole_reports_them(seed_pred, tmp_path):
    gold_lines = lines(SEED_GOLD)
    swapped = json.loads(gold_lines[0])
    swapped["provenance"]["origin"] = "prediction"
    gold = write(tmp_path / "gold.jsonl", [json.dumps(swapped), *gold_lines[1:], "{not json"])
    with pytest.raises(ToolkitError, match=r"gold\.jsonl:\d+: invalid JSON"):  # every line is read first
        evaluate_files(gold, seed_pred, range_bytes=3000)
    write(gold, [json.dumps(swapped), *gold_lines[1:], gold_lines[1]])
    with pytest.raises(ToolkitError, match=r"gold\.jsonl:1: a model prediction .* did you swap"):
        evaluate_files(gold, seed_pred)
    write(gold, [*gold_lines, gold_lines[1]])
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: annotator .* already has a document"):
        evaluate_files(gold, seed_pred, range_bytes=3000)
    with pytest.raises(ToolkitError, match=r"--pred .*missing\.jsonl: no such file"):
        evaluate_files(SEED_GOLD, tmp_path / "missing.jsonl")
    empty = write(tmp_path / "empty.jsonl", [""])
    with pytest.raises(ToolkitError, match=r"--pred .*empty\.jsonl: no documents in the file"):
        evaluate_files(SEED_GOLD, empty)
    with pytest.raises(ToolkitError, match=r"--gold .*empty\.jsonl: no documents in the file"):
        evaluate_files(empty, seed_pred)


def test_a_bad_gold_line_is_an_error_even_when_nothing_predicts_its_article(seed_pred, tmp_path):
    gold_lines = lines(SEED_GOLD)
    record = json.loads(gold_lines[-1])
    record["article"]["id"] = "unpredicted"
    record["quotes"][0]["content"][0]["text"] = "x" * len(record["quotes"][0]["content"][0]["text"])
    gold = write(tmp_path / "gold.jsonl", [*gold_lines, json.dumps(record)])
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: quote 'q\w*' content fragment 0"):
        evaluate_files(gold, seed_pred, range_bytes=3000)
    # ... and it comes before a problem of the predictions, as when the gold is read whole first
    with pytest.raises(ToolkitError, match=rf"gold\.jsonl:{len(gold_lines) + 1}: quote"):
        evaluate_files(gold, tmp_path / "missing.jsonl")
    result = run_cli("--gold", gold, "--pred", tmp_path / "missing.jsonl")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"gold.jsonl:{len(gold_lines) + 1}: quote" in result.stderr


def test_blank_lines_are_skipped_and_counted_as_the_reader_does(seed_pred, tmp_path):
    """Blank lines (Unicode spaces too) are skipped as ``iter_lines`` skips them, and numbered as it numbers them."""
    gold = write(tmp_path / "gold.jsonl", ["", *lines(SEED_GOLD)[:2], "\u3000", *lines(SEED_GOLD)[2:], " "])
    assert streamed(gold, seed_pred, 3000, resamples=20).replace(str(gold), "G") == \
        streamed(SEED_GOLD, seed_pred, 3000, resamples=20).replace(str(SEED_GOLD), "G")
    pred = write(tmp_path / "pred.jsonl", [*lines(seed_pred)[:1], "\u3000", "", "{bad"])
    with pytest.raises(ToolkitError, match=r"pred\.jsonl:4: invalid JSON"):
        evaluate_files(gold, pred, range_bytes=10)
