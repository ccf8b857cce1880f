"""Exact word-level similarity of two quote renderings, scored by rapidfuzz, for many pairs at once.

rapidfuzz compares characters, so each distinct word of a block is coded as one code point
(``code_words``): its ratio and partial ratio then run at word level in C++, a substituted word
costs the same however long it is, and "legitimate targets" is a two-symbol excerpt, not an
18-character one. Three scores in [0, 1], the pair's score being the highest that applies:

- ``ratio``: Indel similarity of the two word sequences (order kept): rewordings of similar length;
- ``partial``: the shorter's sequence against its best window of the longer: excerpts;
- ``token_set``: rapidfuzz's token-set ratio of the word sets (order aside), only when both quotes have
  more than ``short_words`` distinct words: it is 1.0 whenever one set holds the other, so a
  handful of common words would otherwise match any long quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from rapidfuzz import fuzz, process

# Code points for word codes: past every Unicode whitespace (the token-set scorer splits on it) and
# around the surrogates; a block with more distinct words than this reuses codes (scores of such
# rare collisions come out a little high, never lower).
_FIRST_CODE = 0x3400
_SURROGATES = (0xD800, 0xE000)
_CODES = 0x110000 - _FIRST_CODE - (_SURROGATES[1] - _SURROGATES[0])


class Rule(IntEnum):
    """Which score decided a pair's similarity (the reason a link was made)."""

    SAME_WORDS = 0  # the same word sequence (case and punctuation aside)
    EXCERPT = 1  # partial ratio: the shorter is (nearly) a contiguous stretch of the longer
    REWORDED = 2  # ratio: the same words in the same order, some substituted or dropped
    WORD_SET = 3  # token-set ratio: much the same words, order aside (long quotes only)

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class CodedWords:
    """The quotes of one block with each distinct word coded as one character."""

    coded: list[str]  # one character per word, in order
    spaced: list[str]  # the same characters separated by spaces, for the token-set scorer
    distinct: np.ndarray  # number of distinct words per quote (int64)


def code_words(words: Sequence[Sequence[str]]) -> CodedWords:
    codes: dict[str, str] = {}

    def code(word: str) -> str:
        found = codes.get(word)
        if found is None:
            n = len(codes) % _CODES + _FIRST_CODE
            found = codes[word] = chr(n if n < _SURROGATES[0] else n + _SURROGATES[1] - _SURROGATES[0])
        return found

    coded = ["".join(code(w) for w in ws) for ws in words]
    return CodedWords(coded=coded, spaced=[" ".join(c) for c in coded],
                      distinct=np.fromiter((len(set(c)) for c in coded), dtype=np.int64, count=len(coded)))


@dataclass(frozen=True)
class PairScores:
    """Scores of pairs ``(left[k], right[k])`` of one block; all arrays float64 in [0, 1] but ``rule``."""

    ratio: np.ndarray
    partial: np.ndarray
    token_set: np.ndarray  # NaN where it does not apply (a quote of at most short_words distinct words)
    score: np.ndarray
    rule: np.ndarray  # Rule values (uint8)

    def take(self, keep: np.ndarray) -> PairScores:
        return PairScores(self.ratio[keep], self.partial[keep], self.token_set[keep], self.score[keep],
                          self.rule[keep])

    @classmethod
    def concat(cls, parts: Sequence[PairScores]) -> PairScores:
        if not parts:
            empty = np.zeros(0)
            return cls(empty, empty, empty, empty, np.zeros(0, dtype=np.uint8))
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("ratio", "partial", "token_set", "score", "rule")))


def score_pairs(words: CodedWords, left: np.ndarray, right: np.ndarray, *, short_words: int) -> PairScores:
    """Score the pairs ``(left[k], right[k])`` (indices into ``words``) with rapidfuzz, in C++ on all cores."""
    if len(left) == 0:
        return PairScores.concat([])
    a = [words.coded[i] for i in left.tolist()]
    b = [words.coded[j] for j in right.tolist()]
    ratio = process.cpdist(a, b, scorer=fuzz.ratio, dtype=np.float64, workers=-1) / 100
    partial = process.cpdist(a, b, scorer=fuzz.partial_ratio, dtype=np.float64, workers=-1) / 100
    token_set = np.full(len(left), np.nan)
    both_long = (words.distinct[left] > short_words) & (words.distinct[right] > short_words)
    if both_long.any():
        sel = np.nonzero(both_long)[0].tolist()
        token_set[both_long] = process.cpdist(
            [words.spaced[left[k]] for k in sel], [words.spaced[right[k]] for k in sel],
            scorer=fuzz.token_set_ratio, dtype=np.float64, workers=-1) / 100
    return _combine(ratio, partial, token_set)


def score_all_pairs(words: CodedWords, rows: np.ndarray, *,
                    short_words: int) -> tuple[np.ndarray, np.ndarray, PairScores]:
    """Score every pair ``(i, j)`` with ``i`` in ``rows`` (consecutive, ascending) and ``i < j``, by rapidfuzz
    ``cdist`` (the exhaustive baseline; the caller chunks ``rows`` to bound the matrices)."""
    first = int(rows[0])
    block = [words.coded[i] for i in rows.tolist()]
    cols = words.coded[first:]  # only columns right of the chunk's first row: the upper triangle
    ratio = process.cdist(block, cols, scorer=fuzz.ratio, dtype=np.float64, workers=-1) / 100
    partial = process.cdist(block, cols, scorer=fuzz.partial_ratio, dtype=np.float64, workers=-1) / 100
    token_set = np.full(ratio.shape, np.nan)
    long_rows = np.nonzero(words.distinct[rows] > short_words)[0]
    long_cols = np.nonzero(words.distinct[first:] > short_words)[0]
    if len(long_rows) and len(long_cols):
        token_set[np.ix_(long_rows, long_cols)] = process.cdist(
            [words.spaced[rows[k]] for k in long_rows.tolist()], [words.spaced[first + j] for j in long_cols.tolist()],
            scorer=fuzz.token_set_ratio, dtype=np.float64, workers=-1) / 100
    r, c = np.nonzero(rows[:, None] < np.arange(first, len(words.coded))[None, :])
    return rows[r], c + first, _combine(ratio[r, c], partial[r, c], token_set[r, c])


def _combine(ratio: np.ndarray, partial: np.ndarray, token_set: np.ndarray) -> PairScores:
    same = ratio == 1.0  # an Indel ratio of 100 means no edit at all: the same word sequence
    ts = np.nan_to_num(token_set, nan=0.0)
    score = np.maximum(np.maximum(ratio, partial), ts)
    rule = np.where(same, Rule.SAME_WORDS,
                    np.where((partial > ratio) & (partial >= ts), Rule.EXCERPT,
                             np.where(ratio >= ts, Rule.REWORDED, Rule.WORD_SET))).astype(np.uint8)
    return PairScores(ratio=ratio, partial=partial, token_set=token_set, score=score, rule=rule)
