"""AnnotatedDocument -> the typed rows of each published config, and the ``datasets`` Features they follow.

One declaration per config (columns with their feature and description) builds the Parquet schema, the
dataset card's schema section and the release manifest, so the three cannot drift apart.

Every span is checked against its article text once more on the way out (``text[start:end] == span.text``),
even though ``AnnotatedDocument`` validated it on the way in: a document built with ``model_construct`` or
changed after validation would otherwise reach the dataset unchecked.

Item ids are ``<article_id>/<local id>`` (``<article_id>`` alone for articles, ``<article_id>/<annotator>``
for annotations): model ids cannot contain ``/``, so the article part is always unambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any, TypedDict

from datasets import ClassLabel, Features, List, Value

from schemas import AnnotatedDocument, Span, ToolkitError
from schemas.labels import CheckWorthy, EntityType, Polarity, QuoteKind

SPAN = {"start": Value("int32"), "end": Value("int32"), "text": Value("string")}
SPAN_DOC = "struct {start, end, text}: half-open [start, end) code points of the article text"
STRINGS = List(Value("string"))


def class_label(enum: type[StrEnum]) -> ClassLabel:
    """The closed label set in its declared order (schemas/labels.py fixes that order for the dataset)."""
    return ClassLabel(names=[member.value for member in enum])


@dataclass(frozen=True)
class Column:
    feature: Any
    description: str


@dataclass(frozen=True)
class ConfigSpec:
    """One config of the dataset: its columns, in order."""

    name: str
    description: str
    columns: dict[str, Column]

    @cached_property
    def features(self) -> Features:
        return Features({name: column.feature for name, column in self.columns.items()})


def _item_columns(local_id: str, local_doc: str, fields: dict[str, Column]) -> dict[str, Column]:
    return {
        "id": Column(Value("string"), f"item id: `<article_id>/<{local_id}>`, unique in this config"),
        "article_id": Column(Value("string"), "the article (see the `articles` config)"),
        local_id: Column(Value("string"), local_doc),
        **fields,
    }


SUPPORTED_BY = Column(STRINGS, "gold only: the annotators who marked this item")

ENTITY_FIELDS = {
    "name": Column(Value("string"), "canonical name"),
    "type": Column(class_label(EntityType), "entity type"),
    "wikidata": Column(Value("string"), "Wikidata id (Q...), if known"),
}
MENTION_FIELDS = {
    "span": Column(SPAN, SPAN_DOC),
    "entity_id": Column(Value("string"), "the entity it refers to"),
    "supported_by": SUPPORTED_BY,
}
QUOTE_FIELDS = {
    "kind": Column(class_label(QuoteKind), "direct, indirect or mixed"),
    "content": Column(List(SPAN), "content fragments in text order, each " + SPAN_DOC),
    "cue": Column(SPAN, "the cue ('said', 'warned'), or null; " + SPAN_DOC),
    "speaker_mention_id": Column(Value("string"), "the mention the quote is attributed to, or null"),
    "speaker_entity_id": Column(Value("string"), "the speaker entity (through the mention when only it is given)"),
    "supported_by": SUPPORTED_BY,
}
STANCE_FIELDS = {
    "holder_entity_id": Column(Value("string"), "who holds the stance"),
    "target_id": Column(Value("string"), "a target of the target inventory"),
    "polarity": Column(class_label(Polarity), "favor, against or neutral"),
    "evidence": Column(STRINGS, "quote ids (local to the article) that show the stance"),
    "supported_by": SUPPORTED_BY,
}
CLAIM_FIELDS = {
    "span": Column(SPAN, SPAN_DOC),
    "claimant_entity_id": Column(Value("string"), "who makes the claim, or null"),
    "check_worthy": Column(class_label(CheckWorthy), "whether the claim is worth fact-checking"),
    "supported_by": SUPPORTED_BY,
}


def _nested(local_id: str, fields: dict[str, Column]) -> List:
    return List({local_id: Value("string"), **{name: column.feature for name, column in fields.items()}})


ARTICLES = ConfigSpec("articles", "One row per article: the exact text all offsets refer to, and its metadata", {
    "id": Column(Value("string"), "article id"),
    "title": Column(Value("string"), "headline, if known"),
    "outlet": Column(Value("string"), "publisher, if known"),
    "published": Column(Value("date32"), "publication date, if known"),
    "url": Column(Value("string"), "source URL, if known"),
    "language": Column(Value("string"), "BCP 47 language tag"),
    "story": Column(Value("string"), "the event reported; splits never divide a story (null: its own story)"),
    "text": Column(Value("string"), "the article text, exactly as annotated"),
    "sha256": Column(Value("string"), "SHA-256 of the UTF-8 text"),
})
ENTITIES = ConfigSpec("entities", "Gold entities: canonical participants of each article",
                      _item_columns("entity_id", "canonical entity id (a slug, comparable across articles)",
                                    ENTITY_FIELDS))
MENTIONS = ConfigSpec("mentions", "Gold mentions: spans that refer to an entity (coreference)",
                      _item_columns("mention_id", "mention id within the article", MENTION_FIELDS))
QUOTES = ConfigSpec("quotes", "Gold quotes: content fragments, cue and speaker",
                    _item_columns("quote_id", "quote id within the article", QUOTE_FIELDS))
STANCES = ConfigSpec("stances", "Gold stances: a holder's polarity toward a target, with evidence quotes",
                     _item_columns("stance_id", "stance id within the article", STANCE_FIELDS))
CLAIMS = ConfigSpec("claims", "Gold claims: factual statements, claimant and check-worthiness",
                    _item_columns("claim_id", "claim id within the article", CLAIM_FIELDS))
ANNOTATIONS = ConfigSpec("annotations", "Raw per-annotator documents (before adjudication), one row each", {
    "id": Column(Value("string"), "item id: `<article_id>/<annotator>`"),
    "article_id": Column(Value("string"), "the article (see the `articles` config)"),
    "annotator": Column(Value("string"), "annotator name or model version"),
    "origin": Column(Value("string"), "label-studio, prediction or import"),
    "task_id": Column(Value("int64"), "Label Studio task id, if any"),
    "annotation_id": Column(Value("int64"), "Label Studio annotation id, if any"),
    "created_at": Column(Value("string"), "ISO 8601, as Label Studio recorded it"),
    "updated_at": Column(Value("string"), "ISO 8601, as Label Studio recorded it"),
    "lead_time": Column(Value("float64"), "seconds spent, as Label Studio recorded it"),
    "ground_truth": Column(Value("bool"), "marked as ground truth in Label Studio"),
    "model_version": Column(Value("string"), "model version of a prediction"),
    "schema_version": Column(Value("string"), "schema version of the document"),
    "entities": Column(_nested("entity_id", ENTITY_FIELDS), "entities, fields as in `entities`"),
    "mentions": Column(_nested("mention_id", MENTION_FIELDS), "mentions, fields as in `mentions`"),
    "quotes": Column(_nested("quote_id", QUOTE_FIELDS), "quotes, fields as in `quotes`"),
    "stances": Column(_nested("stance_id", STANCE_FIELDS), "stances, fields as in `stances`"),
    "claims": Column(_nested("claim_id", CLAIM_FIELDS), "claims, fields as in `claims`"),
})

GOLD_CONFIGS = (ARTICLES, ENTITIES, MENTIONS, QUOTES, STANCES, CLAIMS)
CONFIGS: dict[str, ConfigSpec] = {spec.name: spec for spec in (*GOLD_CONFIGS, ANNOTATIONS)}

_QUOTE_KIND = {k: i for i, k in enumerate(QuoteKind)}
_POLARITY = {p: i for i, p in enumerate(Polarity)}
_ENTITY_TYPE = {t: i for i, t in enumerate(EntityType)}
_CHECK_WORTHY = {c: i for i, c in enumerate(CheckWorthy)}


class SpanRow(TypedDict):
    start: int
    end: int
    text: str


class ArticleRow(TypedDict):
    id: str
    title: str | None
    outlet: str | None
    published: date | None
    url: str | None
    language: str
    story: str | None
    text: str
    sha256: str


class _SpanChecker:
    """Re-verifies each span against the article text; errors name the file/line and the item."""

    def __init__(self, doc: AnnotatedDocument, where: str) -> None:
        self.text = doc.article.text
        self.where = f"{where}: article {doc.article.id!r}"

    def __call__(self, span: Span, what: str) -> SpanRow:
        covered = self.text[span.start : span.end]
        if covered != span.text:  # also catches spans past the end: the slice comes back short
            raise ToolkitError(
                f"{self.where}: {what}: span [{span.start}, {span.end}) says {span.text!r} but the article has "
                f"{covered!r} there; fix the offsets in the input (nothing was published)"
            )
        return {"start": span.start, "end": span.end, "text": span.text}


def article_row(doc: AnnotatedDocument) -> ArticleRow:
    a = doc.article
    return {"id": a.id, "title": a.title, "outlet": a.outlet, "published": a.published, "url": a.url,
            "language": a.language, "story": a.story, "text": a.text, "sha256": a.sha256}


def _entities(doc: AnnotatedDocument) -> Iterator[dict]:
    for e in doc.entities:
        yield {"entity_id": e.id, "name": e.name, "type": _ENTITY_TYPE[e.type], "wikidata": e.wikidata}


def _mentions(doc: AnnotatedDocument, check: _SpanChecker) -> Iterator[dict]:
    for m in doc.mentions:
        yield {"mention_id": m.id, "span": check(m.span, f"mention {m.id!r}"), "entity_id": m.entity_id,
               "supported_by": list(m.supported_by)}


def _quotes(doc: AnnotatedDocument, check: _SpanChecker) -> Iterator[dict]:
    for q in doc.quotes:
        yield {
            "quote_id": q.id,
            "kind": _QUOTE_KIND[q.kind],
            "content": [check(f, f"quote {q.id!r} content fragment {n}") for n, f in enumerate(q.content)],
            "cue": None if q.cue is None else check(q.cue, f"quote {q.id!r} cue"),
            "speaker_mention_id": q.speaker_mention_id,
            "speaker_entity_id": doc.speaker_of(q),
            "supported_by": list(q.supported_by),
        }


def _stances(doc: AnnotatedDocument) -> Iterator[dict]:
    for s in doc.stances:
        yield {"stance_id": s.id, "holder_entity_id": s.holder_entity_id, "target_id": s.target_id,
               "polarity": _POLARITY[s.polarity], "evidence": list(s.evidence), "supported_by": list(s.supported_by)}


def _claims(doc: AnnotatedDocument, check: _SpanChecker) -> Iterator[dict]:
    for c in doc.claims:
        yield {"claim_id": c.id, "span": check(c.span, f"claim {c.id!r}"), "claimant_entity_id": c.claimant_entity_id,
               "check_worthy": _CHECK_WORTHY[c.check_worthy], "supported_by": list(c.supported_by)}


def _layers(doc: AnnotatedDocument, where: str) -> dict[str, list[dict]]:
    """The per-item fields of each layer, spans re-verified (a failure raises before anything is yielded)."""
    check = _SpanChecker(doc, where)
    return {
        "entities": list(_entities(doc)),
        "mentions": list(_mentions(doc, check)),
        "quotes": list(_quotes(doc, check)),
        "stances": list(_stances(doc)),
        "claims": list(_claims(doc, check)),
    }


_LOCAL_ID = {"entities": "entity_id", "mentions": "mention_id", "quotes": "quote_id", "stances": "stance_id",
             "claims": "claim_id"}


def gold_rows(doc: AnnotatedDocument, where: str) -> Iterator[tuple[str, dict]]:
    """``(config, row)`` for every gold item of the document (the article row is the caller's: it may be shared)."""
    article_id = doc.article.id
    for config, items in _layers(doc, where).items():
        local_id = _LOCAL_ID[config]
        for item in items:
            yield config, {"id": f"{article_id}/{item[local_id]}", "article_id": article_id, **item}


def annotation_row(doc: AnnotatedDocument, where: str) -> dict:
    """One annotator's whole document as one row of the ``annotations`` config."""
    p = doc.provenance
    return {
        "id": f"{doc.article.id}/{p.annotator}",
        "article_id": doc.article.id,
        "annotator": p.annotator,
        "origin": p.origin,
        "task_id": p.task_id,
        "annotation_id": p.annotation_id,
        "created_at": None if p.created_at is None else p.created_at.isoformat(),
        "updated_at": None if p.updated_at is None else p.updated_at.isoformat(),
        "lead_time": p.lead_time,
        "ground_truth": p.ground_truth,
        "model_version": p.model_version,
        "schema_version": doc.schema_version,
        **_layers(doc, where),
    }


def is_gold(doc: AnnotatedDocument) -> bool:
    return doc.provenance.annotator == "gold" or doc.provenance.origin == "gold"
