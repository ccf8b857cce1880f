"""Predicted tags to quotes: spans per role, content fragments joined, cue and speaker attached.

The tagger says which tokens are content, cue or source; a quote is more than that, so this
module decides, with rules a reader can follow:
- a span is a run of tokens of one role (a ``B-`` tag starts a new one); its offsets run from its
  first token's start to its last token's end, so they always lie on the article's text;
- two content spans with only spaces or light punctuation between are one span (the tagger broke
  it), and so are two sentences of one quotation; two content spans of one paragraph are fragments
  of one quote when only a cue, a source and punctuation lie between them ("“A,” she said, “B”"),
  also across a sentence end when both are quoted ("“A,” she said. “B.”");
- a fragment that stops short of a closing quotation mark, with only punctuation between, runs up
  to it (direct content) or over it (a quotation opened inside mixed content), as 4.3 says;
- a quote's cue is the nearest cue span in the quote's sentences (before the content, after it
  or between its fragments); failing that, none (the sentence before or after was tried: it
  found few more cues and many wrong ones);
- its speaker is the source span nearest to its cue in the same sentence, else the nearest in
  the quote's sentences; a source span serves every quote that picks it (one mention);
- content ends are trimmed as guidelines.md 4.3 says (``annotate.formats.convention``);
- the kind comes from quotation marks (as the BRAT importer infers it), and the speaker's entity
  from the baseline's coreference heuristics (``EntityBook``), so "he" links to the person named.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from annotate.extract.model.features import ArticleFeatures, Sequence
from annotate.extract.quotemarks import QUOTE_MARKS, Quotation, find_quotations, kind_from_marks
from annotate.extract.speakers import DETERMINERS, PRONOUNS, EntityBook, Phrase
from annotate.formats.convention import trim_fragment
from schemas import AnnotatedDocument, Article, Mention, Provenance, Quote, Span

_BETWEEN_FRAGMENTS = frozenset(",;:—–-“”\"‘’'")
_SENTENCE_END = frozenset(".?!")
_BEFORE_CLOSING_MARK = frozenset(",;:.?!…")


@dataclass
class _Quote:
    content: list[tuple[int, int]]
    cue: tuple[int, int] | None = None
    source: tuple[int, int] | None = None
    sentences: set[int] = field(default_factory=set)


def tag_spans(seq: Sequence, tags: list[str]) -> dict[str, list[tuple[int, int]]]:
    """``{role: [(start, end), ...]}`` in code points, from one sequence's BIO tags."""
    spans: dict[str, list[tuple[int, int]]] = {"CON": [], "CUE": [], "SRC": []}
    open_role, first = None, 0
    for i, tag in enumerate([*tags, "O"]):
        role = tag[2:] if tag != "O" else None
        if open_role is not None and (role != open_role or tag.startswith("B-")):
            spans[open_role].append((seq.starts[first], seq.ends[i - 1]))
            open_role = None
        if role is not None and open_role is None:
            open_role, first = role, i
    return spans


def _joinable(text: str, gap: tuple[int, int], others: list[tuple[int, int]], quoted: list[bool]) -> bool:
    """Only cue/source spans, punctuation and spaces between two content spans; a sentence may end
    in between only when both spans are quoted ("“A,” she said. “B.”" is one quote in two
    fragments, while two reported clauses in two sentences are two quotes)."""
    rest = list(text[gap[0]:gap[1]])
    for s, e in others:
        lo, hi = max(s, gap[0]), min(e, gap[1])
        for k in range(lo, hi):
            rest[k - gap[0]] = " "
    both_quoted = gap[0] > 0 and quoted[gap[0] - 1] and gap[1] < len(quoted) and quoted[gap[1]]
    allowed = _BETWEEN_FRAGMENTS | _SENTENCE_END if both_quoted else _BETWEEN_FRAGMENTS
    return all(c.isspace() or c in allowed for c in rest) and any(
        s >= gap[0] and e <= gap[1] for s, e in others)


def _inside_one_quotation(text: str, gap: tuple[int, int], quoted: list[bool]) -> bool:
    """Only spaces and punctuation between, all of it inside quotation marks and no mark in it."""
    between = text[gap[0]:gap[1]]
    return (all(quoted[gap[0]:gap[1]]) and not any(c.isalnum() or c in QUOTE_MARKS for c in between))


def extend_to_closing_mark(text: str, start: int, end: int, direct: bool, quotations: list[Quotation]) -> int:
    """The end of a content fragment moved over punctuation to the closing mark of the quotation
    it ends in: guidelines.md 4.3 keeps the punctuation before a direct quote's closing mark, and
    the closing mark of a quotation inside mixed content. The tagger often stops at the last word."""
    for q in quotations:
        if not q.closed:
            continue
        s, e = q.extents[-1]
        if not s < end <= e:
            continue
        mark = e
        while mark > end and text[mark - 1] in QUOTE_MARKS:
            mark -= 1
        if mark == e or any(c not in _BEFORE_CLOSING_MARK for c in text[end:mark]):
            return end
        if direct:
            return mark
        return e if start <= s else end
    return end


def _nearest(spans: list[tuple[int, int]], anchor: tuple[int, int]) -> tuple[int, int] | None:
    def distance(span: tuple[int, int]) -> int:
        return max(0, span[0] - anchor[1], anchor[0] - span[1])
    return min(spans, key=lambda s: (distance(s), s[0]), default=None)


def _phrase(text: str, start: int, end: int) -> Phrase:
    words = text[start:end].split()
    low = words[0].lower() if words else ""
    if len(words) == 1 and low in PRONOUNS:
        kind = "pronoun"
    elif low in DETERMINERS:
        kind = "description"
    elif words and all(w[:1].isupper() for w in words):
        kind = "name"
    else:
        kind = "other"
    return Phrase(start=start, end=end, text=text[start:end], kind=kind)


def assemble(article: Article, feats: ArticleFeatures, tagged: list[list[str]], *, annotator: str,
             model_version: str) -> AnnotatedDocument:
    """The document of one article from the tags of its sequences."""
    text = article.text
    sentence_starts = [s for s, _ in feats.sentences]

    def sentence(pos: int) -> int:
        return max(0, bisect.bisect_right(sentence_starts, pos) - 1)

    quotes: list[_Quote] = []
    for seq, tags in zip(feats.sequences, tagged):
        spans = tag_spans(seq, tags)
        attachments = spans["CUE"] + spans["SRC"]
        para: list[_Quote] = []
        for start, end in spans["CON"]:
            gap = (para[-1].content[-1][1], start) if para else None
            if gap and (not text[gap[0]:gap[1]].strip(" \t,;—–-") or _inside_one_quotation(text, gap, feats.quoted)):
                # Nothing but spaces or light punctuation between, or sentences of one quotation
                # (4.3: a direct quote of several sentences is one fragment): a span the tagger broke.
                para[-1].content[-1] = (para[-1].content[-1][0], end)
            elif gap and _joinable(text, gap, attachments, feats.quoted):
                para[-1].content.append((start, end))
            else:
                para.append(_Quote(content=[(start, end)]))
        for q in para:
            q.sentences = {sentence(s) for s, _ in q.content} | {sentence(e - 1) for _, e in q.content}
            near = [c for c in spans["CUE"] if sentence(c[0]) in q.sentences]
            q.cue = _nearest(near, (q.content[0][0], q.content[-1][1]))
            anchor = q.cue or (q.content[0][0], q.content[-1][1])
            sources = [s for s in spans["SRC"] if sentence(s[0]) in q.sentences]
            same = [s for s in sources if q.cue is not None and sentence(s[0]) == sentence(q.cue[0])]
            q.source = _nearest(same or sources, anchor)
        quotes += para
    book = EntityBook(text, feats.quoted, feats.sentences)
    quotations = find_quotations(text)
    mentions: dict[tuple[int, int], Mention] = {}
    out: list[Quote] = []
    for n, q in enumerate(quotes, start=1):
        kind = kind_from_marks([Span.of(text, s, e) for s, e in q.content], text, feats.quoted)
        # The tagger's ends, trimmed as the convention says (it learned them, but not always exactly).
        direct = kind == "direct"
        trimmed = [trim_fragment(text, s, extend_to_closing_mark(text, s, e, direct, quotations), direct)
                   for s, e in q.content]
        content = [Span.of(text, s, e) for s, e in trimmed if e > s] or [Span.of(text, s, e) for s, e in q.content]
        mention = None
        if q.source is not None:
            mention = mentions.get(q.source)
            if mention is None:
                entity_id = book.resolve(_phrase(text, *q.source))
                if entity_id is not None:
                    mention = Mention(id=f"m{len(mentions) + 1}", span=Span.of(text, *q.source), entity_id=entity_id)
                    mentions[q.source] = mention
        out.append(Quote(id=f"q{n}", kind=kind, content=content,
                         cue=Span.of(text, *q.cue) if q.cue else None,
                         speaker_mention_id=mention.id if mention else None,
                         speaker_entity_id=mention.entity_id if mention else None))
    return AnnotatedDocument(article=article, entities=book.mentioned_entities(),
                             mentions=sorted(mentions.values(), key=lambda m: m.span.start), quotes=out,
                             provenance=Provenance(annotator=annotator, origin="prediction",
                                                   model_version=model_version))
