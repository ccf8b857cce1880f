"""The rule-based baseline: quotes, cues and speakers from one article, no model needed.

Spans follow guidelines.md, section 4. ``extract(article)`` finds
- direct quotes: quotations that stand as speech (they open a sentence or follow a cue and a
  colon or comma, and end it or are followed by a cue). Content is what lies between the outer
  quotation marks (the marks excluded, punctuation inside them kept), one fragment per paragraph
  when a quote runs over paragraphs; marks nested inside stay in the content. A quote split by
  its cue ("“...,” Putin said, “...”") is one quote in two fragments; a quotation with no cue
  of its own right after a quoted speaker is that speaker going on (a new quote). A report whose
  content is wholly in marks ('said that “X”') is direct too;
- indirect quotes: a sentence with a reporting cue before its content ("Putin said (that) ...",
  "According to Reuters, ..."), after it ("..., officials said."), or inside it ("The plan, he
  said, was ..."); participles continuing an attribution (", adding that ...") are quotes of
  their own; "called X a “...”" counts only with a quotation; a headline "Pence: ..." too.
  Content runs to the end of the clause or sentence; "that" and a final period stay out. A
  quoted fragment inside it ("would be “legitimate targets”") makes the quote mixed;
- the cue: the reporting verb with its particles ("said", "according to", "warned"); adverbs,
  time and place ("on Friday", "in a speech") stay out;
- the speaker mention: the minimal noun phrase next to the cue, title included, linked to an
  entity by ``annotate.extract.speakers`` (pronouns and "the X leader" to the person last
  named, preferably as a subject; "He added" to the last person quoted; surnames to the full
  name).

``extract`` leaves stances and claims empty; ``annotate.extract.layers.with_claims_and_stances``
adds them (to this or any quote-level document), as ``annotate extract`` and preload do.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from annotate.extract.cues import (
    ACCORDING_TO,
    CUE_WORD,
    DIRECT_ONLY_VERBS,
    LABEL_VERBS,
    LEADING_ADVERBIALS,
    PARTICIPLES,
    PASSIVE_BEFORE,
    SPEECH_VERBS,
)
from annotate.extract.quotemarks import QUOTE_MARKS, Quotation, find_quotations, quoted_mask
from annotate.extract.sentences import sentence_spans
from annotate.extract.speakers import EntityBook, Phrase, phrase_after, phrase_before
from schemas import AnnotatedDocument, Article, EntityType, Mention, Provenance, Quote, QuoteKind, Span

# 0.2.0: the baseline's predictions (``annotate extract``, preload) carry claims and stances (layers 0.1.0).
BASELINE_VERSION = "0.2.0"
MIN_CONTENT_WORDS = 3
DIRECT_VERBS = SPEECH_VERBS | DIRECT_ONLY_VERBS
CONTINUING_CUES = frozenset("added adds continued went".split())
# Verbs whose object comes before the content ("told reporters that ...").
OBJECT_VERBS = frozenset("told tells asked asks assured assures warned warns".split())
_OBJECT = re.compile(
    r"\s+(?:me|him|her|them|us|you|reporters|journalists|supporters|voters|lawmakers|"
    r"(?:the|a|an|his|her|their)\s+(?:[\w’'-]+\s+){0,2}?[\w’'-]+|[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*){0,3})(?=[\s,.:;])"
)
# What may follow a cue that ends its sentence: a participle, "according to", a short phrase of place.
_CLOSING_CLAUSE = re.compile(
    r"\s*(?:,\s*(?:according to|" + "|".join(PARTICIPLES) + r")\b|"
    r"(?:in|at|of|for|with|on|from|who|familiar|close)\b[^,;]{0,60}$)"
)
# A headline or lead-in that gives the speaker and a colon: "Pence: Gennifer Flowers Won't Be at Debate".
_HEADLINE = re.compile(r"^[ \t]*([A-Z][\w.’'-]*(?:[ \t]+[A-Z][\w.’'-]*){0,3}):[ \t]+(?=[A-Z“\"‘'])[^\n]+", re.MULTILINE)
_PARTICIPLE_LEAD = re.compile(r"[,—–]\s*(?:(?:though|while|and|but|even|before|after)\s+)?$")
_NEXT_PARTICIPLE = re.compile(
    r",\s+(?:(?:though|while|and|but|even|before|after)\s+)?(?:" + "|".join(PARTICIPLES) + r")\b"
)
_THAT = re.compile(r"\s*,?\s*that\b")
_WORD = re.compile(r"\S+")


@dataclass(eq=False)
class Found:
    """A quote before it becomes a model: offsets only, plus its speaker.

    ``same_speaker_as`` points at an earlier quote whose speaker this one shares (a participle
    continuing an attribution, a quote continuing a quoted speaker); ``reserved`` are stretches
    that belong to the attribution without being content, cue or speaker (", according to X,").
    """

    kind: QuoteKind
    content: list[tuple[int, int]]
    cue: tuple[int, int] | None
    speaker: Phrase | None
    same_speaker_as: Found | None = None
    reserved: list[tuple[int, int]] = field(default_factory=list)
    entity_id: str | None = None


class _Extraction:
    def __init__(self, text: str) -> None:
        self.text = text
        self.quotations = find_quotations(text)
        self.quoted = quoted_mask(text, self.quotations)
        self.sentences = sentence_spans(text)
        self._starts = [s for s, _ in self.sentences]
        self.book = EntityBook(text, self.quoted, self.sentences)
        self.found: list[Found] = []
        self.taken = [False] * len(text)  # code points already in a quote, cue or speaker

    # --- helpers -------------------------------------------------------------------------------
    def sentence_at(self, pos: int) -> tuple[int, int]:
        n = max(0, bisect.bisect_right(self._starts, pos) - 1)
        if n < len(self.sentences) and self.sentences[n][0] <= pos < self.sentences[n][1]:
            return self.sentences[n]
        return pos, pos

    def take(self, start: int, end: int) -> None:
        self.taken[start:end] = [True] * (end - start)

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def add(self, found: Found, record: bool = True) -> None:
        found.content = [self._trim(s, e) for s, e in found.content]
        found.content = [(s, e) for s, e in found.content if e > s]
        if not found.content:
            return
        for s, e in found.content + found.reserved:
            self.take(s, e)
        for part in (found.cue, found.speaker and (found.speaker.start, found.speaker.end)):
            if part:
                self.take(*part)
        if record:
            self.found.append(found)

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end

    def words(self, start: int, end: int) -> int:
        return len(_WORD.findall(self.text[start:end]))

    def after_adverbials(self, pos: int, hi: int) -> int:
        m = LEADING_ADVERBIALS.match(self.text, pos, hi)
        return m.end() if m else pos

    # --- direct quotes -------------------------------------------------------------------------
    def direct(self) -> None:
        previous: Found | None = None
        for q in self.quotations:
            found = self._direct(q, previous)
            if found is None:
                continue
            if previous is not None and found.cue is not None and found.cue == previous.cue:
                # “...,” Putin said, “...”: one quote split by its cue, in two fragments.
                previous.content += found.content
                self.add(Found(found.kind, found.content, None, None, reserved=found.reserved), record=False)
                continue
            self.add(found)
            previous = found

    def _direct(self, q: Quotation, previous: Found | None) -> Found | None:
        text = self.text
        sent_lo, _ = self.sentence_at(q.start)
        if sent_lo > q.start:
            sent_lo = q.start
        pre = text[sent_lo : q.start]
        _, sent_hi = self.sentence_at(max(q.start, q.end - 1))
        sent_hi = max(sent_hi, q.end)
        post_cue = self._cue_after(q.end, sent_hi)
        post = text[q.end : sent_hi]
        post_ok = post_cue is not None or not post.strip(" \t.,;:!?—–-)" + QUOTE_MARKS)
        pre_cue = self._cue_before(sent_lo, q.start) if pre.strip() else None
        pre_ok = not pre.strip() or pre_cue is not None or pre.rstrip().endswith(":")
        if not (pre_ok and post_ok):
            return None
        fragments = [(s, e) for s, e in q.fragments if text[s:e].strip()]
        if not fragments:
            return None
        if post_cue is not None:
            (cue, speaker), reserved = post_cue, []
            return Found(QuoteKind.DIRECT, fragments, cue, speaker, None, reserved)
        if pre_cue is not None:
            cue, speaker = pre_cue
            return Found(QuoteKind.DIRECT, fragments, cue, speaker, None, [(cue[1], q.start)])
        if previous is not None and self._near(previous, q.start):
            # A quote with no cue right after a quoted speaker: the same speaker goes on.
            return Found(QuoteKind.DIRECT, fragments, None, None, previous)
        return Found(QuoteKind.DIRECT, fragments, None, None)

    def _near(self, previous: Found, start: int, paragraphs: int = 1) -> bool:
        """At most ``paragraphs`` paragraph breaks between the previous quote and ``start``."""
        gap = self.text[previous.content[-1][1] : start]
        return len(re.findall(r"\n\s*", gap)) <= paragraphs and len(gap) < 400 * paragraphs

    def _previous_person(self, done: list[Found], start: int) -> str | None:
        """The entity of the last quote by a person within four paragraphs before ``start``."""
        for found in reversed(done):
            if not self._near(found, start, 4):
                return None
            if found.entity_id is not None and self.book.entities[found.entity_id].type is EntityType.PERSON:
                return found.entity_id
        return None

    def _cue_after(self, pos: int, hi: int) -> tuple[tuple[int, int], Phrase | None] | None:
        """``” Putin said`` / ``,” said the official``: the cue and speaker right after a quote."""
        text = self.text
        start = pos
        while start < hi and (text[start].isspace() or text[start] in ",—–-"):
            start += 1
        m = CUE_WORD.match(text, start, hi)
        if m and m.group().lower() in DIRECT_VERBS:
            return (m.start(), m.end()), phrase_after(text, m.end() + 1, hi)
        for m in CUE_WORD.finditer(text, start, min(hi, start + 80)):
            if m.group().lower() not in DIRECT_VERBS:
                continue
            phrase = phrase_before(text, start, m.start())
            if phrase is not None and phrase.start == start:
                return (m.start(), m.end()), phrase
            return None
        return None

    def _cue_before(self, lo: int, pos: int) -> tuple[tuple[int, int], Phrase | None] | None:
        """``Putin said, according to Reuters, “`` / ``He added: “``: the cue and speaker before a quote."""
        text = self.text
        matches = [m for m in CUE_WORD.finditer(text, lo, pos) if m.group().lower() in DIRECT_VERBS | PARTICIPLES]
        if not matches:
            return None
        m = matches[-1]
        after = self.after_adverbials(m.end(), pos)
        if m.group().lower() in OBJECT_VERBS:
            obj = _OBJECT.match(text, after, pos)
            if obj:
                after = self.after_adverbials(obj.end(), pos)
        if text[after:pos].strip(" ,:—–-"):
            return None
        if m.group().lower() in PARTICIPLES:
            return (m.start(), m.end()), None
        return (m.start(), m.end()), phrase_before(text, lo, m.start())

    # --- indirect and mixed quotes --------------------------------------------------------------
    def reports(self) -> None:
        for lo, hi in self.sentences:
            self._sentence(lo, hi)
        for m in _HEADLINE.finditer(self.text):
            speaker = phrase_before(self.text, m.start(), m.end(1))
            if speaker is not None and speaker.start == m.start() and self.free(m.start(), m.end()):
                self._report(m.start(), m.end(), [(m.end(1) + 1, m.end())], (m.end(1), m.end(1) + 1), speaker)

    def _sentence(self, lo: int, hi: int) -> None:
        text = self.text
        end = hi
        while end > lo and text[end - 1] in ".!?;: ":
            end -= 1  # the final period is not part of the content
        for m in ACCORDING_TO.finditer(text, lo, hi):
            if not self.quoted[m.start()] and self.free(m.start(), m.end()):
                self._according_to(m, lo, end)
        for m in CUE_WORD.finditer(text, lo, hi):
            if self.quoted[m.start()] or not self.free(m.start(), m.end()) or not self._cue_case(m):
                continue
            if m.group().lower() in PARTICIPLES:
                self._participle(m, lo, end)
            else:
                self._finite(m, lo, end)

    def _cue_case(self, m: re.Match[str]) -> bool:
        """A cue is in lower case, or capitalised among capitalised words (a headline: "Doctor Says")."""
        if m.group().islower():
            return True
        previous = self.text[: m.start()].split()[-1:]
        return bool(previous) and previous[0][:1].isupper() and m.group()[:1].isupper() and m.group()[1:].islower()

    def _according_to(self, m: re.Match[str], lo: int, end: int) -> None:
        text = self.text
        phrase = phrase_after(text, m.end() + 1, end)
        if phrase is None:
            return
        cue = (m.start(), m.end())
        if not text[lo : m.start()].strip(" “\"‘"):  # "According to X, content"
            comma = text.find(",", phrase.end, end)
            if comma == -1:
                return
            self._report(lo, end, [(comma + 1, end)], cue, phrase)
            return
        before = (lo, m.start())
        rest = text.find(",", phrase.end, end)
        content = [before] if rest == -1 else [before, (rest + 1, end)]
        content = [(s, e) for s, e in (self._trim(*c) for c in content)]
        content = [(s, e - 1 if text[e - 1] == "," else e) for s, e in content]
        self._report(lo, end, content, cue, phrase)

    def _participle(self, m: re.Match[str], lo: int, end: int) -> None:
        text = self.text
        if not _PARTICIPLE_LEAD.search(text, max(0, m.start() - 20), m.start()):
            return
        start = self.after_adverbials(m.end(), end)
        that = _THAT.match(text, start, end)
        if m.group().lower() == "telling":
            obj = _OBJECT.match(text, start, end)
            if obj:
                start = obj.end()
                that = _THAT.match(text, start, end)
        if that:
            start = that.end()
        speaker, same_as = self._sentence_speaker(lo, m.start())
        self._report(lo, end, [(start, self._clause_end(start, end))], (m.start(), m.end()), speaker, same_as)

    def _sentence_speaker(self, lo: int, before: int) -> tuple[Phrase | None, Found | None]:
        """Who a participle continues: the last attribution ending in this sentence, else its subject."""
        earlier = [f for f in self.found if lo <= max(e for _, e in f.content + [f.cue or (0, 0)]) <= before + 1]
        if earlier:
            return None, max(earlier, key=lambda f: f.content[-1][1])
        subject = phrase_after(self.text, lo, before)
        if subject is not None and subject.kind in ("name", "pronoun", "description") and self.free(
                subject.start, subject.end):
            return subject, None
        return None, None

    def _finite(self, m: re.Match[str], lo: int, end: int) -> None:
        text = self.text
        verb = m.group().lower()
        if verb in DIRECT_ONLY_VERBS:
            return
        before_words = text[lo : m.start()].split()
        if before_words and before_words[-1].lower() in PASSIVE_BEFORE:
            return
        cue = (m.start(), m.end())
        after = self.after_adverbials(m.end(), end)
        if verb in OBJECT_VERBS:
            obj = _OBJECT.match(text, after, end)
            # "told reporters ...", but "warned X that" only: "warns Western troops would ..." has no object
            if obj and not obj.group().strip().startswith("that") and (
                    verb in ("told", "tells") or _THAT.match(text, obj.end(), end)):
                after = self.after_adverbials(obj.end(), end)
        speaker = phrase_before(text, lo, m.start())
        inverted = False
        if speaker is None and text[lo : m.start()].rstrip().endswith(","):
            speaker = phrase_after(text, m.end() + 1, end)  # "..., said Putin."
            if speaker is None:
                return
            inverted = True
            after = self.after_adverbials(speaker.end, end)
        if speaker is not None:
            lead = text[lo : min(speaker.start, m.start())].rstrip()
            ends_clause = lead.rstrip(QUOTE_MARKS).endswith((",", "—", "–"))
            if ends_clause and self._content_around(lead, lo, after, end, cue, speaker):
                return
        if inverted:
            return
        that = _THAT.match(text, after, end)
        if verb in LABEL_VERBS:
            if speaker is None or not any(self.quoted[after:end]) or text[m.end() : m.end() + 4] == " for":
                return
        elif verb not in SPEECH_VERBS and not that:
            return
        if text[after:end].lstrip(" ").startswith((":", ",")) and not that:
            return  # "said: “...”" belongs to a direct quote, ", adding" to a participle
        if speaker is None and not that:
            return
        start = that.end() if that else after
        self._report(lo, end, [(start, self._clause_end(start, end))], cue, speaker)

    def _clause_end(self, start: int, end: int) -> int:
        """Where a participle clause (", adding that ...") ends the content: it is a quote of its own."""
        for m in _NEXT_PARTICIPLE.finditer(self.text, start, end):
            if not self.quoted[m.start()]:
                return m.start()
        return end

    def _content_around(self, lead: str, lo: int, after: int, end: int, cue: tuple[int, int], speaker: Phrase) -> bool:
        """Content before the cue ("..., Putin said.") or around it ("The plan, he said, was ...")."""
        head = (lo, lo + len(lead))
        tail = self.text[after:end]
        if not tail.strip() or _CLOSING_CLAUSE.match(tail):
            self._report(lo, end, [head], cue, speaker)
            return True
        if tail.lstrip().startswith(","):
            resume = after + tail.index(",") + 1
            self._report(lo, end, [head, (resume, end)], cue, speaker)
            return True
        return False

    def _report(self, lo: int, end: int, content: list[tuple[int, int]], cue: tuple[int, int],
                speaker: Phrase | None, same_as: Found | None = None) -> None:
        """Add an indirect or mixed quote, its content cut where a taken stretch begins."""
        text = self.text
        clipped = []
        for s, e in content:
            s, e = self._trim(s, e)
            for i in range(s, e):
                if self.taken[i]:
                    e = i
                    break
            s, e = self._trim(s, e)
            while e > s and text[e - 1] in ",;:—–-":
                e -= 1
            if e > s:
                clipped.append((s, e))
        if not clipped or sum(self.words(s, e) for s, e in clipped) < MIN_CONTENT_WORDS:
            return
        # Content that ends inside a quotation ("Trump told Fox that "they hit Matt. ...") runs to its end.
        s, e = clipped[-1]
        for q in self.quotations:
            for q_start, q_end in q.extents:
                if q_start < e < q_end and self.free(e, q_end):
                    clipped[-1] = (s, q_end)
        if speaker is not None and not self.free(speaker.start, speaker.end):
            speaker = None
        quoted = any(self.quoted[i] for s, e in clipped for i in range(s, e) if text[i].isalnum())
        kind = QuoteKind.MIXED if quoted else QuoteKind.INDIRECT
        whole = [q for q in self.quotations if len(clipped) == 1 and (q.start, q.end) == clipped[0]]
        if whole:  # 'said that “X”' with all of X in marks is direct: the content is inside the marks
            kind, clipped = QuoteKind.DIRECT, [f for f in whole[0].fragments if text[f[0] : f[1]].strip()]
        self.add(Found(kind, clipped, cue, speaker, same_as))

    # --- models --------------------------------------------------------------------------------
    def resolve_speakers(self) -> list[Found]:
        """Entities for every quote, in text order: names first, so pronouns can look back at them."""
        ordered = sorted(self.found, key=lambda f: f.content[0][0])
        for found in ordered:
            if found.speaker is not None and found.speaker.kind in ("name", "other"):
                found.entity_id = self.book.resolve(found.speaker)
        done: list[Found] = []
        for found in ordered:
            if found.same_speaker_as is not None:
                found.entity_id = found.same_speaker_as.entity_id
            elif found.speaker is not None and found.speaker.kind in ("pronoun", "description"):
                cue = self.text[found.cue[0] : found.cue[1]] if found.cue else ""
                previous = self._previous_person(done, found.speaker.start) if cue in CONTINUING_CUES else None
                if previous is not None and found.speaker.text.lower() not in ("they", "it", "we"):
                    found.entity_id = previous  # "He added:" goes on from the last person quoted
                    self.book.referred.append((found.speaker.start, previous))
                else:
                    found.entity_id = self.book.resolve(found.speaker)
            if found.entity_id is not None:
                done.append(found)
        return ordered

    def document(self, article: Article) -> AnnotatedDocument:
        text = self.text
        mentions: list[Mention] = []
        quotes: list[Quote] = []
        mention_of: dict[int, str] = {}
        for n, found in enumerate(self.resolve_speakers(), start=1):
            mention_id = None
            if found.speaker is not None and found.entity_id is not None:
                mention_id = f"m{len(mentions) + 1}"
                mentions.append(Mention(id=mention_id, span=Span.of(text, found.speaker.start, found.speaker.end),
                                        entity_id=found.entity_id))
            elif found.same_speaker_as is not None and "\n" not in text[
                    found.same_speaker_as.content[-1][1] : found.content[0][0]]:
                mention_id = mention_of.get(id(found.same_speaker_as))  # same paragraph: the same mention
            if mention_id is not None:
                mention_of[id(found)] = mention_id
            quotes.append(Quote(
                id=f"q{n}",
                kind=found.kind,
                content=[Span.of(text, s, e) for s, e in found.content],
                cue=Span.of(text, *found.cue) if found.cue else None,
                speaker_mention_id=mention_id,
                speaker_entity_id=found.entity_id,
            ))
        return AnnotatedDocument(
            article=article,
            provenance=Provenance(annotator=f"baseline-{BASELINE_VERSION}", origin="prediction",
                                  model_version=BASELINE_VERSION),
            entities=self.book.mentioned_entities(),
            mentions=mentions,
            quotes=quotes,
        )


def extract(article: Article) -> AnnotatedDocument:
    """Predicted quotes (direct, indirect, mixed) with cues and speakers; stances and claims empty (see
    ``annotate.extract.layers``)."""
    extraction = _Extraction(article.text)
    extraction.direct()
    extraction.reports()
    return extraction.document(article)
