"""Tokens and their features for the quote tagger: one sequence per paragraph.

Tokens are runs of word characters or single other characters (the pattern of the comparison
core's token figures, so the tagger learns the units it is scored on). Features are strings
(CRFsuite's "attribute" form), computed from the token, its neighbours, its sentence and
paragraph, and the rule-based baseline's own reading of the article: the baseline's tag for each
token is a feature (stacking), so the model learns where the rules are right and where the gold
reads otherwise. Everything here is a pure function of the article text, which is why the
feature version (``FEATURES_VERSION``) is recorded in the model file: a model trained on other
features would tag with garbage, so it is refused instead.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from annotate.extract.baseline import extract as baseline_extract
from annotate.extract.cues import ALL_VERBS, PARTICIPLES, SPEECH_VERBS, THAT_VERBS
from annotate.extract.quotemarks import QUOTE_MARKS, quoted_mask
from annotate.extract.sentences import sentence_spans
from annotate.extract.speakers import BARE_SPEAKERS, PRONOUNS, TITLE_WORDS
from schemas import AnnotatedDocument, Article

FEATURES_VERSION = "1"
TOKEN = re.compile(r"\w+|[^\w\s]")
_PARAGRAPH = re.compile(r"[^\n]+")
ROLES = ("CON", "CUE", "SRC")  # content, cue, source (the speaker mention)


@dataclass(frozen=True)
class Sequence:
    """One paragraph's tokens: ``starts[i]:ends[i]`` in the article text."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]


def sequences(text: str) -> list[Sequence]:
    """Every non-empty paragraph (line) of ``text`` as a token sequence."""
    out = []
    for para in _PARAGRAPH.finditer(text):
        spans = [(m.start() + para.start(), m.end() + para.start()) for m in TOKEN.finditer(para.group())]
        if spans:
            out.append(Sequence(tuple(s for s, _ in spans), tuple(e for _, e in spans)))
    return out


def span_tags(seq: Sequence, spans_by_role: dict[str, list[tuple[int, int]]]) -> list[str]:
    """BIO tags of one sequence: a token belongs to a span it overlaps. Content wins over cue and
    source where spans nest (an attribution inside another's content): content is the layer scored
    first, and a nested source is rarer than the content around it."""
    tags = ["O"] * len(seq.starts)
    for role in reversed(ROLES):  # content last, so it overwrites
        for start, end in spans_by_role.get(role, []):
            first = bisect.bisect_right(seq.ends, start)
            last = bisect.bisect_left(seq.starts, end)
            for i in range(first, last):
                tags[i] = ("B-" if i == first else "I-") + role
    return tags


def document_spans(doc: AnnotatedDocument) -> dict[str, list[tuple[int, int]]]:
    """The content fragments, cues and speaker mentions of a document, by role."""
    mentions = {m.id: m.span for m in doc.mentions}
    spans: dict[str, list[tuple[int, int]]] = {role: [] for role in ROLES}
    for q in doc.quotes:
        spans["CON"] += [(f.start, f.end) for f in q.content]
        if q.cue is not None:
            spans["CUE"].append((q.cue.start, q.cue.end))
        if q.speaker_mention_id in mentions:
            m = mentions[q.speaker_mention_id]
            spans["SRC"].append((m.start, m.end))
    for role in ROLES:
        spans[role] = sorted(set(spans[role]))
    return spans


def _shape(word: str) -> str:
    shape = re.sub(r"[A-Z]+", "X", re.sub(r"[a-z]+", "x", re.sub(r"\d+", "d", word)))
    return shape[:4]


def _bucket(n: int) -> str:
    return str(n) if n < 3 else "3-5" if n < 6 else "6-10" if n < 11 else "11+"


def _word_features(word: str, quoted: bool) -> list[str]:
    low = word.lower()
    feats = [f"w={low}", f"s3={low[-3:]}", f"s2={low[-2:]}", f"sh={_shape(word)}"]
    if word in QUOTE_MARKS:
        feats.append("mark")
    if quoted:
        feats.append("quoted")
    if low in SPEECH_VERBS:
        feats.append("speech")
    elif low in THAT_VERBS:
        feats.append("thatverb")
    elif low in PARTICIPLES:
        feats.append("participle")
    elif low in ALL_VERBS:
        feats.append("cueverb")
    if low in PRONOUNS:
        feats.append("pronoun")
    if low in TITLE_WORDS or low in BARE_SPEAKERS:
        feats.append("speakerword")
    if word[:1].isupper():
        feats.append("cap")
    return feats


class ArticleFeatures:
    """Features of every token of one article, sequence by sequence."""

    def __init__(self, article: Article, baseline: AnnotatedDocument | None = None) -> None:
        text = article.text
        self.text = text
        self.sequences = sequences(text)
        self.quoted = quoted_mask(text)
        self.sentences = sentence_spans(text)
        self._sentence_starts = [s for s, _ in self.sentences]
        doc = baseline if baseline is not None else baseline_extract(article)
        self.baseline_spans = document_spans(doc)

    def _sentence_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self._sentence_starts, pos) - 1)

    def features(self, seq: Sequence) -> list[list[str]]:
        text, n = self.text, len(seq.starts)
        words = [text[s:e] for s, e in zip(seq.starts, seq.ends)]
        lows = [w.lower() for w in words]
        base = span_tags(seq, self.baseline_spans)
        sent = [self._sentence_of(s) for s in seq.starts]
        speech = [i for i, w in enumerate(lows) if w in SPEECH_VERBS or w in THAT_VERBS or w == "according"]
        para_marks = any(w in QUOTE_MARKS for w in words)
        out = []
        for i in range(n):
            here = self.quoted[seq.starts[i]]
            f = _word_features(words[i], here)
            if i and self.quoted[seq.starts[i - 1]] != here:
                f.append("quote_opens" if here else "quote_closed")
            if i + 1 < n and self.quoted[seq.starts[i + 1]] != here:
                f.append("quote_closes" if here else "quote_next")
            f.append(f"b={base[i]}")
            f.append(f"b-1={base[i - 1] if i else '^'}")
            f.append(f"b+1={base[i + 1] if i + 1 < n else '$'}")
            for d in (-3, -2, -1, 1, 2, 3):
                j = i + d
                f.append(f"w{d:+d}={lows[j] if 0 <= j < n else ('^' if j < 0 else '$')}")
            f.append(f"w-1|w={lows[i - 1] if i else '^'}|{lows[i]}")
            f.append(f"w|w+1={lows[i]}|{lows[i + 1] if i + 1 < n else '$'}")
            f.append(f"w-2|w-1={lows[i - 2] if i > 1 else '^'}|{lows[i - 1] if i else '^'}")
            if i + 1 < n and words[i + 1][:1].isupper():
                f.append("next_cap")
            first_of_sentence = i == 0 or sent[i - 1] != sent[i]
            last_of_sentence = i + 1 == n or sent[i + 1] != sent[i]
            if first_of_sentence:
                f.append("sent_start")
            if last_of_sentence:
                f.append("sent_end")
            if i == 0:
                f.append("para_start")
            same = [j for j in speech if sent[j] == sent[i]]
            if same:
                nearest = min(same, key=lambda j: abs(j - i))
                side = "here" if nearest == i else "cue_after" if nearest > i else "cue_before"
                f.append(f"{side}={_bucket(abs(nearest - i))}")
            else:
                f.append("no_cue_in_sentence")
            if para_marks:
                f.append("para_has_marks")
            f.append(f"sent_in_para={_bucket(sent[i] - sent[0])}")
            out.append(f)
        return out
