"""``exports.published_metrics``: Citron's and the Gender Gap Tracker's figures on hand-counted articles, each
quirk of their code against our own definition, and ``annotate evaluate --published``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exports.evaluation_inputs import Located
from exports.published_metrics import (
    Counts,
    PublishedFigures,
    citron_exact_content,
    citron_exact_cue,
    citron_quotes,
    evaluated_pairs,
    ggt_quote_match,
    ggt_quotes,
    published_figures,
)
from exports.units import token_spans
from schemas import AnnotatedDocument, Article, Entity, Mention, Provenance, Quote, Span, ToolkitError
from schemas.documents import write_documents

# TOKEN_PATTERN tokens:  t0 Smith [0,5)  t1 said [6,10)  t2 taxes [11,16)  t3 rise [17,21)  t4 and [22,25)
#                        t5 told [26,30)  t6 reporters [31,40)  t7 prices [41,47)  t8 fall [48,52)  t9 . [52,53)
TEXT = "Smith said taxes rise and told reporters prices fall."
ARTICLE = Article.from_text("a1", TEXT)


def span(start: int, end: int, text: str = TEXT) -> Span:
    return Span.of(text, start, end)


def document(quotes: list[tuple], *, origin: str = "import", article: Article = ARTICLE) -> AnnotatedDocument:
    """quotes: (content ranges, cue range or None, speaker range or None); one mention per distinct speaker
    range, shared by the quotes that name it."""
    text = article.text
    mentions: dict[tuple[int, int], Mention] = {}
    built = []
    for n, (content, cue, speaker) in enumerate(quotes):
        if speaker is not None and speaker not in mentions:
            mentions[speaker] = Mention(id=f"m{len(mentions)}", span=span(*speaker, text), entity_id="smith")
        built.append(Quote(id=f"q{n}", kind="indirect", content=[span(*c, text) for c in content],
                           cue=None if cue is None else span(*cue, text),
                           speaker_mention_id=None if speaker is None else mentions[speaker].id))
    annotator = "baseline" if origin == "prediction" else "gold"
    return AnnotatedDocument(article=article, provenance=Provenance(annotator=annotator, origin=origin),
                             entities=[Entity(id="smith", name="Smith")] if mentions else [],
                             mentions=list(mentions.values()), quotes=built)


SMITH, SAID, TOLD = (0, 5), (6, 10), (26, 30)
# Gold: g1 "taxes rise" (cue said, speaker Smith), g2 "prices fall" (cue told, the SAME Smith mention).
GOLD = document([([(11, 21)], SAID, SMITH), ([(41, 52)], TOLD, SMITH)])
# Predicted: p1 "taxes" (said, Smith), p2 "prices fal" (told, no speaker): p2 ends inside "fall", so in
# tokens it equals g2 (t7-t8) though its characters differ.
PRED = document([([(11, 16)], SAID, SMITH), ([(41, 51)], TOLD, None)], origin="prediction")


@pytest.fixture(scope="module")
def hand() -> PublishedFigures:
    return published_figures(pair for pair in [(GOLD, PRED)])  # a generator: streamed, read once


def prf(figures: PublishedFigures, name: str) -> tuple:
    f = figures.figure(name)
    return ((f.precision.numerator, f.precision.denominator), (f.recall.numerator, f.recall.denominator),
            pytest.approx(f.f1))


def test_citron_exact_match_by_hand(hand):
    # In tokens: g1 cue (1,2) src ((0,1)) content ((2,4));  g2 cue (5,6) src ((0,1)) content ((7,9))
    #            p1 cue (1,2) src ((0,1)) content ((2,3));  p2 cue (5,6) src ()       content ((7,9))
    # cue: p1 = g1, p2 = g2 -> tp 2, fp 0, fn 0.
    assert prf(hand, "citron exact cue") == ((2, 2), (2, 2), 1.0)
    # source: p1 cue overlaps g1's, sources equal -> tp; p2 has no source -> fp; g2 unmatched -> fn 1.
    assert prf(hand, "citron exact source") == ((1, 2), (1, 2), 0.5)
    # content: p1 (2,3) != (2,4) -> fp; p2 (7,9) == g2 (7,9) and cues overlap -> tp; g1 unmatched -> fn 1.
    assert prf(hand, "citron exact content") == ((1, 2), (1, 2), 0.5)
    # quote: p1's content differs from g1's, p2's sources from g2's -> tp 0, fp 2, fn 2.
    assert prf(hand, "citron exact quote") == ((0, 2), (0, 2), 0.0)


def test_citron_token_overlap_by_hand(hand):
    # cue: p1-g1 share t1, p2-g2 share t5 -> 2; predicted 1 + 1, gold 1 + 1.
    assert prf(hand, "citron token-overlap cue") == ((2, 2), (2, 2), 1.0)
    # source: p1's t0 against g1's t0 AND g2's t0 -> 2 (double count); predicted 1 (p2 has none), gold 1 + 1.
    # P = 2/1 = 2.0, R = 2/2 = 1.0, F1 = 2*2*1/3 = 4/3.
    assert prf(hand, "citron token-overlap source") == ((2, 1), (2, 2), 4 / 3)
    # content: p1 (2,3) vs g1 (2,4) -> 1, p2 (7,9) vs g2 (7,9) -> 2 -> 3; predicted 1 + 2, gold 2 + 2.
    # P = 3/3, R = 3/4, F1 = 2*0.75/1.75.
    assert prf(hand, "citron token-overlap content") == ((3, 3), (3, 4), 1.5 / 1.75)
    # all quote spans: overlap 2 + 2 + 3 = 7, predicted 2 + 1 + 3 = 6, gold 2 + 2 + 4 = 8; printed with P and R
    # swapped: P = 7/8, R = 7/6 (F1 = 2 (7/8)(7/6) / (7/8 + 7/6) = 1).
    assert prf(hand, "citron token-overlap quote") == ((7, 8), (7, 6), 1.0)
    assert (hand.citron_left_out_gold, hand.citron_left_out_pred, hand.pairs) == (0, 0, 1)


def test_ggt_by_hand(hand):
    # Characters: g1 [11,21) (10), g2 [41,52) (11); p1 [11,16), p2 [41,51).
    # @0.3: g1 takes p1 (5/10 = 0.5 > 0.3), g2 takes p2 (10/11 > 0.3): tp 2, fp 0, fn 0.
    #       speakers: g1-p1 share Smith -> right; p2 has none -> wrong: 1/2. verbs said = said, told = told: 2/2.
    assert prf(hand, "GGT quote match @0.3") == ((2, 2), (2, 2), 1.0)
    assert hand.figure("GGT speaker match @0.3").accuracy.model_dump() == {"numerator": 1, "denominator": 2,
                                                                          "value": 0.5}
    assert hand.figure("GGT verb match @0.3").accuracy.value == 1.0
    # @0.8: g1-p1 0.5 is not > 0.8 -> fn; g2 takes p2 (0.909): tp 1; p1 never taken -> fp 1.
    assert prf(hand, "GGT quote match @0.8") == ((1, 2), (1, 2), 0.5)
    assert hand.figure("GGT speaker match @0.8").accuracy.value == 0.0
    assert hand.figure("GGT verb match @0.8").accuracy.value == 1.0
    # speakers (indep): g1-p1 and g2-p1 share "Smith" (5 >= 2 characters) -> tp 2; predicted speakers 1,
    # gold 2: P = 2/1, R = 2/2.
    assert prf(hand, "GGT speakers (indep)") == ((2, 1), (2, 2), 4 / 3)
    # verbs (indep): g1-p1 (said), g2-p2 (told) -> tp 2; 2 predicted, 2 gold.
    assert prf(hand, "GGT verbs (indep)") == ((2, 2), (2, 2), 1.0)


def test_citron_exact_cue_is_not_one_to_one():
    # Two predictions with g1's cue are two true positives (one-to-one would be 1 tp, 1 fp).
    gold = document([([(11, 21)], SAID, None)])
    pred = document([([(11, 21)], SAID, None), ([(17, 25)], SAID, None)], origin="prediction")
    starts, _ = token_spans(TEXT)
    assert citron_exact_cue(citron_quotes(gold, starts)[0], citron_quotes(pred, starts)[0]) == Counts(2, 2, 2, 2)


def test_citron_cue_overlap_counts_an_adjacent_cue():
    # are_overlapping_spans uses <=: a predicted cue starting on the token right after the gold cue ("taxes",
    # t2, after "said", t1) "overlaps" it, so the equal content is an exact content match.
    gold = document([([(17, 25)], SAID, None)])
    pred = document([([(17, 25)], (11, 16), None)], origin="prediction")
    starts, _ = token_spans(TEXT)
    assert citron_exact_content(citron_quotes(gold, starts)[0], citron_quotes(pred, starts)[0]) == Counts(1, 1, 1, 1)
    # ...but not one that ends right before it (the test is not symmetric).
    pred_before = document([([(17, 25)], SMITH, None)], origin="prediction")
    assert citron_exact_content(citron_quotes(gold, starts)[0],
                                citron_quotes(pred_before, starts)[0]) == Counts(0, 1, 0, 1)


def test_citron_leaves_out_quotes_without_a_cue():
    pred = document([([(11, 21)], None, SMITH), ([(41, 52)], TOLD, SMITH)], origin="prediction")
    figures = published_figures([(GOLD, pred)])
    assert figures.citron_left_out_pred == 1
    assert figures.figure("citron exact cue").precision.denominator == 1  # only the quote with a cue
    assert figures.figure("GGT quote match @0.3").precision.denominator == 2  # GGT keeps both


def test_ggt_is_greedy_in_gold_order():
    # g1 [11,25) "taxes rise and", g2 [26,40) "told reporters"; pA [17,40) covers 8/14 of g1 (0.57) and all of
    # g2 (1.0); pB [11,16) covers 5/14 of g1 (0.36). g1 comes first and takes pA (its best), leaving g2 only
    # pB (no overlap): tp 1, fn 1, fp 1. The optimal one-to-one alignment (g1-pB, g2-pA) has tp 2.
    gold = ggt_quotes(document([([(11, 25)], None, None), ([(26, 40)], None, None)]))
    pred = ggt_quotes(document([([(17, 40)], None, None), ([(11, 16)], None, None)], origin="prediction"))
    assert ggt_quote_match(gold, pred, 0.3) == Counts(1, 2, 1, 2, 0, 1)  # 1 verb "match": two empty verbs


def test_ggt_threshold_is_strict_and_gold_normalised():
    gold = ggt_quotes(document([([(11, 21)], SAID, None)]))  # 10 characters
    three = ggt_quotes(document([([(11, 14)], SAID, None)], origin="prediction"))  # 3/10 = 0.3, not > 0.3
    assert ggt_quote_match(gold, three, 0.3).correct_gold == 0
    # A prediction over the whole article covers all of the gold quote: score 1.0 even at 0.8.
    everything = ggt_quotes(document([([(0, len(TEXT))], SAID, None)], origin="prediction"))
    assert ggt_quote_match(gold, everything, 0.8) == Counts(1, 1, 1, 1, 0, 1)


def test_ggt_removes_equal_predictions_together():
    # Two identical predictions: the taken one is removed with its twin (q != best_quote on dicts), so one tp
    # and no fp, where a one-to-one count has a false positive.
    gold = ggt_quotes(document([([(11, 21)], SAID, SMITH)]))
    twins = ggt_quotes(document([([(11, 21)], SAID, SMITH), ([(11, 21)], SAID, SMITH)], origin="prediction"))
    assert ggt_quote_match(gold, twins, 0.3) == Counts(1, 1, 1, 1, 1, 1)


def test_tokeniser_can_be_replaced():
    # Every code point a token (as a stand-in for spaCy's tokens): the content overlap is counted in
    # characters: p1 [11,16) vs g1 [11,21) -> 5, p2 [41,51) vs g2 [41,52) -> 10; predicted 5 + 10, gold 10 + 11.
    def characters(text: str) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(len(text)), np.arange(len(text)) + 1

    figures = published_figures([(GOLD, PRED)], tokenise=characters, tokeniser="characters")
    assert prf(figures, "citron token-overlap content") == ((15, 15), (15, 21), 2 * (15 / 21) / (1 + 15 / 21))
    assert figures.tokeniser == "characters"


def test_pairs_need_the_same_text():
    other = Article.from_text("a1", TEXT.replace("Smith", "Jones"))
    with pytest.raises(ToolkitError, match="text differs"):
        published_figures([(GOLD, document([], origin="prediction", article=other))])


def test_evaluated_pairs_match_id_and_text():
    other = Article.from_text("a1", TEXT + " More.")
    gold = [Located("g:1", GOLD), Located("g:2", document([], article=other))]
    assert [(g.article.sha256, p is PRED) for g, p in evaluated_pairs(gold, [Located("p:1", PRED)])] == \
        [(ARTICLE.sha256, True)]
    with pytest.raises(ToolkitError, match=r"p:2: a second prediction of article 'a1' \(first at p:1\)"):
        list(evaluated_pairs(gold, [Located("p:1", PRED), Located("p:2", PRED)]))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *args],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})


def test_cli_prints_published_figures_beside_ours(tmp_path: Path):
    gold, pred, out = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl", tmp_path / "report.json"
    write_documents(gold, [GOLD])
    write_documents(pred, [PRED])
    done = run_cli("evaluate", "--gold", str(gold), "--pred", str(pred), "--published", "--resamples", "5",
                   "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "Citron (bbc/citron metrics.py)" in done.stdout and "Gender Gap Tracker" in done.stdout
    assert "token-overlap source" in done.stdout and "quote match @0.3" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    published = PublishedFigures.model_validate(report["published"])
    # The quirk against our definition: Citron counts g1's and g2's shared speaker token twice (P 2.0); our
    # token overlap counts each token once (P 1.0, R 1.0).
    assert published.figure("citron token-overlap source").precision.value == 2.0
    ours = next(f for f in report["figures"] if (f["metric"], f["layer"], f["label"]) == ("token_overlap",
                                                                                           "speaker", None))
    assert (ours["precision"]["value"], ours["recall"]["value"]) == (1.0, 1.0)
    # GGT's speakers (indep) is all pairs (P 2/1); our attribution by mention aligns quotes first.
    assert published.figure("GGT speakers (indep)").precision.value == 2.0


def test_cli_without_the_flag_writes_no_published_key(tmp_path: Path):
    gold, pred, out = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl", tmp_path / "report.json"
    write_documents(gold, [GOLD])
    write_documents(pred, [PRED])
    done = run_cli("evaluate", "--gold", str(gold), "--pred", str(pred), "--resamples", "5", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "published" not in json.loads(out.read_text(encoding="utf-8"))
    assert "As published" not in done.stdout


def test_cli_with_the_flag_still_fails_in_one_line(tmp_path: Path):
    gold = tmp_path / "gold.jsonl"
    write_documents(gold, [GOLD])
    done = run_cli("evaluate", "--gold", str(gold), "--pred", str(tmp_path / "missing.jsonl"), "--published")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "missing.jsonl: no such file" in done.stderr
