"""The trained quote tagger: train, write, check, load, extract, evaluate; and every refusal."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.extract.choose import quote_extractor
from annotate.extract.model.assemble import assemble, tag_spans
from annotate.extract.model.features import FEATURES_VERSION, ArticleFeatures, document_spans, span_tags
from annotate.extract.model.model_file import INFO_MEMBER, TAGGER_MEMBER, read_model
from annotate.extract.model.tagger import QuoteModel
from annotate.extract.model.train import train_model
from annotate.labelstudio.project import record_project
from exports.evaluate import compute_evaluation
from schemas import Article, ToolkitError, sha256_of
from schemas.documents import read_documents, write_documents
from schemas.paths import REPO_ROOT

SEED_GOLD = REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"
CLI = [sys.executable, "-c", "from annotate.cli import main; main()"]


@pytest.fixture(scope="module")
def gold():
    return read_documents([SEED_GOLD])


@pytest.fixture(scope="module")
def model_path(gold, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "seeds.model"
    train_model(gold, path, source=str(SEED_GOLD), params={"max_iterations": 60})
    return path


def content_token_f1(gold, pred) -> float:
    return compute_evaluation(gold, pred, resamples=10).figure("token_overlap", "quote", "token").f1.value


def test_the_tags_a_gold_gives_read_back_as_its_spans(gold):
    # BIO tags from the gold, read back through the tagger's own decoding, give the gold's spans exactly
    # (the seed gold's spans start and end on token boundaries and do not nest).

    for doc in gold:
        feats = ArticleFeatures(doc.article)
        spans = document_spans(doc)
        back: dict[str, set] = {"CON": set(), "CUE": set(), "SRC": set()}
        for seq in feats.sequences:
            for role, found in tag_spans(seq, span_tags(seq, spans)).items():
                back[role] |= set(found)
        assert back == {role: set(found) for role, found in spans.items()}, doc.article.id


def test_a_model_trained_on_a_gold_recovers_it(gold, model_path):
    model = QuoteModel.load(model_path)
    pred = [model.extract(d.article) for d in gold]
    for doc in pred:  # spans lie on the text, speakers resolve: the documents validate as they are built
        for q in doc.quotes:
            assert all(doc.article.text[f.start:f.end] == f.text for f in q.content)
    assert content_token_f1(gold, pred) >= 0.9
    # A model that learned nothing (every token outside) cannot reach that floor: the floor tests the training.
    empty = [d.model_copy(update={"quotes": [], "mentions": [], "entities": [], "stances": [], "claims": []})
             for d in gold]
    assert content_token_f1(gold, empty) == 0.0
    speakers = compute_evaluation(gold, pred, resamples=10).figure("span", "speaker", "overlap").f1.value
    assert speakers >= 0.8


def test_the_model_file_records_what_it_was_trained_on(gold, model_path):
    info, tagger = read_model(model_path)
    lines = sorted(d.model_dump_json() for d in gold)
    assert info.trained_on.fingerprint == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert info.trained_on.documents == len(gold) and info.trained_on.quotes == sum(len(d.quotes) for d in gold)
    assert info.features_version == FEATURES_VERSION
    assert info.toolkit_version and info.trainer.params["max_iterations"] == 60
    assert set(info.labels) >= {"O", "B-CON", "I-CON", "B-CUE", "B-SRC"}
    with zipfile.ZipFile(model_path) as archive:  # data only: JSON and CRFsuite's binary, no pickle
        assert sorted(archive.namelist()) == sorted([INFO_MEMBER, TAGGER_MEMBER])
        json.loads(archive.read(INFO_MEMBER))
        assert archive.read(TAGGER_MEMBER)[:4] == b"lCRF"
    assert hashlib.sha256(tagger).hexdigest() == info.tagger_sha256


def test_the_fingerprint_does_not_depend_on_the_order(gold, tmp_path):
    a, b = tmp_path / "a.model", tmp_path / "b.model"
    train_model(gold, a, source="x", params={"max_iterations": 5})
    train_model(list(reversed(gold)), b, source="x", params={"max_iterations": 5})
    assert read_model(a)[0].trained_on.fingerprint == read_model(b)[0].trained_on.fingerprint


def rewritten(path: Path, out: Path, info_change: dict | None = None, tagger: bytes | None = None) -> Path:
    with zipfile.ZipFile(path) as archive:
        info, blob = json.loads(archive.read(INFO_MEMBER)), archive.read(TAGGER_MEMBER)
    info.update(info_change or {})
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(INFO_MEMBER, json.dumps(info))
        archive.writestr(TAGGER_MEMBER, blob if tagger is None else tagger)
    return out


@pytest.mark.parametrize(("change", "match"), [
    ({"features_version": "0"}, "trained on features version '0'.*computes version"),
    ({"format_version": 99}, "model format 99 is newer than this toolkit reads"),
    ({"format": "something-else"}, "not a quote-tagger model"),
    ({"labels": "O"}, "damaged model file: model.json"),
])
def test_an_incompatible_model_is_refused(model_path, tmp_path, change, match):
    with pytest.raises(ToolkitError, match=match):
        QuoteModel.load(rewritten(model_path, tmp_path / "other.model", change))


def test_a_damaged_model_is_refused(model_path, tmp_path):
    blob = zipfile.ZipFile(model_path).read(TAGGER_MEMBER)
    flipped = blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:]
    with pytest.raises(ToolkitError, match="sha256 differs"):
        QuoteModel.load(rewritten(model_path, tmp_path / "flipped.model", tagger=flipped))
    truncated = tmp_path / "truncated.model"
    truncated.write_bytes(model_path.read_bytes()[:200])
    with pytest.raises(ToolkitError, match="not a model file"):
        QuoteModel.load(truncated)
    pickle_like = tmp_path / "model.pkl"
    pickle_like.write_bytes(b"\x80\x04\x95cos\nsystem\n")
    with pytest.raises(ToolkitError, match="not a model file"):
        QuoteModel.load(pickle_like)


def test_the_rules_stay_the_default(gold):
    rules = quote_extractor(None)
    assert rules.name.startswith("baseline-")
    assert rules(gold[0].article).provenance.annotator == rules.name


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=REPO_ROOT)


def test_cli_train_extract_evaluate(tmp_path, gold):
    model, pred = tmp_path / "m.model", tmp_path / "pred.jsonl"
    trained = run_cli("train", "--gold", str(SEED_GOLD), "--out", str(model), "--max-iterations", "40")
    assert trained.returncode == 0, trained.stderr
    assert f"on {len(gold)} documents" in trained.stdout
    extracted = run_cli("extract", str(REPO_ROOT / "seeds"), "--model", str(model), "--out", str(pred))
    assert extracted.returncode == 0, extracted.stderr
    assert read_model(model)[0].version in extracted.stdout
    docs = read_documents([pred])
    assert {d.provenance.model_version for d in docs} == {read_model(model)[0].version}
    assert content_token_f1(gold, docs) >= 0.85


def test_cli_refusals_are_one_line_and_write_nothing(tmp_path, model_path):
    no_quotes = tmp_path / "empty-gold.jsonl"
    gold = read_documents([SEED_GOLD])
    write_documents(no_quotes, [d.model_copy(update={"quotes": [], "stances": []}) for d in gold])
    out = tmp_path / "never.model"
    cases = [
        (["train", "--gold", str(no_quotes), "--out", str(out)], "no quotes to train on"),
        (["extract", str(REPO_ROOT / "seeds"), "--model", str(tmp_path / "missing.model"), "--out", str(out)],
         "no such model file"),
    ]
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a zip")
    cases.append((["extract", str(REPO_ROOT / "seeds"), "--model", str(bad), "--out", str(out)], "not a model file"))
    old = rewritten(model_path, tmp_path / "old.model", {"features_version": "0"})
    cases.append((["extract", str(REPO_ROOT / "seeds"), "--model", str(old), "--out", str(out)],
                  "features version '0'"))
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert not out.exists()


@pytest.mark.server
def test_preload_pre_annotates_with_the_model(ls_client, ls_project, model_path):
    record_project(ls_client.url, ls_project)
    result = CliRunner().invoke(app, ["preload", str(REPO_ROOT / "seeds"), "--model", str(model_path)])
    assert result.exit_code == 0, result.output
    version = read_model(model_path)[0].version
    tasks = ls_client.export_tasks(ls_project.id)
    assert len(tasks) == 4
    for task in tasks:
        predictions = list(ls_client.sdk.predictions.list(task=task.id))
        assert [p.model_version for p in predictions] == [version]
        contents = [r for r in predictions[0].result if r["type"] == "labels" and r["value"]["labels"] == ["Content"]]
        assert contents, "the model's pre-annotation has no quote"


def assembled(text: str, spans: dict[str, list[str]]) -> list[list[str]]:
    """The content fragments that assembly makes of hand-placed tags (each string tagged where it
    first occurs after the previous one of its role)."""
    article = Article(id="t", text=text, sha256=sha256_of(text))
    by_role: dict[str, list[tuple[int, int]]] = {}
    for role, strings in spans.items():
        at = 0
        for s in strings:
            start = text.index(s, at)
            by_role.setdefault(role, []).append((start, start + len(s)))
            at = start + len(s)
    feats = ArticleFeatures(article)
    tagged = [span_tags(seq, by_role) for seq in feats.sequences]
    doc = assemble(article, feats, tagged, annotator="t", model_version="t")
    return [[f.text for f in q.content] for q in doc.quotes]


def test_a_quote_interrupted_by_its_cue_across_a_sentence_end_is_one_quote():
    text = "“We will win,” she said. “They will lose.”"
    got = assembled(text, {"CON": ["We will win", "They will lose"], "CUE": ["said"], "SRC": ["she"]})
    # The tagger stopped at the last words; 4.3 keeps the punctuation before the closing marks.
    assert got == [["We will win,", "They will lose."]]


def test_two_reported_clauses_in_two_sentences_stay_two_quotes():
    text = "She said taxes rose. He said prices fell."
    got = assembled(text, {"CON": ["taxes rose", "prices fell"], "CUE": ["said", "said"], "SRC": ["She", "He"]})
    assert got == [["taxes rose"], ["prices fell"]]


def test_sentences_of_one_quotation_are_one_fragment():
    text = "“Prices rose. Wages fell,” he said."
    assert assembled(text, {"CON": ["Prices rose", "Wages fell"], "CUE": ["said"], "SRC": ["he"]}) == [
        ["Prices rose. Wages fell,"]]


def test_mixed_content_keeps_the_closing_mark_of_its_quotation():
    text = "He said the plan was “a disaster.” Then he left."
    assert assembled(text, {"CON": ["the plan was “a disaster"], "CUE": ["said"], "SRC": ["He"]}) == [
        ["the plan was “a disaster.”"]]
