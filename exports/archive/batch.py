"""One batch of articles to rows of the published codec: the pure step that every engine runs.

``extract_rows`` writes no file and starts no process: the one-machine run (``local_run``) calls it in its worker
processes, and a distributed engine's per-partition function can call it the same way. The extractor is named
by an ``ExtractorSpec`` (picklable: paths, not loaded objects) and loaded once per process (``extractor_for``
caches it per spec), so a batch pays no model load. Its predictions are what ``annotate extract`` writes as
JSONL: the quote extractor's document completed by the claim and stance rules, one ``annotations`` row per
article (annotator = the extractor's name and version, origin = prediction) beside its ``articles`` row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from annotate.extract.choose import QuoteExtractor, quote_extractor
from annotate.extract.layers import with_claims_and_stances
from exports.dataset.rows import ArticleRow, annotation_row, article_row
from schemas import AnnotatedDocument, Article, TargetInventory
from schemas.articles import load_targets
from schemas.paths import SEED_TARGETS


@dataclass(frozen=True)
class ExtractorSpec:
    """Which extractor a batch runs, by file paths (so it pickles to a worker or an executor)."""

    model: str | None = None  # a model file of ``annotate train``; None: the rules
    targets: str | None = None  # the stance target inventory; None: the seeds' targets.json


@dataclass(frozen=True)
class Extractor:
    """A loaded extractor: quotes by the rules or the model, then claims and stances by the rules."""

    quotes: QuoteExtractor
    targets: TargetInventory

    @property
    def name(self) -> str:
        return self.quotes.name

    def __call__(self, article: Article) -> AnnotatedDocument:
        return with_claims_and_stances(self.quotes(article), self.targets)


_LOADED: dict[ExtractorSpec, Extractor] = {}  # per process: a forked worker inherits its parent's


def extractor_for(spec: ExtractorSpec) -> Extractor:
    """The extractor of ``spec``, loaded (and checked) on first use in this process."""
    loaded = _LOADED.get(spec)
    if loaded is None:
        quotes = quote_extractor(Path(spec.model) if spec.model is not None else None)
        targets = load_targets(Path(spec.targets) if spec.targets is not None else SEED_TARGETS)
        loaded = _LOADED[spec] = Extractor(quotes, targets)
    return loaded


@dataclass
class ExtractedRows:
    """The rows of one batch, in its articles' order: ``articles[i]`` is the article of ``annotations[i]``."""

    articles: list[ArticleRow] = field(default_factory=list)
    annotations: list[dict] = field(default_factory=list)


def extract_rows(articles: Iterable[Article], spec: ExtractorSpec) -> ExtractedRows:
    """The ``articles`` and ``annotations`` rows of the predictions for one batch of articles."""
    extractor = extractor_for(spec)
    rows = ExtractedRows()
    for article in articles:
        doc = extractor(article)
        rows.articles.append(article_row(doc))
        rows.annotations.append(annotation_row(doc, f"{extractor.name}'s prediction"))
    return rows
