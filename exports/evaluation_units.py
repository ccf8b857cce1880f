"""The evaluation's units, read from validated document dicts (``exports.evaluation_read``) into columns
(``Docs``), and a chunk of (gold, prediction) pairs scored through the comparison core (``score``): one row of
statistics per pair, one column per count (``COLUMNS``), and the figures as sets of columns (``STATISTICS``).

``Docs`` holds what the figures read of a document and nothing else, as numpy columns with per-document
offsets: a gold of 100,000 documents is a few tens of MB, and the documents of a chunk are a slice of it. The
units are those of ``exports.units.extract_layers`` in the same order (quotes and their fragments, cues of the
quotes that have one, the mentions that are some quote's speaker, claims), with the quote attributes the
attribution needs (speaker entity as a code, speaker mention span); speaker codes are equal exactly when the
entity ids are, within one ``Speakers``.

Spans go through ``exports.compare`` (``overlapping`` once per layer, then ``align`` and ``tally`` for each
scheme). Token overlap counts ``TOKEN_PATTERN`` tokens as ``Units.in_tokens`` does (a segment covers every token
it touches), tokenising only the stretches of text some segment touches, together, by ``token_spans``: a
stretch ends at the end of a word, so its tokens are the whole text's there (the first maybe cut short, which
touches the same segments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from exports.compare import (
    EXACT,
    LAYER_LABELS,
    NO_VALUE,
    OVERLAP,
    PARTIAL,
    STRICT,
    TYPE,
    Boundary,
    Layer,
    Scheme,
    Units,
    align,
    concat_ranges,
    overlapping,
    tally,
    token_spans,
)
from schemas import Polarity

SPAN_LAYERS = (Layer.QUOTE, Layer.CUE, Layer.SPEAKER, Layer.CLAIM)
OVERALL_SCHEMES = (STRICT, EXACT, PARTIAL, TYPE, OVERLAP)
# Per label both sides are filtered to the label (nervaluate's per-entity results): exact boundaries on
# filtered units are strict, and partial aligns only units of the label.
PARTIAL_TYPED = Scheme("partial", Boundary.OVERLAP, typed=True, partial_credit=PARTIAL.partial_credit)
LABEL_SCHEMES = {"strict": STRICT, "exact": STRICT, "partial": PARTIAL_TYPED, "type": TYPE}
POLARITIES = tuple(p.value for p in Polarity)
_CODE = {layer: {label: n for n, label in enumerate(LAYER_LABELS[layer])} for layer in SPAN_LAYERS}
_EMPTY: frozenset = frozenset()


# --- columns and figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistic:
    """One figure: its keys and the columns of its additive statistics (PRF: correct predicted, predicted,
    correct gold, gold, and for attribution found gold quotes; stance summaries: (tp, predicted, gold) per
    polarity)."""

    metric: str
    layer: str
    scheme: str | None
    label: str | None
    columns: tuple[int, ...]
    summary: str | None = None  # "macro_f1" or "f_avg": one value, no P/R


COLUMNS: dict[tuple, int] = {}


def _column(*key: object) -> int:
    return COLUMNS.setdefault(key, len(COLUMNS))


def _statistics() -> list[Statistic]:
    """Every figure in report order. Counts shared by several figures are one column (the units of a layer,
    per label; the found quotes are the overlap scheme's credit)."""
    out = []
    for layer in SPAN_LAYERS:
        pred, gold = _column(layer, "pred"), _column(layer, "gold")
        for scheme in OVERALL_SCHEMES:
            credit = _column(layer, "credit", scheme.name)
            out.append(Statistic("span", layer.value, scheme.name, None, (credit, pred, credit, gold)))
        labels = LAYER_LABELS[layer]
        if len(labels) > 1:
            for name, scheme in LABEL_SCHEMES.items():
                for label in labels:
                    credit = _column(layer, "credit", scheme.name, label, scheme.typed)
                    pred_l, gold_l = _column(layer, "pred", label), _column(layer, "gold", label)
                    out.append(Statistic("span", layer.value, name, label, (credit, pred_l, credit, gold_l)))
    for layer in SPAN_LAYERS:
        labels = LAYER_LABELS[layer]
        for label in (None, *labels) if len(labels) > 1 else (None,):
            out.append(Statistic("token_overlap", layer.value, "token", label,
                                 tuple(_column(layer, "token", label, part) for part in range(4))))
    quote = Layer.QUOTE
    for metric in ("attribution_entity", "attribution_mention"):
        right = _column(metric)
        out.append(Statistic(metric, quote.value, None, None, (right, _column(quote, "pred"), right,
                                                             _column(quote, "gold"),
                                                             _column(quote, "credit", OVERLAP.name))))
    stance = [_column("stance", polarity, part) for polarity in POLARITIES for part in ("tp", "pred", "gold")]
    for c, polarity in enumerate(POLARITIES):
        tp, pred, gold = stance[3 * c : 3 * c + 3]
        out.append(Statistic("stance", "stance", None, polarity, (tp, pred, tp, gold)))
    out.append(Statistic("stance_macro_f1", "stance", None, None, tuple(stance), summary="macro_f1"))
    out.append(Statistic("stance_f_avg", "stance", None, None, tuple(stance), summary="f_avg"))
    return out


STATISTICS = _statistics()
WIDTH = len(COLUMNS)


# --- documents as columns ------------------------------------------------------------------------------------


class Speakers(dict):
    """Speaker entity id -> code, a new code for each new id: codes are equal exactly when ids are."""

    def code(self, name: str) -> int:
        return self.setdefault(name, len(self))


@dataclass(frozen=True)
class Spans:
    """One layer's units of some documents: units of document d are ``units[d]:units[d + 1]``, segments of
    unit u ``segs[u]:segs[u + 1]``."""

    units: np.ndarray  # (D + 1,)
    label: np.ndarray  # (U,) int8
    segs: np.ndarray  # (U + 1,)
    start: np.ndarray  # (S,) int32, as every position and code here: half the memory of int64
    end: np.ndarray  # (S,)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (U,) per unit

    def take(self, docs: np.ndarray) -> Spans:
        """The units of ``docs``, in that order."""
        counts = self.units[docs + 1] - self.units[docs]
        unit = concat_ranges(self.units[docs], counts)
        seg_counts = self.segs[unit + 1] - self.segs[unit]
        seg = concat_ranges(self.segs[unit], seg_counts)
        return Spans(_offsets(counts), self.label[unit], _offsets(seg_counts), self.start[seg], self.end[seg],
                     {k: v[unit] for k, v in self.extra.items()})

    def core(self, layer: Layer) -> Units:
        """The comparison core's ``Units`` (positions and labels; no ids, no attributes: nothing reads them)."""
        n_docs, n_units = len(self.units) - 1, len(self.label)
        return Units(layer, LAYER_LABELS[layer], n_docs, np.repeat(np.arange(n_docs), np.diff(self.units)),
                     self.label.astype(np.int64), (), {}, np.repeat(np.arange(n_units), np.diff(self.segs)),
                     self.start.astype(np.int64), self.end.astype(np.int64))


def _offsets(counts: np.ndarray | list[int]) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _concat_spans(parts: list[Spans]) -> Spans:
    units = [p.units[1:] - p.units[0] for p in parts]
    segs = [p.segs[1:] - p.segs[0] for p in parts]
    unit_base = np.cumsum([0] + [p.units[-1] - p.units[0] for p in parts])
    seg_base = np.cumsum([0] + [p.segs[-1] - p.segs[0] for p in parts])
    return Spans(np.concatenate([[0], *(u + b for u, b in zip(units, unit_base))]),
                 np.concatenate([p.label for p in parts]),
                 np.concatenate([[0], *(s + b for s, b in zip(segs, seg_base))]),
                 np.concatenate([p.start for p in parts]), np.concatenate([p.end for p in parts]),
                 {k: np.concatenate([p.extra[k] for p in parts]) for k in parts[0].extra})


@dataclass(frozen=True)
class Docs:
    """The units of ``SPAN_LAYERS`` and the stance items of some documents."""

    layers: dict[Layer, Spans]
    stances: list[frozenset]  # (D,) (holder, target, polarity) items

    def __len__(self) -> int:
        return len(self.stances)

    def take(self, docs: np.ndarray) -> Docs:
        """The documents ``docs``, in that order."""
        return Docs({layer: spans.take(docs) for layer, spans in self.layers.items()},
                    [self.stances[d] for d in docs.tolist()])

    @staticmethod
    def concat(parts: list[Docs]) -> Docs:
        return Docs({layer: _concat_spans([p.layers[layer] for p in parts]) for layer in SPAN_LAYERS},
                    [s for p in parts for s in p.stances])

    def recode(self, codes: np.ndarray) -> Docs:
        """The same documents with speaker code c replaced by ``codes[c]`` (a table's codes into another's)."""
        quote = self.layers[Layer.QUOTE]
        speaker = codes[quote.extra["speaker"]].astype(np.int32) if len(codes) else quote.extra["speaker"]
        extra = {**quote.extra, "speaker": speaker}
        return Docs({**self.layers, Layer.QUOTE: Spans(quote.units, quote.label, quote.segs, quote.start, quote.end,
                                                       extra)}, self.stances)


class DocsBuilder:
    """``Docs`` grown one validated document dict at a time."""

    def __init__(self, speakers: Speakers) -> None:
        self.speakers = speakers
        # per layer: units per document, label per unit, segments per unit, segment starts and ends
        self._cols = {layer: ([], [], [], [], []) for layer in SPAN_LAYERS}
        self._speaker: list[int] = []
        self._mention: list[int] = []  # start, end of each quote's speaker mention; -1, -1 for none
        self._stances: list[frozenset] = []

    def add(self, d: dict) -> None:
        mentions, quotes = d["mentions"], d["quotes"]
        mention_of = {m["id"]: m for m in mentions}
        counts, labels, fragments, starts, ends = self._cols[Layer.QUOTE]
        kind, code, speaker, mention = _CODE[Layer.QUOTE], self.speakers.code, self._speaker, self._mention
        counts.append(len(quotes))
        for q in quotes:
            content = q["content"]
            labels.append(kind[q["kind"]])
            fragments.append(len(content))
            for span in content:
                starts.append(span["start"])
                ends.append(span["end"])
            m = mention_of.get(q["speaker_mention_id"] or "")
            speaker.append(code(q["speaker_entity_id"] or (m["entity_id"] if m else None) or NO_VALUE))
            if m is None:
                mention += (-1, -1)
            else:
                mention += (m["span"]["start"], m["span"]["end"])
        cues = [q["cue"] for q in quotes if q["cue"] is not None]
        self._single(Layer.CUE, cues, ())
        said = {q["speaker_mention_id"] for q in quotes}
        self._single(Layer.SPEAKER, [m["span"] for m in mentions if m["id"] in said], ())
        claims = d["claims"]
        self._single(Layer.CLAIM, [c["span"] for c in claims], [_CODE[Layer.CLAIM][c["check_worthy"]] for c in claims])
        stances = d["stances"]
        self._stances.append(frozenset((s["holder_entity_id"], s["target_id"], s["polarity"].value) for s in stances)
                             if stances else _EMPTY)

    def _single(self, layer: Layer, spans: list[dict], labels) -> None:
        counts, label, _, starts, ends = self._cols[layer]
        counts.append(len(spans))
        label += labels
        for span in spans:
            starts.append(span["start"])
            ends.append(span["end"])

    def docs(self) -> Docs:
        layers = {}
        for layer, (counts, labels, fragments, starts, ends) in self._cols.items():
            n_units = len(starts) if layer is not Layer.QUOTE else len(fragments)
            extra = {}
            if layer is Layer.QUOTE:
                extra = {"speaker": np.array(self._speaker, dtype=np.int32),
                         "mention": np.array(self._mention, dtype=np.int32).reshape(-1, 2)}
            layers[layer] = Spans(_offsets(counts),
                                  np.array(labels, dtype=np.int8) if labels else np.zeros(n_units, dtype=np.int8),
                                  _offsets(fragments) if layer is Layer.QUOTE else np.arange(n_units + 1),
                                  np.array(starts, dtype=np.int32), np.array(ends, dtype=np.int32), extra)
        return Docs(layers, self._stances)


# --- scoring a chunk -----------------------------------------------------------------------------------------


def score(docs: Docs, pairs: np.ndarray, texts: list[str], pair_text: np.ndarray) -> np.ndarray:
    """(P, WIDTH) every column of each (gold, prediction) pair of ``docs``; the pair's article text is
    ``texts[pair_text[p]]``. A document belongs to the pairs of one article."""
    out = np.zeros((len(pairs), WIDTH))
    units = {layer: docs.layers[layer].core(layer) for layer in SPAN_LAYERS}
    overlap_quotes = None
    for layer in SPAN_LAYERS:
        overlap = _span_columns(out, layer, units[layer], pairs)
        if layer is Layer.QUOTE:
            overlap_quotes = overlap
    doc_text = np.zeros(len(docs), dtype=np.int64)
    doc_text[pairs[:, 0]], doc_text[pairs[:, 1]] = pair_text, pair_text
    first, last = _token_bounds(texts, doc_text, units)
    for layer in SPAN_LAYERS:
        _token_columns(out, layer, units[layer], pairs, first[layer], last[layer])
    _attribution_columns(out, docs.layers[Layer.QUOTE], pairs, overlap_quotes)
    _stance_columns(out, docs.stances, pairs)
    return out


def _span_columns(out: np.ndarray, layer: Layer, units: Units, pairs: np.ndarray):
    """Units and credit of every scheme, over all labels and per label; returns the overlap alignment."""
    candidates = overlapping(units, pairs)
    aligned = {}
    for scheme in (*OVERALL_SCHEMES, *LABEL_SCHEMES.values()):
        key = (scheme.boundary, scheme.typed)
        if key not in aligned:
            if len(units.labels) == 1 and (scheme.boundary, not scheme.typed) in aligned:
                aligned[key] = aligned[scheme.boundary, not scheme.typed]  # one label: typed is untyped
            else:
                aligned[key] = align(units, pairs, boundary=scheme.boundary, typed=scheme.typed,
                                     candidates=candidates)
    for scheme in OVERALL_SCHEMES:
        t = tally(units, pairs, aligned[scheme.boundary, scheme.typed], scheme)
        out[:, COLUMNS[layer, "credit", scheme.name]] = t.credit.sum(axis=1)
    out[:, COLUMNS[layer, "pred"]], out[:, COLUMNS[layer, "gold"]] = t.n_right.sum(axis=1), t.n_left.sum(axis=1)
    if len(units.labels) > 1:
        for scheme in {s.name: s for s in LABEL_SCHEMES.values()}.values():
            t = tally(units, pairs, aligned[scheme.boundary, scheme.typed], scheme)
            for col, label in enumerate(t.labels):
                out[:, COLUMNS[layer, "credit", scheme.name, label, True]] = t.credit[:, col]
                out[:, COLUMNS[layer, "pred", label]] = t.n_right[:, col]
                out[:, COLUMNS[layer, "gold", label]] = t.n_left[:, col]
    return aligned[OVERLAP.boundary, OVERLAP.typed]


_WORD = re.compile(r"\w").match  # the word characters of TOKEN_PATTERN and token_spans
_WORDS = re.compile(r"\w*").match
_GAP = 32  # segments closer than this share a stretch: fewer, longer stretches to tokenise
_MARGIN = 24  # characters a stretch goes on after its last segment: the rest of the word it ends in


def _token_bounds(texts: list[str], doc_text: np.ndarray, units: dict[Layer, Units]):
    """Per layer, (S,) the first token each segment touches and the token after the last (``Units.in_tokens``'s
    ``first`` and ``last``), as indices into the tokens of the touched stretches of ``texts``.

    A stretch must not end inside a word: a word that two stretches touched would be two tokens. So it goes on
    ``_MARGIN`` characters after its last segment, and stretches that then overlap are one; if a segment touches
    a word that goes on past its stretch (one longer than the margin: seen in the tokens, the character after
    the stretch kept as a probe), the stretches are widened to their words' ends instead (``_widened``). A
    stretch's first token may be cut short at its start, which still touches the same segments as the whole
    word.
    """
    layers = list(units)
    seg_text = np.concatenate([doc_text[units[layer].doc[units[layer].seg_unit]] for layer in layers])
    start = np.concatenate([units[layer].seg_start for layer in layers])
    end = np.concatenate([units[layer].seg_end for layer in layers])
    if len(start) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return {layer: empty for layer in layers}, {layer: empty for layer in layers}
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    stride = int(lengths.max()) + _GAP + _MARGIN + 2
    key = seg_text * stride + start
    order = np.argsort(key, kind="stable")
    reach = np.maximum.accumulate(seg_text[order] * stride + np.minimum(end + _MARGIN, lengths[seg_text])[order])
    opens = np.r_[True, key[order][1:] > reach[:-1] + _GAP]
    region = np.empty(len(order), dtype=np.int64)
    region[order] = np.cumsum(opens) - 1
    heads = np.flatnonzero(opens)
    lo, hi = key[order][heads], reach[np.r_[heads[1:] - 1, len(order) - 1]]
    text_of, a = np.divmod(lo, stride)
    b = hi - text_of * stride
    probe = (b < lengths[text_of]).astype(np.int64)
    tok_start, tok_end, base = _tokens(texts, text_of, a, b + probe)
    first_all, last_all = _bounds(tok_start, tok_end, start + (base - a)[region], end + (base - a)[region])
    # a segment's last token going on past its stretch's end (into the probe) is a word longer than the margin
    touched = last_all > first_all
    if (tok_end[last_all[touched] - 1] > (base + b - a)[region[touched]]).any():
        region, text_of, a, b = _widened(texts, region, text_of, a, b)
        tok_start, tok_end, base = _tokens(texts, text_of, a, b)
        first_all, last_all = _bounds(tok_start, tok_end, start + (base - a)[region], end + (base - a)[region])
    cuts = np.cumsum([0] + [len(units[layer].seg_start) for layer in layers])
    return ({layer: first_all[cuts[i]:cuts[i + 1]] for i, layer in enumerate(layers)},
            {layer: last_all[cuts[i]:cuts[i + 1]] for i, layer in enumerate(layers)})


def _bounds(tok_start: np.ndarray, tok_end: np.ndarray, start: np.ndarray, end: np.ndarray):
    """(first, last): the first token each segment touches and the token after its last, as in ``in_tokens``."""
    return np.searchsorted(tok_end, start, side="right"), np.searchsorted(tok_start, end, side="left")


def _tokens(texts: list[str], text_of: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Starts and ends of the tokens of the stretches ``texts[text_of][a:b]`` joined by "\n" (no token spans
    two), and where each stretch starts in the join."""
    pieces = [texts[t][x:y] for t, x, y in zip(text_of.tolist(), a.tolist(), b.tolist())]
    return (*token_spans("\n".join(pieces)), _offsets(b - a + 1)[:-1])


def _widened(texts: list[str], region: np.ndarray, text_of: np.ndarray, a: np.ndarray, b: np.ndarray):
    """The stretches each widened to the end of the word it ends in, those that then overlap made one."""
    merged, bounds = [], []
    for t, x, y in zip(text_of.tolist(), a.tolist(), b.tolist()):
        text = texts[t]
        if _WORD(text, y - 1):
            y = _WORDS(text, y).end()
        if bounds and bounds[-1][0] == t and x <= bounds[-1][2]:
            bounds[-1][2] = max(bounds[-1][2], y)
        else:
            bounds.append([t, x, y])
        merged.append(len(bounds) - 1)
    return (np.array(merged, dtype=np.int64)[region],
            *(np.array(column, dtype=np.int64) for column in zip(*bounds)))


def _token_columns(out: np.ndarray, layer: Layer, units: Units, pairs: np.ndarray, first: np.ndarray,
                   last: np.ndarray) -> None:
    """Citron's token overlap per pair: tokens covered by one side (or one label of it) and by the other side,
    from a sweep over the ends of both sides' segments in token positions."""
    n_labels = len(units.labels) if len(units.labels) > 1 else 1
    seg_doc = units.doc[units.seg_unit]
    seg_doc_offsets = np.searchsorted(seg_doc, np.arange(units.n_docs + 1))
    events = []
    for side in (0, 1):
        docs = pairs[:, side]
        counts = seg_doc_offsets[docs + 1] - seg_doc_offsets[docs]
        seg = concat_ranges(seg_doc_offsets[docs], counts)
        pair = np.repeat(np.arange(len(pairs)), counts)
        keep = last[seg] > first[seg]
        seg, pair = seg[keep], pair[keep]
        cls = side * n_labels + (units.label[units.seg_unit[seg]] if n_labels > 1 else np.zeros(len(seg), np.int64))
        events.append((pair, first[seg], cls, 1))
        events.append((pair, last[seg], cls, -1))
    pair = np.concatenate([e[0] for e in events])
    if len(pair) == 0:
        return
    position = np.concatenate([e[1] for e in events])
    cls = np.concatenate([e[2] for e in events])
    delta = np.concatenate([np.full(len(e[0]), e[3]) for e in events])
    key = pair * (int(position.max()) + 1) + position
    order = np.argsort(key, kind="stable")
    key, pair = key[order], pair[order]
    coverage = np.zeros((len(order), 2 * n_labels), dtype=np.int64)
    coverage[np.arange(len(order)), cls[order]] = delta[order]
    np.cumsum(coverage, axis=0, out=coverage)
    covered = coverage > 0  # on [position_i, position_i+1); nothing after a pair's last event
    length = np.r_[np.diff(key), 0]
    gold, pred = covered[:, :n_labels], covered[:, n_labels:]
    gold_any, pred_any = gold.any(axis=1), pred.any(axis=1)

    def per_pair(mask: np.ndarray) -> np.ndarray:
        return np.bincount(pair, weights=length * mask, minlength=len(pairs))

    labels = [None, *units.labels] if n_labels > 1 else [None]
    for c, label in enumerate(labels):
        mine_gold, mine_pred = (gold_any, pred_any) if label is None else (gold[:, c - 1], pred[:, c - 1])
        for part, mask in enumerate((mine_pred & gold_any, mine_pred, mine_gold & pred_any, mine_gold)):
            out[:, COLUMNS[layer, "token", label, part]] = per_pair(mask)


def _attribution_columns(out: np.ndarray, quotes: Spans, pairs: np.ndarray, overlap) -> None:
    """Found gold quotes (overlap alignment) with the right speaker: same entity code, or overlapping speaker
    mentions (or neither has one)."""
    speaker, mention = quotes.extra["speaker"], quotes.extra["mention"]
    same_entity = speaker[overlap.left] == speaker[overlap.right]
    (gs, ge), (ps, pe) = mention[overlap.left].T, mention[overlap.right].T
    same_mention = ((gs < 0) & (ps < 0)) | ((gs >= 0) & (ps >= 0) & (np.maximum(gs, ps) < np.minimum(ge, pe)))
    for metric, right in (("attribution_entity", same_entity), ("attribution_mention", same_mention)):
        out[:, COLUMNS[metric,]] = np.bincount(overlap.pair, weights=right.astype(np.float64), minlength=len(pairs))


def _stance_columns(out: np.ndarray, stances: list[frozenset], pairs: np.ndarray) -> None:
    """(holder, target, polarity) items compared as sets, per polarity: tp, predicted, gold."""
    columns = [[COLUMNS["stance", polarity, part] for part in ("tp", "pred", "gold")] for polarity in POLARITIES]
    for i, (g, r) in enumerate(pairs.tolist()):
        gold, pred = stances[g], stances[r]
        if not gold and not pred:
            continue
        for polarity, (tp, n_pred, n_gold) in zip(POLARITIES, columns):
            g_c = {item for item in gold if item[2] == polarity}
            p_c = {item for item in pred if item[2] == polarity}
            out[i, tp], out[i, n_pred], out[i, n_gold] = len(g_c & p_c), len(p_c), len(g_c)
