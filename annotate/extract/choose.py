"""Which quote extractor runs: the rule-based baseline, or a model trained with ``annotate train``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from annotate.extract.baseline import BASELINE_VERSION, extract
from annotate.extract.model.tagger import QuoteModel
from schemas import AnnotatedDocument, Article


@dataclass(frozen=True)
class QuoteExtractor:
    """An article-to-document function with the name its predictions carry."""

    name: str
    run: Callable[[Article], AnnotatedDocument]

    def __call__(self, article: Article) -> AnnotatedDocument:
        return self.run(article)


def quote_extractor(model: Path | None = None) -> QuoteExtractor:
    """The rules when ``model`` is None (the default everywhere), else the model file, loaded and checked."""
    if model is None:
        return QuoteExtractor(f"baseline-{BASELINE_VERSION}", extract)
    loaded = QuoteModel.load(model)
    return QuoteExtractor(loaded.name, loaded.extract)
