"""Candidate pairs for the annotator: two quotes of one canonical speaker that share rare words.

A pair is proposed when the words the two quotes share weigh at least ``MIN_SHARED_IDF`` (inverse
document frequency over every quote of the corpus, so "taxes" and "trump" count little and "smart"
much) and rapidfuzz's token-set ratio of their content words is at least ``MIN_RATIO``. Both are
tuned so that the proposals stay readable (286 pairs on PolNeAR dev, 108 across articles) while the
pairs of quoted renderings are all among them; paraphrases that share no rare word are found by
reading, not here (RULES.md, "How the pairs were found").
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz import fuzz

from schemas.quote_mentions import QuoteMention

# Hand-written: nltk's stop-word list needs a corpus download; these are the function words and the
# reporting verbs that say nothing about which remark a quote renders.
STOPWORDS = frozenset("""a an the and or but if of to in on at by for with from as into about than then that
    this these those it its is are was were be been being have has had do does did will would can could
    should may might must shall not no so very just also he she they we i you me him her us them his hers
    their our your my mine who whom whose which what when where why how there here all any some said says
    say told""".split())
MIN_SHARED_IDF = 7.0
MIN_RATIO = 50.0


@dataclass(frozen=True)
class Candidate:
    """A proposed pair, ``a`` < ``b`` (quote keys)."""

    a: str
    b: str
    speaker: str
    cross_article: bool
    ratio: float  # rapidfuzz token_set_ratio of the content words, 0-100
    shared_idf: float  # summed IDF of the shared content words


def content_words(mention: QuoteMention) -> frozenset[str]:
    return frozenset(w for w in mention.words if w not in STOPWORDS)


def inverse_document_frequency(mentions: Iterable[QuoteMention]) -> dict[str, float]:
    """log(N / df) of every content word, each quote one document."""
    df: Counter[str] = Counter()
    n = 0
    for m in mentions:
        df.update(content_words(m))
        n += 1
    return {w: math.log(n / c) for w, c in df.items()}


def propose(mentions: Sequence[QuoteMention], idf: dict[str, float]) -> list[Candidate]:
    """Every pair of ``mentions`` with one speaker that passes both thresholds, sorted by key."""
    by_speaker: dict[str, list[QuoteMention]] = defaultdict(list)
    for m in mentions:
        if m.speaker is not None:
            by_speaker[m.speaker].append(m)
    out = []
    for speaker, group in by_speaker.items():
        words = {m.key: content_words(m) for m in group}
        for x, y in combinations(sorted(group, key=lambda m: m.key), 2):
            shared = words[x.key] & words[y.key]
            weight = sum(idf[w] for w in shared)
            if weight < MIN_SHARED_IDF:
                continue
            ratio = fuzz.token_set_ratio(" ".join(sorted(words[x.key])), " ".join(sorted(words[y.key])))
            if ratio >= MIN_RATIO:
                out.append(Candidate(x.key, y.key, speaker, x.article_id != y.article_id, round(ratio, 1),
                                     round(weight, 2)))
    return sorted(out, key=lambda c: (c.a, c.b))
