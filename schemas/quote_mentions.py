"""Quotes seen as the mentions of statements: one flat record per gold quote, and its words.

Statement linking, its Label Studio tasks, the fidelity classes and the evaluation all read quotes
this way, so a rendering's text and words are made in one place. A quote's text is its content
fragments joined by a space, in text order; its words are that text case-folded, with punctuation
(quotation marks, dashes, ellipses) dropped, so "Legitimate targets," and “legitimate targets”
have the same words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
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


def mention_order(m: QuoteMention) -> tuple[str, int, str]:
    """The one order of renderings: article id, then position in the article. Statement ids, the order of a
    statement's renderings and of a story's statements all follow it, so every producer names alike."""
    return (m.article_id, m.start, m.quote_id)


def statement_id_for(first: QuoteMention) -> str:
    """A statement's id, stable within its story: named after its first rendering (``mention_order``); an id
    longer than the 200 characters an ``Id`` allows becomes a hash of that rendering's key."""
    name = f"s-{first.article_id}-{first.quote_id}"
    return name if len(name) <= 200 else "s-" + hashlib.sha256(first.key.encode("utf-8")).hexdigest()[:40]


GLOSS_LENGTH = 120


def gloss_of(renderings: Sequence[QuoteMention]) -> str:
    """A statement's gloss when nobody wrote one: the longest direct rendering's text (the longest rendering's
    when none is direct; ties to the first), at most ``GLOSS_LENGTH`` characters, cut at a word with an ellipsis."""
    direct = [m for m in renderings if m.is_direct] or list(renderings)
    text = " ".join(max(direct, key=lambda m: len(m.text)).text.split())
    if len(text) <= GLOSS_LENGTH:
        return text
    cut = text[:GLOSS_LENGTH - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip(" ,;:") + "…"
