"""Rule-based detection of check-worthy factual claims (guidelines.md, section 7).

A claim is a clause that states a verifiable fact. The detector looks at the journalist's own clauses
(those outside every quote's content and cue) and at the clauses inside quote content,
which are claimed by the quote's speaker. Clauses are cut at ";", ", while", "but", ", and <subject>",
a dash, and "and would ..." (the rest is a plan, not a fact). A clause is a claim when

- it is not a condition ("If ..."), a question, a prediction, plan or demand (a modal: will, would,
  could, must, need to, ...), an opinion (think, doubt, no point, impossible, ...), a position (wants,
  seeks, rejects, is open to, ready, willing, ...: quotes and stances capture those), or a reporting
  frame (a reporting verb, "the remarks", "according to"), as section 7 lists what is not a claim;
- and it states something a fact-checker could look up: a number, a composition ("includes",
  "composed of"), a pledge or decision about the actor's own actions ("have pledged", "ruled out"),
  or a cause ("root causes", "provoked"): check-worthy ``yes``; or a dated or completed event
  ("met in Paris on Thursday", "has been leading the coalition"): check-worthy ``no``, the
  uncontested scene-setting that nobody would check.

The span runs from the clause's first word to its last, without leading connectives ("But, in any
case,"), a leading reporting frame ("As per Reuters reports,") or final punctuation. Page furniture
(captions, credits, short lines without a sentence end, section 3) and the earlier copies of a
duplicated sentence are skipped. The word lists were written with the four seed articles in view; the
figures on the seeds are optimistic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from annotate.extract.cues import ACCORDING_TO, PARTICIPLES, SPEECH_VERBS, THAT_VERBS
from annotate.extract.quotemarks import QUOTE_MARKS
from schemas import AnnotatedDocument, CheckWorthy, Claim, Quote, Span

MIN_WORDS = 4
FURNITURE_MAX_WORDS = 6  # a line this short without a sentence end is a heading or boilerplate

_CLAUSE_BREAK = re.compile(
    r";\s+|,\s+(?:while|whereas|although|though|but)\s+|\s+but\s+|\s+[—–]\s+|"
    r",\s+and\s+(?=(?:[A-Z]|(?:the|he|she|it|they|we|its|their)\b)\S*(?:\s+\S+){3})|"  # a clause, not a list's end
    r"\s+and\s+(?=(?:would|will|could|may|might|must|should|can)\b)"
)
_LEADING = re.compile(
    r"^(?:(?:however|but|and|so|therefore|meanwhile|moreover|also|yet|still|of course|in any case|in fact|"
    r"indeed|once again|then)\b\s*,?\s*)+",
    re.IGNORECASE,
)
_LEADING_FRAME = re.compile(r"^(?:according to|as per)\s+[^,]{1,80},\s*", re.IGNORECASE)
# Datelines are page furniture (section 3): "CHARLOTTE - ", "Sept. 5 (UPI) -- ".
_DATELINE = re.compile(r"^(?:[A-Z][A-Z.,’' ]+\s+[-–—]+|[^()\n]{0,60}\((?:UPI|AP|AFP|Reuters)\)(?:\s*[-–—]+)?)\s*")
_CONDITION = re.compile(r"^(?:if|unless|whether|should)\b", re.IGNORECASE)

_MODAL = re.compile(
    r"\b(?:will|would|could|can|cannot|can[’']t|may|might|must|should|shall|won[’']t|wouldn[’']t|couldn[’']t|"
    r"going to|need(?:s|ed)? to|the need|plan(?:s|ned)? to|intend(?:s|ed)? to|expected to|likely to)\b"
)
_OPINION = re.compile(
    r"\b(?:think|thinks|thought|believe[sd]?|feel|feels|felt|trust(?:s|ed)?|doubt\w*|hope[sd]?|point|sense|"
    r"impossible|unlikely|too early|best|worst|just words|obviously|clearly|unfortunately|sadly)\b",
    re.IGNORECASE,
)
_POSITION = re.compile(
    r"\b(?:want(?:s|ed)?|wish(?:es|ed)?|seek(?:s|ing)?|sought|reject(?:s|ed|ing)?|rejection|open to|openness|"
    r"ready|readiness|(?<!the )willing(?:ness)?|oppos(?:e|es|ed|ing)|welcom(?:e|es|ed|ing)|call(?:s|ed|ing)? for|"
    r"push(?:es|ed|ing)? for|urg(?:e|es|ed|ing)|demand(?:s|ed|ing)?|held the line|holds the line|stance|warning)\b",
    re.IGNORECASE,
)
_FRAME_WORDS = re.compile(r"\b(?:remarks|comments|statements?|speech|spoke|speaking|interview|touched on)\b",
                          re.IGNORECASE)
_REPORT_VERBS = re.compile(r"\b(?:" + "|".join(sorted(SPEECH_VERBS | PARTICIPLES, key=len, reverse=True)) + r")\b",
                           re.IGNORECASE)
_THAT_VERB = "|".join(sorted(THAT_VERBS, key=len, reverse=True))
# "... that ..." after the verb, or the verb after a comma or closing mark ("...,” reported Reuters").
_THAT_VERBS = re.compile(rf"\b(?:{_THAT_VERB})\s+that\b|[,”\"’]\s+(?:{_THAT_VERB})\b", re.IGNORECASE)

_NUMBER = re.compile(
    r"\d|%|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|dozens?|"
    r"hundreds?|thousands?|millions?|billions?|per ?cent|percent)\b",
    re.IGNORECASE,
)
_COMPOSITION = re.compile(
    r"\b(?:includ(?:e|es|ed)|comprising|comprises?|comprised|composed of|consists? of|made up of|members? of|"
    r"overwhelmingly|largely|mostly|majority)\b",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?:pledged|promised|vowed|ruled out|agreed to|decided to|signed|approved|adopted|committed|launched|imposed|"
    r"banned|deployed|withdrew|withdrawn|voted|ratified|allocated)\b",
    re.IGNORECASE,
)
_CAUSE = re.compile(
    r"\b(?:caus(?:e|es|ed)|root causes?|provoked|led to|lead to|because of|due to|triggered|result(?:ed)? in|"
    r"blamed)\b",
    re.IGNORECASE,
)
_IRREGULAR = "met|led|held|sent|made|begun|done|gone|won|lost|taken|given|seen|kept|brought|built|fought|struck|left"
_PERFECT = re.compile(
    r"\b(?:has|have|had)\s+(?:(?:\w+ly|long|since|also|not|never|already)\s+)*"
    rf"(?:been\s+\w+|\w+ed|\w+en|{_IRREGULAR})\b",
    re.IGNORECASE,
)
_DATED = re.compile(
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|January|February|March|April|June|"
    r"July|August|September|October|November|December|(?:19|20)\d\d)\b"
)
_PAST = re.compile(rf"\b(?:{_IRREGULAR}|visited|attacked|arrived|opened|closed|began|ended|killed|\w{{3,}}ed)\b")
_FURNITURE = re.compile(
    r"\bvia (?:AP|AFP|Reuters|Getty)\b|\bPhotos? (?:by|courtesy)\b|\bcourtesy of\b|^\s*\(With inputs from|"
    r"\bClick here\b|\bcontinues below\b",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"[^\n]+")
_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s+")


def check_worthiness(clause: str) -> CheckWorthy | None:
    """Whether ``clause`` is a claim and how check-worthy (module docstring); None: not a claim."""
    if len(_WORD.findall(clause)) < MIN_WORDS or clause.rstrip(" " + QUOTE_MARKS).endswith("?"):
        return None
    if _CONDITION.match(clause) or _MODAL.search(clause) or _OPINION.search(clause) or _POSITION.search(clause):
        return None
    if _FRAME_WORDS.search(clause) or _REPORT_VERBS.search(clause) or _THAT_VERBS.search(clause):
        return None
    if ACCORDING_TO.search(clause) or re.search(r"\b[Aa]s per\b", clause):
        return None
    if _NUMBER.search(clause) or _COMPOSITION.search(clause) or _DECISION.search(clause) or _CAUSE.search(clause):
        return CheckWorthy.YES
    if _PERFECT.search(clause) or (_DATED.search(clause) and _PAST.search(clause)):
        return CheckWorthy.NO
    return None


def clauses(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The clauses of ``text[start:end]`` (module docstring), each without leading connectives, a leading
    reporting frame, outer spaces or final punctuation."""
    pieces, lo = [], start
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        pieces.append((lo, m.start()))
        lo = m.end()
    pieces.append((lo, end))
    for lo, hi in pieces:
        while True:
            before = lo
            for pattern in (_LEADING, _LEADING_FRAME, _DATELINE):
                m = pattern.match(text[lo:hi])
                if m:
                    lo += m.end()
            while lo < hi and text[lo].isspace():
                lo += 1
            if lo == before:
                break
        while True:
            while hi > lo and (text[hi - 1] in " \t.,;:!—–-" or (
                    text[hi - 1] in QUOTE_MARKS and _unbalanced(text[lo:hi]))):
                hi -= 1
            if hi - lo > 1 and text[lo] == "(" and text[hi - 1] == ")":  # a parenthesised sentence
                lo, hi = lo + 1, hi - 1
            elif hi > lo and text[hi - 1] == ")" and text[lo:hi].count("(") < text[lo:hi].count(")"):
                hi -= 1  # the closing bracket of a parenthesis the clause began inside
            elif text[lo:lo + 1] == "(" and text[lo:hi].count("(") > text[lo:hi].count(")"):
                lo += 1
            else:
                break
        if hi > lo:
            yield lo, hi


def _unbalanced(clause: str) -> bool:
    """A closing mark at the end of a clause with no opening mark inside it belongs to a quote around it."""
    return not any(ch in "“‘\"'" for ch in clause[:-1] if ch != "’")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", re.sub(f"[{QUOTE_MARKS}]", '"', text)).strip()


class _Article:
    """The article's sentences, which of them to skip (furniture, earlier copies), and what quotes cover."""

    def __init__(self, doc: AnnotatedDocument, sentences: list[tuple[int, int]]):
        text = doc.article.text
        self.text = text
        furniture = [(p.start(), p.end()) for p in _PARAGRAPH.finditer(text) if _is_furniture(p.group())]
        last: dict[str, int] = {}
        for n, (lo, hi) in enumerate(sentences):
            last[_normal(text[lo:hi])] = n
        self.sentences = [(lo, hi) for n, (lo, hi) in enumerate(sentences)
                          if last[_normal(text[lo:hi])] == n and not any(a <= lo < b for a, b in furniture)]
        # What quotes cover: contents and cues. Not speaker mentions: a subject may do one thing and say
        # another ("Trump has ruled out ground forces but signalled ...").
        self.covered = [False] * len(text)
        for q in doc.quotes:
            for span in list(q.content) + ([q.cue] if q.cue else []):
                self.covered[span.start:span.end] = [True] * (span.end - span.start)

    def journalist_clauses(self) -> Iterator[tuple[int, int]]:
        for lo, hi in self.sentences:
            for s, e in clauses(self.text, lo, hi):
                if not any(self.covered[s:e]):
                    yield s, e

    def quote_clauses(self, quote: Quote) -> Iterator[tuple[int, int]]:
        for fragment in quote.content:
            for lo, hi in self.sentences:
                s, e = max(lo, fragment.start), min(hi, fragment.end)
                if s < e:
                    yield from clauses(self.text, s, e)


def _is_furniture(paragraph: str) -> bool:
    line = paragraph.strip()
    if _FURNITURE.search(line):
        return True
    ends = line.rstrip(QUOTE_MARKS + ")").endswith((".", "!", "?"))
    return not ends and len(_WORD.findall(line)) <= FURNITURE_MAX_WORDS


def detect_claims(doc: AnnotatedDocument, sentences: list[tuple[int, int]]) -> list[Claim]:
    """The document's check-worthy claims: the journalist's (no claimant) and those inside its quotes (claimed by
    the quote's speaker), in text order, none overlapping another.

    ``sentences``: the article's sentence spans (``annotate.extract.sentences.sentence_spans``). A claim inside
    a quote whose speaker has no mention in the text is left out: Label Studio draws the claimant as a
    relation to a mention, and without it the claim would read as the journalist's.
    """
    article = _Article(doc, sentences)
    text = doc.article.text
    mentioned = {m.entity_id for m in doc.mentions}
    found: list[tuple[int, int, CheckWorthy, str | None]] = []
    for s, e in article.journalist_clauses():
        worthy = check_worthiness(text[s:e])
        if worthy is not None:
            found.append((s, e, worthy, None))
    for quote in doc.quotes:
        speaker = doc.speaker_of(quote)
        if speaker is None or speaker not in mentioned:
            continue
        for s, e in article.quote_clauses(quote):
            worthy = check_worthiness(text[s:e])
            if worthy is not None:
                found.append((s, e, worthy, speaker))
    claims: list[Claim] = []
    end = -1
    for s, e, worthy, claimant in sorted(found):
        if s < end:
            continue  # two claims may not overlap (guidelines.md, section 2)
        claims.append(Claim(id=f"c{len(claims) + 1}", span=Span.of(text, s, e), claimant_entity_id=claimant,
                            check_worthy=worthy))
        end = e
    return claims
