"""The published configs of the dataset: their columns, each with its ``datasets`` feature and description.

One declaration per config builds the Parquet schema, the dataset card's schema section and the release
manifest, so the three cannot drift apart. The rows themselves are made (and read back) by
``exports.dataset.rows``; class labels are positions in the enums of ``schemas.labels``, in declared order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from datasets import ClassLabel, Features, List, Value

from schemas.labels import CheckWorthy, EntityType, Polarity, QuoteKind
from schemas.statements import Fidelity

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

STATEMENTS = ConfigSpec("statements", "Gold statements: what one speaker said on one occasion, across outlets", {
    "id": Column(Value("string"), "item id: `<story>/<statement_id>` (`-` for a collection without stories)"),
    "story": Column(Value("string"), "the story (see `articles.story`)"),
    "statement_id": Column(Value("string"), "statement id, stable within its story"),
    "speaker_entity_id": Column(Value("string"), "who said it; the same entity id in every article of the story"),
    "gloss": Column(Value("string"), "a short summary of what was said"),
    "occasion": Column(Value("string"), "where and when, if the articles tell"),
    "renderings": Column(STRINGS, "its renderings: ids in the `renderings` config (`<article_id>/<quote_id>`)"),
    "supported_by": Column(STRINGS, "the annotators who formed exactly this statement (or `decision`)"),
})
RENDERINGS = ConfigSpec("renderings", "Gold renderings: each quote that renders a statement, and how faithfully", {
    "id": Column(Value("string"), "item id: `<article_id>/<quote_id>`, the quote in the `quotes` config"),
    "article_id": Column(Value("string"), "the article (see the `articles` config)"),
    "quote_id": Column(Value("string"), "quote id within the article"),
    "statement": Column(Value("string"), "the statement it renders: an id in the `statements` config"),
    "fidelity": Column(class_label(Fidelity), "verbatim, excerpt, variant or paraphrase, computed from the words"),
    "changes_meaning": Column(Value("bool"), "annotators' flag that the rendering changes what was said (null: "
                                             "not judged)"),
})

GOLD_CONFIGS = (ARTICLES, ENTITIES, MENTIONS, QUOTES, STANCES, CLAIMS)
STATEMENT_CONFIGS = (STATEMENTS, RENDERINGS)
CONFIGS: dict[str, ConfigSpec] = {spec.name: spec for spec in (*GOLD_CONFIGS, *STATEMENT_CONFIGS, ANNOTATIONS)}
