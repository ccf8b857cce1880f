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

Streaming (``exports.evaluation_stream``): the predictions are read ``chunk`` at a time, each chunk joined with
its gold documents and reduced to those per-pair rows, summed per article; the documents are then let go. The
figures come from the rows at the end, the same for any chunk size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exports.agreement_report import AgreementReport, BootstrapSettings, read_agreement_report
from exports.compare import (
    EXACT,
    OVERLAP,
    PARTIAL,
    STRICT,
    TOKEN_PATTERN,
    TYPE,
    Alignment,
    Boundary,
    Layer,
    Scheme,
    Tokens,
    Units,
    align,
    concat_ranges,
    extract_layers,
    tally,
)
from exports.evaluation_inputs import (
    GoldArticles,
    HeldGold,
    InputInfo,
    Located,
    gold_articles,
    iter_jsonl,
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
from exports.evaluation_stream import CHUNK, Chunk, Pairing, Rows, resample_sums
from exports.metrics import percentile_interval
from schemas import AnnotatedDocument, Polarity, ToolkitError

__all__ = ["EvaluationReport", "compute_evaluation"]

SPAN_LAYERS = (Layer.QUOTE, Layer.CUE, Layer.SPEAKER, Layer.CLAIM)
OVERALL_SCHEMES = (STRICT, EXACT, PARTIAL, TYPE, OVERLAP)
# Per label both sides are filtered to the label (nervaluate's per-entity results): exact boundaries on
# filtered units are strict, and partial aligns only units of the label.
PARTIAL_TYPED = Scheme("partial", Boundary.OVERLAP, typed=True, partial_credit=PARTIAL.partial_credit)
LABEL_SCHEMES = {"strict": STRICT, "exact": STRICT, "partial": PARTIAL_TYPED, "type": TYPE}
POLARITIES = tuple(p.value for p in Polarity)
F_AVG_CLASSES = (POLARITIES.index("favor"), POLARITIES.index("against"))

# Agreement figures that measure the same thing between two annotators: (metric, scheme, per label) -> key.
_SPAN_CEILINGS = {("exact", False): "f1_exact", ("overlap", False): "f1_overlap",
                  ("strict", True): "f1_exact", ("exact", True): "f1_exact", ("type", True): "f1_overlap"}

Statistic = Callable[[np.ndarray], np.ndarray]  # (R, K) summed statistics -> (R,) values


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


@dataclass(frozen=True)
class _Source:
    """One figure's keys and its additive statistics per pair."""

    metric: str
    layer: str
    scheme: str | None
    label: str | None
    per_pair: np.ndarray  # (P, K)
    summary: Statistic | None = None  # stance summaries: one value, no P/R

    def counts(self, s: np.ndarray) -> tuple[int, int, float, float]:
        """(gold, predicted, correct gold, correct predicted) of summed statistics (K,)."""
        if self.summary is not None:
            return int(s[2::3].sum()), int(s[1::3].sum()), float(s[0::3].sum()), float(s[0::3].sum())
        return int(round(s[3])), int(round(s[1])), float(s[2]), float(s[0])


def _prf(metric: str, layer: str, scheme: str | None, label: str | None, correct_pred: np.ndarray,
         n_pred: np.ndarray, correct_gold: np.ndarray, n_gold: np.ndarray, *extra: np.ndarray) -> _Source:
    columns = [correct_pred, n_pred, correct_gold, n_gold, *extra]
    return _Source(metric, layer, scheme, label, np.column_stack(columns).astype(np.float64))


# --- sources -----------------------------------------------------------------------------------------------


def _span_sources(p: Chunk, units: Units) -> tuple[list[_Source], Alignment]:
    """Every scheme over all labels and, for labelled layers, per label; and the overlap alignment."""
    cache: dict[tuple[Boundary, bool], Alignment] = {}

    def aligned(scheme: Scheme) -> Alignment:
        key = (scheme.boundary, scheme.typed)
        if key not in cache:
            cache[key] = align(units, p.pairs, boundary=scheme.boundary, typed=scheme.typed)
        return cache[key]

    layer = units.layer.value
    sources = []
    for scheme in OVERALL_SCHEMES:
        t = tally(units, p.pairs, aligned(scheme), scheme)
        credit = t.credit.sum(axis=1)
        sources.append(_prf("span", layer, scheme.name, None, credit, t.n_right.sum(axis=1), credit,
                            t.n_left.sum(axis=1)))
    if len(units.labels) > 1:
        for name, scheme in LABEL_SCHEMES.items():
            t = tally(units, p.pairs, aligned(scheme), scheme)
            for col, label in enumerate(t.labels):
                sources.append(_prf("span", layer, name, label, t.credit[:, col], t.n_right[:, col],
                                    t.credit[:, col], t.n_left[:, col]))
    return sources, aligned(OVERLAP)


def _token_sources(p: Chunk, units: dict[Layer, Units]) -> list[_Source]:
    """Citron's token overlap: tokens of one side inside the other side's spans, per layer and label."""
    tokens = Tokens.of(p.docs)
    first_token = tokens.token_offsets[tokens.doc_article]  # (D,) global index of each document's first token
    counts = tokens.token_offsets[tokens.doc_article + 1] - first_token
    doc_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    gold, pred = p.pairs[:, 0], p.pairs[:, 1]
    length = counts[gold]  # both documents of a pair have the same text
    pair_of = np.repeat(np.arange(len(p.pairs)), length)
    in_gold, in_pred = concat_ranges(doc_offsets[gold], length), concat_ranges(doc_offsets[pred], length)

    def covered(in_tokens: Units, keep: np.ndarray) -> np.ndarray:
        """(all documents' tokens,) bool: inside a kept unit's segment ("+1 at the start, -1 after the end")."""
        segments = keep[in_tokens.seg_unit]
        doc = in_tokens.doc[in_tokens.seg_unit[segments]]
        shift = doc_offsets[doc] - first_token[doc]
        size = int(doc_offsets[-1]) + 1
        edges = (np.bincount(in_tokens.seg_start[segments] + shift, minlength=size)
                 - np.bincount(in_tokens.seg_end[segments] + shift, minlength=size))
        return np.cumsum(edges)[:-1] > 0

    def per_pair(values: np.ndarray) -> np.ndarray:
        return np.bincount(pair_of, weights=values, minlength=len(p.pairs))

    sources = []
    for layer in SPAN_LAYERS:
        in_tokens = units[layer].in_tokens(tokens)
        every = covered(in_tokens, np.ones(len(in_tokens), dtype=bool))
        labels = [(None, every)]
        if len(in_tokens.labels) > 1:
            labels += [(label, covered(in_tokens, in_tokens.label == code))
                       for code, label in enumerate(in_tokens.labels)]
        for label, mine in labels:
            sources.append(_prf("token_overlap", layer.value, "token", label,
                                per_pair(mine[in_pred] & every[in_gold]), per_pair(mine[in_pred]),
                                per_pair(mine[in_gold] & every[in_pred]), per_pair(mine[in_gold])))
    return sources


def _speaker_spans(docs: Sequence[AnnotatedDocument], units: Units) -> tuple[np.ndarray, np.ndarray]:
    """(U,) start and end of each quote unit's speaker mention; -1 where the quote has none."""
    spans = {}
    for d, doc in enumerate(docs):
        mentions = {m.id: m.span for m in doc.mentions}
        for q in doc.quotes:
            span = mentions.get(q.speaker_mention_id or "")
            spans[d, q.id] = (span.start, span.end) if span else (-1, -1)
    pairs = np.array([spans[d, ref] for d, ref in zip(units.doc.tolist(), units.ref)], dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _attribution_sources(p: Chunk, units: Units, overlap: Alignment) -> list[_Source]:
    """Found gold quotes (overlap alignment) with the right speaker: by entity and by mention span."""
    n_pairs = len(p.pairs)
    per_doc = np.bincount(units.doc, minlength=len(p.docs))
    n_gold, n_pred = per_doc[p.pairs[:, 0]], per_doc[p.pairs[:, 1]]
    found = np.bincount(overlap.pair, minlength=n_pairs)
    speaker = units.attributes["speaker"]
    same_entity = np.array([speaker[g] == speaker[r] for g, r in zip(overlap.left.tolist(), overlap.right.tolist())],
                           dtype=bool)
    start, end = _speaker_spans(p.docs, units)
    gs, ge, ps, pe = start[overlap.left], end[overlap.left], start[overlap.right], end[overlap.right]
    neither = (gs < 0) & (ps < 0)
    same_mention = neither | ((gs >= 0) & (ps >= 0) & (np.maximum(gs, ps) < np.minimum(ge, pe)))
    sources = []
    for metric, right in (("attribution_entity", same_entity), ("attribution_mention", same_mention)):
        correct = np.bincount(overlap.pair, weights=right.astype(np.float64), minlength=n_pairs)
        sources.append(_prf(metric, Layer.QUOTE.value, None, None, correct, n_pred, correct, n_gold, found))
    return sources


def _stance_sources(p: Chunk) -> list[_Source]:
    """(holder, target, polarity) items compared as sets, per polarity: tp, predicted, gold."""
    stats = np.zeros((len(p.pairs), 3 * len(POLARITIES)))
    for i, (g, r) in enumerate(p.pairs.tolist()):
        gold = {(s.holder_entity_id, s.target_id, s.polarity.value) for s in p.docs[g].stances}
        pred = {(s.holder_entity_id, s.target_id, s.polarity.value) for s in p.docs[r].stances}
        for c, polarity in enumerate(POLARITIES):
            g_c = {item for item in gold if item[2] == polarity}
            p_c = {item for item in pred if item[2] == polarity}
            stats[i, 3 * c : 3 * c + 3] = len(g_c & p_c), len(p_c), len(g_c)
    sources = [_prf("stance", "stance", None, polarity, stats[:, 3 * c], stats[:, 3 * c + 1], stats[:, 3 * c],
                    stats[:, 3 * c + 2]) for c, polarity in enumerate(POLARITIES)]
    sources.append(_Source("stance_macro_f1", "stance", None, None, stats, summary=_macro_f1))
    sources.append(_Source("stance_f_avg", "stance", None, None, stats, summary=_f_avg))
    return sources


# --- figures -----------------------------------------------------------------------------------------------


def _value(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _ceiling(source: _Source, agreement: AgreementReport | None) -> Ceiling | None:
    if agreement is None:
        return None
    if source.metric == "span":
        key, of = _SPAN_CEILINGS.get((source.scheme or "", source.label is not None)), "f1"
    elif source.metric == "attribution_entity":
        key, of = "attribution_agreement", "accuracy"
    else:
        return None
    if key is None:
        return None
    try:
        f = agreement.figure(key, source.layer, source.label)
    except KeyError:
        return None
    name = " ".join(x for x in (key, source.layer, source.label) if x)
    return Ceiling(metric=name, of=of, value=f.value, ci_low=f.ci_low, ci_high=f.ci_high, n=f.n)


def _figure(source: _Source, total: np.ndarray, resampled: np.ndarray | None = None, confidence: float = 0.95,
            macro: float | None = None, ceiling: Ceiling | None = None) -> Figure:
    """The figure of summed statistics ``total`` (K,); with ``resampled`` (R, K), the sums of each bootstrap
    resample of the articles, percentile intervals."""

    def estimate(statistic: Statistic) -> Estimate:
        value = _value(statistic(total[None, :])[0])
        ci = percentile_interval(statistic(resampled), confidence) if resampled is not None else None
        return Estimate(value=value, ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None)

    n_gold, n_pred, correct_gold, correct_pred = source.counts(total)
    common = dict(metric=source.metric, layer=source.layer, scheme=source.scheme, label=source.label, n_gold=n_gold,
                  n_pred=n_pred, correct_gold=correct_gold, correct_pred=correct_pred, f1_annotator_macro=macro,
                  ceiling=ceiling)
    if source.summary is not None:
        return Figure(f1=estimate(source.summary), **common)
    accuracy = estimate(_accuracy) if len(total) > 4 else None
    return Figure(precision=estimate(_precision), recall=estimate(_recall), f1=estimate(_f1), accuracy=accuracy,
                  **common)



def _chunk_sources(chunk: Chunk) -> list[_Source]:
    """Every figure's statistics per (gold, prediction) pair of the chunk."""
    units = extract_layers(chunk.docs, SPAN_LAYERS)
    sources: list[_Source] = []
    overlap_quotes = None
    for layer in SPAN_LAYERS:
        layer_sources, overlap = _span_sources(chunk, units[layer])
        sources += layer_sources
        if layer is Layer.QUOTE:
            overlap_quotes = overlap
    sources += _token_sources(chunk, units)
    sources += _attribution_sources(chunk, units[Layer.QUOTE], overlap_quotes)
    sources += _stance_sources(chunk)
    return sources


def _evaluate(gold: GoldArticles, pred: Iterable[Located], *, pred_info: InputInfo, empty: ToolkitError | None,
              agreement: AgreementReport | None, ceiling_source: str | None, resamples: int, seed: int,
              confidence: float, chunk: int) -> EvaluationReport:
    """Stream ``pred`` past the gold chunk by chunk, keeping per-article rows; then the figures."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1; got {confidence}")
    pairing, rows = Pairing(gold), Rows()
    kinds: list[_Source] = []  # every chunk has the same figures, in the same order: keep the first's keys
    for c in pairing.chunks(pred, chunk):
        sources = _chunk_sources(c)
        kinds = kinds or [replace(s, per_pair=s.per_pair[:0]) for s in sources]
        rows.add(c, np.hstack([s.per_pair for s in sources]))
    if pairing.n_pred == 0 and empty is not None:
        raise empty
    gold.check_rest()
    unpredicted = pairing.finish()
    widths = np.array([s.per_pair.shape[1] for s in kinds])
    bounds = np.concatenate([[0], np.cumsum(widths)]).tolist()
    summed = rows.summed(int(bounds[-1]))
    totals = summed.article_rows.sum(axis=0, dtype=np.float64)
    resampled = resample_sums(summed.article_rows, resamples, seed)
    corpus, by_annotator = [], [[] for _ in summed.annotators]
    for source, lo, hi in zip(kinds, bounds, bounds[1:]):
        annotator_figures = [_figure(source, row[lo:hi]) for row in summed.annotator_rows]
        for figures, figure in zip(by_annotator, annotator_figures):
            figures.append(figure)
        f1s = [f.f1.value for f in annotator_figures if f.f1.value is not None]
        corpus.append(_figure(source, totals[lo:hi], resampled[:, lo:hi], confidence,
                              macro=float(np.mean(f1s)) if f1s else None, ceiling=_ceiling(source, agreement)))
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
    return _evaluate(HeldGold.of(gold, gold_info or InputInfo("(in memory)")), pred,
                     pred_info=pred_info or InputInfo("(in memory)"), empty=None, agreement=agreement,
                     ceiling_source=ceiling_source, resamples=resamples, seed=seed, confidence=confidence, chunk=chunk)


def evaluate_files(gold: Path, pred: Path, *, agreement: Path | None = None, split: str | None = None,
                   resamples: int = 1000, seed: int = 0, chunk: int = CHUNK) -> EvaluationReport:
    """``annotate evaluate``: the gold (a release folder or a JSONL) against a JSONL of predictions, streamed.

    A JSONL gold is indexed, not held (``IndexedGold``); a release folder is held. The human ceiling comes from
    ``agreement``, else from the agreement report a release carries. Errors are those of reading everything
    first: a bad gold line before any other problem; a missing --pred file and a bad --agreement report before
    the predictions are read.
    """
    gold_docs = gold_articles(gold, split)
    try:
        pred_docs = iter_jsonl(pred, "--pred")
        if agreement is None and gold.is_dir():
            agreement = release_agreement(gold)
        report = read_agreement_report(agreement) if agreement is not None else None
        return _evaluate(gold_docs, pred_docs, pred_info=InputInfo(str(pred)), empty=no_documents(pred, "--pred"),
                         agreement=report, ceiling_source=str(agreement) if agreement is not None else None,
                         resamples=resamples, seed=seed, confidence=0.95, chunk=chunk)
    except ToolkitError:
        gold_docs.check_all()  # reading the gold whole reports its first bad line before anything else
        raise
    finally:
        gold_docs.close()
