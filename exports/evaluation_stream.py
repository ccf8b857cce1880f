"""Evaluation as a stream: predictions read a chunk at a time, each chunk joined with its gold documents and
reduced at once to additive count rows, so memory grows with the articles by one row of counts each, never by
predicted documents.

- ``Pairing`` decides, prediction by prediction (from its keys: where, article id, sha256, annotator), what
  ``exports.evaluate`` evaluates (same article id and text as the gold) and what it lists instead, and raises the
  same errors as pairing everything at once: a second prediction of an article is raised once the whole file
  has been read (so a bad line further down is reported first, as reading the file whole would report it), and
  so is "none of the predictions is of a gold article".
- ``score_chunk``: a chunk's predictions (``exports.evaluation_units.Docs``) with their gold documents (each
  article's sorted by annotator), scored, summed per article and per gold annotator.
- ``score_file``: a JSONL of predictions in byte ranges, each range read, paired and scored in a worker process
  (``exports.evaluation_workers``); ``score_located``: predictions already read, in chunks, here.
- ``Rows``: the per-article rows of every chunk, and the per-annotator sums.
- ``resample_sums``: the bootstrap over articles, ``resample_counts(...) @ rows`` a block of resamples at a time
  (the whole (resamples, articles) matrix is 800 MB at 100,000 articles); each block of ``RESAMPLE_BLOCK``
  resamples draws the articles (uniformly, with replacement) from its own generator, seeded by the seed and the
  block's number, so the draws do not depend on which process makes them or in which order.

Every value in the rows is a count or a count of half credits, so sums are exact in float64 in any order:
chunked and whole evaluations give the same figures to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exports.evaluation_inputs import RANGE_BYTES, GoldArticles, Located
from exports.evaluation_read import document_dict, read_line
from exports.evaluation_report import UnmatchedPrediction
from exports.evaluation_units import WIDTH, Docs, DocsBuilder, score
from exports.evaluation_workers import Range, lines, one_blas_thread, ranges, run, state
from schemas import ToolkitError

CHUNK = 2000  # predictions per chunk of documents given in memory
RESAMPLE_BLOCK = 50  # resamples per block: one generator, one matrix product
_FLOAT32_EXACT = 2**23  # counts of half credits below this are exact in float32 (24-bit significand)
_PARALLEL_BOOTSTRAP = 10**7  # articles x resamples from which the blocks go to worker processes

Where = int | str  # a line number of the --pred file, or where a document given in memory came from


class Pairing:
    """Which predictions are evaluated, which are listed as not evaluated, and the pairing errors."""

    def __init__(self, gold: GoldArticles, name: Callable[[Where], str] = str) -> None:
        self.gold, self.name = gold, name
        self.seen: dict[str, tuple[Where, bool]] = {}  # article id -> (where first seen, evaluated)
        self.unmatched: list[UnmatchedPrediction] = []
        self.n_pred = 0
        self.annotators: set[str] = set()
        self.error: ToolkitError | None = None

    def take(self, where: Where, article_id: str, sha256: str, annotator: str) -> bool:
        """Whether this prediction is evaluated (the first of its article, same text as the gold)."""
        self.n_pred += 1
        self.annotators.add(annotator)
        earlier = self.seen.get(article_id)
        if earlier is not None:
            if earlier[0] != where:
                self.error = self.error or ToolkitError(
                    f"{self.name(where)}: a second prediction for article {article_id!r} (the first is at "
                    f"{self.name(earlier[0])}); evaluate one prediction per article (one model at a time)")
            elif not earlier[1]:  # the same entry given twice: listed twice, as pairing all at once lists it
                self._unmatched(where, article_id, sha256)
            return False
        evaluated = self.gold.texts.sha256(article_id) == sha256
        self.seen[article_id] = (where, evaluated)
        if not evaluated:
            self._unmatched(where, article_id, sha256)
        return evaluated

    def _unmatched(self, where: Where, article_id: str, sha256: str) -> None:
        texts = self.gold.texts
        if article_id not in texts:
            self.unmatched.append(UnmatchedPrediction(where=self.name(where), article_id=article_id,
                                                      reason="not in the gold",
                                                      detail="no gold document has this article id"))
        else:
            self.unmatched.append(UnmatchedPrediction(
                where=self.name(where), article_id=article_id, reason="text differs",
                detail=f"sha256 {sha256[:12]}... but the gold's text is {texts.sha256(article_id)[:12]}...; "
                       "predict on the gold's text"))

    def finish(self) -> list[str]:
        """Raise the pairing error, if any; else the gold articles without a prediction, sorted."""
        if self.error is not None:
            raise self.error
        texts = self.gold.texts
        evaluated = {a for a, (_, ok) in self.seen.items() if ok}
        if not evaluated:
            raise ToolkitError(f"none of the {self.n_pred} predictions is of a gold article (same id and text; "
                               f"{len(texts)} gold articles); predict on the gold's articles, e.g. `annotate extract`")
        return sorted(set(texts) - evaluated)


# --- chunks ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkRows:
    """A chunk's statistics: per evaluated article, and per gold annotator with its number of pairs."""

    article_ids: list[str]
    rows: np.ndarray  # (A, WIDTH), float32 when exact
    annotators: dict[str, tuple[np.ndarray, int]]
    n_pairs: int


def score_chunk(gold: GoldArticles, preds: Docs, article_ids: list[str], texts: list[str]) -> ChunkRows:
    """``preds[i]`` (of article ``article_ids[i]``, text ``texts[i]``) against each of that article's gold
    documents."""
    golds = [gold.by_article[a] for a in article_ids]
    counts = np.array([len(g) for g in golds], dtype=np.int64)
    gold_docs = np.array([d for g in golds for d in g], dtype=np.int64)
    taken = gold.docs.take(gold_docs)
    pair_article = np.repeat(np.arange(len(article_ids)), counts)
    pairs = np.column_stack([np.arange(len(gold_docs)), len(gold_docs) + pair_article])
    per_pair = score(Docs.concat([taken, preds]), pairs, texts, pair_article)
    per_article = np.add.reduceat(per_pair, np.r_[0, np.cumsum(counts)[:-1]], axis=0) if len(pairs) else \
        np.zeros((0, WIDTH))  # an article's pairs are adjacent, and every article has one at least
    small = np.abs(per_article).max(initial=0) < _FLOAT32_EXACT
    names = [gold.annotator[d] for d in gold_docs.tolist()]
    unique, index = np.unique(np.array(names, dtype=object), return_inverse=True)
    annotators = {name: (per_pair[index == i].sum(axis=0), int((index == i).sum()))
                  for i, name in enumerate(unique.tolist())}  # a few annotators: a mask each
    return ChunkRows(article_ids, per_article.astype(np.float32) if small else per_article, annotators, len(pairs))


@dataclass(frozen=True)
class _PredPart:
    """What a worker read and scored of one range of the --pred file."""

    n_lines: int
    keys: list[tuple[int, str, str, str]]  # (line index, article id, sha256, annotator) of every prediction
    rows: ChunkRows | None
    bad: tuple[int, int, bytes] | None  # the first bad line: (line index, byte offset, bytes)


def _score_range(r: Range) -> _PredPart:
    gold: GoldArticles = state()
    builder, keys, bad, n_lines = DocsBuilder(gold.speakers), [], None, 0
    article_ids: list[str] = []
    texts: list[str] = []
    taken: set[str] = set()
    for index, offset, raw in lines(r):
        n_lines = index + 1
        try:
            d = read_line(raw, r.path, 0, offset)  # the caller numbers the lines: it rereads a bad one to raise
        except ToolkitError:
            bad = index, offset, raw
            break
        if d is None:
            continue
        article = d["article"]
        article_id, sha256 = article["id"], article["sha256"]
        keys.append((index, article_id, sha256, d["provenance"]["annotator"]))
        # what ``Pairing`` evaluates, for the first prediction of an article in the range; a second one anywhere
        # is an error that ``Pairing`` raises once everything is read, so its rows never count
        if article_id not in taken and gold.texts.sha256(article_id) == sha256:
            taken.add(article_id)
            builder.add(d)
            article_ids.append(article_id)
            texts.append(article["text"])
    rows = score_chunk(gold, builder.docs(), article_ids, texts) if article_ids and bad is None else None
    return _PredPart(n_lines, keys, rows, bad)


def score_file(gold: GoldArticles, path: Path, pairing: Pairing, rows: Rows, workers: int | None = None,
               range_bytes: int = RANGE_BYTES) -> None:
    """Every prediction of the JSONL ``path`` paired (in file order) and, if evaluated, scored into ``rows``;
    the first bad line raises its ``ToolkitError``."""
    before = 0
    for part in run(_score_range, ranges(path, range_bytes), shared=gold, workers=workers):
        if part.bad is not None:
            index, offset, raw = part.bad
            read_line(raw, path, before + index + 1, offset)  # raises that line's error
        for index, article_id, sha256, annotator in part.keys:
            pairing.take(before + index + 1, article_id, sha256, annotator)
        if part.rows is not None:
            rows.add(part.rows)
        before += part.n_lines


def score_located(gold: GoldArticles, pred: Iterable[Located], pairing: Pairing, rows: Rows, chunk: int) -> None:
    """Predictions already read, paired in order and scored ``chunk`` at a time; after a pairing error the rest
    is only paired."""
    if chunk < 1:
        raise ValueError(f"chunk size must be at least 1; got {chunk}")
    builder, article_ids, texts = DocsBuilder(gold.speakers), [], []
    for located in pred:
        doc = located.doc
        if pairing.take(located.where, doc.article.id, doc.article.sha256, doc.provenance.annotator) \
                and pairing.error is None:
            builder.add(document_dict(doc))
            article_ids.append(doc.article.id)
            texts.append(doc.article.text)
            if len(article_ids) == chunk:
                rows.add(score_chunk(gold, builder.docs(), article_ids, texts))
                builder, article_ids, texts = DocsBuilder(gold.speakers), [], []
    if article_ids and pairing.error is None:
        rows.add(score_chunk(gold, builder.docs(), article_ids, texts))


# --- rows and the bootstrap ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summed:
    """The rows of a whole evaluation: articles sorted by id, annotators sorted by name."""

    article_ids: list[str]
    article_rows: np.ndarray  # (A, WIDTH)
    annotators: list[str]
    annotator_rows: np.ndarray  # (N, WIDTH)
    annotator_articles: list[int]  # (N,) articles evaluated against each annotator
    n_pairs: int


class Rows:
    """The per-article rows of every chunk (float32 when exact, to halve the memory) and the sums per gold
    annotator."""

    def __init__(self) -> None:
        self._article_ids: list[str] = []
        self._blocks: list[np.ndarray] = []
        self._by_annotator: dict[str, np.ndarray] = {}
        self._articles_of: dict[str, int] = {}
        self._pairs = 0

    def add(self, chunk: ChunkRows) -> None:
        self._blocks.append(chunk.rows)
        self._article_ids += chunk.article_ids
        for name, (row, n) in chunk.annotators.items():
            if name in self._by_annotator:
                self._by_annotator[name] += row
            else:
                self._by_annotator[name] = row.copy()
            self._articles_of[name] = self._articles_of.get(name, 0) + n
        self._pairs += chunk.n_pairs

    def summed(self) -> Summed:
        order = sorted(range(len(self._article_ids)), key=self._article_ids.__getitem__)
        rows = np.concatenate(self._blocks) if self._blocks else np.zeros((0, WIDTH), dtype=np.float32)
        self._blocks.clear()
        rows = rows[np.array(order, dtype=np.int64)]
        annotators = sorted(self._by_annotator)
        return Summed([self._article_ids[i] for i in order], rows, annotators,
                      np.array([self._by_annotator[a] for a in annotators]).reshape(-1, WIDTH),
                      [self._articles_of[a] for a in annotators], self._pairs)


def _blocks(resamples: int) -> list[tuple[int, int, int]]:
    return [(b, start, min(start + RESAMPLE_BLOCK, resamples))
            for b, start in enumerate(range(0, resamples, RESAMPLE_BLOCK))]


def _block_counts(n: int, block: int, size: int, seed: int) -> np.ndarray:
    """(size, n) how often each of n articles is drawn in each resample of one block."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
    draws = rng.integers(0, n, size=(size, n), dtype=np.int32 if n < 2**31 else np.int64)
    counts = np.empty((size, n))
    for r in range(size):  # a resample at a time: no (size, n) int64 temporaries
        counts[r] = np.bincount(draws[r], minlength=n)
    return counts


def _check(n: int, resamples: int) -> None:
    if n < 1:
        raise ValueError("the bootstrap needs at least one document")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1; got {resamples}")


def resample_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) how often each of n articles is drawn in each resample (n draws with replacement)."""
    _check(n, resamples)
    return np.concatenate([_block_counts(n, b, stop - start, seed) for b, start, stop in _blocks(resamples)])


def _resample_block(block: tuple[int, int, int]) -> np.ndarray:
    rows, seed = state()
    b, start, stop = block
    return _block_counts(len(rows), b, stop - start, seed) @ rows


def resample_sums(rows: np.ndarray, resamples: int, seed: int, workers: int | None = None) -> np.ndarray:
    """(R, K) the sums of ``rows`` (A, K) in each bootstrap resample of the A articles,
    ``resample_counts(A, R, seed) @ rows``, without holding the counts: a block at a time, in worker processes
    when the bootstrap is large. Columns that are zero in every row are zero in every resample."""
    _check(rows.shape[0], resamples)
    used = np.flatnonzero((rows != 0).any(axis=0))
    out = np.zeros((resamples, rows.shape[1]))
    if len(used) == 0:
        return out
    dense = rows[:, used].astype(np.float64)
    if workers is None and rows.shape[0] * resamples < _PARALLEL_BOOTSTRAP:
        workers = 1
    blocks = _blocks(resamples)
    with one_blas_thread():
        for (_, start, stop), sums in zip(blocks, run(_resample_block, blocks, shared=(dense, seed), workers=workers)):
            out[start:stop, used] = sums
    return out
