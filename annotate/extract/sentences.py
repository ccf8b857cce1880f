"""Sentence spans: paragraphs (lines) split into sentences by NLTK's Punkt.

Punkt ships with NLTK (a dependency of label-studio-sdk) and needs no download when given its
parameters directly; the abbreviations below are the ones news text uses before a capital
letter, which an untrained Punkt would otherwise take for sentence ends.
"""

from __future__ import annotations

import re
from functools import lru_cache

ABBREVIATIONS = (
    "mr mrs ms dr sen rep gov gen lt col maj capt sgt adm cmdr rev sr jr st ft mt prof pres vs no inc corp ltd co "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.n u.k e.u d.c a.m p.m u.s.a e.g i.e approx dept est "
    "ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev n.h n.j n.m "
    "n.y n.c n.d okla ore pa r.i s.c s.d tenn tex vt va wash wis wyo"
).split()
_PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _tokenizer():  # noqa: ANN202 - the NLTK type is imported lazily
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every sentence, none crossing a line break, without outer whitespace."""
    spans: list[tuple[int, int]] = []
    tokenizer = _tokenizer()
    for para in _PARAGRAPH.finditer(text):
        base = para.start()
        first = len(spans)
        for start, end in tokenizer.span_tokenize(para.group()):
            chunk = text[base + start : base + end]
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk) - len(chunk.rstrip())
            if end - trail <= start + lead:
                continue
            start, end = base + start + lead, base + end - trail
            # No sentence starts in lower case: Punkt took an unknown abbreviation ("(R-Wis.)") for an end.
            if len(spans) > first and text[start].islower():
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans
