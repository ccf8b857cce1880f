"""The one comparison core: units of a layer, one-to-one alignment, scores.

Agreement (annotator vs annotator) and evaluation (gold vs prediction) compare two documents of
the same article the same way, so both use this module:

1. ``extract_layers`` (``extract_units`` for one layer) turns documents into columnar tables of
   the units of each ``Layer``; a unit is one or more half-open segments (a quote is its content
   fragments) with a label and attributes;
2. ``align`` pairs the units of the two documents of each document pair ONE-TO-ONE: candidates
   (``overlapping``) are unit pairs that overlap (``Boundary.OVERLAP``) or cover the same
   positions (``Boundary.EXACT``), optionally only with equal labels, and the assignment maximises
   the total overlap (``scipy.optimize.linear_sum_assignment``), with fixed tie-breakers so that
   neither the solver nor the order of the documents decides;
3. ``tally`` counts, per document pair and label, the units on each side and the credit of the
   matched pairs; ``Score`` turns the counts into precision, recall and F1.

A ``Scheme`` fixes boundary, typing and the credit of a non-exact match, so the SemEval-2013
schemes (strict, exact, partial, type) and plain overlap are one code path with four settings.

Everything runs on numpy arrays over all document pairs at once; a Python loop only visits the
rare groups of units where several overlap several on the other side (there the assignment
problem is real and goes to scipy). Positions are code points, or token indices after
``Units.in_tokens`` (``TOKEN_PATTERN`` tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from schemas import AnnotatedDocument, CheckWorthy, Polarity, QuoteKind, Stance, ToolkitError

# Words (runs of Unicode letters, digits, underscore) and every other non-space character on its own:
# close to Penn-Treebank tokens for English ("Putin's" -> Putin ' s, "said:" -> said :) without a model.
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")

NO_VALUE = "none"  # attribute value of "the annotator gave none" (no stance, no speaker)


class Layer(StrEnum):
    QUOTE = "quote"  # a quote's content fragments, labelled with its kind
    CUE = "cue"
    SPEAKER = "speaker"  # mentions that are some quote's speaker
    MENTION = "mention"  # every mention
    CLAIM = "claim"  # labelled with its check-worthiness


# Label sets; a layer without labels has its own name as its single label.
LAYER_LABELS: dict[Layer, tuple[str, ...]] = {
    Layer.QUOTE: tuple(k.value for k in QuoteKind),
    Layer.CUE: (Layer.CUE.value,),
    Layer.SPEAKER: (Layer.SPEAKER.value,),
    Layer.MENTION: (Layer.MENTION.value,),
    Layer.CLAIM: tuple(c.value for c in CheckWorthy),
}

# Attributes carried by each unit, compared on aligned units (None = the annotator gave no value).
LAYER_ATTRIBUTES: dict[Layer, tuple[str, ...]] = {
    Layer.QUOTE: ("kind", "stance_target", "stance_polarity", "speaker"),
    Layer.CUE: (),
    Layer.SPEAKER: (),
    Layer.MENTION: ("entity",),
    Layer.CLAIM: ("check_worthy",),
}


class Boundary(StrEnum):
    EXACT = "exact"  # same positions
    OVERLAP = "overlap"  # at least one position in common


@dataclass(frozen=True)
class Scheme:
    """How two units may match and what a match is worth."""

    name: str
    boundary: Boundary
    typed: bool  # labels must be equal to match
    partial_credit: float = 1.0  # credit of a match whose positions differ (exact matches earn 1)


STRICT = Scheme("strict", Boundary.EXACT, typed=True)
EXACT = Scheme("exact", Boundary.EXACT, typed=False)
PARTIAL = Scheme("partial", Boundary.OVERLAP, typed=False, partial_credit=0.5)
TYPE = Scheme("type", Boundary.OVERLAP, typed=True)
OVERLAP = Scheme("overlap", Boundary.OVERLAP, typed=False)
SCHEMES = {s.name: s for s in (STRICT, EXACT, PARTIAL, TYPE, OVERLAP)}


@dataclass(frozen=True)
class Units:
    """The units of one layer in a list of documents, as columns.

    Units are ordered by document, segments by unit. Positions are half-open ``[start, end)``:
    code points, or token indices after ``in_tokens``.
    """

    layer: Layer
    labels: tuple[str, ...]
    n_docs: int
    doc: np.ndarray  # (U,) document index
    label: np.ndarray  # (U,) index into ``labels``
    ref: tuple[str, ...]  # (U,) id of the quote, mention or claim
    attributes: dict[str, tuple[str | None, ...]]  # name -> (U,) values
    seg_unit: np.ndarray  # (S,) unit of each segment
    seg_start: np.ndarray  # (S,)
    seg_end: np.ndarray  # (S,)

    def __len__(self) -> int:
        return len(self.doc)

    def doc_offsets(self) -> np.ndarray:
        """(D + 1,) the units of document d are ``offsets[d]:offsets[d + 1]``."""
        return np.searchsorted(self.doc, np.arange(self.n_docs + 1))

    def local_index(self) -> tuple[np.ndarray, int]:
        """(U,) each unit's index within its document, and the most units of one document.

        Keys built from local indices stay small where global ones could overflow int64.
        """
        offsets = self.doc_offsets()
        return np.arange(len(self)) - offsets[self.doc], int(np.diff(offsets).max(initial=0))

    def sizes(self) -> np.ndarray:
        """(U,) positions covered by each unit."""
        return np.bincount(self.seg_unit, weights=self.seg_end - self.seg_start, minlength=len(self)).astype(np.int64)

    def in_tokens(self, tokens: Tokens) -> Units:
        """The same units with positions in tokens: a segment covers every token it touches.

        A unit that touches no token (whitespace only) has nothing to compare and is left out.
        """
        base = tokens.char_base[tokens.doc_article[self.doc[self.seg_unit]]]
        first = np.searchsorted(tokens.end, self.seg_start + base, side="right")
        last = np.searchsorted(tokens.start, self.seg_end + base, side="left")
        keep_segment = last > first
        keep = np.zeros(len(self), dtype=bool)
        keep[self.seg_unit[keep_segment]] = True
        renumber = np.cumsum(keep) - 1
        picked = np.flatnonzero(keep).tolist()
        return Units(self.layer, self.labels, self.n_docs, self.doc[keep], self.label[keep],
                     tuple(self.ref[i] for i in picked),
                     {name: tuple(values[i] for i in picked) for name, values in self.attributes.items()},
                     renumber[self.seg_unit[keep_segment]], first[keep_segment], last[keep_segment])


@dataclass(frozen=True)
class Tokens:
    """``TOKEN_PATTERN`` tokens of the documents' articles, as one array over all articles.

    Article a's text sits at ``char_base[a]`` of a virtual concatenation (texts apart by one
    position, so no token spans two articles); token indices are global.
    """

    doc_article: np.ndarray  # (D,) article index of each document
    char_base: np.ndarray  # (A,)
    token_offsets: np.ndarray  # (A + 1,) tokens of article a are token_offsets[a]:token_offsets[a + 1]
    start: np.ndarray  # (T,) virtual-concatenation code points
    end: np.ndarray  # (T,)

    @classmethod
    def of(cls, docs: Sequence[AnnotatedDocument]) -> Tokens:
        index: dict[str, int] = {}
        texts: list[str] = []
        doc_article = np.empty(len(docs), dtype=np.int64)
        for d, doc in enumerate(docs):
            a = index.setdefault(doc.article.sha256, len(index))
            if a == len(texts):
                texts.append(doc.article.text)
            doc_article[d] = a
        lengths = np.array([len(t) + 1 for t in texts], dtype=np.int64)
        char_base = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        start, end = token_spans("\n".join(texts))
        bounds = np.append(char_base, (char_base[-1] + lengths[-1]) if texts else 0)
        token_offsets = np.searchsorted(start, bounds)
        return cls(doc_article, char_base, token_offsets.astype(np.int64), start, end)


_SPACE, _WORD, _OTHER = 0, 1, 2


def token_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the ``TOKEN_PATTERN`` tokens of ``text``, as ``finditer`` would give them.

    Written out because ``finditer`` makes a match object per token (about 1 s per million);
    here each distinct code point is classified once by the pattern's own ``\\w`` and ``\\s``, and
    the tokens are the runs of word characters and the single other characters, found with numpy.
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = np.zeros(0x110000, dtype=np.int8)  # kind of each code point; a table beats sorting 10^7 codes
    table[codes] = 1
    for c in np.flatnonzero(table).tolist():
        table[c] = _WORD if re.match(r"\w", chr(c)) else _SPACE if re.match(r"\s", chr(c)) else _OTHER
    kind = table[codes]
    word = kind == _WORD
    before = np.r_[False, word[:-1]]
    after = np.r_[word[1:], False]
    other = kind == _OTHER
    start = np.flatnonzero(other | (word & ~before))
    end = np.flatnonzero(other | (word & ~after)) + 1
    return start.astype(np.int64), end.astype(np.int64)


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])`` without the Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


# --- extraction --------------------------------------------------------------------------------------------

# Enum ``.value`` goes through a descriptor; a dict lookup is several times cheaper in these hot loops.
_VALUE = {member: member.value for enum in (QuoteKind, CheckWorthy, Polarity) for member in enum}


_ID, _SPAN, _START, _END = attrgetter("id"), attrgetter("span"), attrgetter("start"), attrgetter("end")


@dataclass(slots=True)
class _Columns:
    """One layer's units, grown document by document (``list += map(...)`` extends without a temporary)."""

    names: tuple[str, ...]  # attributes read, in LAYER_ATTRIBUTES order; () when not read
    counts: list[int] = field(default_factory=list)  # units per document
    refs: list[str] = field(default_factory=list)
    labels: list = field(default_factory=list)  # label enum members; stays empty for a layer with one label
    fragments: list[int] = field(default_factory=list)  # segments per unit; stays empty when each has one
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    attributes: list[list] = field(init=False)  # one column per name

    def __post_init__(self) -> None:
        self.attributes = [[] for _ in self.names]

    def add_spans(self, items: list, spans: list) -> None:
        self.counts.append(len(items))
        self.refs += map(_ID, items)
        self.starts += map(_START, spans)
        self.ends += map(_END, spans)

    def units(self, layer: Layer, n_docs: int) -> Units:
        label_names = LAYER_LABELS[layer]
        code = {member: label_names.index(value) for member, value in _VALUE.items() if value in label_names}
        unit_index = np.arange(len(self.refs), dtype=np.int64)
        return Units(
            layer, label_names, n_docs,
            np.repeat(np.arange(n_docs, dtype=np.int64), self.counts),
            np.array([code[m] for m in self.labels], dtype=np.int64) if self.labels else np.zeros_like(unit_index),
            tuple(self.refs),
            {name: tuple(column) for name, column in zip(self.names, self.attributes)},
            np.repeat(unit_index, self.fragments) if self.fragments else unit_index,
            np.array(self.starts, dtype=np.int64), np.array(self.ends, dtype=np.int64),
        )


def _add_quotes(doc: AnnotatedDocument, out: _Columns) -> None:
    quotes = doc.quotes
    fragments = [q.content for q in quotes]
    out.add_spans(quotes, [span for unit in fragments for span in unit])
    out.fragments += map(len, fragments)
    out.labels += (q.kind for q in quotes)
    if not out.names:
        return
    stance_of: dict[str, Stance] = {}
    for stance in doc.stances:
        for quote_id in stance.evidence:
            stance_of.setdefault(quote_id, stance)  # Label Studio gives a quote one stance; keep the first
    stances = [stance_of.get(q.id) for q in quotes]
    entity_of = {m.id: m.entity_id for m in doc.mentions}
    kind, target, polarity, speaker = out.attributes
    kind += (_VALUE[q.kind] for q in quotes)
    target += (s.target_id if s else NO_VALUE for s in stances)
    polarity += (_VALUE[s.polarity] if s else None for s in stances)
    speaker += (q.speaker_entity_id or entity_of.get(q.speaker_mention_id or "") or NO_VALUE for q in quotes)


def _add_cues(doc: AnnotatedDocument, out: _Columns) -> None:
    quotes = [q for q in doc.quotes if q.cue is not None]
    out.add_spans(quotes, [q.cue for q in quotes])


def _add_speakers(doc: AnnotatedDocument, out: _Columns) -> None:
    speakers = {q.speaker_mention_id for q in doc.quotes}
    mentions = [m for m in doc.mentions if m.id in speakers]
    out.add_spans(mentions, list(map(_SPAN, mentions)))


def _add_mentions(doc: AnnotatedDocument, out: _Columns) -> None:
    out.add_spans(doc.mentions, list(map(_SPAN, doc.mentions)))
    if out.names:
        out.attributes[0] += (m.entity_id for m in doc.mentions)


def _add_claims(doc: AnnotatedDocument, out: _Columns) -> None:
    out.add_spans(doc.claims, list(map(_SPAN, doc.claims)))
    out.labels += (c.check_worthy for c in doc.claims)
    if out.names:
        out.attributes[0] += (_VALUE[c.check_worthy] for c in doc.claims)


_ADD = {Layer.QUOTE: _add_quotes, Layer.CUE: _add_cues, Layer.SPEAKER: _add_speakers, Layer.MENTION: _add_mentions,
        Layer.CLAIM: _add_claims}


def extract_layers(docs: Sequence[AnnotatedDocument], layers: Iterable[Layer] = tuple(Layer), *,
                   attributes: bool = True) -> dict[Layer, Units]:
    """The units of each layer in every document, in document order.

    ``attributes=False`` leaves ``Units.attributes`` empty: span scores need positions and labels only.

    Reads document by document, every layer at once: a document's objects are still in the CPU
    cache for the second layer and the second field, where a pass per layer over a large corpus
    would fetch every object from memory again (three times slower at 10,000 articles).
    """
    columns = {layer: _Columns(LAYER_ATTRIBUTES[layer] if attributes else ()) for layer in layers}
    adders = [(_ADD[layer], out) for layer, out in columns.items()]
    for doc in docs:
        for add, out in adders:
            add(doc, out)
    return {layer: out.units(layer, len(docs)) for layer, out in columns.items()}


def extract_units(docs: Sequence[AnnotatedDocument], layer: Layer) -> Units:
    """The units of ``layer`` in every document, in document order."""
    return extract_layers(docs, [layer])[layer]


# --- alignment ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """Matched unit pairs: ``left[i]`` (a unit of pair ``pair[i]``'s first document) with ``right[i]``."""

    pair: np.ndarray  # (M,) index into the document pairs
    left: np.ndarray  # (M,) unit index
    right: np.ndarray  # (M,) unit index
    overlap: np.ndarray  # (M,) positions in common
    exact: np.ndarray  # (M,) bool: same positions


def _pair_segments(docs: np.ndarray, seg_doc_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the segments of each pair's document on one side, and the pair each belongs to."""
    counts = seg_doc_offsets[docs + 1] - seg_doc_offsets[docs]
    return concat_ranges(seg_doc_offsets[docs], counts), np.repeat(np.arange(len(docs)), counts)


@dataclass(frozen=True)
class Candidates:
    """Unit pairs with positions in common, per document pair: what ``align`` chooses from.

    Computed once, they serve every scheme (``align(..., candidates=...)``).
    """

    pair: np.ndarray  # (C,) index into the document pairs
    left: np.ndarray  # (C,) unit of the pair's first document
    right: np.ndarray  # (C,) unit of its second
    overlap: np.ndarray  # (C,) positions in common, > 0


def overlapping(units: Units, pairs: np.ndarray) -> Candidates:
    """Every unit pair of each document pair that shares a position, by a sorted sweep over segments."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    empty = np.zeros(0, dtype=np.int64)
    if len(units.seg_unit) == 0:
        return Candidates(empty, empty, empty, empty)
    stride = int(units.seg_end.max()) + 2
    seg_doc = units.doc[units.seg_unit]
    # Segments in (document, start) order; a pair's sides are then sorted by start, so the keys below
    # rise and searchsorted walks forward instead of jumping around memory.
    by_start = np.argsort(seg_doc * stride + units.seg_start, kind="stable")
    seg_doc_offsets = np.searchsorted(seg_doc[by_start], np.arange(units.n_docs + 1))
    left_seg, left_pair = _pair_segments(pairs[:, 0], seg_doc_offsets)
    right_seg, right_pair = _pair_segments(pairs[:, 1], seg_doc_offsets)
    if len(left_seg) == 0 or len(right_seg) == 0:
        return Candidates(empty, empty, empty, empty)
    left_seg, right_seg = by_start[left_seg], by_start[right_seg]
    right_key = right_pair * stride + units.seg_start[right_seg]
    if len(right_key) > 1 and (np.diff(right_key) < 0).any():  # pairs not in ascending order
        order = np.argsort(right_key, kind="stable")
        right_seg, right_key = right_seg[order], right_key[order]
    longest = int((units.seg_end - units.seg_start).max())
    ls, le = units.seg_start[left_seg], units.seg_end[left_seg]
    # Right segments that can overlap [ls, le) start in (ls - longest, le).
    lo = np.searchsorted(right_key, left_pair * stride + np.maximum(ls - longest + 1, 0), side="left")
    hi = np.searchsorted(right_key, left_pair * stride + le, side="left")
    counts = np.maximum(hi - lo, 0)
    li = np.repeat(np.arange(len(left_seg)), counts)
    ri = concat_ranges(lo, counts)
    overlap = np.minimum(le[li], units.seg_end[right_seg[ri]]) - np.maximum(ls[li], units.seg_start[right_seg[ri]])
    keep = overlap > 0
    li, ri, overlap = li[keep], ri[keep], overlap[keep]
    pair = left_pair[li]
    lu, ru = units.seg_unit[left_seg[li]], units.seg_unit[right_seg[ri]]
    # Sum the overlaps of fragment pairs per unit pair.
    local, most = units.local_index()
    key = (pair * most + local[lu]) * most + local[ru]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return Candidates(pair[first], lu[first], ru[first], np.bincount(inverse, weights=overlap).astype(np.int64))


_FLOAT_EXACT = 2**53  # integers up to here are exact in float64, so the solver sees every tie-breaker


def _lexicographic_weights(columns: np.ndarray, matches: int) -> np.ndarray:
    """Per-edge weights whose totals order any matchings of at most ``matches`` edges by ``columns``
    (E, k) lexicographically: each column's multiplier exceeds what all lower columns can add up to.

    Lower columns are dropped when the weights would not fit in float64 (huge components only).
    """
    for levels in range(columns.shape[1], 0, -1):
        multipliers, scale = [], 1
        for top in columns[:, :levels].max(axis=0)[::-1].tolist():
            multipliers.append(scale)
            scale *= matches * int(top) + 1
        if scale < _FLOAT_EXACT:
            return columns[:, :levels].astype(np.float64) @ np.array(multipliers[::-1], dtype=np.float64)
    raise AssertionError("unreachable: one column always fits")  # overlaps are far below 2**53


def _one_to_one(left_node: np.ndarray, right_node: np.ndarray, overlap: np.ndarray,
                tie_breakers: np.ndarray) -> np.ndarray:
    """Mask of the edges of the one-to-one assignment with the largest total overlap.

    Among equal totals: more matches, then the ``tie_breakers`` (E, k) columns, larger first.
    Edges whose ends touch no other edge are taken as they are and stars keep their best edge,
    all at once; only the rest is solved per connected component, where the assignment is a real
    choice.
    """
    chosen = np.zeros(len(left_node), dtype=bool)
    if len(left_node) == 0:
        return chosen
    n_left, n_right = int(left_node.max()) + 1, int(right_node.max()) + 1
    left_degree = np.bincount(left_node, minlength=n_left)
    right_degree = np.bincount(right_node, minlength=n_right)
    alone = (left_degree[left_node] == 1) & (right_degree[right_node] == 1)
    chosen[alone] = True
    # A star (one node whose edges all end in nodes without another edge) can keep one edge: its best.
    right_leaf, left_leaf = right_degree[right_node] == 1, left_degree[left_node] == 1
    left_star = np.bincount(left_node, weights=~right_leaf, minlength=n_left)[left_node] == 0
    right_star = np.bincount(right_node, weights=~left_leaf, minlength=n_right)[right_node] == 0
    for star, centre in ((~alone & left_star, left_node), (~alone & right_star & ~left_star, right_node)):
        edges = np.flatnonzero(star)
        if len(edges) == 0:
            continue
        order = np.lexsort([*tie_breakers[edges].T[::-1], overlap[edges], centre[edges]])
        centres = centre[edges][order]
        chosen[edges[order[np.r_[centres[1:] != centres[:-1], True]]]] = True
    rest = np.flatnonzero(~alone & ~left_star & ~right_star)
    if len(rest) == 0:
        return chosen
    graph = coo_matrix((np.ones(len(rest)), (left_node[rest], n_left + right_node[rest])),
                       shape=(n_left + n_right, n_left + n_right))
    _, component = connected_components(graph, directed=False)
    comp = component[left_node[rest]]
    order = np.argsort(comp, kind="stable")
    rest, comp = rest[order], comp[order]
    for edges in np.split(rest, np.flatnonzero(np.diff(comp)) + 1):
        rows, row_of = np.unique(left_node[edges], return_inverse=True)
        cols, col_of = np.unique(right_node[edges], return_inverse=True)
        ties = tie_breakers[edges]
        # Below the match count, matchings compared have equally many edges, so shifting a
        # tie-breaker by a constant changes nothing: shift to 0 to keep the weights small.
        columns = np.column_stack([overlap[edges], np.ones(len(edges), dtype=np.int64), ties - ties.min(axis=0)])
        matrix = np.zeros((len(rows), len(cols)))
        matrix[row_of, col_of] = _lexicographic_weights(columns, min(len(rows), len(cols)))
        lookup = np.full((len(rows), len(cols)), -1)
        lookup[row_of, col_of] = edges
        r, c = linear_sum_assignment(matrix, maximize=True)
        picked = lookup[r, c]
        chosen[picked[picked >= 0]] = True
    return chosen


def _unit_bounds(units: Units) -> tuple[np.ndarray, np.ndarray]:
    """(U,) first position and end of each unit (segments are in text order)."""
    index = np.arange(len(units))
    first = np.searchsorted(units.seg_unit, index, side="left")
    last = np.searchsorted(units.seg_unit, index, side="right") - 1
    return units.seg_start[first], units.seg_end[last]


def _signatures(units: Units, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(U,) a number from each unit's own positions and label, the same whichever document holds it."""
    n_segments = np.bincount(units.seg_unit, minlength=len(units))
    mixed = (start.astype(np.uint64) * np.uint64(0x9E3779B1) + end.astype(np.uint64) * np.uint64(0x85EBCA77)
             + units.label.astype(np.uint64) * np.uint64(0xC2B2AE3D) + n_segments.astype(np.uint64))
    return (mixed ^ (mixed >> np.uint64(29))) * np.uint64(0x27D4EB2F165667C5)


def align(units: Units, pairs: np.ndarray, *, boundary: Boundary, typed: bool,
          candidates: Candidates | None = None) -> Alignment:
    """Align the units of ``pairs[p, 0]`` with those of ``pairs[p, 1]`` for every document pair p.

    Maximises the total overlap; among equal totals it prefers more matches, then boundaries
    closer together, then equal labels, then a pseudo-random choice computed from the two units
    themselves. So the result depends neither on the solver's tie-breaking nor on which
    document is left or right, nor on the order of the documents. ``candidates`` (from
    ``overlapping`` with the same units and pairs) saves the sweep when aligning several ways.
    """
    c = candidates if candidates is not None else overlapping(units, pairs)
    pair, lu, ru, overlap = c.pair, c.left, c.right, c.overlap
    sizes = units.sizes()
    exact = (overlap == sizes[lu]) & (overlap == sizes[ru])
    same_label = units.label[lu] == units.label[ru]
    keep = np.ones(len(pair), dtype=bool)
    if boundary is Boundary.EXACT:
        keep &= exact
    if typed:
        keep &= same_label
    pair, lu, ru, overlap, exact, same_label = (a[keep] for a in (pair, lu, ru, overlap, exact, same_label))
    start, end = _unit_bounds(units)
    distance = np.abs(start[lu] - start[ru]) + np.abs(end[lu] - end[ru])
    signature = _signatures(units, start, end)
    coin = ((signature[lu] ^ signature[ru]) >> np.uint64(48)).astype(np.int64)  # symmetric in left and right
    local, most = units.local_index()
    _, left_node = np.unique(pair * most + local[lu], return_inverse=True)
    _, right_node = np.unique(pair * most + local[ru], return_inverse=True)
    chosen = _one_to_one(left_node, right_node, overlap, np.column_stack([-distance, same_label, coin]))
    return Alignment(pair[chosen], lu[chosen], ru[chosen], overlap[chosen], exact[chosen])


# --- scores ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """Counts of one comparison; left is the reference (gold, or the first annotator)."""

    n_left: int
    n_right: int
    credit: float  # matched pairs, a non-exact one counting its scheme's partial credit

    @property
    def tp(self) -> float:
        return self.credit

    @property
    def fp(self) -> float:
        return self.n_right - self.credit

    @property
    def fn(self) -> float:
        return self.n_left - self.credit

    @property
    def precision(self) -> float | None:
        return self.credit / self.n_right if self.n_right else None

    @property
    def recall(self) -> float | None:
        return self.credit / self.n_left if self.n_left else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; None when neither side has a unit."""
        total = self.n_left + self.n_right
        return 2 * self.credit / total if total else None


@dataclass(frozen=True)
class Tally:
    """Per document pair and label: units on each side and the credit of the matches.

    An untyped scheme has one column, ``"all"``: a match may join units of different labels.
    """

    scheme: Scheme
    labels: tuple[str, ...]
    n_left: np.ndarray  # (P, L)
    n_right: np.ndarray  # (P, L)
    credit: np.ndarray  # (P, L)

    def score(self, pairs: np.ndarray | slice = slice(None), label: str | None = None) -> Score:
        """Summed over the given document pairs, for one label or all."""
        cols = slice(None) if label is None else self.labels.index(label)
        return Score(int(self.n_left[pairs, cols].sum()), int(self.n_right[pairs, cols].sum()),
                     float(self.credit[pairs, cols].sum()))

    def by_label(self) -> dict[str, Score]:
        return {label: self.score(label=label) for label in self.labels}


def tally(units: Units, pairs: np.ndarray, alignment: Alignment, scheme: Scheme) -> Tally:
    """Units on each side and credit of ``alignment``'s matches under ``scheme``, per document pair and label."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    labels = units.labels if scheme.typed else ("all",)
    n_labels = len(labels)
    label = units.label if scheme.typed else np.zeros(len(units), dtype=np.int64)
    per_doc = np.bincount(units.doc * n_labels + label, minlength=units.n_docs * n_labels).reshape(-1, n_labels)
    credit = np.where(alignment.exact, 1.0, scheme.partial_credit)
    credits = np.bincount(alignment.pair * n_labels + label[alignment.left], weights=credit,
                          minlength=len(pairs) * n_labels).reshape(-1, n_labels)
    return Tally(scheme, labels, per_doc[pairs[:, 0]], per_doc[pairs[:, 1]], credits)


def compare(docs: Sequence[AnnotatedDocument], pairs: np.ndarray | Sequence[tuple[int, int]], layer: Layer,
            scheme: Scheme, *, tokens: bool = False) -> Tally:
    """Score ``docs[j]`` against ``docs[i]`` for each ``(i, j)`` in ``pairs`` (documents of one article).

    ``tokens`` measures overlap in ``TOKEN_PATTERN`` tokens instead of code points.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    for i, j in pairs.tolist():
        if docs[i].article.sha256 != docs[j].article.sha256:
            raise ToolkitError(f"documents {i} ({docs[i].article.id!r}) and {j} ({docs[j].article.id!r}) annotate "
                               "different texts; compare only documents of the same article")
    units = extract_units(docs, layer)
    if tokens:
        units = units.in_tokens(Tokens.of(docs))
    return tally(units, pairs, align(units, pairs, boundary=scheme.boundary, typed=scheme.typed), scheme)
