"""Evaluation as a stream: predictions read in chunks, each chunk joined with its gold documents and reduced at
once to additive count rows, so memory grows with the articles by one row of counts each, never by documents.

- ``Pairing`` decides, prediction by prediction, what ``exports.evaluate`` evaluates (same article id and text as
  the gold) and what it lists instead, and raises the same errors as pairing everything at once: a second
  prediction of an article is raised once the whole file has been read (so a bad line further down is reported
  first, as reading the file whole would report it), and so is "none of the predictions is of a gold article".
- ``Chunk``: the gold documents of a chunk's predicted articles (each article's sorted by annotator), then the
  predictions, and the (gold, prediction) pairs.
- ``Rows``: per article the sums of its pairs' rows, per gold annotator the sums of theirs.
- ``resample_sums``: the bootstrap over articles in blocks of resamples, the same weights that
  ``exports.metrics.resample_weights`` draws at once (that matrix, resamples x articles, is 800 MB at 100,000
  articles), and ``interval``, the percentile step of ``exports.metrics.bootstrap_ci``.

Every value in the rows is a count or a count of half credits, so sums are exact in float64 in any order:
chunked and whole evaluations give the same figures to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from exports.evaluation_inputs import GoldArticles, Located
from exports.evaluation_report import UnmatchedPrediction
from schemas import AnnotatedDocument, ToolkitError

CHUNK = 2000  # predictions per chunk: large enough for numpy to pay off, small enough to stay a few MB
_BLOCK_BYTES = 32 * 2**20  # resample weights drawn per block
_FLOAT32_EXACT = 2**23  # counts of half credits below this are exact in float32 (24-bit significand)


@dataclass(frozen=True)
class Chunk:
    """Gold documents (by predicted article, each article's by annotator), then the predictions."""

    docs: list[AnnotatedDocument]
    pairs: np.ndarray  # (P, 2) (gold, prediction) indices into docs
    pair_article: np.ndarray  # (P,) index into article_ids
    article_ids: list[str]  # the predicted articles, one per prediction
    pair_annotator: list[str]  # (P,) the gold document's annotator

    @classmethod
    def of(cls, gold: GoldArticles, predicted: list[AnnotatedDocument]) -> Chunk:
        golds = [gold.documents(p.article.id) for p in predicted]
        docs = [d for article_docs in golds for d in article_docs]
        pair_article = np.repeat(np.arange(len(predicted), dtype=np.int64), [len(g) for g in golds])
        pairs = np.column_stack([np.arange(len(docs)), len(docs) + pair_article]).astype(np.int64).reshape(-1, 2)
        return cls(docs + predicted, pairs, pair_article, [p.article.id for p in predicted],
                   [d.provenance.annotator for d in docs])


class Pairing:
    """Which predictions are evaluated, which are listed as not evaluated, and the pairing errors."""

    def __init__(self, gold: GoldArticles) -> None:
        self.gold = gold
        self.seen: dict[str, tuple[str, bool]] = {}  # article id -> (where first seen, evaluated)
        self.unmatched: list[UnmatchedPrediction] = []
        self.n_pred = 0
        self.annotators: set[str] = set()
        self.error: ToolkitError | None = None

    def chunks(self, pred: Iterable[Located], size: int) -> Iterator[Chunk]:
        """Chunks of up to ``size`` evaluated predictions; after an error the rest is only read (validated)."""
        if size < 1:
            raise ValueError(f"chunk size must be at least 1; got {size}")
        batch: list[AnnotatedDocument] = []
        for located in pred:
            if self._take(located) and self.error is None:
                batch.append(located.doc)
                if len(batch) == size:
                    yield Chunk.of(self.gold, batch)
                    batch = []
        if batch and self.error is None:
            yield Chunk.of(self.gold, batch)

    def _take(self, located: Located) -> bool:
        self.n_pred += 1
        article = located.doc.article
        self.annotators.add(located.doc.provenance.annotator)
        earlier = self.seen.get(article.id)
        if earlier is not None:
            if earlier[0] != located.where:
                self.error = self.error or ToolkitError(
                    f"{located.where}: a second prediction for article {article.id!r} (the first is at {earlier[0]}); "
                    "evaluate one prediction per article (one model at a time)")
            elif not earlier[1]:  # the same entry given twice: listed twice, as pairing all at once lists it
                self._unmatched(located)
            return False
        evaluated = article.id in self.gold.texts and self.gold.texts.sha256(article.id) == article.sha256
        self.seen[article.id] = (located.where, evaluated)
        if not evaluated:
            self._unmatched(located)
        return evaluated

    def _unmatched(self, located: Located) -> None:
        article, texts = located.doc.article, self.gold.texts
        if article.id not in texts:
            self.unmatched.append(UnmatchedPrediction(where=located.where, article_id=article.id,
                                                      reason="not in the gold",
                                                      detail="no gold document has this article id"))
        else:
            self.unmatched.append(UnmatchedPrediction(
                where=located.where, article_id=article.id, reason="text differs",
                detail=f"sha256 {article.sha256[:12]}... but the gold's text is {texts.sha256(article.id)[:12]}...; "
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


def _sum_rows(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, group, values)
    return out


@dataclass(frozen=True)
class Summed:
    """The rows of a whole evaluation: articles sorted by id, annotators sorted by name."""

    article_ids: list[str]
    article_rows: np.ndarray  # (A, K)
    annotators: list[str]
    annotator_rows: np.ndarray  # (N, K)
    annotator_articles: list[int]  # (N,) articles evaluated against each annotator
    n_pairs: int


class Rows:
    """Sums of the per-pair rows of every chunk: per article (float32 when exact, to halve the memory) and per
    gold annotator."""

    def __init__(self) -> None:
        self._article_ids: list[str] = []
        self._blocks: list[np.ndarray] = []
        self._by_annotator: dict[str, np.ndarray] = {}
        self._articles_of: dict[str, int] = {}
        self._pairs = 0

    def add(self, chunk: Chunk, per_pair: np.ndarray) -> None:
        """``per_pair`` (P, K): every figure's statistics of each pair of ``chunk``."""
        per_article = _sum_rows(per_pair, chunk.pair_article, len(chunk.article_ids))
        small = np.abs(per_article).max(initial=0) < _FLOAT32_EXACT
        self._blocks.append(per_article.astype(np.float32) if small else per_article)
        self._article_ids += chunk.article_ids
        names, index = np.unique(np.array(chunk.pair_annotator, dtype=object), return_inverse=True)
        for name, row, n in zip(names.tolist(), _sum_rows(per_pair, index, len(names)),
                                np.bincount(index, minlength=len(names)).tolist()):
            if name in self._by_annotator:
                self._by_annotator[name] += row
            else:
                self._by_annotator[name] = row
            self._articles_of[name] = self._articles_of.get(name, 0) + n
        self._pairs += len(chunk.pairs)

    def summed(self, width: int) -> Summed:
        order = sorted(range(len(self._article_ids)), key=self._article_ids.__getitem__)
        rows = np.concatenate(self._blocks) if self._blocks else np.zeros((0, width), dtype=np.float32)
        self._blocks.clear()
        annotators = sorted(self._by_annotator)
        return Summed([self._article_ids[i] for i in order], rows[np.array(order, dtype=np.int64)], annotators,
                      np.array([self._by_annotator[a] for a in annotators]).reshape(-1, width),
                      [self._articles_of[a] for a in annotators], self._pairs)


def resample_sums(rows: np.ndarray, resamples: int, seed: int, block_bytes: int = _BLOCK_BYTES) -> np.ndarray:
    """(R, K) the sums of ``rows`` (A, K) in each bootstrap resample of the A articles: ``resample_weights(A, R,
    seed) @ rows`` without holding the (R, A) weights, drawn a block of resamples at a time from the same
    generator (a block of rows of ``multinomial(size=...)`` is the same draw as those rows of one big call)."""
    n = rows.shape[0]
    if n < 1:
        raise ValueError("the bootstrap needs at least one document")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1; got {resamples}")
    rng = np.random.default_rng(seed)
    p = np.full(n, 1 / n)
    block = max(1, block_bytes // (8 * n))
    out = np.empty((resamples, rows.shape[1]))
    columns = max(1, block_bytes // (8 * n))  # rows are converted to float64 this many columns at a time
    for start in range(0, resamples, block):
        weights = rng.multinomial(n, p, size=min(block, resamples - start)).astype(np.float64)
        for c in range(0, rows.shape[1], columns):
            out[start : start + len(weights), c : c + columns] = weights @ rows[:, c : c + columns].astype(np.float64)
    return out
