"""Agreement and adjudication of statements: the seed passes, conflicts, decisions, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exports.adjudication.decisions import MajorityRule
from exports.cluster_metrics import score_clusters
from exports.statements.adjudication import adjudicate_statements
from exports.statements.agreement import statement_agreement
from exports.statements.decisions import load_statement_decisions
from schemas import ToolkitError
from schemas.documents import read_statement_documents, write_statement_documents
from schemas.paths import REPO_ROOT
from schemas.statements import Rendering, Statement, StatementDocument

SEED_PASSES = sorted((REPO_ROOT / "seeds" / "annotations" / "statements").glob("annotator-*.jsonl"))
GOLD = REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"
ANNOTATE = [str(Path(sys.executable).parent / "annotate")]


def doc(annotator: str, *groups: list[str], story: str | None = "s", speaker: str = "p") -> StatementDocument:
    statements = [Statement(id=f"s{n}", story=story, speaker_entity_id=speaker, gloss=f"{annotator} {n}",
                            renderings=[Rendering(article_id=k.split("/")[0], quote_id=k.split("/")[1]) for k in g])
                  for n, g in enumerate(groups)]
    return StatementDocument(story=story, provenance={"annotator": annotator}, statements=statements)


def test_pooled_figures_are_score_clusters_of_the_two_groupings() -> None:
    a = doc("a", ["x/q1", "y/q1"], ["x/q2"], ["y/q2", "z/q1"])
    b = doc("b", ["x/q1", "y/q1", "x/q2"], ["y/q2"], ["z/q1"])
    report = statement_agreement([a, b], resamples=0)
    assert report.annotators == ["a", "b"]
    pooled = report.figure("muc")
    expected = score_clusters([{"x/q1", "y/q1"}, {"x/q2"}, {"y/q2", "z/q1"}],
                              [{"x/q1", "y/q1", "x/q2"}, {"y/q2"}, {"z/q1"}])
    assert (pooled.precision, pooled.recall, pooled.value) == (expected.muc.precision, expected.muc.recall,
                                                               expected.muc.f1)
    assert report.figure("conll").value == pytest.approx(expected.conll)


def test_pair_links_kappa_is_on_the_pairs_of_one_speaker() -> None:
    a = doc("a", ["x/q1", "y/q1"], ["x/q2"])
    b = doc("b", ["x/q1", "y/q1", "x/q2"])
    other = doc("a", ["z/q1"], speaker="other"), doc("b", ["z/q1"], speaker="other")
    merged = [StatementDocument(story="s", provenance=d.provenance, statements=d.statements + [
        s.model_copy(update={"id": "other"}) for s in o.statements]) for d, o in zip((a, b), other)]
    report = statement_agreement(merged, resamples=0)
    # Pairs within a speaker only: (x1, y1) both link; (x1, x2) and (y1, x2) b alone links. p_o = 1/3; A links
    # 1/3 of the pairs, B all of them: p_e = 1/3 * 1 + 2/3 * 0 = 1/3, so kappa = 0. The pairs with z (another
    # speaker) would be three more agreed "different" pairs and raise it.
    assert report.figure("link_kappa").value == pytest.approx(0.0)


def test_bootstrap_over_stories_when_there_are_several() -> None:
    docs = [doc(n, ["a/q1", "b/q1"], ["c/q1"], story="s1") for n in ("a", "b")]
    docs += [doc("a", ["d/q1", "e/q1"], story="s2"), doc("b", ["d/q1"], ["e/q1"], story="s2")]
    report = statement_agreement(docs, resamples=200)
    pair = report.pairs[0]
    assert (pair.bootstrap_unit, pair.bootstrap_units, pair.stories) == ("story", 2, 2)
    b3 = report.figure("b_cubed")
    assert b3.ci_low is not None and b3.ci_low <= b3.value <= b3.ci_high <= 1.0
    assert b3.ci_low < b3.ci_high  # resampling one perfect and one imperfect story must vary


def test_seed_passes_agree_and_adjudicate_without_conflicts() -> None:
    docs = read_statement_documents(SEED_PASSES)
    report = statement_agreement(docs, resamples=50)
    assert report.pairs[0].renderings == 50 and report.pairs[0].bootstrap_unit == "task"
    gold, adjudication = adjudicate_statements(docs)
    assert adjudication.statements == sum(len(s.renderings) > 0 for s in gold[0].statements)
    assert sorted(gold[0].rendering_keys()) == sorted(docs[0].rendering_keys())
    assert all(s.supported_by == ["annotator-1", "annotator-2"] for s in gold[0].statements) == (
        not adjudication.conflicts)


def test_a_rendering_placed_differently_is_a_conflict_settled_by_a_decision(tmp_path: Path) -> None:
    a = doc("a", ["x/q1", "y/q1", "z/q1"], ["x/q5"])
    b = doc("b", ["x/q1", "y/q1"], ["z/q1"], ["x/q5"])
    gold, report = adjudicate_statements([a, b])
    assert [c.renderings for c in report.conflicts] == [["x/q1", "y/q1", "z/q1"]]
    conflict = report.conflicts[0]
    assert conflict.id == "s/p/x/q1"
    assert conflict.groupings == {"a": [["x/q1", "y/q1", "z/q1"]], "b": [["x/q1", "y/q1"], ["z/q1"]]}
    assert report.undecided == ["s/p/x/q1"]
    assert gold[0].rendering_keys() == ["x/q5"]  # undecided renderings stay out of the gold

    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({"s/p/x/q1": {"accept": "b", "reason": "z is another occasion"}}))
    gold, report = adjudicate_statements([a, b], decisions=load_statement_decisions(decisions))
    assert report.undecided == [] and sorted(map(sorted, (s.keys() for s in gold[0].statements))) == [
        ["x/q1", "y/q1"], ["x/q5"], ["z/q1"]]
    assert next(s for s in gold[0].statements if "z/q1" in s.keys()).supported_by == ["b"]

    decisions.write_text(json.dumps({"s/p/x/q1": {"statements": [["x/q1"], ["y/q1", "z/q1"]], "reason": "r"}}))
    gold, _ = adjudicate_statements([a, b], decisions=load_statement_decisions(decisions))
    assert next(s for s in gold[0].statements if "z/q1" in s.keys()).supported_by == ["decision"]


def test_three_annotators_majority_wins() -> None:
    a, b = doc("a", ["x/q1", "y/q1"], ["z/q1"]), doc("b", ["x/q1", "y/q1"], ["z/q1"])
    c = doc("c", ["x/q1", "y/q1", "z/q1"])
    gold, report = adjudicate_statements([a, b, c])
    assert report.conflicts == [] and report.accepted_by_majority == 2
    gold, report = adjudicate_statements([a, b, c], majority=MajorityRule(count=3))
    assert len(report.conflicts) == 1


@pytest.mark.parametrize(("decision", "message"), [
    ({"accept": "nobody", "reason": "r"}, "accept 'nobody' is not one of"),
    ({"statements": [["x/q1", "y/q1"]], "reason": "r"}, "missing: z/q1"),
    ({"statements": [["x/q1", "y/q1", "z/q1", "w/q9"]], "reason": "r"}, "not in the conflict: w/q9"),
])
def test_bad_decisions_name_the_conflict(tmp_path: Path, decision, message) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"s/p/x/q1": decision}))
    a, b = doc("a", ["x/q1", "y/q1", "z/q1"]), doc("b", ["x/q1", "y/q1"], ["z/q1"])
    with pytest.raises(ToolkitError, match=message):
        adjudicate_statements([a, b], decisions=load_statement_decisions(path))


def test_decision_without_reason_or_with_both_actions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"c": {"accept": "a", "statements": [["x/q1"]], "reason": "r"}}))
    with pytest.raises(ToolkitError, match="conflict 'c': .*exactly one of accept and statements"):
        load_statement_decisions(path)


def test_two_documents_of_one_story_by_one_annotator_are_refused() -> None:
    with pytest.raises(ToolkitError, match="annotator 'a' has a second statement document for story 's'"):
        statement_agreement([doc("a", ["x/q1"]), doc("a", ["y/q1"]), doc("b", ["x/q1"])], resamples=0)


def test_cli_refuses_a_rendering_of_a_missing_quote_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = doc("a", ["000_77ccc7b56971afc5/q2", "000_77ccc7b56971afc5/q99"], story="eef-2025-09-05-foreign-troops",
              speaker="vladimir-putin")
    path = tmp_path / "a.jsonl"
    write_statement_documents(path, [bad])
    out = tmp_path / "gold-statements.jsonl"
    run = subprocess.run([*ANNOTATE, "statements", "adjudicate", str(path), str(SEED_PASSES[1]), "--gold", str(GOLD),
                          "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "a.jsonl:1: statement 's0': rendering '000_77ccc7b56971afc5/q99' " \
                                           "points at quote 'q99'" in run.stderr
    assert "Traceback" not in run.stderr and not out.exists() and list(tmp_path.iterdir()) == [path]
