"""Units of a layer as columnar tables: the first step of the comparison core (``exports.compare``).

``extract_layers`` (``extract_units`` for one layer) turns documents into the units of each ``Layer``; a
unit is one or more half-open segments (a quote is its content fragments) with a label and attributes.
Positions are code points, or token indices after ``Units.in_tokens`` (``TOKEN_PATTERN`` tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

import numpy as np

from schemas import AnnotatedDocument, CheckWorthy, Polarity, QuoteKind, Stance

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

