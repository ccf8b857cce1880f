"""Finding a string's offsets in an article: exact, then normalised, and (only when asked) fuzzy.

The matcher behind ``annotate import anchored`` (``annotate.formats.anchored`` describes the file and
the policy). Everything here is pure: a text, a string, a window; the result lists every place the
string occurs, and the caller decides what one, none or several places mean.

- An occurrence must start and end on word edges (``"he"`` does not occur in ``"the"``).
- Exact: the string as given. Normalised: both sides with quotation-mark variants made straight
  (``“ ” „ « »`` -> ``"``, ``‘ ’ ‹ › ` ´`` -> ``'``), dashes made ``-``, whitespace runs made one space
  and everything else NFKC-folded (``…`` -> ``...``); the string is then tried as is, without the
  quotation marks and whitespace at its ends, and without punctuation there as well (models add and
  drop both). Offsets are mapped back to the original text, so a normalised match is still a span
  of the article.
- Fuzzy (``rapidfuzz``'s best partial alignment, snapped to whole words) is never a match of its
  own: it names the nearest text for a string that was not found, and places it only when the
  caller passes a minimum score and nothing else in the text scores as high.

``Matcher`` finds one string; ``ArticleAnchors`` places the fields of one quote with it (content with its
fragments and hints, then cue and speaker near the content) and says why when it does not.

Written here rather than taken from a library: the normalisation must map every match back to
code-point offsets of the unchanged text, which the string-normalisation packages do not offer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from annotate.formats.shared import short

DOUBLE_MARKS = "\"“”„‟«»″"
SINGLE_MARKS = "'‘’‚‛‹›`´′"
DASHES = "‐‑‒–—―−"
EDGE_PUNCTUATION = ".,;:!?…"
_STRIP_MARKS = DOUBLE_MARKS + SINGLE_MARKS + " "
_STRIP_ALL = _STRIP_MARKS + EDGE_PUNCTUATION + "-"

Window = tuple[int, int]


@dataclass(frozen=True)
class Found:
    """Where a string occurs inside a window: ``[start, end)`` per occurrence, in text order, and how it
    matched (``"exact"``, ``"normalised"``, or ``"fuzzy"`` with its ``score`` when the caller allowed one);
    no occurrences when it was not found."""

    places: tuple[Window, ...]
    how: str | None
    score: float | None = None


@dataclass(frozen=True)
class Nearest:
    """The best fuzzy place of a string: ``[start, end)`` on whole words, its score (``fuzz.ratio``, 0-100), and
    the best partial-alignment score anywhere else (an upper bound of any other place's ratio)."""

    start: int
    end: int
    score: float
    runner_up: float  # the best score anywhere else (this place blanked out)


def _fold(ch: str) -> str:
    if ch in DOUBLE_MARKS:
        return '"'
    if ch in SINGLE_MARKS:
        return "'"
    if ch in DASHES:
        return "-"
    return unicodedata.normalize("NFKC", ch)


def normalise(s: str) -> str:
    """``s`` as the normalised match sees it (see the module docstring), ends stripped."""
    return Normalised(s).text.strip()


class Normalised:
    """A text in normalised form with, for each of its characters, the original character it came from."""

    def __init__(self, original: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(original):
            if ch.isspace():
                if chars and chars[-1] == " ":
                    continue
                folded = " "
            else:
                folded = _fold(ch)
            chars.extend(folded)
            origin.extend([i] * len(folded))
        self.original = original
        self.text = "".join(chars)
        self.origin = origin

    def to_original(self, start: int, end: int) -> Window:
        """The original ``[start, end)`` covering normalised ``[start, end)`` (whole original characters)."""
        return self.origin[start], self.origin[end - 1] + 1


def _on_word_edges(text: str, start: int, end: int) -> bool:
    left = start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
    right = end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
    return left and right


def _occurrences(text: str, needle: str, lo: int, hi: int) -> list[Window]:
    """Every ``[start, end)`` of ``needle`` in ``text[lo:hi]`` on word edges, overlapping ones too."""
    places, at = [], text.find(needle, lo, hi)
    while at >= 0:
        if _on_word_edges(text, at, at + len(needle)):
            places.append((at, at + len(needle)))
        at = text.find(needle, at + 1, hi)
    return places


def _overlaps_any(place: Window, others: list[Window]) -> bool:
    return any(place[0] < e and s < place[1] for s, e in others)


def _widest_fit(query: str, text: str, start: int, end: int) -> tuple[float, Window]:
    """The best ``fuzz.ratio`` of ``query`` against ``text[s:e]``, ``s`` and ``e`` on word edges near ``start``
    and ``end``: a partial alignment is exactly as long as the query, so it cuts off words where the text
    has more (an editorial "[in Ukraine]") and takes in others where it has fewer."""
    slack = min(60, max(3, len(query) // 4))
    lo, hi = max(0, start - slack), min(len(text), end + slack)
    starts = {start} | {k for k in range(lo, hi) if text[k].isalnum() and (k == 0 or not text[k - 1].isalnum())}
    ends = {end} | {k for k in range(lo + 1, hi + 1)
                    if text[k - 1] not in " \0" and (k == len(text) or text[k] in " \0" or
                                                     (text[k - 1].isalnum() and not text[k].isalnum()))}
    fits = ((fuzz.ratio(query, text[s:e]), (s, e)) for s in starts for e in ends if e > s)
    return max(fits, key=lambda fit: (fit[0], -fit[1][0]))


class Matcher:
    """Finds strings in one article text; the normalised form is built once, on first need."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def normalised(self) -> Normalised:
        return Normalised(self.text)

    def find(self, needle: str, window: Window | None = None, avoid: list[Window] | None = None) -> Found:
        """Every place ``needle`` occurs inside ``window`` (default: the whole text) that overlaps nothing in
        ``avoid``: exact occurrences if there are any, else normalised ones."""
        lo, hi = window or (0, len(self.text))
        avoid = avoid or []
        exact = [p for p in _occurrences(self.text, needle, lo, hi) if not _overlaps_any(p, avoid)]
        if exact:
            return Found(tuple(exact), "exact")
        norm = self.normalised
        folded = Normalised(needle).text
        for variant in dict.fromkeys((folded.strip(), folded.strip(_STRIP_MARKS), folded.strip(_STRIP_ALL))):
            if not variant:
                continue
            places = [norm.to_original(s, e) for s, e in _occurrences(norm.text, variant, 0, len(norm.text))]
            places = [p for p in dict.fromkeys(places)
                      if lo <= p[0] and p[1] <= hi and not _overlaps_any(p, avoid)]
            if places:
                return Found(tuple(places), "normalised")
        return Found((), None)

    def nearest(self, needle: str, window: Window | None = None, avoid: list[Window] | None = None) -> Nearest | None:
        """The best fuzzy place of ``needle`` in ``window`` (normalised on both sides), or None for an empty one.

        ``runner_up`` is the best score once this place (and ``avoid``) are blanked out: how far ahead it is.
        """
        lo, hi = window or (0, len(self.text))
        norm = self.normalised
        # Blanking keeps every offset where it is, so an alignment in the blanked text is one in the text.
        base = [ch if lo <= norm.origin[k] < hi and not _overlaps_any((norm.origin[k], norm.origin[k] + 1),
                                                                         avoid or []) else "\0"
                for k, ch in enumerate(norm.text)]
        query = normalise(needle).strip(_STRIP_MARKS)
        if not query or not norm.text:
            return None
        blanked = "".join(base)
        best = fuzz.partial_ratio_alignment(query, blanked)
        if best is None or best.dest_end <= best.dest_start:
            return None
        score, (ds, de) = _widest_fit(query, blanked, best.dest_start, best.dest_end)
        start, end = self._whole_words(*norm.to_original(ds, de))
        if start >= end:
            return None
        rest = [("\0" if start <= norm.origin[k] < end else ch) for k, ch in enumerate(base)]
        second = fuzz.partial_ratio_alignment(query, "".join(rest))
        return Nearest(start=start, end=end, score=round(score, 1),
                       runner_up=round(second.score, 1) if second is not None else 0.0)

    def _whole_words(self, start: int, end: int) -> Window:
        """``[start, end)`` widened to whole words and stripped of whitespace at its ends."""
        text = self.text
        while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
            start -= 1
        while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end


@dataclass(frozen=True)
class Placement:
    """What became of one field of a quote: ``status`` ``placed``, ``fuzzy`` (placed by a fuzzy match, with its
    ``score``), ``not_found`` or ``ambiguous``; ``spans`` when placed; ``occurrences``: the places that fitted;
    ``reason``: why it was not placed, a phrase to follow the field's name ("occurs 3 times in the article")."""

    status: str
    spans: tuple[Window, ...] = ()
    how: str | None = None
    occurrences: int = 0
    score: float | None = None
    reason: str | None = None
    nearest: Nearest | None = None


class ArticleAnchors:
    """Places the fields of quotes in one article: content (fragments, hints), then cue and speaker near it."""

    def __init__(self, text: str, sentences: list[Window], paragraphs: list[Window]) -> None:
        self.matcher = Matcher(text)
        self.sentences, self.paragraphs = sentences, paragraphs

    def content(self, fragments: list[str], *, occurrence: int | None = None, context: str | None = None,
                fuzzy: float | None = None) -> Placement:
        """The content's fragments, in text order. The first fragment's occurrences are the candidates;
        ``context`` keeps those inside an occurrence of the context, ``occurrence`` picks the k-th; each next
        fragment must occur once between the previous one and the end of the paragraph after it. One
        complete candidate is placed; several are ambiguous. ``fuzzy``: minimum score to place a first
        fragment found by neither exact nor normalised match, when no other place scores as high."""
        m = self.matcher
        first = self._find(fragments[0], None, fuzzy)
        starts, how, score = list(first.places), first.how, first.score
        if not starts:
            return Placement("not_found", reason="does not occur in the article", nearest=m.nearest(fragments[0]))
        if context is not None:
            around = m.find(context)
            if not around.places:
                return Placement("not_found",
                                 reason=f"has a context {short(context)} that does not occur in the article")
            starts = [p for p in starts if any(c0 <= p[0] and p[1] <= c1 for c0, c1 in around.places)]
            if not starts:
                return Placement("not_found", reason=f"does not occur inside its context {short(context)} in the "
                                                     "article")
        if occurrence is not None:
            if occurrence > len(starts):
                return Placement("not_found", occurrences=len(starts),
                                 reason=f"has occurrence {occurrence} but occurs {len(starts)} time(s) in the article")
            starts = [starts[occurrence - 1]]
        complete, doubtful, failure = [], 0, ""
        for start in starts:
            chain, hows, ok = [start], {how}, True
            for k, fragment in enumerate(fragments[1:], start=2):
                found = self._find(fragment, (chain[-1][1], self._paragraph_after(chain[-1][1])), None)
                if len(found.places) != 1:
                    doubtful += len(found.places) > 1
                    failure = (f"fragment {k} {short(fragment)} that occurs {len(found.places)} times after "
                               f"fragment {k - 1} in the article" if found.places else
                               f"fragment {k} {short(fragment)} that does not occur after fragment {k - 1} (in the "
                               "same or the next paragraph) in the article")
                    ok = False
                    break
                chain.append(found.places[0])
                hows.add(found.how)
            if ok:
                complete.append((tuple(chain), hows))
        if len(complete) == 1 and not doubtful:
            chain, hows = complete[0]
            best = "fuzzy" if "fuzzy" in hows else "normalised" if "normalised" in hows else "exact"
            return Placement("fuzzy" if best == "fuzzy" else "placed", spans=chain, how=best, occurrences=1,
                             score=score if best == "fuzzy" else None)
        if complete or doubtful:
            n = len(complete) + doubtful
            reason = (f"occurs {n} times in the article" if len(fragments) == 1
                      else f"fits {n} places in the article" if complete else f"has a {failure}")
            return Placement("ambiguous", occurrences=n, reason=reason)
        return Placement("not_found", reason=f"has a {failure}")

    def near(self, needle: str, content: tuple[Window, ...], avoid: list[Window]) -> Placement:
        """A cue or speaker string near the placed content: in the sentences the content touches, else in its
        paragraphs, else one sentence further on either side; the first of these with any occurrence (outside
        the content and ``avoid``) decides: one is placed, several are ambiguous."""
        avoid = list(content) + avoid
        for label, window in self._windows(content[0][0], content[-1][1]):
            found = self.matcher.find(needle, window, avoid)
            if len(found.places) == 1:
                return Placement("placed", spans=found.places, how=found.how, occurrences=1)
            if found.places:
                return Placement("ambiguous", occurrences=len(found.places),
                                 reason=f"occurs {len(found.places)} times in the {label} around the content")
        return Placement("not_found", reason="does not occur near the content (its sentences, its paragraph, or a "
                                             "sentence before or after)")

    def _find(self, needle: str, window: Window | None, fuzzy: float | None) -> Found:
        found = self.matcher.find(needle, window)
        if found.places or fuzzy is None:
            return found
        near = self.matcher.nearest(needle, window)
        if near is not None and near.score >= fuzzy > near.runner_up:
            return Found(((near.start, near.end),), "fuzzy", near.score)
        return found

    def _paragraph_after(self, pos: int) -> int:
        """End of the paragraph after the one holding ``pos`` (or of the last one)."""
        paragraphs = self.paragraphs
        index = next((i for i, (_, end) in enumerate(paragraphs) if end >= pos), len(paragraphs) - 1)
        return paragraphs[min(index + 1, len(paragraphs) - 1)][1]

    def _windows(self, start: int, end: int) -> list[tuple[str, Window]]:
        def cover(spans: list[Window]) -> Window:
            touching = [s for s in spans if s[0] < end and start < s[1]]
            return (min(s for s, _ in touching), max(e for _, e in touching)) if touching else (start, end)

        sentences = cover(self.sentences)
        paragraphs = cover(self.paragraphs)
        before = max((s for s, e in self.sentences if e <= paragraphs[0]), default=paragraphs[0])
        after = min((e for s, e in self.sentences if s >= paragraphs[1]), default=paragraphs[1])
        windows = [("sentence(s)", sentences), ("paragraph(s)", (min(sentences[0], paragraphs[0]),
                                                                 max(sentences[1], paragraphs[1]))),
                   ("sentences next to the paragraph", (min(before, sentences[0]), max(after, sentences[1])))]
        return [w for n, w in enumerate(windows) if w[1] not in {x for _, x in windows[:n]}]
