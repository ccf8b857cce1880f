"""Quotes seen as the mentions of statements: one flat record per gold quote, and its words.

Statement linking, its Label Studio tasks, the fidelity classes and the evaluation all read quotes
this way, so a rendering's text and words are made in one place. A quote's text is its content
fragments joined by a space, in text order; its words are that text case-folded, with punctuation
(quotation marks, dashes, ellipses) dropped, so "Legitimate targets," and “legitimate targets”
have the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from schemas.labels import QuoteKind
from schemas.models import AnnotatedDocument

# A word: letters, digits and inner apostrophes or hyphens ("don't", "long-term", "100").
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def tokens_of(text: str) -> tuple[str, ...]:
    """The words of ``text`` as written (for showing them), punctuation dropped."""
    return tuple(_WORD.findall(text))


def words_of(text: str) -> tuple[str, ...]:
    """The words of ``text`` for comparing them: ``tokens_of``, case-folded, typographic apostrophes made plain."""
    return tuple(w.casefold().replace("’", "'") for w in tokens_of(text))


@dataclass(frozen=True)
class QuoteMention:
    """One gold quote as a mention of a statement."""

    article_id: str
    quote_id: str
    story: str | None
    outlet: str | None
    speaker: str | None  # the speaker entity id (through the speaker mention when only that is set)
    kind: QuoteKind
    text: str  # the content fragments, joined by a space
    start: int  # the first fragment's start and the last fragment's end: where to show it
    end: int

    @property
    def key(self) -> str:
        """``article_id/quote_id``, the same key as ``schemas.statements.Rendering.key``."""
        return f"{self.article_id}/{self.quote_id}"

    @property
    def words(self) -> tuple[str, ...]:
        return words_of(self.text)

    @property
    def is_direct(self) -> bool:
        return self.kind is QuoteKind.DIRECT


def quote_mentions(documents: Iterable[AnnotatedDocument]) -> Iterator[QuoteMention]:
    """The mentions of the documents' quotes, article by article, each article's quotes in text order."""
    for doc in documents:
        article = doc.article
        for q in sorted(doc.quotes, key=lambda q: (q.content[0].start, q.id)):
            yield QuoteMention(
                article_id=article.id, quote_id=q.id, story=article.story, outlet=article.outlet,
                speaker=doc.speaker_of(q), kind=q.kind, text=" ".join(f.text for f in q.content),
                start=q.content[0].start, end=q.content[-1].end,
            )
