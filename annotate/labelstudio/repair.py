"""Offset repair: find the one place in the article that a Label Studio region covers.

Label Studio stores ``value.start``/``value.end`` and the covered ``value.text`` for each
region. The offsets are meant to be code points over the task text, but known reports show
them counted in UTF-16 code units (astral characters such as emoji count as two), with CRLF
counted as one character (the browser's DOM text has no ``\\r``), or with the covered text
differing in whitespace (NBSP, line ends). ``OffsetResolver.locate`` accepts the offsets as they
are when they cover the text, and otherwise repairs them only when exactly one place fits:

1. the offsets reread as UTF-16 units and/or over CRLF-as-one text, checked against the text;
2. the covered text (whitespace-insensitive) occurring exactly once in the article, or exactly
   once within a small window around the given offsets.

Every repair is reported (``Repair``: region, old -> new offsets, why); anything else raises
``OffsetError`` naming the region, and the caller rejects that one item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from schemas import Span, ToolkitError

# How far (in code points) around the given start a unique occurrence still counts as "the"
# place: at least this much, or the region's own length when that is longer.
SEARCH_WINDOW = 64


class Repair(BaseModel):
    """A change the converter made to what Label Studio said, and why.

    ``old``/``new`` are ``[start, end)`` offsets for offset repairs; None for other notes.
    ``task_id``/``annotation_id`` are filled in when the repair comes from an export.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    region_id: str | None
    reason: str
    old: tuple[int, int] | None = None
    new: tuple[int, int] | None = None
    task_id: int | None = None
    annotation_id: int | None = None


class OffsetError(ToolkitError):
    """A region whose offsets and text do not identify one place in the article."""


def _loose(s: str) -> str:
    """Whitespace-insensitive form: every run of whitespace (NBSP, CRLF, tabs) is one space."""
    return " ".join(s.split())


def _clip(s: str, limit: int = 40) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass(frozen=True)
class _OffsetSystem:
    """Another way of counting offsets: unit index -> code-point index (None inside a character)."""

    reason: str
    to_code_point: list[int | None]


class OffsetResolver:
    """Locates regions in one article text; the offset maps are built once per text."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def _systems(self) -> list[_OffsetSystem]:
        systems = []
        has_astral = any(ord(c) > 0xFFFF for c in self.text)
        has_crlf = "\r\n" in self.text
        if has_astral:
            systems.append(_OffsetSystem(
                "offsets counted in UTF-16 code units (characters outside the Basic Multilingual Plane count as two)",
                _unit_map(self.text, utf16=True, crlf_as_one=False),
            ))
        if has_crlf:
            systems.append(_OffsetSystem(
                "offsets count each CRLF line end as one character",
                _unit_map(self.text, utf16=False, crlf_as_one=True),
            ))
        if has_astral and has_crlf:
            systems.append(_OffsetSystem(
                "offsets counted in UTF-16 code units with each CRLF line end as one character",
                _unit_map(self.text, utf16=True, crlf_as_one=True),
            ))
        return systems

    def locate(self, region_id: str, start: int, end: int, covered: str) -> tuple[Span, Repair | None]:
        """The span the region means, and the repair made to get it (None when none was needed)."""
        text = self.text
        if 0 <= start < end <= len(text) and text[start:end] == covered:
            return Span(start=start, end=end, text=covered), None
        # Candidate readings of the offsets: (span, covers the text exactly, why).
        candidates: list[tuple[int, int, bool, str]] = []
        if 0 <= start < end <= len(text) and _loose(text[start:end]) == _loose(covered):
            candidates.append((start, end, False, "region text differs from the article only in whitespace"))
        for system in self._systems:
            units = system.to_code_point
            if not (0 <= start < end < len(units)):
                continue
            s, e = units[start], units[end]
            if s is None or e is None or s >= e:
                continue
            if text[s:e] == covered:
                candidates.append((s, e, True, system.reason))
            elif _loose(text[s:e]) == _loose(covered):
                candidates.append((s, e, False, system.reason + "; text differs only in whitespace"))
        exact = {(s, e): why for s, e, is_exact, why in candidates if is_exact}
        # Whitespace is "loosely equal" to any whitespace: only exact readings can place it.
        loose = {(s, e): why for s, e, is_exact, why in candidates if not is_exact and covered.strip()}
        if len(loose) > 1 and len({_trim(text, s, e) for s, e in loose}) == 1:
            # Readings that differ only in the whitespace around the same words: take the words.
            s, e = _trim(text, *next(iter(loose)))
            loose = {(s, e): "offsets shifted by whitespace (several readings agree on the words)"}
        for readings in (exact, loose):
            if len(readings) == 1:
                (s, e), why = next(iter(readings.items()))
                return self._repaired(region_id, start, end, s, e, why)
            if len(readings) > 1:
                places = ", ".join(f"[{s}, {e})" for s, e in sorted(readings))
                raise OffsetError(
                    f"region {region_id!r}: offsets [{start}, {end}) with text {_clip(covered)!r} fit several "
                    f"places ({places}) depending on how they are counted; redraw the region in Label Studio"
                )
        if not covered.strip():
            raise OffsetError(
                f"region {region_id!r}: offsets [{start}, {end}) do not cover its text {covered!r}, and a text "
                "of only whitespace cannot be searched for; delete the region or redraw it in Label Studio"
            )
        return self._search(region_id, start, end, covered)

    def _search(self, region_id: str, start: int, end: int, covered: str) -> tuple[Span, Repair | None]:
        # Overlapping occurrences count too ("aa" occurs twice in "aaa"): hence the lookahead.
        pattern = r"\s+".join(re.escape(token) for token in covered.split())
        places = [(m.start(1), m.end(1)) for m in re.finditer(f"(?=({pattern}))", self.text)]
        if len(places) == 1:
            s, e = places[0]
            return self._repaired(region_id, start, end, s, e, "its text occurs exactly once in the article")
        window = max(SEARCH_WINDOW, len(covered))
        near = [(s, e) for s, e in places if abs(s - start) <= window]
        if len(near) == 1:
            s, e = near[0]
            return self._repaired(
                region_id, start, end, s, e,
                f"its text occurs {len(places)} times in the article but once within {window} characters",
            )
        found = (
            "does not occur in the article" if not places
            else f"occurs {len(places)} times ({len(near)} within {window} characters of the offsets)"
        )
        shown = self.text[max(0, start):max(0, min(end, len(self.text)))]
        raise OffsetError(
            f"region {region_id!r}: offsets [{start}, {end}) cover {_clip(shown)!r} but the region says "
            f"{_clip(covered)!r}, which {found}; cannot tell which place is meant: redraw the region in Label Studio"
        )

    def _repaired(self, region_id: str, start: int, end: int, s: int, e: int, why: str) -> tuple[Span, Repair]:
        return Span(start=s, end=e, text=self.text[s:e]), Repair(
            region_id=region_id, old=(start, end), new=(s, e), reason=why
        )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the whitespace at either edge."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _unit_map(text: str, *, utf16: bool, crlf_as_one: bool) -> list[int | None]:
    """For each offset in the other counting, the code-point offset it stands for.

    Offsets that fall inside one code point (between the two halves of a surrogate pair) map
    to None. With ``crlf_as_one`` the ``\\r`` of a CRLF has no unit of its own: the unit of the
    ``\\n`` maps to the ``\\r``, so a span starting at that line end keeps its ``\\r``.
    """
    units: list[int | None] = []
    i = 0
    while i < len(text):
        if crlf_as_one and text.startswith("\r\n", i):
            units.append(i)
            i += 2
            continue
        units.append(i)
        if utf16 and ord(text[i]) > 0xFFFF:
            units.append(None)
        i += 1
    units.append(len(text))
    return units
