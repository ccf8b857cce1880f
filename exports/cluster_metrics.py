"""Coreference-style cluster metrics for statement linking: MUC, B-cubed, CEAF-m, CEAF-e, BLANC, LEA, CoNLL.

Mentions are quote renderings and clusters are statements: ``score_clusters(key, response)`` compares two
partitions given as lists of clusters of hashable mention ids. A mention may be on one side only (a
*twinless* mention: a rendering one annotator, or the extractor, did not find); a mention in two clusters of
one side is an error. Empty clusters are ignored (filtering mentions can empty a cluster; it stands for
nothing) and are not counted.

The definitions, each from its paper, with the conventions of the CoNLL-2012 reference scorer v8.01 (Pradhan
et al. 2014, "Scoring Coreference Partitions of Predicted Mentions: A Reference Implementation") for
twinless mentions: they stay in every denominator (B-cubed, CEAF, LEA) and are never added to the other
side, and MUC, which counts links, is blind to singletons. Written here rather than taken from the
``scorch`` package (MIT), which has MUC, B-cubed, CEAF and BLANC but no LEA and brings command-line
dependencies with it: the formulas are short, and the tests check them against ``scorch`` on random
clusterings and against the reference scorer's published test cases.

Degenerate cases, where a ratio would be 0/0:

- A recall or precision whose denominator is 0 is 0 (as in the reference scorer), and F1 is 0 when P + R = 0.
  So an empty response scores 0 everywhere; an empty key too. Both empty is a ``ValueError``: nothing to score.
- MUC when *neither* side has a link (both all singletons): 1, not the reference scorer's 0. MUC sees links
  only, and there is no link to disagree on; this way a clustering scores 1 against itself always.
- BLANC as extended by Luo et al. (2014), with its special cases taken only when *both* sides lack a kind of
  link: no coreference link on either side gives BLANC = the non-coreference F; no non-coreference link on
  either side gives the coreference F; no pair at all (one mention a side at most) gives 1 for the same
  mention, else 0. When only one side lacks a kind, that kind's F is 0 and counts in the mean.
  The reference scorer (and ``scorch``) decide from the key alone, which differs when only the key lacks
  one kind of link (its test cases M-3, M-6, N-3, N-6): we keep BLANC's F symmetric in key and response,
  since annotator agreement has no privileged side.

Scores add up over documents with ``score_documents``: MUC, B-cubed, CEAF and LEA pool the documents'
numerators and denominators (the reference scorer's corpus figures), and BLANC sums each document's link
counts, so pairs across documents are not counted as non-links (as passing everything to ``score_clusters``
at once would).

``pairwise_links`` and ``link_kappa`` serve agreement: Cohen's kappa on the same/different decision of
every pair of mentions, optionally only pairs within one group (one speaker, say).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from exports.metrics import cohen_kappa_from_stats


class PRF(BaseModel):
    """Recall, precision and F1 of one metric.

    F1 is their harmonic mean, except for BLANC, whose F1 is the mean of the coreference-link F1 and the
    non-coreference-link F1 (Recasens & Hovy 2011), and whose precision and recall are such means too.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    f1: float = Field(ge=0, le=1)


class ClusterScores(BaseModel):
    """All cluster metrics of a response against a key, and what they rest on.

    The example of Vilain et al. (1995), key {A, B, C, D}, response {A, B} {C, D}: MUC recall 2/3 (one of
    the key's three links is missing), precision 1.

    >>> scores = score_clusters([{"A", "B", "C", "D"}], [{"A", "B"}, {"C", "D"}])
    >>> round(scores.muc.recall, 4), scores.muc.precision, round(scores.muc.f1, 4)
    (0.6667, 1.0, 0.8)
    >>> scores.key_mentions, scores.response_clusters
    (4, 2)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    muc: PRF = Field(description="Vilain et al. (1995): links, as spanning-tree edges of each cluster.")
    b_cubed: PRF = Field(description="Bagga & Baldwin (1998): per-mention overlap, twinless mentions count 0.")
    ceaf_m: PRF = Field(description="Luo (2005), phi-3: mentions shared by the best one-to-one cluster alignment.")
    ceaf_e: PRF = Field(description="Luo (2005), phi-4: Dice similarity of aligned clusters, per cluster.")
    blanc: PRF = Field(description="Recasens & Hovy (2011), Luo et al. (2014): coreference and non-coreference "
                                   "links.")
    lea: PRF = Field(description="Moosavi & Strube (2016): links resolved per cluster, weighted by cluster size.")
    conll: float = Field(ge=0, le=1, description="Mean F1 of MUC, B-cubed and CEAF-e (CoNLL-2012).")
    key_mentions: int = Field(ge=0)
    response_mentions: int = Field(ge=0)
    shared_mentions: int = Field(ge=0, description="Mentions on both sides; the others are twinless.")
    key_clusters: int = Field(ge=0, description="Non-empty key clusters.")
    response_clusters: int = Field(ge=0, description="Non-empty response clusters.")


class _Overlap(NamedTuple):
    """The contingency table of two clusterings, sparse: only cells with shared mentions.

    ``rows``, ``cols``, ``counts`` (nnz,): key cluster, response cluster, mentions in both;
    ``key_sizes`` (K,) and ``response_sizes`` (R,): cluster sizes, twinless mentions included.
    """

    rows: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    key_sizes: np.ndarray
    response_sizes: np.ndarray

    def swapped(self) -> _Overlap:
        return _Overlap(self.cols, self.rows, self.counts, self.response_sizes, self.key_sizes)


def score_clusters(key: Iterable[Collection[Hashable]], response: Iterable[Collection[Hashable]]) -> ClusterScores:
    """Every cluster metric of ``response`` against ``key``, each a list of clusters of mention ids.

    The example of the reference scorer's test suite (test case A-2, Pradhan et al. 2014), key {a} {b, c}
    {d, e, f}, response {a} {d, e}, which misses three mentions:

    >>> s = score_clusters([{"a"}, {"b", "c"}, {"d", "e", "f"}], [{"a"}, {"d", "e"}])
    >>> [round(x, 5) for x in (s.muc.recall, s.b_cubed.recall, s.ceaf_m.recall, s.ceaf_e.recall, s.blanc.recall)]
    [0.33333, 0.38889, 0.5, 0.6, 0.21591]
    >>> round(s.lea.recall, 5), s.lea.precision
    (0.33333, 1.0)
    """
    key_of = _cluster_index(key, "key")
    response_of = _cluster_index(response, "response")
    if not key_of and not response_of:
        raise ValueError("key and response have no mentions; give at least one non-empty cluster on either side")
    overlap = _overlap(key_of, response_of)
    muc, b_cubed, ceaf_e = _muc(overlap), _b_cubed(overlap), _ceaf(overlap, entity=True)
    return ClusterScores(
        muc=muc, b_cubed=b_cubed, ceaf_m=_ceaf(overlap, entity=False), ceaf_e=ceaf_e, blanc=_blanc(overlap),
        lea=_lea(overlap), conll=(muc.f1 + b_cubed.f1 + ceaf_e.f1) / 3,
        key_mentions=len(key_of), response_mentions=len(response_of), shared_mentions=int(overlap.counts.sum()),
        key_clusters=len(overlap.key_sizes), response_clusters=len(overlap.response_sizes),
    )


def score_documents(documents: Iterable[tuple[Iterable[Collection[Hashable]], Iterable[Collection[Hashable]]]]
                    ) -> ClusterScores:
    """Corpus scores of several documents, each a (key, response) pair, as the reference scorer pools them.

    Mention ids need only be unique within their document. MUC, B-cubed, CEAF and LEA pool the documents'
    numerators and denominators (the documents' clusters scored at once, ids qualified by document); BLANC
    sums each document's link counts, so pairs across documents are never counted as non-links.

    >>> one = ([{"a", "b"}], [{"a"}, {"b"}])
    >>> pooled = score_documents([one, one])
    >>> pooled.b_cubed == score_clusters([{(0, "a"), (0, "b")}, {(1, "a"), (1, "b")}],
    ...                                  [{(0, "a")}, {(0, "b")}, {(1, "a")}, {(1, "b")}]).b_cubed
    True
    >>> pooled.blanc == score_clusters(*one).blanc  # two copies of one document: the same BLANC
    True
    """
    key: list[frozenset] = []
    response: list[frozenset] = []
    blanc = np.zeros(9, dtype=np.int64)
    for n, (k, r) in enumerate(documents):
        k_clusters = [frozenset((n, m) for m in c) for c in k]
        r_clusters = [frozenset((n, m) for m in c) for c in r]
        key_of, response_of = _cluster_index(k_clusters, "key"), _cluster_index(r_clusters, "response")
        if key_of or response_of:
            blanc += _blanc_counts(_overlap(key_of, response_of))
        key += k_clusters
        response += r_clusters
    pooled = score_clusters(key, response)
    return pooled.model_copy(update={"blanc": _blanc_of_counts(blanc)})


def pairwise_links(clusters: Iterable[Collection[Hashable]], mentions: Sequence[Hashable],
                   group_of: Callable[[Hashable], Hashable] | None = None) -> dict[tuple[Hashable, Hashable], bool]:
    """Whether each unordered pair of ``mentions`` is in one cluster, keyed ``(earlier, later)`` in their order.

    Only the given mentions count: a mention in no cluster is its own singleton, and clustered mentions not
    among ``mentions`` are left out. With ``group_of`` (a mention's speaker, say) only pairs within one group
    are listed. The pairs grow quadratically with the mentions; ``link_kappa`` counts them instead.

    >>> pairwise_links([{"a", "b"}, {"c"}], ["a", "b", "c", "d"])
    {('a', 'b'): True, ('a', 'c'): False, ('a', 'd'): False, ('b', 'c'): False, ('b', 'd'): False, ('c', 'd'): False}
    >>> pairwise_links([{"a", "b", "c"}], ["a", "b", "c"], group_of={"a": "x", "b": "y", "c": "x"}.get)
    {('a', 'c'): True}
    """
    cluster_of = _cluster_index(clusters, "given")
    links: dict[tuple[Hashable, Hashable], bool] = {}
    for members in _groups(mentions, group_of).values():
        for i, a in enumerate(members):
            cluster = cluster_of.get(a)
            for b in members[i + 1:]:
                links[(a, b)] = cluster is not None and cluster_of.get(b) == cluster
    return links


def link_kappa(a_clusters: Iterable[Collection[Hashable]], b_clusters: Iterable[Collection[Hashable]],
               mentions: Sequence[Hashable], group_of: Callable[[Hashable], Hashable] | None = None) -> float:
    """Cohen's kappa of two annotators' same/different decisions on the pairs of ``pairwise_links``.

    Pairs are counted from cluster sizes, not listed, so this is linear in the mentions; the figure equals
    ``cohen_kappa`` of the two ``pairwise_links`` value lists. ``group_of`` (a speaker, say) keeps only
    pairs within one group: across speakers "different" is near certain, and such pairs would swamp the
    figure with easy agreement.

    Annotator A links a-b, B links a-b-c, and d is alone for both: of the six pairs they agree on a-b
    (linked) and a-d, b-d, c-d (not); p_o = 4/6, p_e = (1/6)(3/6) + (5/6)(3/6) = 1/2, kappa = 1/3.

    >>> round(link_kappa([{"a", "b"}, {"c"}], [{"a", "b", "c"}], ["a", "b", "c", "d"]), 4)
    0.3333
    """
    a_of = _cluster_index(a_clusters, "first annotator's")
    b_of = _cluster_index(b_clusters, "second annotator's")
    # Mentions counted per group (its pairs: all pairs), per group and A's cluster (pairs A links), per group
    # and B's cluster, and per group and both clusters (pairs both link); n mentions make n (n - 1) / 2 pairs.
    in_group, in_a, in_b, in_both = Counter(), Counter(), Counter(), Counter()
    for group, members in _groups(mentions, group_of).items():
        for i, mention in enumerate(members):
            # A mention in no cluster is a singleton: a cluster number of its own (negative, unlike real ones).
            a, b = a_of.get(mention, -1 - i), b_of.get(mention, -1 - i)
            in_group[group] += 1
            in_a[group, a] += 1
            in_b[group, b] += 1
            in_both[group, a, b] += 1
    total, linked_a, linked_b, linked_both = (sum(_pairs(n) for n in cells.values())
                                              for cells in (in_group, in_a, in_b, in_both))
    if total == 0:
        raise ValueError("no pair of mentions to compare; give at least two mentions (two in one group with group_of)")
    agree = total - linked_a - linked_b + 2 * linked_both
    stats = np.array([[total, agree, total - linked_a, linked_a, total - linked_b, linked_b]], dtype=np.float64)
    kappa = float(cohen_kappa_from_stats(stats)[0])
    if np.isnan(kappa):
        raise ValueError("kappa is undefined: both annotators made the same decision (linked, or not) for every pair")
    return kappa


# --- input ---------------------------------------------------------------------------------------------------


def _cluster_index(clusters: Iterable[Collection[Hashable]], side: str) -> dict[Hashable, int]:
    """Mention id to the number of its (non-empty) cluster, checking that each mention is in one cluster."""
    if isinstance(clusters, str | bytes) or not isinstance(clusters, Iterable):
        raise ValueError(f"{side} clusters must be a list of clusters, each a collection of mention ids; "
                         f"got {clusters!r}")
    cluster_of: dict[Hashable, int] = {}
    number = 0
    for cluster in clusters:
        # A string is a collection of characters: almost surely one cluster passed where a list was meant.
        if isinstance(cluster, str | bytes) or not isinstance(cluster, Collection):
            raise ValueError(f"each {side} cluster must be a collection (set, list, tuple) of mention ids; "
                             f"got {cluster!r}")
        if not cluster:
            continue
        for mention in cluster:
            if not isinstance(mention, Hashable):
                raise ValueError(f"mention ids must be hashable; got {mention!r} in a {side} cluster")
            if mention in cluster_of:
                where = f"listed twice in one {side} cluster" if cluster_of[mention] == number else \
                    f"in two {side} clusters"
                raise ValueError(f"mention {mention!r} is {where}; each mention belongs to one cluster")
            cluster_of[mention] = number
        number += 1
    return cluster_of


def _groups(mentions: Sequence[Hashable], group_of: Callable[[Hashable], Hashable] | None) -> dict[Hashable, list]:
    """The distinct ``mentions`` by group (one group without ``group_of``), each in the given order."""
    if isinstance(mentions, str | bytes) or not isinstance(mentions, Sequence):
        raise ValueError(f"mentions must be a sequence (list, tuple) of mention ids; got {mentions!r}")
    if group_of is not None and not callable(group_of):
        raise ValueError(f"group_of must map a mention id to its group; got {group_of!r}")
    unhashable = [m for m in mentions if not isinstance(m, Hashable)]
    if unhashable:
        raise ValueError(f"mention ids must be hashable; got {unhashable[0]!r}")
    if len(set(mentions)) != len(mentions):
        twice = next(m for m, n in Counter(mentions).items() if n > 1)
        raise ValueError(f"mention {twice!r} is listed twice; give each mention once")
    groups: dict[Hashable, list] = {}
    for mention in mentions:
        groups.setdefault(None if group_of is None else group_of(mention), []).append(mention)
    return groups


def _overlap(key_of: dict[Hashable, int], response_of: dict[Hashable, int]) -> _Overlap:
    key_sizes = np.bincount(np.fromiter(key_of.values(), np.int64, len(key_of)))
    response_sizes = np.bincount(np.fromiter(response_of.values(), np.int64, len(response_of)))
    shared = [m for m in key_of if m in response_of]
    k = np.fromiter((key_of[m] for m in shared), np.int64, len(shared))
    r = np.fromiter((response_of[m] for m in shared), np.int64, len(shared))
    width = max(len(response_sizes), 1)
    cells, counts = np.unique(k * width + r, return_counts=True)
    return _Overlap(cells // width, cells % width, counts, key_sizes, response_sizes)


# --- metrics -------------------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _prf(recall: float, precision: float) -> PRF:
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision=precision, recall=recall, f1=f1)


def _pairs(n: np.ndarray | int) -> np.ndarray | int:
    return n * (n - 1) // 2


def _muc(o: _Overlap) -> PRF:
    """MUC: a cluster of n mentions split into p parts by the other side misses p - 1 of its n - 1 links.

    Summed over key clusters, with each twinless mention a part of its own, the correct links are the shared
    mentions minus the non-empty cells of the contingency table; the same count serves precision.
    """
    correct = int(o.counts.sum()) - len(o.counts)
    key_links = int(o.key_sizes.sum()) - len(o.key_sizes)
    response_links = int(o.response_sizes.sum()) - len(o.response_sizes)
    if key_links == response_links == 0:
        return PRF(precision=1.0, recall=1.0, f1=1.0)  # all singletons on both sides: no link to get wrong
    return _prf(_ratio(correct, key_links), _ratio(correct, response_links))


def _b_cubed_recall(o: _Overlap) -> float:
    """Mean over key mentions of |own key cluster ∩ own response cluster| / |own key cluster|; twinless: 0."""
    return _ratio((o.counts**2 / o.key_sizes[o.rows]).sum(), o.key_sizes.sum())


def _b_cubed(o: _Overlap) -> PRF:
    return _prf(_b_cubed_recall(o), _b_cubed_recall(o.swapped()))


def _ceaf(o: _Overlap, entity: bool) -> PRF:
    """CEAF: similarity of the best one-to-one alignment of key to response clusters, over each side's self-similarity.

    Mention-based (phi-3): similarity = shared mentions, self-similarity = mentions. Entity-based (phi-4):
    Dice, 2 |k ∩ r| / (|k| + |r|), self-similarity 1 per cluster.
    """
    if entity:
        weights = 2 * o.counts / (o.key_sizes[o.rows] + o.response_sizes[o.cols])
        key_total, response_total = len(o.key_sizes), len(o.response_sizes)
    else:
        weights = o.counts.astype(np.float64)
        key_total, response_total = int(o.key_sizes.sum()), int(o.response_sizes.sum())
    aligned = _best_alignment(o.rows, o.cols, weights, len(o.key_sizes), len(o.response_sizes))
    return _prf(_ratio(aligned, key_total), _ratio(aligned, response_total))


def _best_alignment(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int, n_cols: int) -> float:
    """Total weight of the maximum-weight one-to-one matching, solved per connected block of overlapping clusters.

    Clusters that share no mention add nothing, so each block of the sparse table is solved on its own:
    pooled documents then cost the sum of small assignments instead of one (clusters x clusters) matrix.
    """
    if not len(rows):
        return 0.0
    graph = coo_matrix((np.ones(len(rows)), (rows, cols + n_rows)), shape=(n_rows + n_cols, n_rows + n_cols))
    _, block = connected_components(graph, directed=False)
    cell_block = block[rows]
    order = np.argsort(cell_block, kind="stable")
    total = 0.0
    for cells in np.split(order, np.flatnonzero(np.diff(cell_block[order])) + 1):
        row_ids, r = np.unique(rows[cells], return_inverse=True)
        col_ids, c = np.unique(cols[cells], return_inverse=True)
        matrix = np.zeros((len(row_ids), len(col_ids)))
        matrix[r, c] = weights[cells]
        i, j = linear_sum_assignment(matrix, maximize=True)
        total += float(matrix[i, j].sum())
    return total


def _blanc_counts(o: _Overlap) -> np.ndarray:
    """The counts BLANC rests on: (key links, response links, key non-links, response non-links, correct links,
    correct non-links, shared mentions, key mentions, response mentions). They add up over documents.

    A link is a pair of mentions of one side; a pair is correct when both sides have both mentions and agree
    on it. Counted, not listed: correct non-links = shared pairs - pairs linked in key or in response.
    """
    key_links, response_links = int(_pairs(o.key_sizes).sum()), int(_pairs(o.response_sizes).sum())
    key_nonlinks = _pairs(int(o.key_sizes.sum())) - key_links
    response_nonlinks = _pairs(int(o.response_sizes.sum())) - response_links
    shared = int(o.counts.sum())
    correct_links = int(_pairs(o.counts).sum())
    shared_key_links = int(_pairs(np.bincount(o.rows, weights=o.counts, minlength=len(o.key_sizes))).sum())
    shared_response_links = int(_pairs(np.bincount(o.cols, weights=o.counts, minlength=len(o.response_sizes))).sum())
    correct_nonlinks = _pairs(shared) - shared_key_links - shared_response_links + correct_links
    return np.array([key_links, response_links, key_nonlinks, response_nonlinks, correct_links, correct_nonlinks,
                     shared, int(o.key_sizes.sum()), int(o.response_sizes.sum())], dtype=np.int64)


def _blanc(o: _Overlap) -> PRF:
    return _blanc_of_counts(_blanc_counts(o))


def _blanc_of_counts(counts: np.ndarray) -> PRF:
    """BLANC: recall and precision of coreference links and of non-coreference links, averaged."""
    (key_links, response_links, key_nonlinks, response_nonlinks, correct_links, correct_nonlinks, shared,
     key_total, response_total) = (int(x) for x in counts)
    if key_links == response_links == key_nonlinks == response_nonlinks == 0:
        # One mention a side at most: nothing but the mention itself to agree on.
        same = shared == 1 and key_total == response_total == 1
        return PRF(precision=float(same), recall=float(same), f1=float(same))
    links = _prf(_ratio(correct_links, key_links), _ratio(correct_links, response_links))
    nonlinks = _prf(_ratio(correct_nonlinks, key_nonlinks), _ratio(correct_nonlinks, response_nonlinks))
    if key_links == response_links == 0:
        return nonlinks
    if key_nonlinks == response_nonlinks == 0:
        return links
    return PRF(precision=(links.precision + nonlinks.precision) / 2, recall=(links.recall + nonlinks.recall) / 2,
               f1=(links.f1 + nonlinks.f1) / 2)


def _lea_recall(o: _Overlap) -> float:
    """Sum over key clusters of size x (links resolved / links), over the key's mentions.

    A singleton has one self-link, resolved when its mention is a singleton of the other side too (Moosavi
    & Strube 2016, section 4, and the reference scorer).
    """
    sizes = o.key_sizes
    resolved = np.bincount(o.rows, weights=_pairs(o.counts), minlength=len(sizes))
    single = sizes == 1
    self_link = np.zeros(len(sizes))
    self_link[o.rows[single[o.rows] & (o.response_sizes[o.cols] == 1)]] = 1
    resolution = np.where(single, self_link, resolved / np.maximum(_pairs(sizes), 1))
    return _ratio((sizes * resolution).sum(), sizes.sum())


def _lea(o: _Overlap) -> PRF:
    return _prf(_lea_recall(o), _lea_recall(o.swapped()))
