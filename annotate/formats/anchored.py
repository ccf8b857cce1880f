"""Quotes given as strings (a language model's output, say) anchored to their articles: ``annotate import anchored``.

The file is JSONL, one line per article::

    {"article_id": "putin-vladivostok", "model": "my-llm-2025-06",
     "quotes": [{"content": "they will be legitimate targets", "cue": "said", "speaker": "Putin",
                 "speaker_name": "Vladimir Putin", "kind": "direct"},
                {"content": "legitimate targets", "context": "would be “legitimate targets” for the Russian military"},
                {"content": ["We will win,", "and soon."], "speaker": "he", "speaker_name": "Jane Doe"},
                {"content": "there is no point", "occurrence": 2}]}

- ``content``: a string, or a list of fragments in text order (a quote interrupted by its cue); required.
- ``cue``, ``speaker``: the words as they stand in the article; searched near the content (see below).
- ``speaker_name``: who the speaker is ("Vladimir Putin" for a speaker "he"); names the speaker's entity,
  which is otherwise named by ``speaker``. The entity id is the slug of the name; the quote keeps it
  even when the speaker's words are not placed.
- ``kind``: ``direct``, ``indirect`` or ``mixed``; when absent it is read off the quotation marks
  (``annotate.extract.quotemarks.kind_from_marks``).
- ``occurrence`` (1-based, in text order among the places the content matches) or ``context`` (a longer text
  of the article the content lies in): which place is meant when the content occurs more than once. Give
  one of them, not both.
- ``model``: the extractor's name or version, kept as the documents' annotator and model version.

How strings are placed (``annotate.formats.anchoring`` has the matcher): an exact occurrence on word edges,
else a normalised one (quotation-mark variants, dashes, whitespace, and quotation marks or punctuation at
the string's ends, which models add and drop), mapped back to the article's own offsets. A content that
occurs in several places is placed only when a hint (or its later fragments) leaves one; a cue or speaker
only when it occurs once in the first of: the sentences the content touches, its paragraph(s), one
sentence further on either side (never inside the content; the speaker never on the cue). Nothing is
placed by guess: a content not found or ambiguous is an error by default (with ``skip_unplaced``, the
quote is left out and reported); a cue or speaker not placed is reported and the quote kept without it.
Fuzzy matches (``rapidfuzz``) are off by default; the report names the nearest text for a content not
found. With ``fuzzy=SCORE`` a content found by neither match is placed at its best fuzzy alignment when
that scores at least SCORE and nothing else in the article does; such quotes are reported ``fuzzy``
with the score, never as plain matches.

Every field of every quote gets a report item (``AnchorReport``); the documents are ordinary predictions
(origin ``prediction``) that ``annotate evaluate`` scores like any other. ``to_anchored`` goes the other
way: a document's quotes as strings, with an occurrence hint where the content is not unique.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from annotate.extract.entities import guess_entity_type, slugify
from annotate.extract.quotemarks import kind_from_marks, quoted_mask
from annotate.extract.sentences import sentence_spans
from annotate.formats.anchoring import ArticleAnchors, Matcher, Placement
from annotate.formats.shared import entity_name, short
from schemas import AnnotatedDocument, Article, Entity, Mention, Provenance, Quote, QuoteKind, Span, ToolkitError
from schemas.errors import first_error
from schemas.files import iter_lines
from schemas.models import Id
from schemas.version import SCHEMA_VERSION

REPORT_VERSION = "1.0.0"
DEFAULT_ANNOTATOR = "anchored"
FORMAT_DOC = "format: annotate.formats.anchored"
Field_ = Literal["content", "cue", "speaker"]
Status = Literal["placed", "fuzzy", "not_found", "ambiguous"]
_PARAGRAPH = re.compile(r"[^\n]+")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _has_words(value: str | None, what: str) -> str | None:
    if value is not None and not any(ch.isalnum() for ch in value):
        raise ValueError(f"{what} {value!r} has no letters or digits; give the words as they stand in the article")
    return value


class AnchoredQuote(_Model):
    """One quote as strings (see the module docstring)."""

    content: list[str] = Field(min_length=1, description="The content, or its fragments in text order.")
    cue: str | None = Field(default=None, min_length=1, description="The cue's words (or mark, PolNeAR's ':').")
    speaker: str | None = Field(default=None, description="The speaker's words in the article.")
    speaker_name: str | None = Field(default=None, description="Who the speaker is; names the entity.")
    kind: QuoteKind | None = None
    occurrence: int | None = Field(default=None, ge=1, description="Which occurrence of the content (1-based).")
    context: str | None = Field(default=None, description="A longer text of the article around the content.")

    @field_validator("content", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("content")
    @classmethod
    def _fragments_have_words(cls, fragments: list[str]) -> list[str]:
        for fragment in fragments:
            _has_words(fragment, "content fragment")
        return fragments

    @model_validator(mode="after")
    def _checked(self) -> AnchoredQuote:
        _has_words(self.speaker, "speaker")
        _has_words(self.speaker_name, "speaker_name")
        _has_words(self.context, "context")
        if self.occurrence is not None and self.context is not None:
            raise ValueError("give occurrence or context, not both")
        return self


class AnchoredLine(_Model):
    """One line of the file: an article's quotes as strings."""

    article_id: Id
    model: str | None = Field(default=None, min_length=1, description="Extractor name or version.")
    quotes: list[AnchoredQuote] = Field(default_factory=list)


def iter_anchored(path: Path) -> Iterator[tuple[int, AnchoredLine]]:
    """(line number, line) of every non-blank line; a malformed line is a ``ToolkitError`` naming file:line."""
    for lineno, raw in iter_lines(path):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{lineno}: invalid JSON ({e.msg}, column {e.colno}); one article's quotes "
                               f"per line ({FORMAT_DOC})") from None
        try:
            yield lineno, AnchoredLine.model_validate(data)
        except ValidationError as e:
            raise ToolkitError(f"{path}:{lineno}: {_where(e)}; fix the line ({FORMAT_DOC})") from None


def _where(e: ValidationError) -> str:
    """``quotes.2.content: ...`` as ``quote 3 content: ...`` (quotes are counted from 1 everywhere else)."""
    message = first_error(e)
    return re.sub(r"^quotes\.(\d+)\.?", lambda m: f"quote {int(m.group(1)) + 1} ", message).replace(" :", ":")


class ItemReport(_Model):
    """What became of one field of one quote."""

    line: int = Field(ge=1)
    article_id: str
    quote: int = Field(ge=1, description="The quote's place in its line, from 1.")
    field: Field_
    status: Status
    given: list[str] = Field(description="The string(s) given: content fragments, or the one cue or speaker.")
    match: Literal["exact", "normalised", "fuzzy"] | None = None
    spans: list[Span] = Field(default_factory=list, description="Where it was placed.")
    occurrences: int = Field(ge=0, description="Places that fitted (more than one: ambiguous).")
    score: float | None = Field(default=None, description="Fuzzy score (0-100) of a fuzzy placement.")
    nearest: Span | None = Field(default=None, description="A content not found: the nearest text (fuzzy).")
    nearest_score: float | None = None
    reason: str | None = Field(default=None, description="Why it was not placed.")


class FieldCounts(_Model):
    placed: int = 0
    fuzzy: int = 0
    not_found: int = 0
    ambiguous: int = 0


class AnchorReport(_Model):
    """The report of one anchoring run: counts per field and status, and every item."""

    report_version: str = REPORT_VERSION
    schema_version: str = SCHEMA_VERSION
    file: str
    articles: int = Field(ge=0, description="Lines (articles) read.")
    quotes: int = Field(ge=0, description="Quotes read.")
    written: int = Field(ge=0, description="Quotes written (their content placed).")
    counts: dict[Field_, FieldCounts]
    items: list[ItemReport]

    def unplaced(self) -> list[ItemReport]:
        """Items of quotes left out: their content was not found or is ambiguous."""
        return [i for i in self.items if i.field == "content" and i.status in ("not_found", "ambiguous")]

    def summary(self) -> str:
        """One line: quotes placed, how, what was left out, cues and speakers placed."""
        c = self.counts
        left = c["content"].not_found + c["content"].ambiguous
        parts = [f"placed {self.written} of {self.quotes} quotes in {self.articles} articles"]
        normalised = sum(1 for i in self.items if i.field == "content" and i.match == "normalised")
        parts.append(f"{normalised} by normalised match, {c['content'].fuzzy} fuzzy")
        if left:
            parts.append(f"{left} left out ({c['content'].not_found} not found, {c['content'].ambiguous} ambiguous)")
        for name in ("cue", "speaker"):
            n = c[name]
            given = n.placed + n.fuzzy + n.not_found + n.ambiguous
            parts.append(f"{name} {n.placed}/{given} placed ({n.not_found} not found, {n.ambiguous} ambiguous)")
        return "; ".join(parts)


@dataclass(frozen=True)
class AnchoredImport:
    documents: list[AnnotatedDocument]
    report: AnchorReport


def import_anchored(path: Path, articles: Sequence[Article], *, skip_unplaced: bool = False,
                    fuzzy: float | None = None) -> AnchoredImport:
    """The documents the file's strings give over ``articles``, and the report.

    An unknown article id, a line given twice, and (unless ``skip_unplaced``) a content not found or ambiguous
    are ``ToolkitError``s naming file:line; nothing is returned half-done.
    """
    by_id = {a.id: a for a in articles}
    seen: dict[str, int] = {}
    documents, items, quotes = [], [], 0
    for lineno, line in iter_anchored(path):
        article = by_id.get(line.article_id)
        if article is None:
            raise ToolkitError(f"{path}:{lineno}: article {line.article_id!r} is not among the {len(by_id)} articles "
                               "given with --articles; give its text there or fix the id")
        if line.article_id in seen:
            raise ToolkitError(f"{path}:{lineno}: article {line.article_id!r} is already on line "
                               f"{seen[line.article_id]}; put all of an article's quotes on one line")
        seen[line.article_id] = lineno
        document, line_items = anchor_line(line, article, lineno, fuzzy=fuzzy, where=f"{path}:{lineno}")
        documents.append(document)
        items += line_items
        quotes += len(line.quotes)
    if not seen:
        raise ToolkitError(f"{path}: no lines; expected one JSON object per article ({FORMAT_DOC})")
    counts = {name: FieldCounts() for name in ("content", "cue", "speaker")}
    for item in items:
        counter = counts[item.field]
        setattr(counter, item.status, getattr(counter, item.status) + 1)
    report = AnchorReport(file=str(path), articles=len(documents), quotes=quotes,
                          written=sum(len(d.quotes) for d in documents), counts=counts, items=items)
    unplaced = report.unplaced()
    if unplaced and not skip_unplaced:
        first = unplaced[0]
        remedy = "fix the string" if first.status == "not_found" else 'add an "occurrence" or "context" hint'
        if first.nearest is not None and first.status == "not_found":
            remedy += f" (nearest: {short(first.nearest.text)}, score {first.nearest_score})"
        more = f" ({len(unplaced) - 1} more quotes not placed)" if len(unplaced) > 1 else ""
        # Every reason of a content ends "in the article"; the message names the article.
        reason = (first.reason or "was not placed").replace("the article", f"article {first.article_id}")
        raise ToolkitError(f"{path}:{first.line} quote {first.quote}: content {short(first.given[0])} {reason}; "
                           f"{remedy}, or pass --skip-unplaced{more}")
    return AnchoredImport(documents=documents, report=report)


def anchor_line(line: AnchoredLine, article: Article, lineno: int = 1, *, fuzzy: float | None = None,
                where: str | None = None) -> tuple[AnnotatedDocument, list[ItemReport]]:
    """One line's quotes placed in ``article``: the document of the placed quotes and a report item per field
    (``lineno`` goes into the items; ``where``, default ``line N``, begins an error)."""
    text = article.text
    paragraphs = [m.span() for m in _PARAGRAPH.finditer(text)] or [(0, len(text))]
    anchors = ArticleAnchors(text, sentence_spans(text), paragraphs)
    quoted: list[bool] | None = None
    items: list[ItemReport] = []
    entities: dict[str, Entity] = {}
    mentions: dict[tuple[int, int, str], Mention] = {}
    quotes: list[Quote] = []

    def item(n: int, field: Field_, given: list[str], placement: Placement) -> ItemReport:
        nearest = placement.nearest
        report = ItemReport(
            line=lineno, article_id=article.id, quote=n, field=field, status=placement.status, given=given,
            match=placement.how, spans=[Span.of(text, s, e) for s, e in placement.spans],
            occurrences=placement.occurrences, score=placement.score, reason=placement.reason,
            nearest=Span.of(text, nearest.start, nearest.end) if nearest is not None else None,
            nearest_score=nearest.score if nearest is not None else None)
        items.append(report)
        return report

    for n, q in enumerate(line.quotes, start=1):
        content = item(n, "content", q.content, anchors.content(q.content, occurrence=q.occurrence,
                                                                 context=q.context, fuzzy=fuzzy))
        if not content.spans:
            for field in ("cue", "speaker"):
                given = getattr(q, field)
                if given is not None:
                    item(n, field, [given], Placement("not_found", reason="was not searched: the content was not "
                                                                          "placed"))
            continue
        placed = tuple((s.start, s.end) for s in content.spans)
        cue = None
        if q.cue is not None:
            cue_item = item(n, "cue", [q.cue], anchors.near(q.cue, placed, []))
            cue = cue_item.spans[0] if cue_item.spans else None
        entity_id = mention_id = None
        name = q.speaker_name or q.speaker
        if name is not None:
            entity_id = _entity(entities, entity_name(name))
        if q.speaker is not None:
            avoid = [(cue.start, cue.end)] if cue is not None else []
            speaker_item = item(n, "speaker", [q.speaker], anchors.near(q.speaker, placed, avoid))
            if speaker_item.spans:
                span = speaker_item.spans[0]
                key = (span.start, span.end, entity_id)
                mention = mentions.setdefault(key, Mention(id=f"m{len(mentions) + 1}", span=span, entity_id=entity_id))
                mention_id = mention.id
        if q.kind is None and quoted is None:
            quoted = quoted_mask(text)
        kind = q.kind or kind_from_marks(content.spans, text, quoted)
        quotes.append(Quote(id=f"q{n}", kind=kind, content=content.spans, cue=cue, speaker_mention_id=mention_id,
                            speaker_entity_id=entity_id))
    annotator = line.model or DEFAULT_ANNOTATOR
    try:
        document = AnnotatedDocument(
            article=article, provenance=Provenance(annotator=annotator, origin="prediction", model_version=line.model),
            entities=list(entities.values()), mentions=list(mentions.values()), quotes=quotes)
    except ValidationError as e:
        raise ToolkitError(f"{where or f'line {lineno}'}: article {article.id}: {first_error(e)}") from None
    return document, items


def _entity(entities: dict[str, Entity], name: str) -> str:
    """The id of the entity named ``name`` (its slug), added on first use; the first name given keeps it."""
    entity_id = slugify(name)
    entities.setdefault(entity_id, Entity(id=entity_id, name=name, type=guess_entity_type(name)))
    return entity_id


def to_anchored(document: AnnotatedDocument) -> AnchoredLine:
    """A document's quotes as strings (the other direction): content fragments, cue, speaker words and name,
    kind, and an occurrence hint when the first fragment occurs more than once."""
    text = document.article.text
    matcher = Matcher(text)
    mentions = {m.id: m for m in document.mentions}
    names = {e.id: e.name for e in document.entities}
    quotes = []
    for q in document.quotes:
        places = matcher.find(q.content[0].text).places
        first = (q.content[0].start, q.content[0].end)
        occurrence = places.index(first) + 1 if len(places) > 1 and first in places else None
        mention = mentions.get(q.speaker_mention_id) if q.speaker_mention_id else None
        speaker_entity = document.speaker_of(q)
        quotes.append(AnchoredQuote(
            content=[c.text for c in q.content], cue=q.cue.text if q.cue else None,
            speaker=mention.span.text if mention else None,
            speaker_name=names.get(speaker_entity) if speaker_entity else None, kind=q.kind, occurrence=occurrence))
    return AnchoredLine(article_id=document.article.id, model=document.provenance.model_version, quotes=quotes)
