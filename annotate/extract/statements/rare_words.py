"""The rare words of a block of quotes, and the exact pairing of short quotes through them.

A word is rare in a block when at most ``max_df`` of its quotes contain it (see ``candidates``).
The inverted index of rare words gives every pair of a short quote and a quote sharing one of its rare
words: a join of the (rare word, quote) incidence with itself, in numpy. Its size is bounded by
``max_df`` per rare word of a short quote, whatever the block's size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix


@dataclass(frozen=True)
class RareWords:
    """The words of a block that at most ``max_df`` of its quotes contain, per quote, as ids."""

    ids: list[np.ndarray]  # per quote, the ids of its rare words (sorted, unique)
    sets: list[frozenset[int]]  # the same as sets, for counting what two quotes share
    sizes: np.ndarray
    vocabulary: int

    @classmethod
    def of(cls, words: Sequence[Sequence[str]], max_df: int) -> RareWords:
        sets = [set(ws) for ws in words]
        df = Counter(w for s in sets for w in s)
        index = {w: i for i, w in enumerate(sorted(w for w, n in df.items() if n <= max_df))}
        ids = [np.array(sorted(index[w] for w in s if w in index), dtype=np.int64) for s in sets]
        return cls(ids=ids, sets=[frozenset(x.tolist()) for x in ids],
                   sizes=np.array([len(x) for x in ids], dtype=np.int64), vocabulary=len(index))

    def matrix(self) -> csr_matrix:
        """Quotes x rare words, 1 where the quote has the word."""
        indptr = np.concatenate([[0], np.cumsum(self.sizes)])
        indices = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int64)
        return csr_matrix((np.ones(len(indices), dtype=np.int64), indices, indptr),
                          shape=(len(self.ids), self.vocabulary))

    def shared(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        pairs = zip(left.tolist(), right.tolist(), strict=True)
        return np.fromiter((len(self.sets[i] & self.sets[j]) for i, j in pairs), dtype=np.int64, count=len(left))


def rare_word_pairs(rare: RareWords, short: np.ndarray,
                    budget: int = 4_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of a short quote and another quote sharing one of its rare words, with how many they share.

    A join of the (rare word, quote) incidence with itself, vectorised, over chunks of short quotes of
    about ``budget`` joined rows each; a pair of two short quotes is taken from the lower index's side only,
    so no pair comes twice and each row of the join is one shared word."""
    quote = np.repeat(np.arange(len(rare.ids), dtype=np.int64), rare.sizes)
    word = np.concatenate(rare.ids) if rare.ids else np.zeros(0, dtype=np.int64)
    by_word = np.argsort(word, kind="stable")
    postings = quote[by_word]  # quotes grouped by word
    df = np.bincount(word, minlength=rare.vocabulary)
    starts = np.concatenate([[0], np.cumsum(df)[:-1]]).astype(np.int64)
    mine = short[quote]
    q, w = quote[mine], word[mine]  # q ascending: the short quotes' entries, quote by quote
    sizes = df[w]
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, np.arange(budget, int(ends[-1]) if len(ends) else 0, budget))
    cuts = np.searchsorted(q, q[cuts], side="left") if len(cuts) else cuts  # a chunk holds whole quotes
    bounds = np.unique(np.concatenate([[0], cuts, [len(q)]]))
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    n = len(rare.ids)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        s = sizes[a:b]
        mine_q = np.repeat(q[a:b], s)
        first = np.repeat(starts[w[a:b]] - (np.cumsum(s) - s), s)
        other = postings[first + np.arange(int(s.sum()), dtype=np.int64)]
        keep = (other != mine_q) & (~short[other] | (mine_q < other))
        lo, hi = np.minimum(mine_q[keep], other[keep]), np.maximum(mine_q[keep], other[keep])
        packed, counts = np.unique(lo * n + hi, return_counts=True)
        out.append((packed // n, packed % n, counts.astype(np.int64)))
    return _cat([o[0] for o in out]), _cat([o[1] for o in out]), _cat([o[2] for o in out])


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
