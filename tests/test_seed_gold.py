"""The toolkit's own dataset: seed-gold v1.1.0 (v1.0.0 without statements), built from the recorded annotations
of the seeds and the two statement passes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.labelstudio.recordings import SEED_RECORDING
from exports.agreement_report import AgreementReport
from schemas import AnnotatedDocument
from schemas.articles import load_articles, load_targets
from schemas.paths import REPO_ROOT, SEED_TARGETS, SEEDS_DIR

RELEASE = SEEDS_DIR / "seed-gold"
GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
AGREEMENT = SEEDS_DIR / "annotations" / "agreement.json"
CONFLICTS = SEEDS_DIR / "annotations" / "gold.conflicts.json"
CONFIGS = ("articles", "entities", "mentions", "quotes", "stances", "claims", "statements", "renderings", "annotations")
STATEMENTS = SEEDS_DIR / "annotations" / "gold-statements.jsonl"
STATEMENT_PASSES = sorted((SEEDS_DIR / "annotations" / "statements").glob("annotator-*.jsonl"))
VERSION = "1.1.0"


def gold_documents() -> list[AnnotatedDocument]:
    targets = load_targets(SEED_TARGETS)
    lines = GOLD.read_text(encoding="utf-8").split("\n")
    return [AnnotatedDocument.model_validate_json(line, context={"targets": targets}) for line in lines if line]


def test_gold_covers_every_seed_and_every_span_is_the_text():
    docs = gold_documents()
    seeds = {a.id: a for a in load_articles([SEEDS_DIR])}
    assert sorted(d.article.id for d in docs) == sorted(seeds)
    for doc in docs:
        assert doc.article == seeds[doc.article.id]
        assert doc.provenance.annotator == "gold"
        spans = [m.span for m in doc.mentions] + [c.span for c in doc.claims]
        spans += [s for q in doc.quotes for s in [*q.content, *([q.cue] if q.cue else [])]]
        assert spans
        assert all(doc.article.text[s.start:s.end] == s.text for s in spans)
        units = [*doc.mentions, *doc.quotes, *doc.stances, *doc.claims]
        assert all(u.supported_by for u in units), "every gold unit records its supporting annotators"


def test_every_conflict_was_decided_with_a_reason():
    report = json.loads(CONFLICTS.read_text(encoding="utf-8"))
    assert report["conflicts"], "the two passes disagree somewhere"
    for conflict in report["conflicts"]:
        assert conflict["decision"] is not None, conflict["id"]
        assert len(conflict["decision"]["reason"]) > 40, conflict["id"]


@pytest.mark.parametrize("config", CONFIGS)
def test_release_loads_offline_with_plain_load_dataset(config, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    history = json.loads((RELEASE / "releases.json").read_text(encoding="utf-8"))
    [release] = [r for r in history["releases"] if r["version"] == VERSION]
    loaded = datasets.load_dataset(str(RELEASE), config)
    assert {split: len(rows) for split, rows in loaded.items()} == release["rows"][config]
    if config == "quotes":
        gold_quotes = sum(len(d.quotes) for d in gold_documents())
        assert sum(len(rows) for rows in loaded.values()) == gold_quotes
        assert loaded["train"].features["kind"].names == ["direct", "indirect", "mixed"]
    if config == "renderings":
        assert sum(len(rows) for rows in loaded.values()) == sum(len(d.quotes) for d in gold_documents())
        assert loaded["train"].features["fidelity"].names == ["verbatim", "excerpt", "variant", "paraphrase"]
        quotes = {row["id"]: row for row in datasets.load_dataset(str(RELEASE), "quotes")["train"]}
        assert all(row["id"] in quotes for row in loaded["train"])  # renderings join quotes on id


def test_statements_load_back_as_the_gold_statements(monkeypatch):
    import datasets

    from exports.dataset.statement_rows import statement_documents
    from schemas.documents import read_statement_documents

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    statements = datasets.load_dataset(str(RELEASE), "statements")["train"]
    renderings = datasets.load_dataset(str(RELEASE), "renderings")["train"]
    assert statement_documents(statements, renderings) == read_statement_documents([STATEMENTS])
    # the remark the seeds are about: one statement, rendered in all four articles
    [targets] = [row for row in statements if "000_77ccc7b56971afc5/q2" in row["renderings"]]
    assert {key.split("/")[0] for key in targets["renderings"]} == {
        "000_77ccc7b56971afc5", "001_2d7e49398b561f7e", "002_b85bb421de1e3324", "003_e83bb071d895df33"}


def test_card_shows_agreement_targets_and_guidelines_version():
    card = (RELEASE / "README.md").read_text(encoding="utf-8")
    report = AgreementReport.model_validate_json(AGREEMENT.read_text(encoding="utf-8"))
    for row in report.summary_rows():
        value = "n/a" if row.value is None else f"{row.value:.3f}"
        assert f"| {row.metric} | {row.layer} | {value} |" in card
    metrics = {row.metric for row in report.summary_rows()}
    assert {"pairwise F1, exact spans", "pairwise F1, overlapping spans", "Krippendorff's alpha, token roles",
            "Krippendorff's alpha (nominal) of kind"} <= metrics
    for target in load_targets(SEED_TARGETS).ids():
        assert f"`{target}`" in card
    # The card names the guidelines the release was published with (its record says which); later guidelines
    # versions (1.3.0: entities picked from a list) change the annotators' desk, not the published data.
    published = json.loads((RELEASE / "releases.json").read_text())["releases"][-1]["guidelines_version"]
    assert f"Guidelines version {published}" in card
    current = re.search(r"^Guidelines version: (\S+)$", (REPO_ROOT / "guidelines.md").read_text(), re.M)[1]
    assert tuple(map(int, current.split("."))) >= tuple(map(int, published.split(".")))
    statement_report = json.loads((SEEDS_DIR / "annotations" / "statement-agreement.json").read_text())
    muc = next(f for f in statement_report["pairs"][0]["figures"] if f["metric"] == "muc")
    assert "### Statements" in card
    assert f"| MUC | {muc['precision']:.3f} | {muc['recall']:.3f} | {muc['value']:.3f} |" in card
    # The caveat on how the two passes were made travels with the data.
    notes = (SEEDS_DIR / "annotations" / "NOTES.md").read_text(encoding="utf-8").strip()
    assert f"## Curators' notes\n\n{notes}\n" in card


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *args],
                          capture_output=True, text=True, env={"ANNOTATE_HOME": str(home), "PATH": "/usr/bin:/bin"},
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return done


def test_release_is_rebuilt_exactly_from_the_recording(tmp_path):
    """pull --from the recorded export, adjudicate with the recorded decisions, publish: same fingerprint."""
    docs, gold, out = tmp_path / "docs.jsonl", tmp_path / "gold.jsonl", tmp_path / "release"
    run("pull", "--from", str(SEED_RECORDING), "--out", str(docs), "--articles", str(SEEDS_DIR), home=tmp_path)
    run("adjudicate", str(docs), "--out", str(gold), "--decisions", str(SEEDS_DIR / "annotations" / "decisions.json"),
        home=tmp_path)
    assert [json.loads(line) for line in gold.read_text().splitlines()] == [
        json.loads(line) for line in GOLD.read_text().splitlines()]
    run("publish", str(gold), "--version", "1.0.0", "--out", str(out), "--annotations", str(docs),
        "--notes", str(SEEDS_DIR / "annotations" / "NOTES.md"), home=tmp_path)
    statements = tmp_path / "gold-statements.jsonl"
    run("statements", "adjudicate", *map(str, STATEMENT_PASSES), "--gold", str(gold), "--out", str(statements),
        "--decisions", str(SEEDS_DIR / "annotations" / "statement-decisions.json"), home=tmp_path)
    assert statements.read_text() == STATEMENTS.read_text()
    run("publish", str(gold), "--version", VERSION, "--out", str(out), "--annotations", str(docs),
        "--statements", str(statements), "--notes", str(SEEDS_DIR / "annotations" / "NOTES.md"), home=tmp_path)
    fingerprints = [r["fingerprint"] for r in json.loads((out / "releases.json").read_text())["releases"]]
    checked_in = [r["fingerprint"] for r in json.loads((RELEASE / "releases.json").read_text())["releases"]]
    assert fingerprints == checked_in
