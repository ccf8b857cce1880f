"""Content spans of other schemes trimmed to this toolkit's convention (guidelines.md 4.3).

PolNeAR and PARC content spans keep what guidelines.md 4.3 leaves out: the outer quotation marks
of a direct quote, a leading "that", a sentence-final period. ``to_toolkit_convention`` trims
them, so that a model trained on such a corpus predicts spans in our convention and an exact
comparison measures detection rather than convention. Only the ends of content fragments move;
a fragment that would become empty keeps its original span.
"""

from __future__ import annotations

import re

from schemas import AnnotatedDocument, Quote, Span

MARKS = "\"“”‘’'"
_LEADING_THAT = re.compile(r"that\s+", re.IGNORECASE)


def trim_fragment(text: str, start: int, end: int, direct: bool) -> tuple[int, int]:
    """``[start, end)`` without outer whitespace, a leading "that", and for direct content the outer
    quotation marks, for other content a final period outside the marks."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    that = _LEADING_THAT.match(text, start, end)
    if that:
        start = that.end()
    if direct:
        while start < end and text[start] in MARKS:
            start += 1
        while end > start and text[end - 1] in MARKS:
            end -= 1
    elif end > start and text[end - 1] == ".":
        end -= 1
    return start, end


def to_toolkit_convention(doc: AnnotatedDocument) -> AnnotatedDocument:
    """The document with every quote's content fragments trimmed (see ``trim_fragment``)."""
    text, quotes = doc.article.text, []
    for q in doc.quotes:
        fragments = []
        for f in q.content:
            start, end = trim_fragment(text, f.start, f.end, q.kind == "direct")
            fragments.append(Span.of(text, start, end) if end > start else f)
        quotes.append(Quote(**{**q.model_dump(), "content": fragments}))
    return doc.model_copy(update={"quotes": quotes})
