"""Extractor figures as two published quote extractors compute them, so others can compare with their papers.

Our own definitions (``exports.evaluate`` through the comparison core ``exports.compare``: one-to-one
alignment, tokens counted once) stay the headline; these figures reproduce the published scoring code,
quirks included, under its names:

- Citron (BBC News Labs, github bbc/citron, commit 1937f2c9ec6e30f6834d2077c33e50abd3f96b87, 2021-12-14),
  ``citron/metrics.py`` (``evaluate`` and the ``get_*`` functions it calls), with ``citron/utils.py``
  (span overlap and equality) and ``citron/data.py`` (``CitronParser._get_span``: character offsets to tokens);
  run by ``scripts/evaluate/citron_evaluate.py``;
- the Gender Gap Tracker (SFU Discourse Lab, github sfu-discourse-lab/GenderGapTracker, commit
  5501de31e8598e18ace47982220e91961ca5460a, 2024-02-02), ``nlp/english/evaluation/src/evaluate_quotes.py``
  (``compare_res``, ``find_best_match_quote``, ``compare_quotes``, ``calc_index_match_score``) and
  ``nlp/english/evaluation/src/evaluate.py`` (``process_quote_data``, ``compare_speakers_and_verbs``).

Both pool counts over all documents (sums, then ratios: no per-document averaging), so the counts of each
(gold, predicted) pair are added as the pairs stream past (``PublishedCounts.add``); nothing is kept per
document. Where a denominator is zero we give None (n/a); Citron prints 0.0, the GGT divides by zero.
Checked against the upstream functions themselves on PolNeAR dev (Citron's on ``annotate export citron``
files read by its own parser with spaCy tokens; the GGT's on the quotes with one content fragment): every
figure equal.

How our documents become theirs: a Citron quote is a quote with a cue (Citron requires one; quotes without
a cue are left out and counted, as ``annotate export citron`` leaves them out), its speaker mention as its one
source (none without a mention) and its content fragments as its contents, in text order. A GGT quote is a
quote's content (GGT has one character range per quote; with several fragments we use the characters of all
of them, which equals the range for one fragment), its speaker mention (``speaker_index``, empty without a
mention) and its cue (``verb``, ``verb_index``; empty without a cue). Our documents carry no "floating quote"
flag, so GGT's second speaker condition (floating prediction, gold without speaker) never applies.

Tokens (Citron counts spaCy ``en_core_web_sm`` tokens): ``TOKEN_PATTERN`` tokens (``pattern_tokens``)
by default, because a spaCy model cannot be downloaded here. The two differ: spaCy keeps "U.S.", "10,000",
"5.00" and URLs as one token and splits "don't" into do/n't (ours: U . S ., 10 , 000, don ' t), and makes a
token of whitespace other than one space (a paragraph break). Counts change more than ratios: on PolNeAR
dev (baseline extractor) no Citron figure moved by more than 0.012. spaCy's rule-based English tokenizer
needs no model (``spacy.blank("en")``): pass it as ``tokenise`` for Citron's tokens. A character maps to
the token it is in or, between tokens, to the token before (Citron's index gives each token its trailing
whitespace); a span runs from its first character's token to its last character's token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exports.evaluation_inputs import Located, read_gold, read_jsonl
from exports.units import TOKEN_PATTERN
from schemas import AnnotatedDocument, ToolkitError

Tokenise = Callable[[str], tuple[np.ndarray, np.ndarray]]  # text -> (starts, ends) of its tokens, code points
Range = tuple[int, int]  # half-open: token indices (Citron) or code points (GGT)

GGT_THRESHOLDS = (0.3, 0.8)  # evaluate.py and evaluate_quotes.py: ``quote_match_thresholds = [0.3, 0.8]``


def pattern_tokens(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the ``TOKEN_PATTERN`` tokens of one article's text (the tokens of
    ``exports.units.token_spans``, which sets up a table of all code points per call: built for one text
    of all articles, several times slower than ``finditer`` on one article)."""
    bounds = np.array([m.span() for m in TOKEN_PATTERN.finditer(text)], dtype=np.int64).reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


# ---------------------------------------------------------------- counts

@dataclass(frozen=True)
class Counts:
    """Additive counts of one figure: precision = correct_pred / n_pred, recall = correct_gold / n_gold;
    ``speaker_right`` and ``verb_right`` count GGT's matched quotes with the right speaker and verb."""

    correct_pred: int = 0
    n_pred: int = 0
    correct_gold: int = 0
    n_gold: int = 0
    speaker_right: int = 0
    verb_right: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def _overlap(a: Range, b: Range) -> int:
    """Positions two ranges share (Citron's ``utils.get_overlap`` is this, written with min and max)."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _ranges(ranges: Iterable[Range]) -> np.ndarray:
    return np.array(list(ranges), dtype=np.int64).reshape(-1, 2)


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) positions shared by every range of ``a`` and every range of ``b`` ((n, 2) arrays):
    ``_overlap`` for all pairs at once, as the published code's nested loops visit them."""
    return np.maximum(0, np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]))


def _length(ranges: np.ndarray) -> int:
    return int((ranges[:, 1] - ranges[:, 0]).sum())


# ---------------------------------------------------------------- Citron

@dataclass(frozen=True)
class CitronQuote:
    """A quote as Citron holds it: spaCy-style token ranges of its cue, sources and contents."""

    cue: Range
    sources: tuple[Range, ...]
    contents: tuple[Range, ...]


def citron_quotes(doc: AnnotatedDocument, starts: np.ndarray) -> tuple[list[CitronQuote], int]:
    """The document's quotes with a cue as ``CitronQuote``s (tokens starting at ``starts``), and how many
    quotes were left out for having no cue."""
    mentions = {m.id: m.span for m in doc.mentions}
    kept = [q for q in doc.quotes if q.cue is not None]
    sources = [mentions.get(q.speaker_mention_id or "") for q in kept]
    spans = [s for q, source in zip(kept, sources) for s in (q.cue, *([source] if source else []), *q.content)]
    # CitronParser._get_span: the token of the first character to the token of the last, plus one; a
    # character between tokens belongs to the token before (each spaCy token carries its trailing space).
    chars = np.array([(s.start, s.end - 1) for s in spans], dtype=np.int64).reshape(-1, 2)
    tokens = np.maximum(np.searchsorted(starts, chars, side="right") - 1, 0) + [0, 1]
    ranges = iter([(int(a), int(b)) for a, b in tokens])
    quotes = []
    for q, source in zip(kept, sources):
        cue = next(ranges)
        quotes.append(CitronQuote(cue, () if source is None else (next(ranges),),
                                  tuple(next(ranges) for _ in q.content)))
    return quotes, len(doc.quotes) - len(quotes)


def _citron_overlapping(pred: Range, gold: Range) -> bool:
    # utils.are_overlapping_spans: ``<=`` where ``<`` belongs, so a predicted cue that starts on the
    # token after the gold cue ends counts as overlapping it (reproduced).
    return pred[0] <= gold[1] and pred[1] > gold[0]


def _citron_exact(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote], key: Callable[[CitronQuote], object],
                  cues_match: Callable[[Range, Range], bool]) -> Counts:
    """Citron's exact-match loop: tp = predictions matching some gold quote, fp = the other predictions,
    fn = gold quotes no prediction matches; P = tp / (tp + fp), R = tp / (tp + fn). Two quotes match when
    their ``key``s are equal and ``cues_match(predicted cue, gold cue)``; grouping by key makes this the
    published all-pairs loop without visiting every pair."""
    def grouped(quotes: Sequence[CitronQuote]) -> dict[object, list[Range]]:
        groups: dict[object, list[Range]] = {}
        for q in quotes:
            groups.setdefault(key(q), []).append(q.cue)
        return groups

    gold_cues, pred_cues = grouped(gold), grouped(pred)
    tp = sum(1 for p in pred if any(cues_match(p.cue, cue) for cue in gold_cues.get(key(p), ())))
    fn = sum(1 for g in gold if not any(cues_match(cue, g.cue) for cue in pred_cues.get(key(g), ())))
    return Counts(tp, len(pred), tp, tp + fn)


def _any_cue(pred: Range, gold: Range) -> bool:
    return True


def citron_exact_cue(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote]) -> Counts:
    """Citron "Cue Span exact match" (``metrics.get_cue_exact_match_metrics``): a prediction is a true
    positive when its cue has the same tokens as some gold quote's cue.

    Quirk: matching is not one-to-one; two predictions with the cue of one gold quote are two true
    positives (precision and recall both rise), where our one-to-one alignment counts one."""
    return _citron_exact(gold, pred, lambda q: q.cue, _any_cue)


def citron_exact_source(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote]) -> Counts:
    """Citron "Source Spans exact match" (``metrics.get_source_exact_match_metrics``): true positive when
    the cues overlap (``utils.are_overlapping_spans``, see ``_citron_overlapping``) and the source lists are
    equal element by element in tokens (``utils.are_matching_span_lists``). Not one-to-one (as the cue's)."""
    return _citron_exact(gold, pred, lambda q: q.sources, _citron_overlapping)


def citron_exact_content(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote]) -> Counts:
    """Citron "Content Spans exact match" (``metrics.get_content_exact_match_metrics``): the cues overlap and
    the content lists are equal fragment by fragment in tokens. Not one-to-one; because equality is in
    tokens, fragments that differ only in whitespace or inside a token are equal."""
    return _citron_exact(gold, pred, lambda q: q.contents, _citron_overlapping)


def citron_exact_quote(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote]) -> Counts:
    """Citron "All Quote Spans exact match" (``metrics.get_quote_exact_match_metrics``): cue equal (not only
    overlapping), sources and contents equal. Not one-to-one."""
    return _citron_exact(gold, pred, lambda q: q, _any_cue)


CitronPart = Literal["cue", "sources", "contents"]


def citron_token_overlap(gold: Sequence[CitronQuote], pred: Sequence[CitronQuote], part: CitronPart) -> Counts:
    """Citron "overlap metrics" of one part (``metrics.get_quote_overlap_counts_and_lengths``,
    ``get_overlap_scores``): overlap = sum over every (predicted quote, gold quote) pair of the tokens their
    spans of that part share; P = overlap / predicted tokens, R = overlap / gold tokens, where the token
    counts are the sums of the spans' lengths of every quote.

    Quirk: there is no matching of quotes, and a token is counted once per pair of spans it lies in. A gold
    speaker mention that is the source of two gold quotes is counted twice in the gold length, and a
    predicted source over it overlaps both; nested or shared spans so push the figures away from ours
    (tokens counted once, ``exports.evaluate``'s token_overlap), precision even above 1."""
    def spans(q: CitronQuote) -> tuple[Range, ...]:
        return (q.cue,) if part == "cue" else q.sources if part == "sources" else q.contents

    # The sum over quote pairs of the sum over their span pairs is the sum over all span pairs.
    p, g = _ranges(s for q in pred for s in spans(q)), _ranges(s for q in gold for s in spans(q))
    overlap = int(_overlaps(p, g).sum())
    return Counts(overlap, _length(p), overlap, _length(g))


# ---------------------------------------------------------------- Gender Gap Tracker

@dataclass(frozen=True)
class GgtQuote:
    """A quote as the GGT's evaluation reads it: code-point ranges of the quote (``quote_index``), the speaker
    (``speaker_index``; None when empty) and the verb (``verb_index``), and the verb's text."""

    quote: tuple[Range, ...]
    speaker: Range | None
    verb_span: Range | None
    verb: str  # lower-cased and stripped, as compare_quotes compares it; "" without a cue


def ggt_quotes(doc: AnnotatedDocument) -> list[GgtQuote]:
    """The document's quotes as ``GgtQuote``s."""
    mentions = {m.id: m.span for m in doc.mentions}
    quotes = []
    for q in doc.quotes:
        speaker = mentions.get(q.speaker_mention_id or "")
        quotes.append(GgtQuote(tuple((c.start, c.end) for c in q.content),
                               None if speaker is None else (speaker.start, speaker.end),
                               None if q.cue is None else (q.cue.start, q.cue.end),
                               "" if q.cue is None else q.cue.text.lower().strip()))
    return quotes


def ggt_quote_match(gold: Sequence[GgtQuote], pred: Sequence[GgtQuote], threshold: float) -> Counts:
    """GGT "Quotes: <threshold>" with "Speaker match" and "Verb match" (``evaluate_quotes.compare_res``).

    Each gold quote in turn takes, among the predictions not yet taken, the one with the highest score
    |gold ∩ pred| / |gold| (characters, normalised by the GOLD length: ``calc_index_match_score``) if that
    score is strictly above ``threshold`` (first in order on ties): tp += 1, else fn += 1; fp = predictions
    never taken. P = tp / (tp + fp), R = tp / (tp + fn). Of the tp: speaker match when the speakers share a
    character (score > 0), verb match when the lower-cased stripped verb texts are equal (positions ignored;
    two empty verbs match); accuracy = matches / tp.

    Quirks: greedy in gold order, not an optimal one-to-one alignment; a prediction covering a whole
    paragraph scores 1 against any gold quote inside it (only the gold length counts); a taken prediction
    is removed with every prediction EQUAL to it (``q != best_quote`` on dicts), so duplicate predictions
    are one true positive and no false positive (reproduced). The published F1 is the harmonic mean of the
    percentages rounded to 3 decimals; ours is not rounded."""
    if not gold or not pred:
        return Counts(0, len(pred), 0, len(gold))
    score = _ggt_scores(gold, pred)
    twin = _equal_classes(pred)
    remaining = np.ones(len(pred), dtype=bool)
    tp = fn = speaker_right = verb_right = 0
    for i, g in enumerate(gold):
        candidates = np.where(remaining & (score[i] > threshold), score[i], -1.0)
        j = int(np.argmax(candidates))  # the first of the highest, as the published loop keeps the first
        if candidates[j] < 0:
            fn += 1
            continue
        remaining &= twin != twin[j]
        best = pred[j]
        tp += 1
        speaker_right += g.speaker is not None and best.speaker is not None and _overlap(g.speaker, best.speaker) > 0
        verb_right += g.verb == best.verb
    return Counts(tp, tp + int(remaining.sum()), tp, tp + fn, speaker_right, verb_right)


def _ggt_scores(gold: Sequence[GgtQuote], pred: Sequence[GgtQuote]) -> np.ndarray:
    """(G, P) |gold ∩ pred| / |gold| in characters (``calc_index_match_score``); fragments of one quote do not
    overlap, so summing their overlaps counts each character once."""
    def fragments(quotes: Sequence[GgtQuote]) -> tuple[np.ndarray, np.ndarray]:
        owner = np.array([n for n, q in enumerate(quotes) for _ in q.quote], dtype=np.int64)
        return _ranges(r for q in quotes for r in q.quote), owner

    (gf, g_owner), (pf, p_owner) = fragments(gold), fragments(pred)
    shared = np.zeros((len(gold), len(pred)), dtype=np.int64)
    np.add.at(shared, (g_owner[:, None], p_owner[None, :]), _overlaps(gf, pf))
    return shared / np.bincount(g_owner, weights=gf[:, 1] - gf[:, 0], minlength=len(gold))[:, None]


def _equal_classes(quotes: Sequence[GgtQuote]) -> np.ndarray:
    """(P,) the same number for equal quotes: what ``q != best_quote`` removes together."""
    first: dict[GgtQuote, int] = {}
    return np.array([first.setdefault(q, n) for n, q in enumerate(quotes)], dtype=np.int64)


def _ggt_independent(gold: Sequence[Range | None], pred: Sequence[Range | None]) -> Counts:
    # evaluate.compare_speakers_and_verbs: every (gold, predicted) pair whose spans share >= 2 characters
    # (has_coverage) is a true positive; the denominators count quotes that have a span at all.
    g, p = _ranges(r for r in gold if r is not None), _ranges(r for r in pred if r is not None)
    tp = int((_overlaps(g, p) >= 2).sum())
    return Counts(tp, len(p), tp, len(g))


def ggt_speakers_independent(gold: Sequence[GgtQuote], pred: Sequence[GgtQuote]) -> Counts:
    """GGT "Speakers (indep)" (``evaluate.compare_speakers_and_verbs``): tp = (gold quote, predicted quote)
    pairs whose speakers share at least 2 characters, whatever the quotes; P = tp / predicted quotes with a
    speaker, R = tp / gold quotes with a speaker.

    Quirk: all pairs, no matching: one predicted speaker span over the mention of three gold quotes is three
    true positives, so P and R can pass 1 (our attribution figures match quotes first)."""
    return _ggt_independent([g.speaker for g in gold], [p.speaker for p in pred])


def ggt_verbs_independent(gold: Sequence[GgtQuote], pred: Sequence[GgtQuote]) -> Counts:
    """GGT "Verbs (indep)": as ``ggt_speakers_independent`` with the verb (cue) spans; same quirk."""
    return _ggt_independent([g.verb_span for g in gold], [p.verb_span for p in pred])


# ---------------------------------------------------------------- the result

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ratio(_Model):
    numerator: int = Field(ge=0)
    denominator: int = Field(ge=0)
    value: float | None = Field(description="numerator / denominator; None when the denominator is 0.")

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Ratio:
        return cls(numerator=numerator, denominator=denominator,
                   value=numerator / denominator if denominator else None)


class PublishedFigure(_Model):
    """One figure named as the published code prints it."""

    name: str = Field(description='e.g. "citron token-overlap content", "GGT quote match @0.3".')
    source: Literal["citron", "ggt"]
    precision: Ratio | None = None
    recall: Ratio | None = None
    f1: float | None = None
    accuracy: Ratio | None = Field(default=None, description="GGT speaker and verb match: share of matched quotes.")


class PublishedFigures(_Model):
    """The published extractors' figures over all evaluated (gold, predicted) pairs, pooled."""

    pairs: int = Field(ge=0, description="(gold document, predicted document) pairs counted.")
    tokeniser: str = Field(description="Tokens of the Citron figures.")
    citron_left_out_gold: int = Field(ge=0, description="Gold quotes without a cue, which Citron cannot hold.")
    citron_left_out_pred: int = Field(ge=0)
    figures: list[PublishedFigure]

    def figure(self, name: str) -> PublishedFigure:
        """The figure of this name (KeyError if absent)."""
        for f in self.figures:
            if f.name == name:
                return f
        raise KeyError(name)


def _f1(precision: Ratio, recall: Ratio) -> float | None:
    p, r = precision.value, recall.value
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r else 0.0


def _prf(name: str, source: Literal["citron", "ggt"], c: Counts, swapped: bool = False) -> PublishedFigure:
    precision, recall = Ratio.of(c.correct_pred, c.n_pred), Ratio.of(c.correct_gold, c.n_gold)
    if swapped:
        precision, recall = recall, precision
    return PublishedFigure(name=name, source=source, precision=precision, recall=recall, f1=_f1(precision, recall))


CITRON_EXACT = {"cue": citron_exact_cue, "source": citron_exact_source, "content": citron_exact_content,
                "quote": citron_exact_quote}
CITRON_PARTS: dict[str, CitronPart] = {"cue": "cue", "source": "sources", "content": "contents"}


class PublishedCounts:
    """Counts of every published figure, added pair by pair (constant memory over any number of pairs)."""

    def __init__(self, tokenise: Tokenise = pattern_tokens) -> None:
        self.tokenise = tokenise
        self.pairs = 0
        self.left_out_gold = self.left_out_pred = 0
        self.counts: dict[str, Counts] = {}

    def _add(self, key: str, counts: Counts) -> None:
        self.counts[key] = self.counts.get(key, Counts()) + counts

    def add(self, gold: AnnotatedDocument, pred: AnnotatedDocument) -> None:
        """Count one gold document against the prediction of the same article (the same text)."""
        if gold.article.sha256 != pred.article.sha256:
            raise ToolkitError(f"article {gold.article.id!r}: the predicted document's text differs from the gold's; "
                               "pair documents of the same text only")
        self.pairs += 1
        starts, _ = self.tokenise(gold.article.text)
        (cg, out_g), (cp, out_p) = citron_quotes(gold, starts), citron_quotes(pred, starts)
        self.left_out_gold += out_g
        self.left_out_pred += out_p
        for name, exact in CITRON_EXACT.items():
            self._add(f"citron exact {name}", exact(cg, cp))
        for name, part in CITRON_PARTS.items():
            self._add(f"citron token-overlap {name}", citron_token_overlap(cg, cp, part))
        gg, gp = ggt_quotes(gold), ggt_quotes(pred)
        for threshold in GGT_THRESHOLDS:
            self._add(f"GGT quote match @{threshold}", ggt_quote_match(gg, gp, threshold))
        self._add("GGT speakers (indep)", ggt_speakers_independent(gg, gp))
        self._add("GGT verbs (indep)", ggt_verbs_independent(gg, gp))

    def figures(self, tokeniser: str) -> PublishedFigures:
        c = self.counts.get
        figures = [_prf(f"citron exact {name}", "citron", c(f"citron exact {name}", Counts())) for name in CITRON_EXACT]
        parts = [c(f"citron token-overlap {name}", Counts()) for name in CITRON_PARTS]
        figures += [_prf(f"citron token-overlap {name}", "citron", counts) for name, counts in zip(CITRON_PARTS, parts)]
        # metrics.evaluate passes the quote totals as (overlaps, actual, predicted) where get_overlap_scores
        # takes (overlaps, predicted, actual): its "All Quote Spans overlap" precision is the recall and the
        # other way round (reproduced; the F1 is the same).
        figures.append(_prf("citron token-overlap quote", "citron", sum(parts, Counts()), swapped=True))
        for threshold in GGT_THRESHOLDS:
            counts = c(f"GGT quote match @{threshold}", Counts())
            figures.append(_prf(f"GGT quote match @{threshold}", "ggt", counts))
            figures.append(PublishedFigure(name=f"GGT speaker match @{threshold}", source="ggt",
                                           accuracy=Ratio.of(counts.speaker_right, counts.correct_gold)))
            figures.append(PublishedFigure(name=f"GGT verb match @{threshold}", source="ggt",
                                           accuracy=Ratio.of(counts.verb_right, counts.correct_gold)))
        figures += [_prf(name, "ggt", c(name, Counts())) for name in ("GGT speakers (indep)", "GGT verbs (indep)")]
        return PublishedFigures(pairs=self.pairs, tokeniser=tokeniser, citron_left_out_gold=self.left_out_gold,
                                citron_left_out_pred=self.left_out_pred, figures=figures)


def published_figures(pairs: Iterable[tuple[AnnotatedDocument, AnnotatedDocument]], *,
                      tokenise: Tokenise = pattern_tokens,
                      tokeniser: str = f"TOKEN_PATTERN {TOKEN_PATTERN.pattern}") -> PublishedFigures:
    """Every published figure over a stream of (gold, predicted) pairs of the same article."""
    counts = PublishedCounts(tokenise)
    for gold, pred in pairs:
        counts.add(gold, pred)
    return counts.figures(tokeniser)


def evaluated_pairs(gold: Iterable[Located], pred: Iterable[Located]) -> Iterator[tuple[AnnotatedDocument,
                                                                                       AnnotatedDocument]]:
    """(gold, prediction) of the same article id and text, every gold document with the article's one
    prediction, as ``exports.evaluate`` pairs them; the others are listed by the evaluation, not here."""
    by_id: dict[str, Located] = {}
    for located in pred:
        earlier = by_id.setdefault(located.doc.article.id, located)
        if earlier is not located:
            raise ToolkitError(f"{located.where}: a second prediction of article {located.doc.article.id!r} (first "
                               f"at {earlier.where}); evaluate one prediction per article")
    for located in gold:
        match = by_id.get(located.doc.article.id)
        if match is not None and match.doc.article.sha256 == located.doc.article.sha256:
            yield located.doc, match.doc


def published_figures_of_files(gold: Path, pred: Path, split: str | None = None) -> PublishedFigures:
    """``annotate evaluate --published``: the gold (release folder or JSONL) against a JSONL of predictions."""
    gold_docs, _ = read_gold(gold, split)
    return published_figures(evaluated_pairs(gold_docs, read_jsonl(pred, "--pred")))
