"""Units of one layer grouped across an article's annotators, as adjudication and the HTML report see them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from exports.compare import NO_VALUE, Boundary, Layer, Units, align, extract_units
from exports.corpus import Corpus
from schemas import Span

# The layers adjudicated as units; cues are an attribute of their quote.
GOLD_LAYERS = (Layer.MENTION, Layer.QUOTE, Layer.CLAIM)
ATTRIBUTES: dict[Layer, tuple[str, ...]] = {
    Layer.QUOTE: ("span", "kind", "cue", "speaker", "stance"),
    Layer.CUE: ("span",),
    Layer.MENTION: ("span", "entity"),
    Layer.CLAIM: ("span", "check_worthy", "claimant"),
}


@dataclass(frozen=True)
class UnitView:
    """One annotator's unit with the values of its attributes."""

    layer: Layer
    doc: int  # index into ``Corpus.docs``
    annotator: str
    ref: str  # the quote, mention or claim id in the annotator's document
    start: int  # first position of the unit
    end: int  # end of its last segment
    values: dict[str, str]


def _span_value(span: Span | None) -> str:
    return NO_VALUE if span is None else f"{span.start}-{span.end}"


def _views(corpus: Corpus, units: Units) -> list[UnitView]:
    layer = units.layer
    items: dict[tuple[int, str], Any] = {}
    for d, doc in enumerate(corpus.docs):
        pool = doc.claims if layer is Layer.CLAIM else doc.mentions if layer is Layer.MENTION else doc.quotes
        items.update(((d, item.id), item) for item in pool)
    first = np.searchsorted(units.seg_unit, np.arange(len(units)), side="left")
    last = np.searchsorted(units.seg_unit, np.arange(len(units)), side="right") - 1
    views = []
    for u in range(len(units)):
        d, ref = int(units.doc[u]), units.ref[u]
        item = items[d, ref]
        a = units.attributes
        if layer is Layer.QUOTE:
            target = a["stance_target"][u]
            values = {"span": "+".join(_span_value(s) for s in item.content), "kind": a["kind"][u],
                      "cue": _span_value(item.cue), "speaker": a["speaker"][u],
                      "stance": NO_VALUE if target == NO_VALUE else f"{target}:{a['stance_polarity'][u]}"}
        elif layer is Layer.CUE:
            values = {"span": _span_value(item.cue)}
        elif layer is Layer.MENTION:
            values = {"span": _span_value(item.span), "entity": a["entity"][u]}
        else:
            values = {"span": _span_value(item.span), "check_worthy": a["check_worthy"][u],
                      "claimant": item.claimant_entity_id or NO_VALUE}
        views.append(UnitView(layer, d, corpus.docs[d].provenance.annotator, ref,
                              int(units.seg_start[first[u]]), int(units.seg_end[last[u]]), values))
    return views


def group_units(corpus: Corpus, layer: Layer, boundary: Boundary) -> list[list[list[UnitView]]]:
    """Per article, the groups of units of ``layer``: units joined by the core's pairwise one-to-one
    alignments (untyped: a differing kind is an attribute difference, not another unit).

    Groups are sorted by position; within a group units are in annotator order. A group may hold
    two units of one annotator when alignments chain (a1-b1, b1-c1, c1-a2): callers treat that as
    ambiguous.
    """
    units = extract_units(corpus.docs, layer)
    alignment = align(units, corpus.pairs, boundary=boundary, typed=False)
    n = len(units)
    graph = coo_matrix((np.ones(len(alignment.left)), (alignment.left, alignment.right)), shape=(n, n))
    component = connected_components(graph, directed=False)[1] if n else np.zeros(0, dtype=np.int64)
    views = _views(corpus, units)
    doc_article = corpus.doc_article
    by_article: list[list[list[UnitView]]] = [[] for _ in corpus.article_ids]
    members: dict[int, list[UnitView]] = defaultdict(list)
    for u in np.argsort(component, kind="stable").tolist():  # units are in document (= annotator) order
        members[int(component[u])].append(views[u])
    for group in members.values():
        by_article[int(doc_article[group[0].doc])].append(group)
    for groups in by_article:
        groups.sort(key=lambda g: (min(v.start for v in g), max(v.end for v in g), [(v.annotator, v.ref) for v in g]))
    return by_article

