"""Find quotations: pair opening and closing quotation marks in a text.

Written by hand because no maintained library pairs English quotation marks with offsets, and
news text mixes glyphs freely (a straight opening mark closed by a curly one, "’" as both
apostrophe and closing single quote). Rules:

- curly marks give their direction by glyph; straight ``"`` and ``'`` by their neighbours
  (after a space or at a paragraph start: opening; before a space or punctuation: closing);
- ``’`` and ``'`` between letters or digits are apostrophes (``Russia’s``, ``don't``), and a
  single mark closes only a single quote that is open, so plural possessives (``voters’``) stay
  apostrophes;
- two apostrophes or two backticks (as some archives write quotes) are double marks;
- quotations nest (a single-quoted phrase inside a double-quoted sentence, or a curly quote in a
  straight one); only the outermost ones are returned, the inner ones are part of their content;
- a quotation still open at a paragraph end continues when the next paragraph opens with a
  double mark (the news convention for a quote running over paragraphs): one quotation, one
  fragment per paragraph. A quotation opened at a paragraph start and never closed runs to the
  paragraph end; one opened mid-paragraph and never closed is dropped as a stray mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas import QuoteKind, Span

OPENING_DOUBLE = "“„«"
CLOSING_DOUBLE = "”»"
STRAIGHT_DOUBLE = '"'
OPENING_SINGLE = "‘‹"
CLOSING_SINGLE = "’›"
STRAIGHT_SINGLE = "'"
QUOTE_MARKS = OPENING_DOUBLE + CLOSING_DOUBLE + STRAIGHT_DOUBLE + OPENING_SINGLE + CLOSING_SINGLE + STRAIGHT_SINGLE
DOUBLE, SINGLE = "double", "single"

_PARAGRAPH = re.compile(r"[^\n]+")
# Characters after which a mark opens a quote: nothing, a space, a bracket, a dash, another mark.
_OPENS_AFTER = set(" \t([{—–-/") | set(OPENING_DOUBLE + OPENING_SINGLE + STRAIGHT_DOUBLE)


@dataclass(frozen=True)
class Quotation:
    """Outermost quoted stretch; ``fragments`` are the interiors, without marks, one per paragraph.

    ``extents`` are the same stretches with their marks (the last one ends at the paragraph end
    when no closing mark was found); ``closed`` says whether a closing mark was found.
    """

    fragments: tuple[tuple[int, int], ...]
    extents: tuple[tuple[int, int], ...]
    closed: bool

    @property
    def start(self) -> int:
        return self.extents[0][0]

    @property
    def end(self) -> int:
        return self.extents[-1][1]


def _direction(before: str, ch: str, after: str, open_families: list[str]) -> tuple[str, str] | None:
    """``("open"|"close", family)`` for the mark ``ch`` between ``before`` and ``after``, or None for an
    apostrophe or a stray mark."""
    before_opens = before in _OPENS_AFTER or before == "\n"
    after_blank = after.isspace() or after in ".,;:!?)]}—–-" or after in CLOSING_DOUBLE + CLOSING_SINGLE
    if ch in OPENING_DOUBLE:
        # A left mark glued to a word and followed by a space is a misused closing mark.
        return ("close", DOUBLE) if (not before_opens and after_blank and DOUBLE in open_families) else ("open", DOUBLE)
    if ch in CLOSING_DOUBLE:
        return ("open", DOUBLE) if (before_opens and not after_blank) else ("close", DOUBLE)
    if ch == STRAIGHT_DOUBLE:
        if before_opens and not after.isspace():
            return "open", DOUBLE
        if after_blank or after == '"':
            return "close", DOUBLE
        return ("close", DOUBLE) if DOUBLE in open_families else ("open", DOUBLE)
    if ch in OPENING_SINGLE:
        return ("open", SINGLE) if not after.isdigit() else None  # ‘90s is an elision
    # ’ or ': an apostrophe inside a word, else a single quote's mark.
    if before.isalnum() and after.isalnum():
        return None
    if before_opens and after.isalpha() and ch == STRAIGHT_SINGLE:
        return "open", SINGLE
    if not before.isspace() and after_blank and SINGLE in open_families:
        return "close", SINGLE
    return None


def _mark_at(text: str, i: int) -> int:
    """Width of the quotation mark at ``i``: 2 for two apostrophes or backticks, 1 for one mark, 0 for none."""
    if text.startswith(("''", "``"), i):
        return 2
    return 1 if text[i] in QUOTE_MARKS else 0


def _direction_at(text: str, i: int, width: int, open_families: list[str]) -> tuple[str, str] | None:
    before = text[i - 1] if i > 0 else " "
    after = text[i + width] if i + width < len(text) else " "
    if width == 1:
        return _direction(before, text[i], after, open_families)
    if text[i] == "`":
        return "open", DOUBLE
    return _direction(before, STRAIGHT_DOUBLE, after, open_families)  # '' stands for a straight double mark


def find_quotations(text: str) -> list[Quotation]:
    """The outermost quotations of ``text``, in text order."""
    quotations: list[Quotation] = []
    chain: list[tuple[int, int, int, int]] = []  # (start, end, opening width, closing width) per paragraph
    paragraphs = list(_PARAGRAPH.finditer(text))
    for n, para in enumerate(paragraphs):
        p_start, p_end = para.start(), para.end()
        while p_end > p_start and text[p_end - 1].isspace():
            p_end -= 1
        stack: list[tuple[str, int, int]] = []  # (family, index of the opening mark, its width)
        i = p_start
        continuing = bool(chain)
        if continuing:
            # The opening mark that continues the quotation is its first non-space character.
            i = _skip_spaces(text, p_start, p_end)
            width = _mark_at(text, i)
            stack.append((DOUBLE, i, width))
            i += width
        while i < p_end:
            width = _mark_at(text, i)
            if not width:
                i += 1
                continue
            kind = _direction_at(text, i, width, [family for family, _, _ in stack])
            if kind is not None:
                action, family = kind
                if action == "open":
                    stack.append((family, i, width))
                elif any(f == family for f, _, _ in stack):
                    while stack[-1][0] != family:  # an inner mark that never closed was no quote
                        stack.pop()
                    _, opened, open_width = stack.pop()
                    if not stack:
                        quotations.append(_finish(chain + [(opened, i + width, open_width, width)], closed=True))
                        chain = []
                        continuing = False
            i += width
        if not stack:
            continue
        # Something is still open at the paragraph end: continue, run to the end, or drop it.
        family, opened, open_width = stack[0]
        next_opens = n + 1 < len(paragraphs) and _opens_with_double(text, paragraphs[n + 1])
        if family == DOUBLE and next_opens:
            chain = chain + [(opened, p_end, open_width, 0)]
        elif continuing or opened == _skip_spaces(text, p_start, p_end):
            quotations.append(_finish(chain + [(opened, p_end, open_width, 0)], closed=False))
            chain = []
        else:
            chain = []
    if chain:
        quotations.append(_finish(chain, closed=False))
    return quotations


def _finish(extents: list[tuple[int, int, int, int]], closed: bool) -> Quotation:
    fragments = tuple((start + open_w, end - close_w) for start, end, open_w, close_w in extents)
    return Quotation(fragments=fragments, extents=tuple((start, end) for start, end, _, _ in extents), closed=closed)


def _skip_spaces(text: str, i: int, end: int) -> int:
    while i < end and text[i].isspace():
        i += 1
    return i


def _opens_with_double(text: str, para: re.Match[str]) -> bool:
    i = _skip_spaces(text, para.start(), para.end())
    return i < para.end() and (text[i] in OPENING_DOUBLE + STRAIGHT_DOUBLE or text.startswith(("''", "``"), i))


def quoted_mask(text: str, quotations: list[Quotation] | None = None) -> list[bool]:
    """For each code point of ``text``: whether it lies inside a quotation (marks included)."""
    mask = [False] * len(text)
    for q in find_quotations(text) if quotations is None else quotations:
        for start, end in q.extents:
            mask[start:end] = [True] * (end - start)
    return mask


def kind_from_marks(content: list[Span], text: str, quoted: list[bool]) -> QuoteKind:
    """A quote's kind read off the quotation marks, for corpora that do not record it (BRAT, Citron):
    direct if every letter/digit of the content is inside quotation marks, mixed if some are."""
    flags = [quoted[i] for span in content for i in range(span.start, span.end) if text[i].isalnum()]
    if flags and all(flags):
        return QuoteKind.DIRECT
    return QuoteKind.MIXED if any(flags) else QuoteKind.INDIRECT
