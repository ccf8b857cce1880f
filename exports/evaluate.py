"""Evaluate predicted AnnotatedDocuments against gold ones: how good is an extractor?

Pairing: each prediction is matched to the gold by article id AND text (sha256). A prediction whose article
is not in the gold, or whose text differs, is not evaluated but listed in the report; gold articles without a
prediction are listed too. An article may have several gold documents (one per annotator): every
(article, gold document) pair is evaluated, see ``MULTIPLE_GOLD_POLICY``.

Figures, all from additive statistics per pair (so the corpus, each annotator and each bootstrap resample
are sums of the same rows):

- spans of the layers quote content, cue, speaker mention and claim, through the one comparison core
  (``exports.compare``: ``extract_units``, ``align``, ``tally``) under the SemEval-2013 schemes as
  nervaluate defines them (strict, exact, partial with half credit, type) and plain overlap; per label both
  sides are first filtered to the label, as nervaluate's per-entity results (so per label, exact equals
  strict and partial aligns only units of that label);
- token overlap as the Citron quote extractor reports it: a predicted token is correct if it lies inside
  any gold span of the layer, a gold token is found if it lies inside any predicted span (``TOKEN_PATTERN``
  tokens, a span covering every token it touches); per label, the label's tokens on one side against all
  spans of the other;
- attribution: gold quotes found (one-to-one overlap alignment, the same alignment as the overlap scheme)
  with the right speaker, as accuracy over found quotes and as end-to-end P/R/F1 (found AND right);
  "right" by speaker entity id (slugs of canonical names, "no speaker" is a value) and, because entity ids
  of different sources need not agree, also by overlapping speaker mention spans;
- stance: items (holder entity, target, polarity) per class, macro-F1 over favor/against/neutral and
  F_avg, the mean F1 of favor and against (SemEval-2016 Task 6);
- claims: the claim layer's span figures; its label "yes" is the check-worthy class.

Intervals: percentile bootstrap over articles (``exports.metrics.bootstrap_ci``). Ceilings: the gold's
human agreement (an ``AgreementReport``) for the figures it has an equal measure of.

Streaming (``exports.evaluation_stream``): the predictions are read a chunk at a time (a JSONL in byte ranges, in
worker processes), each chunk joined with its gold documents and reduced to those per-pair rows, summed per
article; the documents are then let go. The figures come from the rows at the end, the same for any chunk size
and any number of workers. The units and the columns of the rows are ``exports.evaluation_units``'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from exports.agreement_report import AgreementReport, BootstrapSettings, read_agreement_report
from exports.compare import TOKEN_PATTERN
from exports.evaluation_inputs import (
    RANGE_BYTES,
    GoldArticles,
    InputInfo,
    Located,
    gold_articles,
    no_documents,
    release_agreement,
)
from exports.evaluation_report import (
    AnnotatorEvaluation,
    Ceiling,
    Estimate,
    EvaluationReport,
    Figure,
    InputSummary,
)
from exports.evaluation_stream import CHUNK, Pairing, Rows, resample_sums, score_file, score_located
from exports.evaluation_units import POLARITIES, STATISTICS, Statistic
from exports.evaluation_workers import no_gc
from exports.metrics import percentile_interval
from schemas import AnnotatedDocument, ToolkitError

__all__ = ["EvaluationReport", "compute_evaluation", "evaluate_files"]

F_AVG_CLASSES = (POLARITIES.index("favor"), POLARITIES.index("against"))

# Agreement figures that measure the same thing between two annotators: (metric, scheme, per label) -> key.
_SPAN_CEILINGS = {("exact", False): "f1_exact", ("overlap", False): "f1_overlap",
                  ("strict", True): "f1_exact", ("exact", True): "f1_exact", ("type", True): "f1_overlap"}

StatisticFunction = Callable[[np.ndarray], np.ndarray]  # (R, K) summed statistics -> (R,) values


# --- statistics --------------------------------------------------------------------------------------------
# PRF statistics have four columns: correct predicted, predicted, correct gold, gold (attribution adds the
# found gold quotes); stance summaries have (tp, predicted, gold) per polarity.


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _precision(s: np.ndarray) -> np.ndarray:
    return _ratio(s[:, 0], s[:, 1])


def _recall(s: np.ndarray) -> np.ndarray:
    return _ratio(s[:, 2], s[:, 3])


def _f1(s: np.ndarray) -> np.ndarray:
    """Harmonic mean of P and R, an undefined one counting 0; undefined only when neither side has anything.

    With equal numerators (spans) this is 2 tp / (predicted + gold), nervaluate's figure.
    """
    p, r = np.nan_to_num(_precision(s)), np.nan_to_num(_recall(s))
    f1 = _ratio(2 * p * r, p + r)
    return np.where(s[:, 1] + s[:, 3] > 0, np.nan_to_num(f1), np.nan)


def _accuracy(s: np.ndarray) -> np.ndarray:
    return _ratio(s[:, 2], s[:, 4])


def _class_f1(s: np.ndarray) -> np.ndarray:
    """(R, 3 * C) stance statistics -> (R, C) F1 per polarity; NaN for a polarity on neither side."""
    tp, predicted, gold = s[:, 0::3], s[:, 1::3], s[:, 2::3]
    return _ratio(2 * tp, predicted + gold)


def _macro_f1(s: np.ndarray) -> np.ndarray:
    f1 = _class_f1(s)
    defined = np.isfinite(f1)
    return _ratio(np.where(defined, f1, 0).sum(axis=1), defined.sum(axis=1))


def _f_avg(s: np.ndarray) -> np.ndarray:
    return _class_f1(s)[:, F_AVG_CLASSES].mean(axis=1)  # NaN unless favor and against both occur


_SUMMARIES: dict[str, StatisticFunction] = {"macro_f1": _macro_f1, "f_avg": _f_avg}


def _counts(stat: Statistic, s: np.ndarray) -> tuple[int, int, float, float]:
    """(gold, predicted, correct gold, correct predicted) of one figure's summed statistics (K,)."""
    if stat.summary is not None:
        return int(s[2::3].sum()), int(s[1::3].sum()), float(s[0::3].sum()), float(s[0::3].sum())
    return int(round(s[3])), int(round(s[1])), float(s[2]), float(s[0])


# --- figures -----------------------------------------------------------------------------------------------


def _value(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _ceiling(stat: Statistic, agreement: AgreementReport | None) -> Ceiling | None:
    if agreement is None:
        return None
    if stat.metric == "span":
        key, of = _SPAN_CEILINGS.get((stat.scheme or "", stat.label is not None)), "f1"
    elif stat.metric == "attribution_entity":
        key, of = "attribution_agreement", "accuracy"
    else:
        return None
    if key is None:
        return None
    try:
        f = agreement.figure(key, stat.layer, stat.label)
    except KeyError:
        return None
    name = " ".join(x for x in (key, stat.layer, stat.label) if x)
    return Ceiling(metric=name, of=of, value=f.value, ci_low=f.ci_low, ci_high=f.ci_high, n=f.n)


def _figure(stat: Statistic, total: np.ndarray, resampled: np.ndarray | None = None, confidence: float = 0.95,
            macro: float | None = None, ceiling: Ceiling | None = None) -> Figure:
    """The figure of summed statistics ``total`` (K,); with ``resampled`` (R, K), the sums of each bootstrap
    resample of the articles, percentile intervals."""

    def estimate(statistic: StatisticFunction) -> Estimate:
        value = _value(statistic(total[None, :])[0])
        ci = percentile_interval(statistic(resampled), confidence) if resampled is not None else None
        return Estimate(value=value, ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None)

    n_gold, n_pred, correct_gold, correct_pred = _counts(stat, total)
    common = dict(metric=stat.metric, layer=stat.layer, scheme=stat.scheme, label=stat.label, n_gold=n_gold,
                  n_pred=n_pred, correct_gold=correct_gold, correct_pred=correct_pred, f1_annotator_macro=macro,
                  ceiling=ceiling)
    if stat.summary is not None:
        return Figure(f1=estimate(_SUMMARIES[stat.summary]), **common)
    accuracy = estimate(_accuracy) if len(total) > 4 else None
    return Figure(precision=estimate(_precision), recall=estimate(_recall), f1=estimate(_f1), accuracy=accuracy,
                  **common)


def _evaluate(gold: GoldArticles, read: Callable[[Pairing, Rows], None], *, name: Callable[[object], str],
              pred_info: InputInfo, empty: ToolkitError | None, agreement: AgreementReport | None,
              ceiling_source: str | None, resamples: int, seed: int, confidence: float,
              workers: int | None) -> EvaluationReport:
    """``read`` pairs and scores the predictions into per-article rows; then the figures."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1; got {confidence}")
    pairing, rows = Pairing(gold, name), Rows()
    read(pairing, rows)
    if pairing.n_pred == 0 and empty is not None:
        raise empty
    unpredicted = pairing.finish()
    summed = rows.summed()
    totals = summed.article_rows.sum(axis=0, dtype=np.float64)
    resampled = resample_sums(summed.article_rows, resamples, seed, workers)
    corpus, by_annotator = [], [[] for _ in summed.annotators]
    for stat in STATISTICS:
        columns = list(stat.columns)
        annotator_figures = [_figure(stat, row[columns]) for row in summed.annotator_rows]
        for figures, figure in zip(by_annotator, annotator_figures):
            figures.append(figure)
        f1s = [f.f1.value for f in annotator_figures if f.f1.value is not None]
        corpus.append(_figure(stat, totals[columns], resampled[:, columns], confidence,
                              macro=float(np.mean(f1s)) if f1s else None, ceiling=_ceiling(stat, agreement)))
    return EvaluationReport(
        gold=InputSummary(path=gold.info.path, kind=gold.info.kind, release_version=gold.info.release_version,
                          split=gold.info.split, documents=gold.n_documents, articles=len(gold.texts),
                          annotators=gold.annotators),
        predictions=InputSummary(path=pred_info.path, kind=pred_info.kind, release_version=pred_info.release_version,
                                 split=pred_info.split, documents=pairing.n_pred, articles=len(pairing.seen),
                                 annotators=sorted(pairing.annotators)),
        tokeniser=TOKEN_PATTERN.pattern,
        bootstrap=BootstrapSettings(resamples=resamples, seed=seed, confidence=confidence),
        articles_evaluated=len(summed.article_ids),
        pairs_evaluated=summed.n_pairs,
        ceiling_source=ceiling_source,
        figures=corpus,
        annotators=[AnnotatorEvaluation(annotator=name, articles=n, figures=figures)
                    for name, n, figures in zip(summed.annotators, summed.annotator_articles, by_annotator)],
        unmatched_predictions=pairing.unmatched,
        unpredicted_articles=unpredicted,
    )


def compute_evaluation(gold: Sequence[Located | AnnotatedDocument], pred: Sequence[Located | AnnotatedDocument], *,
                       gold_info: InputInfo | None = None, pred_info: InputInfo | None = None,
                       agreement: AgreementReport | None = None, ceiling_source: str | None = None,
                       resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
                       chunk: int = CHUNK) -> EvaluationReport:
    """Evaluate ``pred`` against ``gold`` (documents, or documents with where they were read), ``chunk``
    predictions at a time (the figures do not depend on it)."""
    gold = [g if isinstance(g, Located) else Located(f"gold document {i}", g) for i, g in enumerate(gold)]
    pred = [d if isinstance(d, Located) else Located(f"predicted document {i}", d) for i, d in enumerate(pred)]
    with no_gc():
        held = GoldArticles.held(gold, gold_info or InputInfo("(in memory)"))
        return _evaluate(held, lambda pairing, rows: score_located(held, pred, pairing, rows, chunk), name=str,
                         pred_info=pred_info or InputInfo("(in memory)"), empty=None, agreement=agreement,
                         ceiling_source=ceiling_source, resamples=resamples, seed=seed, confidence=confidence,
                         workers=1)


def evaluate_files(gold: Path, pred: Path, *, agreement: Path | None = None, split: str | None = None,
                   resamples: int = 1000, seed: int = 0, workers: int | None = None,
                   range_bytes: int = RANGE_BYTES) -> EvaluationReport:
    """``annotate evaluate``: the gold (a release folder or a JSONL) against a JSONL of predictions, streamed.

    Both JSONL files are read in byte ranges of ``range_bytes`` by up to ``workers`` worker processes (default:
    one per CPU); the figures do not depend on either. The human ceiling comes from ``agreement``, else from the
    agreement report a release carries. Errors are those of reading everything first: a bad gold line before any
    other problem; a missing --pred file and a bad --agreement report before the predictions are read.
    """
    with no_gc():
        gold_docs = gold_articles(gold, split, workers)
        if not pred.is_file():
            raise ToolkitError(f"--pred {pred}: no such file; give a JSONL file of AnnotatedDocument, one per line")
        if agreement is None and gold.is_dir():
            agreement = release_agreement(gold)
        report = read_agreement_report(agreement) if agreement is not None else None
        return _evaluate(gold_docs, lambda pairing, rows: score_file(gold_docs, pred, pairing, rows, workers,
                                                                     range_bytes),
                         name=lambda line: f"{pred}:{line}", pred_info=InputInfo(str(pred)),
                         empty=no_documents(pred, "--pred"), agreement=report,
                         ceiling_source=str(agreement) if agreement is not None else None, resamples=resamples,
                         seed=seed, confidence=0.95, workers=workers)
