"""``annotate evaluate``: hand-counted figures for every scheme, nervaluate cross-checks, pairing, inputs, CLI."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nervaluate import Evaluator

from annotate.cli import main
from exports.agreement_report import AgreementReport, BootstrapSettings, read_agreement_report
from exports.agreement_report import Figure as AgreementFigure
from exports.evaluate import compute_evaluation
from exports.evaluation_inputs import Located, read_gold, read_jsonl, read_release
from exports.evaluation_report import EvaluationReport
from schemas import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Provenance,
    Quote,
    Span,
    Stance,
    ToolkitError,
)
from schemas.articles import load_articles
from schemas.paths import SEEDS_DIR

TEXT = " ".join(["t"] * 120)  # token i is the "t" at code point 2 i
ARTICLE = Article.from_text("a", TEXT)
KINDS = ("direct", "indirect", "mixed")
SCHEMES = ("strict", "exact", "partial", "type")
NERVALUATE = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}


def tok(i: int, j: int, text: str = TEXT) -> Span:
    """The span of tokens i .. j-1."""
    return Span.of(text, 2 * i, 2 * j - 1)


def q(kind: str, *tokens: tuple[int, int], cue=None, speaker=None, mention=None) -> dict:
    return {"kind": kind, "tokens": tokens, "cue": cue, "speaker": speaker, "mention": mention}


def doc(annotator: str = "gold", quotes=(), claims=(), stances=(), article: Article = ARTICLE,
        origin: str = "import") -> AnnotatedDocument:
    """quotes: ``q(...)`` (token ranges); claims: (i, j, check_worthy); stances: (holder, target, polarity)."""
    text = article.text
    entities = sorted({x["speaker"] for x in quotes if x["speaker"]} | {s[0] for s in stances})
    mentions, built = [], []
    for n, x in enumerate(quotes):
        mention_id = None
        if x["mention"] is not None:
            mention_id = f"m{n}"
            mentions.append(Mention(id=mention_id, span=tok(*x["mention"], text), entity_id=x["speaker"]))
        built.append(Quote(id=f"q{n}", kind=x["kind"], content=[tok(i, j, text) for i, j in x["tokens"]],
                           cue=tok(*x["cue"], text) if x["cue"] else None, speaker_mention_id=mention_id,
                           speaker_entity_id=x["speaker"]))
    return AnnotatedDocument(
        article=article, provenance=Provenance(annotator=annotator, origin=origin),
        entities=[Entity(id=e, name=e) for e in entities], mentions=mentions, quotes=built,
        claims=[Claim(id=f"c{n}", span=tok(i, j, text), check_worthy=cw) for n, (i, j, cw) in enumerate(claims)],
        stances=[Stance(id=f"s{n}", holder_entity_id=h, target_id=t, polarity=p)
                 for n, (h, t, p) in enumerate(stances)],
    )


def predicted(d: AnnotatedDocument) -> AnnotatedDocument:
    return d.model_copy(update={"provenance": Provenance(annotator="model", origin="prediction")})


def evaluate(gold, pred, **kw) -> EvaluationReport:
    return compute_evaluation(gold, pred, resamples=kw.pop("resamples", 20), **kw)


def prf(report: EvaluationReport, metric: str, layer: str, scheme: str | None = None, label: str | None = None):
    f = report.figure(metric, layer, scheme, label)
    return tuple(None if e is None else e.value for e in (f.precision, f.recall, f.f1))


# --- the hand-counted case -----------------------------------------------------------------------------------
# gold: q0 direct tokens [0, 5), q1 indirect [10, 15), q2 mixed [20, 25)
# pred: p0 direct [0, 5) (same), p1 direct [12, 15) (inside q1, wrong kind), p2 mixed [22, 30) (overlaps q2,
#       same kind), p3 indirect [40, 45) (spurious)
GOLD = doc("gold", quotes=[q("direct", (0, 5), cue=(5, 6), speaker="A", mention=(50, 51)),
                           q("indirect", (10, 15), speaker="B", mention=(52, 53)),
                           q("mixed", (20, 25))],
           claims=[(60, 62, "yes"), (64, 66, "no")],
           stances=[("A", "t1", "favor"), ("B", "t1", "against"), ("C", "t2", "neutral")])
PRED = doc("model", quotes=[q("direct", (0, 5), cue=(5, 6), speaker="A", mention=(50, 51)),
                            q("direct", (12, 15), speaker="C", mention=(52, 53)),
                            q("mixed", (22, 30)),
                            q("indirect", (40, 45), speaker="A")],
           claims=[(60, 62, "yes"), (64, 66, "yes"), (70, 72, "no")],
           stances=[("A", "t1", "favor"), ("B", "t1", "favor"), ("C", "t2", "neutral"), ("D", "t2", "against")],
           origin="prediction")


@pytest.fixture(scope="module")
def hand() -> EvaluationReport:
    return evaluate([GOLD], [PRED])


def test_schemes_over_all_labels_counted_by_hand(hand):
    # 4 predicted, 3 gold quotes.
    # strict: only p0 has q0's exact bounds and kind -> P 1/4, R 1/3, F1 2*1/(4+3) = 2/7
    assert prf(hand, "span", "quote", "strict") == pytest.approx((1 / 4, 1 / 3, 2 / 7))
    # exact: bounds only; p1 and p2 differ in bounds, so again only p0
    assert prf(hand, "span", "quote", "exact") == pytest.approx((1 / 4, 1 / 3, 2 / 7))
    # partial: p0 exact (1) + p1 and p2 overlapping (1/2 each) = 2 -> P 2/4, R 2/3, F1 4/7
    assert prf(hand, "span", "quote", "partial") == pytest.approx((1 / 2, 2 / 3, 4 / 7))
    # type: overlap with the same kind: p0 and p2 (p1 is direct against indirect) = 2 -> as partial
    assert prf(hand, "span", "quote", "type") == pytest.approx((1 / 2, 2 / 3, 4 / 7))
    # overlap: p0, p1, p2 -> P 3/4, R 3/3, F1 6/7
    assert prf(hand, "span", "quote", "overlap") == pytest.approx((3 / 4, 1, 6 / 7))


def test_schemes_per_label_counted_by_hand(hand):
    # direct: gold {q0}, pred {p0, p1}; p1 does not touch q0, so every scheme credits p0 only: P 1/2, R 1, F1 2/3
    for scheme in SCHEMES:
        assert prf(hand, "span", "quote", scheme, "direct") == pytest.approx((1 / 2, 1, 2 / 3)), scheme
    # indirect: gold {q1}, pred {p3}, no overlap -> 0 everywhere (p1 overlaps q1 but is filtered out as direct)
    for scheme in SCHEMES:
        assert prf(hand, "span", "quote", scheme, "indirect") == pytest.approx((0, 0, 0)), scheme
    # mixed: gold {q2}, pred {p2} overlapping: strict and exact 0, partial 1/2, type 1
    assert prf(hand, "span", "quote", "strict", "mixed") == pytest.approx((0, 0, 0))
    assert prf(hand, "span", "quote", "exact", "mixed") == pytest.approx((0, 0, 0))
    assert prf(hand, "span", "quote", "partial", "mixed") == pytest.approx((1 / 2, 1 / 2, 1 / 2))
    assert prf(hand, "span", "quote", "type", "mixed") == pytest.approx((1, 1, 1))


def test_token_overlap_counted_by_hand(hand):
    # gold tokens 0-4, 10-14, 20-24 (15); predicted 0-4, 12-14, 22-29, 40-44 (21).
    # predicted inside gold: 5 + 3 + 3 + 0 = 11 -> P 11/21; gold covered: 5 + 3 + 3 = 11 -> R 11/15;
    # F1 = 2 * 11 / (21 + 15) = 11/18
    assert prf(hand, "token_overlap", "quote", "token") == pytest.approx((11 / 21, 11 / 15, 11 / 18))
    f = hand.figure("token_overlap", "quote", "token")
    assert (f.n_gold, f.n_pred) == (15, 21)
    # direct: predicted direct tokens 0-4 and 12-14 (8) all inside some gold content -> P 1;
    # gold direct tokens 0-4 (5) all covered -> R 1
    assert prf(hand, "token_overlap", "quote", "token", "direct") == pytest.approx((1, 1, 1))
    # indirect: predicted 40-44 outside all gold -> P 0; gold 10-14 covered at 12-14 by a direct prediction -> R 3/5
    assert prf(hand, "token_overlap", "quote", "token", "indirect") == pytest.approx((0, 3 / 5, 0))
    # mixed: predicted 22-29, 3 of 8 inside gold -> P 3/8; gold 20-24, 3 of 5 covered -> R 3/5;
    # F1 = 2 (3/8)(3/5) / (3/8 + 3/5) = 6/13
    assert prf(hand, "token_overlap", "quote", "token", "mixed") == pytest.approx((3 / 8, 3 / 5, 6 / 13))


def test_attribution_counted_by_hand(hand):
    # found (overlap): q0-p0, q1-p1, q2-p2. Speakers: A=A right, B vs C wrong, none=none right -> accuracy 2/3;
    # end to end: 2 right of 4 predicted and 3 gold -> P 1/2, R 2/3, F1 4/7
    entity = hand.figure("attribution_entity", "quote")
    assert entity.accuracy.value == pytest.approx(2 / 3)
    assert prf(hand, "attribution_entity", "quote") == pytest.approx((1 / 2, 2 / 3, 4 / 7))
    # by mention span: p1's mention is q1's span (other entity), q2/p2 have none -> all 3 right
    mention = hand.figure("attribution_mention", "quote")
    assert mention.accuracy.value == pytest.approx(1)
    assert prf(hand, "attribution_mention", "quote") == pytest.approx((3 / 4, 1, 6 / 7))


def test_cue_and_speaker_layers_counted_by_hand(hand):
    # one cue each side at the same tokens; speaker mentions: gold 50-50, 52-52; pred the same two -> exact 1
    assert prf(hand, "span", "cue", "exact") == pytest.approx((1, 1, 1))
    assert prf(hand, "span", "speaker", "strict") == pytest.approx((1, 1, 1))


def test_stance_counted_by_hand(hand):
    # favor: tp (A,t1) 1, predicted 2, gold 1 -> F1 2/3; against: tp 0, predicted 1 (D), gold 1 (B) -> 0;
    # neutral: 1, 1, 1 -> 1. Macro-F1 (2/3 + 0 + 1)/3 = 5/9; F_avg (2/3 + 0)/2 = 1/3
    assert prf(hand, "stance", "stance", label="favor") == pytest.approx((1 / 2, 1, 2 / 3))
    assert prf(hand, "stance", "stance", label="against") == pytest.approx((0, 0, 0))
    assert prf(hand, "stance", "stance", label="neutral") == pytest.approx((1, 1, 1))
    assert hand.figure("stance_macro_f1", "stance").f1.value == pytest.approx(5 / 9)
    assert hand.figure("stance_f_avg", "stance").f1.value == pytest.approx(1 / 3)


def test_claims_and_the_check_worthy_class_counted_by_hand(hand):
    # gold c0 yes, c1 no; pred c0 yes, c1 yes (same bounds, other label), c2 no (elsewhere).
    # exact: c0, c1 -> P 2/3, R 1, F1 4/5; strict: c0 -> P 1/3, R 1/2, F1 2/5
    assert prf(hand, "span", "claim", "exact") == pytest.approx((2 / 3, 1, 4 / 5))
    assert prf(hand, "span", "claim", "strict") == pytest.approx((1 / 3, 1 / 2, 2 / 5))
    # check-worthy class: gold yes {c0}, pred yes {c0, c1} -> P 1/2, R 1, F1 2/3
    assert prf(hand, "span", "claim", "strict", "yes") == pytest.approx((1 / 2, 1, 2 / 3))
    assert prf(hand, "span", "claim", "strict", "no") == pytest.approx((0, 0, 0))


def test_several_gold_documents_per_article_micro_and_macro():
    other = Article.from_text("b", TEXT)
    gold = [doc("ann-a", quotes=[q("direct", (0, 5))]), doc("ann-b", quotes=[q("direct", (10, 15))]),
            doc("ann-a", quotes=[q("direct", (0, 5)), q("direct", (10, 15))], article=other)]
    pred = [predicted(doc(quotes=[q("direct", (0, 5))])), predicted(doc(quotes=[q("direct", (0, 5))], article=other))]
    report = evaluate(gold, pred)
    # pairs: (a/ann-a) tp 1, pred 1, gold 1; (a/ann-b) 0, 1, 1; (b/ann-a) 1, 1, 2.
    # micro: tp 2, predicted 3, gold 4 -> P 2/3, R 1/2, F1 4/7
    assert prf(report, "span", "quote", "exact") == pytest.approx((2 / 3, 1 / 2, 4 / 7))
    # macro: ann-a 2 of 2 predicted, 3 gold -> F1 4/5; ann-b 0 -> F1 0; mean 2/5
    assert report.figure("span", "quote", "exact").f1_annotator_macro == pytest.approx(2 / 5)
    assert (report.articles_evaluated, report.pairs_evaluated) == (2, 3)
    by_name = {a.annotator: a for a in report.annotators}
    assert by_name["ann-a"].articles == 2 and by_name["ann-b"].articles == 1
    ann_b = next(f for f in by_name["ann-b"].figures if (f.metric, f.scheme, f.label) == ("span", "exact", None)
                 and f.layer == "quote")
    assert ann_b.f1.value == 0


def test_bootstrap_interval_brackets_the_value_and_is_reproducible():
    articles = [Article.from_text(f"x{i}", TEXT) for i in range(8)]
    gold = [doc(quotes=[q("direct", (0, 5)), q("indirect", (10, 15))], article=a) for a in articles]
    pred = [predicted(doc(quotes=[q("direct", (0, 5 if i % 2 else 4))], article=a)) for i, a in enumerate(articles)]
    first, second = evaluate(gold, pred, resamples=300, seed=3), evaluate(gold, pred, resamples=300, seed=3)
    f1 = first.figure("span", "quote", "exact").f1
    assert f1.ci_low <= f1.value <= f1.ci_high and f1.ci_low < f1.ci_high
    assert first.figure("span", "quote", "exact") == second.figure("span", "quote", "exact")


def test_ceilings_come_from_the_agreement_figures_that_measure_the_same():
    agreement = AgreementReport(
        tokeniser=r"\w+|[^\w\s]", role_priority=["content", "cue", "source"],
        bootstrap=BootstrapSettings(resamples=10, seed=0, confidence=0.95), documents=4, annotators=["a", "b"],
        articles_compared=2, single_annotator_articles=[], articles=[], pairs=[],
        corpus=[AgreementFigure(metric="f1_exact", layer="quote", value=0.8, n=10, ci_low=0.7, ci_high=0.9),
                AgreementFigure(metric="f1_overlap", layer="quote", value=0.9, n=10),
                AgreementFigure(metric="f1_exact", layer="quote", label="direct", value=0.7, n=4),
                AgreementFigure(metric="attribution_agreement", layer="quote", value=0.95, n=8)],
    )
    report = evaluate([GOLD], [PRED], agreement=agreement, ceiling_source="agreement.json")
    exact = report.figure("span", "quote", "exact").ceiling
    assert (exact.value, exact.ci_low, exact.of) == (0.8, 0.7, "f1")
    assert report.figure("span", "quote", "overlap").ceiling.value == 0.9
    assert report.figure("span", "quote", "strict", "direct").ceiling.value == 0.7
    assert report.figure("span", "quote", "exact", "direct").ceiling.value == 0.7  # per label exact is strict
    assert report.figure("span", "quote", "type", "direct").ceiling is None  # no such agreement figure
    assert report.figure("span", "quote", "partial").ceiling is None  # agreement has no partial credit
    attribution = report.figure("attribution_entity", "quote").ceiling
    assert (attribution.value, attribution.of) == (0.95, "accuracy")
    assert report.ceiling_source == "agreement.json"


# --- invariants ----------------------------------------------------------------------------------------------


@st.composite
def documents(draw) -> AnnotatedDocument:
    """Quotes in their own 10-token cells (content, cue, mention apart), claims and stances: no two units of
    a layer share a span, so a document matched with itself has one best alignment."""
    cells = draw(st.lists(st.integers(0, 7), unique=True, max_size=6))
    quotes = []
    for cell in cells:
        base = 10 * cell
        length = draw(st.integers(1, 5))
        cue = (base + 6, base + 7) if draw(st.booleans()) else None
        speaker = draw(st.sampled_from([None, "A", "B"]))
        mention = (base + 8, base + 9) if speaker and draw(st.booleans()) else None
        quotes.append(q(draw(st.sampled_from(KINDS)), (base, base + length), cue=cue, speaker=speaker,
                        mention=mention))
    claims = [(80 + 3 * c, 82 + 3 * c, draw(st.sampled_from(["yes", "no"])))
              for c in draw(st.lists(st.integers(0, 10), unique=True, max_size=4))]
    stances = draw(st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(["t1", "t2"]),
                                      st.sampled_from(["favor", "against", "neutral"])), max_size=5))
    return doc(quotes=quotes, claims=claims, stances=stances)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_a_document_against_itself_is_perfect_everywhere(d):
    report = evaluate([d], [predicted(d)], resamples=5)
    defined = 0
    for f in report.figures:
        for estimate in (f.precision, f.recall, f.f1, f.accuracy):
            if estimate is not None and estimate.value is not None:
                assert estimate.value == pytest.approx(1), (f.metric, f.layer, f.scheme, f.label)
                defined += 1
        assert (f.n_gold == 0) == (f.f1.value is None) or f.metric == "stance_f_avg"
    # every quote gives quote figures under each scheme; nothing was skipped silently
    assert defined >= (3 * 5 + 4) * bool(d.quotes)


def test_the_seed_example_against_itself_is_perfect():
    report = evaluate([GOLD], [predicted(GOLD)])
    values = [e.value for f in report.figures for e in (f.precision, f.recall, f.f1, f.accuracy)
              if e is not None and e.value is not None]
    assert len(values) > 80 and all(v == pytest.approx(1) for v in values)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(documents(), documents()), min_size=1, max_size=3), st.randoms())
def test_input_order_does_not_matter(pairs, rnd):
    gold, pred = [], []
    for n, (g, p) in enumerate(pairs):
        article = Article.from_text(f"art{n}", TEXT)
        gold.append(g.model_copy(update={"article": article}))
        pred.append(predicted(p.model_copy(update={"article": article})))
    shuffled_gold, shuffled_pred = gold[:], pred[:]
    rnd.shuffle(shuffled_gold)
    rnd.shuffle(shuffled_pred)
    assert evaluate(gold, pred).figures == evaluate(shuffled_gold, shuffled_pred).figures


# --- cross-check against nervaluate --------------------------------------------------------------------------

CELL_TEXT = "abcdefghij" * 12


@st.composite
def cell_spans(draw) -> tuple[list[list[tuple[str, int, int]]], list[list[tuple[str, int, int]]]]:
    """Per document, gold and predicted (kind, start, end) in 10-code-point cells, at most one of each per cell:
    no unit overlaps two on the other side, so nervaluate's greedy loops find the best matching too."""
    gold_docs, pred_docs = [], []
    for _ in range(draw(st.integers(1, 3))):
        gold, pred = [], []
        for cell in range(draw(st.integers(0, 10))):
            which = draw(st.sampled_from(["both", "gold", "pred", "none"]))
            for side, wanted in ((gold, ("both", "gold")), (pred, ("both", "pred"))):
                if which in wanted:
                    start = 10 * cell + draw(st.integers(0, 4))
                    side.append((draw(st.sampled_from(KINDS)), start, start + draw(st.integers(1, 5))))
            if which == "both" and draw(st.booleans()):  # often an exact copy, kind kept or changed
                pred[-1] = (draw(st.sampled_from(KINDS)), gold[-1][1], gold[-1][2])
        gold_docs.append(gold)
        pred_docs.append(pred)
    return gold_docs, pred_docs


def _quote_doc(article: Article, units: list[tuple[str, int, int]], origin: str) -> AnnotatedDocument:
    return AnnotatedDocument(article=article, provenance=Provenance(annotator=origin, origin=origin),
                             quotes=[Quote(id=f"q{n}", kind=k, content=[Span.of(article.text, s, e)])
                                     for n, (k, s, e) in enumerate(units)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell_spans())
def test_span_schemes_equal_nervaluate_overall_and_per_label(case):
    gold_units, pred_units = case
    articles = [Article.from_text(f"n{i}", CELL_TEXT) for i in range(len(gold_units))]
    report = evaluate([_quote_doc(a, u, "gold") for a, u in zip(articles, gold_units)],
                      [_quote_doc(a, u, "prediction") for a, u in zip(articles, pred_units)], resamples=2)
    # nervaluate's ends are inclusive
    as_dicts = [[[{"label": k, "start": s, "end": e - 1} for k, s, e in d] for d in side]
                for side in (gold_units, pred_units)]
    expected = Evaluator(as_dicts[0], as_dicts[1], tags=list(KINDS), loader="dict").evaluate()
    for scheme in SCHEMES:
        theirs = expected["overall"][NERVALUATE[scheme]]
        ours = prf(report, "span", "quote", scheme)
        assert [v or 0 for v in ours] == pytest.approx([theirs.precision, theirs.recall, theirs.f1]), scheme
        for label, results in expected["entities"].items():
            theirs = results[NERVALUATE[scheme]]
            ours = prf(report, "span", "quote", scheme, label)
            assert [v or 0 for v in ours] == pytest.approx([theirs.precision, theirs.recall, theirs.f1]), \
                (scheme, label)


# --- pairing: what is not evaluated is reported -----------------------------------------------------------------


def test_unknown_and_changed_articles_are_reported_not_evaluated():
    b, b_changed = Article.from_text("b", TEXT), Article.from_text("b", TEXT + " t")
    gold = [GOLD, doc(quotes=[q("direct", (0, 5))], article=b)]
    pred = [Located("pred.jsonl:1", PRED),
            Located("pred.jsonl:2", predicted(doc(quotes=[q("direct", (0, 5))], article=b_changed))),
            Located("pred.jsonl:3", predicted(doc(article=Article.from_text("zzz", TEXT))))]
    report = evaluate(gold, pred)
    assert [(u.article_id, u.reason, u.where) for u in report.unmatched_predictions] == [
        ("b", "text differs", "pred.jsonl:2"), ("zzz", "not in the gold", "pred.jsonl:3")]
    assert report.unpredicted_articles == ["b"]
    assert report.articles_evaluated == 1
    assert report.figure("span", "quote", "exact").n_gold == 3  # article b is not counted as missed


def test_no_prediction_of_a_gold_article_is_an_error():
    with pytest.raises(ToolkitError, match=r"none of the 1 predictions is of a gold article"):
        evaluate([GOLD], [predicted(doc(article=Article.from_text("other", TEXT)))])


@pytest.mark.parametrize(("gold", "pred", "match"), [
    ([Located("g:1", GOLD)], [Located("p:1", PRED), Located("p:7", PRED)],
     r"p:7: a second prediction for article 'a' \(the first is at p:1\)"),
    ([Located("g:1", GOLD), Located("g:2", GOLD)], [Located("p:1", PRED)],
     r"g:2: annotator 'gold' already has a document of article 'a' at g:1"),
    ([Located("g:1", GOLD), Located("g:2", doc("ann2", article=Article.from_text("a", TEXT + "!")))],
     [Located("p:1", PRED)], r"g:2: article 'a' has a different text \(sha256\) than at g:1"),
])
def test_inconsistent_inputs_are_errors_naming_where(gold, pred, match):
    with pytest.raises(ToolkitError, match=match):
        evaluate(gold, pred)


# --- reading inputs ------------------------------------------------------------------------------------------


def write_jsonl(path: Path, docs: list[AnnotatedDocument]) -> Path:
    path.write_text("".join(d.model_dump_json() + "\n" for d in docs), encoding="utf-8")
    return path


def test_jsonl_lines_split_on_newline_only(tmp_path):
    text = "He said\u2028“no”\x85 and\r\nleft\u2029."
    article = Article.from_text("odd", text)
    d = AnnotatedDocument(article=article, provenance=Provenance(annotator="x"),
                          quotes=[Quote(id="q", kind="direct", content=[Span.of(text, 9, 11)])])
    path = write_jsonl(tmp_path / "docs.jsonl", [d, d.model_copy(update={"provenance": Provenance(annotator="y")})])
    assert "\u2028" in path.read_text(encoding="utf-8")  # the separator is really in the file, unescaped
    docs = read_jsonl(path, "--pred")
    assert [x.where for x in docs] == [f"{path}:1", f"{path}:2"]
    assert docs[0].doc.article.text == text


def test_bad_jsonl_lines_name_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "pred.jsonl", [PRED])
    with path.open("a", encoding="utf-8") as f:
        f.write("\n{not json\n")
    message = rf"^{re.escape(str(path))}:3: invalid JSON \(.*\); one annotated document per line"
    with pytest.raises(ToolkitError, match=message):
        read_jsonl(path, "--pred")
    record = json.loads(PRED.model_dump_json())
    record["quotes"][0]["content"][0]["text"] = "x" * len(record["quotes"][0]["content"][0]["text"])
    path.write_text(PRED.model_dump_json() + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match=rf"^{re.escape(str(path))}:2: quote 'q0' content fragment 0: span"):
        read_jsonl(path, "--pred")


def test_missing_empty_and_swapped_inputs(tmp_path):
    with pytest.raises(ToolkitError, match=r"--pred .*missing.jsonl: no such file"):
        read_jsonl(tmp_path / "missing.jsonl", "--pred")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"--gold .*empty.jsonl: no documents in the file"):
        read_gold(empty)
    swapped = write_jsonl(tmp_path / "pred.jsonl", [PRED])
    with pytest.raises(ToolkitError, match=r"pred.jsonl:1: a model prediction .* did you swap --gold and --pred"):
        read_gold(swapped)
    with pytest.raises(ToolkitError, match=r"--split test: only a release folder has splits"):
        read_gold(write_jsonl(tmp_path / "gold.jsonl", [GOLD]), "test")
    with pytest.raises(ToolkitError, match=r"no data/articles/ in it, so not a release"):
        read_gold(tmp_path)


def test_bad_agreement_report_is_an_error(tmp_path):
    with pytest.raises(ToolkitError, match=r"--agreement .*nope.json: no such file"):
        read_agreement_report(tmp_path / "nope.json")
    bad = tmp_path / "agreement.json"
    bad.write_text('{"documents": 3}', encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"agreement.json: .*give the JSON written by `annotate agreement --json`"):
        read_agreement_report(bad)


# --- a published release as the gold --------------------------------------------------------------------------

PUTIN = "vladimir-putin"
QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")


def seed_gold(article: Article) -> AnnotatedDocument:
    """Every "Putin" a mention, every quoted passage a quote by Putin, a check-worthy first word, one stance."""
    text = article.text
    mentions = [Mention(id=f"m{i}", span=Span.of(text, m.start(), m.end()), entity_id=PUTIN)
                for i, m in enumerate(re.finditer("Putin", text))]
    quotes = [Quote(id=f"q{i}", kind=KINDS[i % 3], content=[Span.of(text, m.start(1), m.end(1))],
                    speaker_mention_id=mentions[0].id if mentions else None, speaker_entity_id=PUTIN)
              for i, m in enumerate(QUOTED.finditer(text))]
    return AnnotatedDocument(
        article=article, provenance=Provenance(annotator="gold", origin="gold"),
        entities=[Entity(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747")],
        mentions=mentions, quotes=quotes,
        stances=[Stance(id="s1", holder_entity_id=PUTIN, target_id="foreign-troops-in-ukraine", polarity="against",
                        evidence=[quotes[0].id] if quotes else [])],
        claims=[Claim(id="c1", span=Span.of(text, 0, len(text.split()[0])), claimant_entity_id=PUTIN,
                      check_worthy="yes")],
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, list[AnnotatedDocument]]:
    from exports.dataset.publish import PublishRequest, publish

    tmp = tmp_path_factory.mktemp("release")
    golds = [seed_gold(a) for a in load_articles([SEEDS_DIR])]
    assert sum(len(g.quotes) for g in golds) > 5
    publish(PublishRequest(version="1.2.0", out=tmp / "dataset", gold=[write_jsonl(tmp / "gold.jsonl", golds)]))
    return tmp / "dataset", golds


def _layers(d: AnnotatedDocument) -> dict:
    return d.model_dump(include={"article", "entities", "mentions", "quotes", "stances", "claims"})


def test_a_release_reads_back_as_the_gold_documents_it_was_published_from(release):
    folder, golds = release
    docs, version = read_release(folder)
    assert version == "1.2.0"
    assert [_layers(x.doc) for x in docs] == [_layers(g) for g in sorted(golds, key=lambda g: g.article.id)]
    assert all(x.doc.provenance.origin == "gold" for x in docs)


def test_a_split_of_a_release_reads_only_its_articles(release):
    folder, _ = release
    splits = sorted(p.stem for p in (folder / "data" / "articles").glob("*.parquet"))
    ids = {s: set(pq.read_table(folder / "data" / "articles" / f"{s}.parquet")["id"].to_pylist()) for s in splits}
    for split in splits:
        docs, _ = read_release(folder, split)
        assert {x.doc.article.id for x in docs} == ids[split]
    with pytest.raises(ToolkitError, match=rf"--split nope: .* has no such split \(it has: {', '.join(splits)}\)"):
        read_release(folder, "nope")


def test_a_damaged_release_is_an_error_naming_file_and_row(release, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(release[0], folder)
    quotes = next((folder / "data" / "quotes").glob("*.parquet"))
    table = pq.read_table(quotes)
    rows = table.to_pylist()
    rows[0]["content"][0]["text"] = "#" * len(rows[0]["content"][0]["text"])
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), quotes)
    with pytest.raises(ToolkitError, match=rf"{re.escape(str(folder))}: gold document of article .* quote 'q0' "
                                           r"content fragment 0: span .* publish the release again"):
        read_release(folder)
    quotes.write_bytes(b"not parquet")
    with pytest.raises(ToolkitError, match=rf"{re.escape(str(quotes))}: not a readable Parquet file"):
        read_release(folder)


# --- the command ---------------------------------------------------------------------------------------------


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["annotate", *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return exit_info.value.code or 0, out.out, out.err


def test_cli_against_a_release_with_its_agreement_report(release, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    folder = tmp_path / "dataset"
    shutil.copytree(release[0], folder)
    agreement = AgreementReport(
        tokeniser=r"\w+|[^\w\s]", role_priority=["content", "cue", "source"],
        bootstrap=BootstrapSettings(resamples=10, seed=0, confidence=0.95), documents=2, annotators=["a", "b"],
        articles_compared=1, single_annotator_articles=[], articles=[], pairs=[],
        corpus=[AgreementFigure(metric="f1_exact", layer="quote", value=0.875, n=10)])
    (folder / "agreement.json").write_text(agreement.model_dump_json(), encoding="utf-8")
    golds = release[1]
    extra = predicted(doc(article=Article.from_text("not-in-gold", TEXT)))
    pred = write_jsonl(tmp_path / "pred.jsonl", [predicted(g) for g in golds[1:]] + [extra])
    out_json = tmp_path / "report.json"
    code, out, err = run(["evaluate", "--gold", str(folder), "--pred", str(pred), "--json", str(out_json),
                          "--resamples", "50"], capsys)
    assert code == 0, err
    report = EvaluationReport.model_validate_json(out_json.read_text(encoding="utf-8"))
    assert report.gold.kind == "release" and report.gold.release_version == "1.2.0"
    assert report.figure("span", "quote", "exact").f1.value == 1.0
    assert report.figure("span", "quote", "exact").ceiling.value == 0.875
    assert report.ceiling_source == str(folder / "agreement.json")
    assert report.unpredicted_articles == [golds[0].article.id]
    assert "0.875" in out and "quote exact" in out
    assert "1 prediction(s) NOT evaluated: not-in-gold at" in out and "not in the gold" in out
    assert f"1 gold article(s) without a prediction, NOT evaluated: {golds[0].article.id}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "pred.jsonl", "report.json"]


def test_cli_user_errors_are_one_line_with_exit_2(tmp_path, capsys):
    gold = write_jsonl(tmp_path / "gold.jsonl", [GOLD])
    pred = write_jsonl(tmp_path / "pred.jsonl", [PRED])
    with pred.open("a", encoding="utf-8") as f:
        f.write("[1, 2]\n")
    code, _, err = run(["evaluate", "--gold", str(gold), "--pred", str(pred)], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {pred}:2: ")
    code, _, err = run(["evaluate", "--gold", str(gold), "--pred", str(gold), "--json",
                        str(tmp_path / "no" / "r.json")], capsys)
    assert code == 2 and "directory" in err and "does not exist" in err
    code, _, err = run(["evaluate", "--gold", str(gold), "--pred", str(gold), "--agreement",
                        str(tmp_path / "none.json")], capsys)
    assert code == 2 and "none.json: no such file" in err
