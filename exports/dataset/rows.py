"""The row codec of the published dataset: AnnotatedDocument -> the rows of each config, and gold rows back.

Encoding: ``article_row``, ``gold_rows`` (entities, mentions, quotes, stances, claims) and ``annotation_row``
(one annotator's whole document) give the rows whose columns ``exports.dataset.configs`` declares. Decoding:
``article_of``, ``gold_item`` and ``gold_document`` turn the rows of the gold configs back into one gold
``AnnotatedDocument`` per article (what ``annotate evaluate`` reads from a release); ``annotation_document``
turns an ``annotations`` row back into its annotator's document (how predictions over an archive are read
back). Class labels are stored as positions in the enums of ``schemas.labels`` and read back the same way.

Every span is checked against its article text once more on the way out (``text[start:end] == span.text``),
even though ``AnnotatedDocument`` validated it on the way in: a document built with ``model_construct`` or
changed after validation would otherwise reach the dataset unchecked.

Item ids are ``<article_id>/<local id>`` (``<article_id>`` alone for articles, ``<article_id>/<annotator>``
for annotations): model ids cannot contain ``/``, so the article part is always unambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import TypedDict

from pydantic import ValidationError

from schemas import (
    AnnotatedDocument,
    Article,
    CheckWorthy,
    Claim,
    Entity,
    EntityType,
    Mention,
    Polarity,
    Provenance,
    Quote,
    QuoteKind,
    Span,
    Stance,
    ToolkitError,
)
from schemas.errors import first_error

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


# -- decoding: the gold configs back into documents ---------------------------------------------------------

GOLD_LAYERS = tuple(_LOCAL_ID)  # the gold configs besides ``articles``, in the order a document lists them
GoldItem = Entity | Mention | Quote | Stance | Claim


def article_of(row: Mapping) -> Article:
    """The article of an ``articles`` row (validated: a text that does not match its sha256 is an error)."""
    return Article.model_validate(row)


def _span(value: dict | None) -> Span | None:
    return None if value is None else Span(**value)


def gold_item(config: str, row: Mapping) -> GoldItem:
    """One gold item from its row of ``config`` (one of ``GOLD_LAYERS``): the inverse of ``gold_rows``."""
    if config == "entities":
        return Entity(id=row["entity_id"], name=row["name"], type=list(EntityType)[row["type"]],
                      wikidata=row["wikidata"])
    if config == "mentions":
        return Mention(id=row["mention_id"], span=_span(row["span"]), entity_id=row["entity_id"],
                       supported_by=row["supported_by"] or [])
    if config == "quotes":
        return Quote(id=row["quote_id"], kind=list(QuoteKind)[row["kind"]], content=[Span(**s) for s in row["content"]],
                     cue=_span(row["cue"]), speaker_mention_id=row["speaker_mention_id"],
                     speaker_entity_id=row["speaker_entity_id"], supported_by=row["supported_by"] or [])
    if config == "stances":
        return Stance(id=row["stance_id"], holder_entity_id=row["holder_entity_id"], target_id=row["target_id"],
                      polarity=list(Polarity)[row["polarity"]], evidence=row["evidence"] or [],
                      supported_by=row["supported_by"] or [])
    return Claim(id=row["claim_id"], span=_span(row["span"]), claimant_entity_id=row["claimant_entity_id"],
                 check_worthy=list(CheckWorthy)[row["check_worthy"]], supported_by=row["supported_by"] or [])


def gold_document(article: Article, items: Mapping[str, Sequence[GoldItem]]) -> AnnotatedDocument:
    """The gold document of an article from its items per gold config (validated as any document)."""
    return AnnotatedDocument(article=article, provenance=Provenance(annotator="gold", origin="gold"), **items)


# -- decoding: an annotations row back into its document ----------------------------------------------------


def annotation_document(row: Mapping, article: Article, where: str) -> AnnotatedDocument:
    """One annotator's document from its ``annotations`` row and its article: the inverse of ``annotation_row``.

    Validated as any document, so every span is checked against the article (``text[start:end] == span.text``)
    on the way in. Not stored, so not restored: ``Provenance.annotation_mode``, ``out_of_scope``; and a quote
    whose speaker was given by its mention alone comes back with the mention's entity as well (the row stores
    the speaker entity through the mention).
    """
    if row["article_id"] != article.id:
        raise ToolkitError(f"{where}: annotation {row['id']!r} is of article {row['article_id']!r}, not of "
                           f"{article.id!r}; give each annotation row beside its own article")
    try:
        provenance = Provenance(
            annotator=row["annotator"], origin=row["origin"], task_id=row["task_id"],
            annotation_id=row["annotation_id"], created_at=row["created_at"], updated_at=row["updated_at"],
            lead_time=row["lead_time"], ground_truth=bool(row["ground_truth"]), model_version=row["model_version"],
        )
        items = {config: [gold_item(config, item) for item in row[config] or []] for config in GOLD_LAYERS}
        return AnnotatedDocument(schema_version=row["schema_version"], article=article, provenance=provenance,
                                 **items)
    except ValidationError as e:
        raise ToolkitError(f"{where}: annotation {row['id']!r}: {first_error(e)}") from None
