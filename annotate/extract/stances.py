"""Rule-based stance baseline: each quote's stance toward one target of the event's inventory.

guidelines.md, section 6. For every quote with a speaker entity (the holder):

- the target is the inventory target whose description the quote's content shares most words with
  (``TargetLexicon``): description words are stemmed (NLTK's Snowball stemmer, no download), grouped
  with their synonyms (``SYNONYMS``: "troops" also finds "forces", "soldiers", "boots on the ground"),
  and weighted by how few targets share them (a word in every description, "Ukraine", weighs nothing;
  in a one-target inventory every word weighs 1);
  two adjacent description words found adjacent ("security guarantees") count once more. Ties go to
  the target named first in the content (its main clause, section 6.3). A content that names no target
  looks at the rest of its sentence ("..., Putin said, when asked about possible direct peace talks");
- the polarity comes from the content's stance words (``FAVOR``, ``AGAINST``, ``NEUTRAL``): strong words
  (support, reject, "no point", "legitimate targets") weigh 2, verbs that carry out the target (deploy,
  send, meet, provide) weigh 1 for it; a negation shortly before a word flips it ("will not deploy"),
  and a negating cue flips the whole content ("denied that it would be willing", section 5.5). No stance
  word, or only a condition ("must also cover Russia"), leaves the stance empty, as section 6.3 asks;
- reporting cues ("reported", "according to", "as per") carry no position: a news agency's report gets
  no stance (section 6.3).

One ``Stance`` per (holder, target, polarity), with every quote that shows it as evidence, id
``holder:target:polarity`` as Label Studio's decoder builds it. The word lists were written with the
four seed articles in view; they are general English, but the figures on the seeds are optimistic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer

from schemas import AnnotatedDocument, Polarity, Quote, Stance, TargetInventory

# Words of no use for finding a target (function words; "us" the pronoun: the country is "US").
STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but nor as into onto over under about after before
    between among against during including such other its it their his her our your my this that these those
    is are was were be been being has have had do does did will would can could may might must shall should
    us we you they he she i me him them who whom which what when where why how not no any some all each
    post closer than then there here new old possible more most very""".split()
)
# Words that mean one thing for target finding. A group joins a target when one of its words is in the
# target's description. General English, not fitted to one event, though chosen with the seeds in view.
SYNONYMS = (
    ("troops", "troop", "forces", "force", "soldiers", "soldier", "contingents", "contingent",
     "boots on the ground", "peacekeepers"),
    ("deployment", "deploy", "deployed", "deploying", "deployments", "send", "sending", "sent", "dispatch",
     "station", "presence"),
    ("meeting", "meet", "meetings", "talks", "dialogue", "summit", "negotiations", "negotiate"),
    ("us", "united states", "washington", "american", "americans", "america"),
    ("nato", "alliance", "north atlantic"),
    ("membership", "member", "members", "join", "joining", "joined", "accession"),
    ("guarantees", "guarantee", "guaranteeing", "guaranteed", "assurances", "commitments"),
    ("participation", "participate", "role", "involvement", "involved", "part"),
    ("ukraine", "ukrainian", "kyiv", "kiev"),
    ("zelensky", "zelenskyy", "zelenskiy", "ukrainian leader", "ukrainian president"),
    ("putin", "russian leader", "russian president", "kremlin"),
)
STRONG, WEAK = 2, 1
# Stance words: (phrase, weight). Phrases are matched on stems; a longer phrase wins over a word inside it.
FAVOR = (
    ("support", STRONG), ("supportive", STRONG), ("welcome", STRONG), ("ready", STRONG), ("willing", STRONG),
    ("open to", STRONG), ("pledge", STRONG), ("commit", STRONG), ("commitment", STRONG), ("call for", STRONG),
    ("no doubt", STRONG), ("back", WEAK), ("deploy", WEAK), ("send", WEAK), ("provide", WEAK), ("offer", WEAK),
    ("meet", WEAK), ("join", WEAK), ("play a role", WEAK), ("tolerate", WEAK), ("good idea", STRONG),
    ("necessary", WEAK), ("build", WEAK), ("built", WEAK), ("construct", WEAK),
)
AGAINST = (
    ("reject", STRONG), ("oppose", STRONG), ("opposition", STRONG), ("against", STRONG), ("warn", WEAK),
    ("threat", STRONG), ("threaten", STRONG), ("legitimate target", STRONG), ("legitimate military target", STRONG),
    ("target for destruction", STRONG),
    ("target for strike", STRONG), ("no point", STRONG), ("little point", STRONG), ("not see much point", STRONG),
    ("not see any sense", STRONG), ("no sense", STRONG), ("pointless", STRONG), ("impossible", STRONG),
    ("unnecessary", STRONG), ("unlikely", STRONG), ("doubt", STRONG), ("root cause", STRONG), ("provoke", STRONG),
    ("drag", WEAK), ("never", WEAK), ("mistake", STRONG), ("bad idea", STRONG), ("dangerous", WEAK),
)
NEUTRAL = ("too early", "premature", "remains to be seen", "not yet decided", "undecided")
NEGATORS = frozenset("not n't no never cannot nobody none neither nor without".split())
MIN_TARGET_SCORE = 0.5  # below it a content names no target (a lone "Ukraine" weighs 0.22 with five targets)
NEGATION_SCOPE = 3  # a negator flips a stance word this many words after it at most
NEGATING_CUES = frozenset("denied denies deny denying rejected rejects dismissed dismisses refuted refutes".split())
REPORTING_CUES = frozenset(("reported", "reports", "reporting", "cited", "citing", "according to", "as per"))

COUNTRY_US = "us:country"
_TOKEN = re.compile(r"[A-Za-z]+(?:[’'][a-z]+)?|U\.S\.")
_STEMMER = SnowballStemmer("english")


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _STEMMER.stem(word)


@dataclass(frozen=True)
class Token:
    start: int
    word: str  # lower case; "us:country" for "US" and "U.S."
    stem: str


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The words of ``text[start:end]`` with their stems and offsets; "US"/"U.S." is the country, "us" the
    pronoun; "don't" is "do" and "n't", "cannot" is "can" and "not"."""
    out: list[Token] = []
    for m in _TOKEN.finditer(text, start, len(text) if end is None else end):
        word = m.group()
        if word in ("US", "U.S."):
            out.append(Token(m.start(), COUNTRY_US, COUNTRY_US))
            continue
        lower = word.lower().replace("’", "'")
        if lower.endswith("n't"):
            out += [Token(m.start(), lower[:-3], _stem(lower[:-3])), Token(m.end() - 3, "n't", "n't")]
        elif lower == "cannot":
            out += [Token(m.start(), "can", "can"), Token(m.start(), "not", "not")]
        else:
            lower = lower.split("'")[0]
            out.append(Token(m.start(), lower, _stem(lower)))
    return out


def _phrase(words: str, stemmed: bool = True) -> tuple[str, ...]:
    return tuple(COUNTRY_US if w == "us" else _stem(w) if stemmed else w for w in words.split())


def _find(seq: list[str], phrase: tuple[str, ...], used: list[bool] | None = None) -> list[int]:
    """Positions where ``phrase`` starts in ``seq`` (skipping positions already ``used``)."""
    n = len(phrase)
    return [i for i in range(len(seq) - n + 1) if tuple(seq[i:i + n]) == phrase
            and (used is None or not any(used[i:i + n]))]


# A term: synonyms matched by their listed forms ("word"), or a description word matched by its stem ("stem").
Term = tuple[str, tuple[tuple[str, ...], ...]]


class TargetLexicon:
    """The weighted terms of every target of an inventory (module docstring)."""

    def __init__(self, inventory: TargetInventory):
        self.ids = inventory.ids()
        groups: list[Term] = [("word", tuple(_phrase(w, stemmed=False) for w in group)) for group in SYNONYMS]
        terms: dict[str, set[Term]] = {}
        bigrams: dict[str, set[tuple[str, str]]] = {}
        for target in inventory.targets:
            kept = [t for t in tokens(target.description) if t.word not in STOPWORDS and t.stem not in _STOP_STEMS]
            words = [t.word for t in kept]
            found: set[Term] = set()
            covered: set[str] = set()
            for group in groups:
                for member in group[1]:
                    for i in _find(words, member):
                        found.add(group)
                        covered.update(words[i:i + len(member)])
            found |= {("stem", ((t.stem,),)) for t in kept if t.word not in covered}
            terms[target.id] = found
            stems = [t.stem for t in kept]
            bigrams[target.id] = set(zip(stems, stems[1:]))
        n = len(self.ids)
        df: dict[Term, int] = {}
        for found in terms.values():
            for term in found:
                df[term] = df.get(term, 0) + 1
        # Inverse document frequency over the targets: a term every target has tells them apart not at all.
        # A lone target has nothing to be told apart from: each of its terms names it (weight 1, not log 1 = 0).
        self.terms = {t: {term: math.log(n / df[term]) if n > 1 else 1.0 for term in found}
                      for t, found in terms.items()}
        self.bigrams = bigrams

    def best(self, toks: list[Token]) -> str | None:
        """The target the words ``toks`` are most about, or None when they name none."""
        words, stems = [t.word for t in toks], [t.stem for t in toks]
        scored = []
        for order, target in enumerate(self.ids):
            score, first = 0.0, len(toks)
            for (kind, members), weight in self.terms[target].items():
                at = [i for member in members for i in _find(words if kind == "word" else stems, member)]
                if at and weight > 0:
                    score += weight
                    first = min(first, min(at))
            score += sum(1.0 for pair in zip(stems, stems[1:]) if pair in self.bigrams[target])
            if score >= MIN_TARGET_SCORE:
                scored.append((-score, first, order, target))
        return min(scored)[3] if scored else None


_STOP_STEMS = frozenset(_stem(w) for w in STOPWORDS)


def _key(word: str) -> str:
    """What a stance word is matched by: its stem, or the word itself when the stem is a function word's
    ("willing" stems to "will")."""
    stem = _stem(word)
    return word if stem in _STOP_STEMS and word not in STOPWORDS else stem


def _keys(phrase: str) -> tuple[str, ...]:
    return tuple(_key(w) for w in phrase.split())


_FAVOR = [(_keys(p), w) for p, w in FAVOR]
_AGAINST = [(_keys(p), w) for p, w in AGAINST]
_NEUTRAL = [_keys(p) for p in NEUTRAL]
_LEXICON = sorted([(p, w) for p, w in _FAVOR] + [(p, -w) for p, w in _AGAINST], key=lambda x: -len(x[0]))


def polarity_of(words: list[Token], cue: str | None = None) -> Polarity | None:
    """The polarity the words show (module docstring), or None when they show none."""
    keys = [t.word if t.word in ("n't", COUNTRY_US) else _key(t.word) for t in words]
    used = [False] * len(keys)
    score = 0
    neutral = False
    for phrase in _NEUTRAL:
        for i in _find(keys, phrase, used):
            neutral = True
            used[i:i + len(phrase)] = [True] * len(phrase)
    for phrase, weight in _LEXICON:  # longest first: "no point" before "point", "no doubt" before "doubt"
        for i in _find(keys, phrase, used):
            used[i:i + len(phrase)] = [True] * len(phrase)
            before = range(max(0, i - NEGATION_SCOPE), i)
            negated = any(words[j].word in NEGATORS and not used[j] for j in before)
            score += -weight if negated else weight
    cue_words = (cue or "").lower().split()
    if any(w in NEGATING_CUES for w in cue_words):
        score = -score
    elif any(_stem(w) == "warn" for w in cue_words) and score == 0:
        score = -WEAK
    if score > 0:
        return Polarity.FAVOR
    if score < 0:
        return Polarity.AGAINST
    return Polarity.NEUTRAL if neutral else None


def _reporting(cue: str | None) -> bool:
    words = (cue or "").lower().split()
    return " ".join(words) in REPORTING_CUES or any(w in REPORTING_CUES for w in words)


def _context(doc: AnnotatedDocument, quote: Quote, sentences: list[tuple[int, int]]) -> list[Token]:
    """The words of the sentences the quote's content and cue lie in, without the content itself and the
    speakers' mentions (a speaker whose name is in a target, "Zelensky", says nothing about the target)."""
    spans = [(f.start, f.end) for f in quote.content] + ([(quote.cue.start, quote.cue.end)] if quote.cue else [])
    own = [(f.start, f.end) for f in quote.content] + [(m.span.start, m.span.end) for m in doc.mentions]
    text = doc.article.text
    out: list[Token] = []
    for lo, hi in sentences:
        if any(s < hi and lo < e for s, e in spans):
            out += [t for t in tokens(text, lo, hi) if not any(s <= t.start < e for s, e in own)]
    return out


def quote_stance(doc: AnnotatedDocument, quote: Quote, lexicon: TargetLexicon,
                 sentences: list[tuple[int, int]]) -> tuple[str, Polarity] | None:
    """(target, polarity) of one quote, or None (no speaker, a report, no target, no position)."""
    if doc.speaker_of(quote) is None or _reporting(quote.cue.text if quote.cue else None):
        return None
    text = doc.article.text
    words = [t for f in quote.content for t in tokens(text, f.start, f.end)]
    polarity = polarity_of(words, quote.cue.text if quote.cue else None)
    if polarity is None:
        return None
    target = lexicon.best(words) or lexicon.best(_context(doc, quote, sentences))
    return None if target is None else (target, polarity)


def detect_stances(doc: AnnotatedDocument, targets: TargetInventory, sentences: list[tuple[int, int]]) -> list[Stance]:
    """The stances the document's quotes show, one per (holder, target, polarity) with its quotes as evidence.

    ``sentences``: the article's sentence spans (``annotate.extract.sentences.sentence_spans``).
    """
    lexicon = TargetLexicon(targets)
    evidence: dict[tuple[str, str, Polarity], list[str]] = {}
    for quote in sorted(doc.quotes, key=lambda q: (q.content[0].start, q.id)):
        found = quote_stance(doc, quote, lexicon, sentences)
        if found is not None:
            holder = doc.speaker_of(quote)
            assert holder is not None  # quote_stance gives none without a speaker
            evidence.setdefault((holder, *found), []).append(quote.id)
    return [Stance(id=f"{holder}:{target}:{polarity.value}", holder_entity_id=holder, target_id=target,
                   polarity=polarity, evidence=quotes)
            for (holder, target, polarity), quotes in sorted(evidence.items())]
