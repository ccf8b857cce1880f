"""Candidate pairs of quotes that might render the same statement, found without comparing all pairs.

Blocking: two quotes are compared only when they have the same speaker entity id (quotes without a
speaker are never paired) and, with story labels, the same story; quotes of fewer than
``min_words`` words (a scare quote like “Nazi”) are never paired either.

Inside a block the pairs come from two passes, then get exact rapidfuzz scores (``similarity``):

- *Rare words.* A word is rare when at most ``max_df`` quotes of the block contain it. A pair can be
  linked only if it shares one (``CandidatePair.passes``): common words ("the", a speaker's stock
  phrases) make unrelated quotes of a prolific speaker look alike, and in a block of 100,000 quotes
  even a false-link rate of 1e-5 per pair joins everything into one component. The bound is absolute,
  not a share of the block, so the false links a quote can get stay bounded however large its block.
  In a small block (a story) every word is rare.
- *Short quotes* (at most ``short_words`` distinct words, mostly excerpts: "legitimate targets" of
  "we proceed from the premise that they will be legitimate targets") are paired with every quote
  that shares one of their rare words, from an inverted index. This is exact: every pair with a short
  side that can pass is a candidate. MinHash estimates Jaccard, and a 2-word excerpt of a 20-word
  quote has Jaccard 0.1 however well it matches; ``MinHashLSHEnsemble`` (containment) was the
  alternative, but it estimates what the index computes exactly here at a cost bounded by ``max_df``
  per rare word.
- *Long quotes* (the others) go through MinHash LSH (``datasketch``), one index per block, built,
  queried and dropped block by block, so memory is the largest block's index, not the archive's.
  The MinHash is over the quote's rare words: unrelated quotes almost never share one, so buckets
  stay small and a low LSH threshold is cheap (see ``CandidateSettings``).

``method="exhaustive"`` scores all pairs of each block instead (rapidfuzz ``cdist``): the baseline of
the benchmark and a check for small inputs. Both methods give a pair the same scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np

from annotate.extract.statements.rare_words import RareWords, rare_word_pairs
from annotate.extract.statements.similarity import (
    CodedWords,
    PairScores,
    Rule,
    code_words,
    score_all_pairs,
    score_pairs,
)
from schemas.errors import ToolkitError
from schemas.quote_mentions import QuoteMention, mention_order

Method = Literal["lsh", "exhaustive"]
METHODS: tuple[str, ...] = ("lsh", "exhaustive")


class FoundBy(IntEnum):
    GIVEN = 0  # scored on request (``given_pairs``)
    MINHASH_LSH = 1
    RARE_WORD = 2
    EXHAUSTIVE = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class CandidateSettings:
    """The tunables of candidate generation.

    LSH: 64 permutations as 32 bands of 2 rows, P(candidate) = 1 - (1 - J^2)^32 for Jaccard J of the rare-word
    sets: 0.99 at J = 0.4, 0.95 at 0.3, 0.73 at 0.2, 0.27 at 0.1 (threshold ~ (1/32)^(1/2) = 0.18). A low
    threshold because rare-word sets are small (a long quote of the benchmark's 105,000-quote speaker keeps
    ~4 words) and a reworded variant loses some of them (J 0.29 at the 5th percentile of a variant and its
    original there), while 99.9 % of unrelated pairs share none, so false candidates stay few (4.2 million
    LSH candidates among the 8.5e9 pairs inside the blocks of the 1,000,000-quote benchmark). One row per
    band would make a candidate of nearly every pair sharing one rare word (an inverted index over all
    quotes); more rows would lose variants. Few permutations suffice for sets this small. In small blocks
    every word is rare and false candidates are many in proportion, but few, the block being small.
    """

    num_perm: int = 64
    bands: int = 32
    rows: int = 2
    short_words: int = 12  # at most this many distinct words: paired through the rare-word index
    max_df: int = 100  # a word in at most this many quotes of the block is rare
    min_words: int = 2  # fewer words than this: never paired
    seed: int = 1  # of the MinHash permutations

    def __post_init__(self) -> None:
        for name in ("num_perm", "bands", "rows", "short_words", "max_df", "min_words"):
            if getattr(self, name) < 1:
                raise ToolkitError(f"candidate settings: {name}={getattr(self, name)} must be at least 1")
        if self.bands * self.rows > self.num_perm:
            raise ToolkitError(f"candidate settings: {self.bands} bands x {self.rows} rows need at least "
                               f"{self.bands * self.rows} permutations, not num_perm={self.num_perm}")


DEFAULT_SETTINGS = CandidateSettings()
_CDIST_CELLS = 1 << 22  # pairs per rapidfuzz cdist chunk in exhaustive mode: bounds its score matrices


@dataclass(frozen=True)
class Block:
    """The quotes of one speaker (in one story, with story labels), in (article_id, start) order."""

    story: str | None
    speaker: str
    mentions: tuple[QuoteMention, ...]


def blocks_of(mentions: Iterable[QuoteMention], *, use_stories: bool = True) -> list[Block]:
    """The blocks of the mentions that have a speaker, in (story, speaker) order (no story last)."""
    groups: dict[tuple[str | None, str], list[QuoteMention]] = defaultdict(list)
    seen: set[str] = set()
    for m in mentions:
        if m.key in seen:
            raise ToolkitError(f"quote {m.key!r} appears twice; give each article one document")
        seen.add(m.key)
        if m.speaker is not None:
            groups[(m.story if use_stories else None, m.speaker)].append(m)
    order = sorted(groups, key=lambda k: (k[0] is None, k[0] or "", k[1]))
    return [Block(story=k[0], speaker=k[1], mentions=tuple(sorted(groups[k], key=mention_order))) for k in order]


@dataclass(frozen=True)
class BlockCandidates:
    """Candidate pairs ``(left[k], right[k])`` of one block (indices into its quotes, left < right)."""

    left: np.ndarray
    right: np.ndarray
    found_by: np.ndarray  # FoundBy values (uint8)
    shared_rare: np.ndarray  # rare words the two share (int64)
    scores: PairScores

    def __len__(self) -> int:
        return len(self.left)

    def take(self, keep: np.ndarray) -> BlockCandidates:
        return BlockCandidates(self.left[keep], self.right[keep], self.found_by[keep], self.shared_rare[keep],
                               self.scores.take(keep))

    def passing(self, threshold: float) -> BlockCandidates:
        """The pairs that pass (as ``CandidatePair.passes``): score at least ``threshold``, a rare word shared."""
        return self.take((self.scores.score >= threshold) & (self.shared_rare > 0))


def block_candidates(words: Sequence[Sequence[str]], *, method: Method = "lsh",
                     settings: CandidateSettings = DEFAULT_SETTINGS, min_score: float = 0.0) -> BlockCandidates:
    """The candidate pairs of one block's quotes, given their words, scored; those below ``min_score`` dropped."""
    if method not in METHODS:
        raise ToolkitError(f"candidate method {method!r}: use one of {', '.join(METHODS)}")
    eligible = np.array([i for i, ws in enumerate(words) if len(ws) >= settings.min_words], dtype=np.int64)
    words = [words[i] for i in eligible.tolist()]
    coded = code_words(words)
    rare = RareWords.of(words, settings.max_df)
    if method == "exhaustive":
        left, right, shared, scores = _exhaustive(coded, rare, settings, min_score)
        found_by = np.full(len(left), FoundBy.EXHAUSTIVE, dtype=np.uint8)
    else:
        short = coded.distinct <= settings.short_words
        l1, r1 = _lsh_pairs(rare, np.nonzero(~short & (rare.sizes > 0))[0], settings)
        l2, r2, s2 = rare_word_pairs(rare, short)
        left, right = np.concatenate([l1, l2]), np.concatenate([r1, r2])
        shared = np.concatenate([rare.shared(l1, r1), s2])
        found_by = np.repeat(np.array([FoundBy.MINHASH_LSH, FoundBy.RARE_WORD], dtype=np.uint8), [len(l1), len(l2)])
        order = np.lexsort((right, left))
        left, right, shared, found_by = left[order], right[order], shared[order], found_by[order]
        scores = score_pairs(coded, left, right, short_words=settings.short_words)
    keep = scores.score >= min_score
    return BlockCandidates(left=eligible[left[keep]], right=eligible[right[keep]], found_by=found_by[keep],
                           shared_rare=shared[keep], scores=scores.take(keep))


def given_pairs(words: Sequence[Sequence[str]], left: np.ndarray, right: np.ndarray, *,
                settings: CandidateSettings = DEFAULT_SETTINGS) -> BlockCandidates:
    """The given pairs of one block's quotes (indices into ``words``) with the scores and shared rare words
    the candidate methods would give them (a pair with a quote of fewer than ``min_words`` words: all 0),
    e.g. to see which true pairs could be linked at all."""
    eligible = np.array([len(ws) >= settings.min_words for ws in words], dtype=bool)
    compact = np.cumsum(eligible) - 1
    ok = eligible[left] & eligible[right]
    kept = [words[i] for i in np.nonzero(eligible)[0].tolist()]
    rare = RareWords.of(kept, settings.max_df)
    a, b = compact[left[ok]], compact[right[ok]]
    scores = score_pairs(code_words(kept), a, b, short_words=settings.short_words)
    full = PairScores(*(np.zeros(len(left), dtype=getattr(scores, f).dtype)
                        for f in ("ratio", "partial", "token_set", "score", "rule")))
    for f in ("ratio", "partial", "token_set", "score", "rule"):
        getattr(full, f)[ok] = getattr(scores, f)
    shared = np.zeros(len(left), dtype=np.int64)
    shared[ok] = rare.shared(a, b)
    return BlockCandidates(left=left, right=right, found_by=np.full(len(left), FoundBy.GIVEN, dtype=np.uint8),
                           shared_rare=shared, scores=full)


def _lsh_pairs(rare: RareWords, quotes: np.ndarray, settings: CandidateSettings) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ``quotes`` whose rare-word MinHashes collide in at least one LSH band."""
    from datasketch import MinHash, MinHashLSH  # here: importing it takes ~0.5 s, which few callers need

    if len(quotes) < 2:
        return _cat([]), _cat([])
    tokens = ([w.to_bytes(8, "little") for w in rare.ids[q].tolist()] for q in quotes.tolist())
    hashes = MinHash.bulk(tokens, num_perm=settings.num_perm, seed=settings.seed)
    lsh = MinHashLSH(num_perm=settings.num_perm, params=(settings.bands, settings.rows))
    for k, h in enumerate(hashes):
        lsh.insert(k, h, check_duplication=False)
    left: list[int] = []
    right: list[int] = []
    for k, h in enumerate(hashes):
        later = [j for j in lsh.query(h) if j > k]
        left.extend([k] * len(later))
        right.extend(later)
    return quotes[np.array(left, dtype=np.int64)], quotes[np.array(right, dtype=np.int64)]


def _exhaustive(coded: CodedWords, rare: RareWords, settings: CandidateSettings,
                min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, PairScores]:
    """All pairs, scored a chunk of rows at a time, those below ``min_score`` dropped as they come."""
    n = len(coded.coded)
    incidence = rare.matrix()
    step = max(1, min(256, _CDIST_CELLS // max(n, 1)))  # few rows: little of the lower triangle computed
    lefts, rights, shareds, scores = [], [], [], []
    for start in range(0, max(n - 1, 0), step):
        rows = np.arange(start, min(start + step, n - 1), dtype=np.int64)
        left, right, s = score_all_pairs(coded, rows, short_words=settings.short_words)
        keep = s.score >= min_score
        left, right = left[keep], right[keep]
        lefts.append(left)
        rights.append(right)
        shareds.append((incidence[rows] @ incidence.T).toarray()[left - start, right].astype(np.int64))
        scores.append(s.take(keep))
    return (_cat(lefts), _cat(rights), _cat(shareds), PairScores.concat(scores))


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class CandidatePair:
    """Two quotes of one block that might render one statement, with the reasons: how the pair was found,
    its scores (in [0, 1]), the rule that gave the highest, and how many rare words the two share."""

    left: str  # mention key (article_id/quote_id), the earlier in (article_id, start) order
    right: str
    found_by: str  # "minhash-lsh" | "rare-word" | "exhaustive" (| "given")
    rule: str  # "same-words" | "excerpt" | "reworded" | "word-set"
    score: float
    ratio: float
    partial: float
    token_set: float | None  # None: a quote of at most short_words distinct words
    shared_rare_words: int

    def passes(self, threshold: float) -> bool:
        """Similar enough, and sharing a word rare among the speaker's quotes (see the module's docstring)."""
        return self.score >= threshold and self.shared_rare_words > 0


def pair_records(block: Block, found: BlockCandidates) -> Iterator[CandidatePair]:
    keys = [m.key for m in block.mentions]
    s = found.scores
    for k in range(len(found)):
        ts = float(s.token_set[k])
        yield CandidatePair(
            left=keys[found.left[k]], right=keys[found.right[k]], found_by=FoundBy(found.found_by[k]).label,
            rule=Rule(s.rule[k]).label, score=float(s.score[k]), ratio=float(s.ratio[k]),
            partial=float(s.partial[k]), token_set=None if np.isnan(ts) else ts,
            shared_rare_words=int(found.shared_rare[k]))


def candidate_pairs(mentions: Iterable[QuoteMention], *, use_stories: bool = True, method: Method = "lsh",
                    settings: CandidateSettings = DEFAULT_SETTINGS, min_score: float = 0.0) -> Iterator[CandidatePair]:
    """The candidate pairs of the mentions, block by block, each with its reasons."""
    for block in blocks_of(mentions, use_stories=use_stories):
        found = block_candidates([m.words for m in block.mentions], method=method, settings=settings,
                                 min_score=min_score)
        yield from pair_records(block, found)
