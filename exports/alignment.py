"""One-to-one alignment of units, the second step of the comparison core (``exports.compare``).

``align`` pairs the units of the two documents of each document pair ONE-TO-ONE: candidates
(``overlapping``) are unit pairs that overlap (``Boundary.OVERLAP``) or cover the same positions
(``Boundary.EXACT``), optionally only with equal labels, and the assignment maximises the total overlap
(``scipy.optimize.linear_sum_assignment``), with fixed tie-breakers so that neither the solver nor the
order of the documents decides. A Python loop only visits the rare groups of units where several overlap
several on the other side (there the assignment problem is real and goes to scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from exports.units import Boundary, Units, concat_ranges


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
