"""The documents to compare, checked and grouped by article: one ``Corpus`` for agreement, adjudication and
evaluation, and the checks it rests on, usable one document at a time (publishing streams its inputs).

- One article id means one text: ``ArticleTexts.check`` remembers the text hash and where each article id
  was first seen (``file:line``, or ``document n`` for documents given in memory).
- One document per annotator and article: ``AnnotatorDocuments.check``.
- ``EXCLUDED_ORIGINS``: documents that are not an annotator's work (gold, model predictions); comparing
  them with annotators would mix agreement with evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

import numpy as np

from schemas import AnnotatedDocument, ToolkitError

# Origin -> why a document of that origin is not an annotator's.
EXCLUDED_ORIGINS = {"gold": "a gold document, not an annotator", "prediction": "a model prediction, not an annotator"}


def default_where(n: int) -> list[str]:
    """Where documents given in memory came from, for messages: ``document 1`` ... ``document n``."""
    return [f"document {i + 1}" for i in range(n)]


class ArticleTexts:
    """Article id -> text hash, each with where it was first seen: one article id must mean one text."""

    def __init__(self) -> None:
        self._first: dict[str, tuple[str, str]] = {}  # article id -> (sha256, where first seen)

    def check(self, article_id: str, sha256: str, where: str) -> None:
        """Remember the article's text, or raise if the id was seen before with another text."""
        first_sha256, first_where = self._first.setdefault(article_id, (sha256, where))
        if first_sha256 != sha256:
            raise ToolkitError(f"{where}: article {article_id!r} has a different text (sha256) than at {first_where}; "
                               "one article id must mean one text: fix the input or give the article a new id")

    def sha256(self, article_id: str) -> str | None:
        first = self._first.get(article_id)
        return None if first is None else first[0]

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)


class AnnotatorDocuments:
    """(article id, annotator) -> where their document was first seen: one document per annotator and article."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str], str] = {}

    def check(self, article_id: str, annotator: str, where: str) -> None:
        first = self._first.get((article_id, annotator))
        if first is not None:
            raise ToolkitError(f"{where}: annotator {annotator!r} already has a document of article {article_id!r} "
                               f"at {first}; keep one per annotator and article")
        self._first[article_id, annotator] = where


def check_documents(docs: Sequence[AnnotatedDocument], where: Sequence[str]) -> ArticleTexts:
    """Both checks over ``docs`` in their order; the article texts seen."""
    texts, owners = ArticleTexts(), AnnotatorDocuments()
    for doc, w in zip(docs, where, strict=True):
        texts.check(doc.article.id, doc.article.sha256, w)
        owners.check(doc.article.id, doc.provenance.annotator, w)
    return texts


@dataclass(frozen=True)
class Excluded:
    """A document left out of a corpus, and why."""

    where: str
    article_id: str
    annotator: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    """Checked documents grouped by article (article ids sorted, annotators sorted within), and the pairs of
    one article's documents."""

    docs: list[AnnotatedDocument]  # sorted by (article id, annotator)
    where: list[str]  # where each of ``docs`` came from
    article_ids: list[str]  # sorted
    offsets: np.ndarray  # (A + 1,) documents of article a are docs[offsets[a]:offsets[a + 1]]
    texts: ArticleTexts
    excluded: list[Excluded] = field(default_factory=list)

    @classmethod
    def of(cls, docs: Sequence[AnnotatedDocument], where: Sequence[str] | None = None, *,
           exclude_origins: bool = True) -> Corpus:
        """The corpus of ``docs`` (any order); with ``exclude_origins``, gold and predictions are left out
        (listed in ``excluded``). ``where`` (default ``document n``) names each document in messages."""
        where = list(where) if where is not None else default_where(len(docs))
        kept, excluded = [], []
        for i, doc in enumerate(docs):
            reason = EXCLUDED_ORIGINS.get(doc.provenance.origin) if exclude_origins else None
            if reason is None:
                kept.append(i)
            else:
                excluded.append(Excluded(where[i], doc.article.id, doc.provenance.annotator, reason))
        texts = check_documents([docs[i] for i in kept], [where[i] for i in kept])
        kept.sort(key=lambda i: (docs[i].article.id, docs[i].provenance.annotator))
        sorted_docs = [docs[i] for i in kept]
        article_ids = sorted(texts)
        index = {a: n for n, a in enumerate(article_ids)}
        doc_article = np.array([index[d.article.id] for d in sorted_docs], dtype=np.int64)
        offsets = np.searchsorted(doc_article, np.arange(len(article_ids) + 1))
        return cls(sorted_docs, [where[i] for i in kept], article_ids, offsets, texts, excluded)

    def article_docs(self, a: int) -> list[AnnotatedDocument]:
        return self.docs[self.offsets[a] : self.offsets[a + 1]]

    def annotators(self, a: int) -> list[str]:
        return [d.provenance.annotator for d in self.article_docs(a)]

    @cached_property
    def doc_article(self) -> np.ndarray:
        """(D,) the article of each document."""
        return np.repeat(np.arange(len(self.article_ids)), np.diff(self.offsets))

    @cached_property
    def pairs(self) -> np.ndarray:
        """(P, 2) every pair of documents of one article, the first annotator's name sorting first."""
        pairs = [pair for a in range(len(self.article_ids))
                 for pair in combinations(range(self.offsets[a], self.offsets[a + 1]), 2)]
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)

    @cached_property
    def pair_article(self) -> np.ndarray:
        """(P,) the article of each pair."""
        return self.doc_article[self.pairs[:, 0]]

    @cached_property
    def pair_names(self) -> list[tuple[str, str]]:
        """The distinct annotator pairs, sorted."""
        return sorted(set(self._names))

    @cached_property
    def pair_name(self) -> np.ndarray:
        """(P,) index of each pair's annotators into ``pair_names``."""
        index = {n: i for i, n in enumerate(self.pair_names)}
        return np.array([index[n] for n in self._names], dtype=np.int64)

    @cached_property
    def _names(self) -> list[tuple[str, str]]:
        return [(self.docs[i].provenance.annotator, self.docs[j].provenance.annotator) for i, j in self.pairs.tolist()]

    @property
    def compared(self) -> np.ndarray:
        """The articles with two or more documents."""
        return np.flatnonzero(np.diff(self.offsets) >= 2)

    @property
    def single(self) -> list[str]:
        """Ids of the articles with one document."""
        return [self.article_ids[a] for a in np.flatnonzero(np.diff(self.offsets) == 1)]
