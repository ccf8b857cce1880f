"""The label models: articles, entities and mentions, quotes, stances, claims, text marked out of
scope, and one annotator's (or the gold) annotations of one article.

Everything that refers to something else by id is checked when an ``AnnotatedDocument`` is
built, and every span is checked against the article text, so a document that validates is
internally consistent. Errors name the offending item (``quote 'q3': ...``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from schemas.labels import CheckWorthy, EntityType, Polarity, QuoteKind
from schemas.spans import Span
from schemas.version import SCHEMA_VERSION

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$", max_length=200)]


def sha256_of(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``text``, as the seeds' manifest records it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entity_id_for(name: str) -> str:
    """The canonical entity id of a canonical name: a slug ("Vladimir Putin" -> "vladimir-putin").

    Annotators type names, not ids; deriving the id from the name is what makes entity links
    of different annotators comparable.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise ValueError(f"entity name {name!r} has no letters or digits to make an id from")
    return slug


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Article(_Model):
    """A news article; ``text`` is stored exactly, and all offsets refer to it."""

    id: Id
    title: str | None = None
    outlet: str | None = None
    published: date | None = None
    url: str | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")
    story: str | None = Field(default=None, description="Event the article reports; splits never divide a story.")
    text: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _hash_matches(self) -> Article:
        actual = sha256_of(self.text)
        if actual != self.sha256:
            raise ValueError(
                f"article {self.id!r}: sha256 {self.sha256[:12]}... does not match its text "
                f"({actual[:12]}...); the text changed or the hash is wrong"
            )
        return self

    @classmethod
    def from_text(cls, id: str, text: str, **metadata: object) -> Article:
        return cls(id=id, text=text, sha256=sha256_of(text), **metadata)


class Entity(_Model):
    """A canonical participant: every mention of Putin links to the one entity ``putin``."""

    id: Id
    name: str = Field(min_length=1)
    type: EntityType = EntityType.OTHER
    wikidata: str | None = Field(default=None, pattern=r"^Q[1-9][0-9]*$")


class Mention(_Model):
    """A span of text that refers to an entity ("Putin", "the Russian leader", "He")."""

    id: Id
    span: Span
    entity_id: Id
    supported_by: list[str] = Field(default_factory=list, description="Gold only: annotators who marked it.")


class Quote(_Model):
    """A reported statement: its content (one or more fragments), cue and speaker."""

    id: Id
    kind: QuoteKind
    content: list[Span] = Field(min_length=1, description="Fragments in text order, not overlapping.")
    cue: Span | None = None
    speaker_mention_id: Id | None = Field(default=None, description="None when no mention in the text.")
    speaker_entity_id: Id | None = Field(default=None, description="Who said it, even without a mention.")
    supported_by: list[str] = Field(default_factory=list)

    @field_validator("content")
    @classmethod
    def _fragments_ordered(cls, content: list[Span]) -> list[Span]:
        for before, after in zip(content, content[1:]):
            if after.start < before.end:
                raise ValueError(
                    f"content fragments [{before.start}, {before.end}) and [{after.start}, {after.end}) "
                    "overlap or are out of order: list them in text order without overlap"
                )
        return content


class Stance(_Model):
    """A holder's position toward a target of the dataset's target inventory."""

    id: Id
    holder_entity_id: Id
    target_id: Id
    polarity: Polarity
    evidence: list[Id] = Field(default_factory=list, description="Ids of quotes that show the stance.")
    supported_by: list[str] = Field(default_factory=list)


class Claim(_Model):
    """A factual statement, with who makes it and whether it is worth checking."""

    id: Id
    span: Span
    claimant_entity_id: Id | None = None
    check_worthy: CheckWorthy
    supported_by: list[str] = Field(default_factory=list)


class OutOfScope(_Model):
    """Text an annotator marked as outside the annotation's scope (a byline, an editor's note, a dateline), kept
    as the source marked it: not annotated there, on purpose.

    Only an importer sets it (BRAT's ``Discard``); nothing else reads it yet: the Label Studio encoder and
    decoder, the dataset rows and the comparison core leave it out, so a document that goes through them
    comes back without it.
    """

    id: Id = Field(description="The source's id for the marking (a BRAT T id).")
    label: str = Field(min_length=1, description="The source's label for it, e.g. 'Discard'.")
    spans: list[Span] = Field(min_length=1, description="Pieces in text order, not overlapping.")

    @field_validator("spans")
    @classmethod
    def _pieces_ordered(cls, spans: list[Span]) -> list[Span]:
        for before, after in zip(spans, spans[1:]):
            if after.start < before.end:
                raise ValueError(f"pieces [{before.start}, {before.end}) and [{after.start}, {after.end}) overlap or "
                                 "are out of order: list them in text order without overlap")
        return spans


class Provenance(_Model):
    """Where a set of annotations came from."""

    annotator: str = Field(min_length=1, description="Annotator name, model version, or 'gold'.")
    origin: Literal["label-studio", "prediction", "gold", "import"] = "label-studio"
    task_id: int | None = None
    annotation_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    lead_time: float | None = Field(default=None, ge=0, description="Seconds spent, as Label Studio records it.")
    ground_truth: bool = False
    model_version: str | None = None
    annotation_mode: Literal["blind", "shared"] | None = Field(
        default=None,
        description="How the annotators worked: 'blind' (each alone, seeing no one else's annotations), 'shared' "
                    "(one project where annotators could see each other's); None when not recorded.",
    )

    @model_serializer(mode="wrap")
    def _unrecorded_mode_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Added after documents were published: left out when unknown, so older files stay byte for byte the same.
        data = handler(self)
        if data.get("annotation_mode") is None:
            data.pop("annotation_mode", None)
        return data


class Target(_Model):
    id: Id
    description: str = Field(min_length=1)


class TargetInventory(_Model):
    """The stance targets of one dataset (one event), kept in the repository."""

    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    event: str
    targets: list[Target] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _unique(cls, targets: list[Target]) -> list[Target]:
        dupes = [t for t, n in Counter(t.id for t in targets).items() if n > 1]
        if dupes:
            raise ValueError(f"target id {dupes[0]!r} appears more than once")
        return targets

    def ids(self) -> list[str]:
        return [t.id for t in self.targets]


class AnnotatedDocument(_Model):
    """One annotator's (or the gold) annotations of one article.

    Validate with ``context={"targets": inventory}`` to also check stance targets.
    """

    schema_version: str = SCHEMA_VERSION
    article: Article
    provenance: Provenance
    entities: list[Entity] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    stances: list[Stance] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    out_of_scope: list[OutOfScope] = Field(
        default_factory=list, description="Text marked as outside the annotation's scope, in text order; "
                                          "left out of the JSON when empty.")

    @model_serializer(mode="wrap")
    def _empty_out_of_scope_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Added after documents were published: left out when empty, so older files stay byte for byte the same.
        data = handler(self)
        if not data.get("out_of_scope"):
            data.pop("out_of_scope", None)
        return data

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> AnnotatedDocument:
        text = self.article.text
        for kind, items in (("entity", self.entities), ("mention", self.mentions), ("quote", self.quotes),
                            ("stance", self.stances), ("claim", self.claims), ("out-of-scope", self.out_of_scope)):
            dupes = [i for i, n in Counter(item.id for item in items).items() if n > 1]
            if dupes:
                raise ValueError(f"{kind} id {dupes[0]!r} is used more than once")
        entities = {e.id for e in self.entities}
        mentions = {m.id: m for m in self.mentions}
        quotes = {q.id for q in self.quotes}

        for m in self.mentions:
            m.span.check_in(text, f"mention {m.id!r}")
            if m.entity_id not in entities:
                raise ValueError(f"mention {m.id!r}: entity {m.entity_id!r} does not exist")
        for q in self.quotes:
            for n, fragment in enumerate(q.content):
                fragment.check_in(text, f"quote {q.id!r} content fragment {n}")
            if q.cue is not None:
                q.cue.check_in(text, f"quote {q.id!r} cue")
            if q.speaker_mention_id is not None:
                mention = mentions.get(q.speaker_mention_id)
                if mention is None:
                    raise ValueError(f"quote {q.id!r}: speaker mention {q.speaker_mention_id!r} does not exist")
                if q.speaker_entity_id not in (None, mention.entity_id):
                    raise ValueError(
                        f"quote {q.id!r}: speaker entity {q.speaker_entity_id!r} differs from its "
                        f"speaker mention's entity {mention.entity_id!r}"
                    )
            if q.speaker_entity_id is not None and q.speaker_entity_id not in entities:
                raise ValueError(f"quote {q.id!r}: speaker entity {q.speaker_entity_id!r} does not exist")
        targets = (info.context or {}).get("targets")
        for s in self.stances:
            if s.holder_entity_id not in entities:
                raise ValueError(f"stance {s.id!r}: holder entity {s.holder_entity_id!r} does not exist")
            for quote_id in s.evidence:
                if quote_id not in quotes:
                    raise ValueError(f"stance {s.id!r}: evidence quote {quote_id!r} does not exist")
            if targets is not None and s.target_id not in targets.ids():
                raise ValueError(
                    f"stance {s.id!r}: target {s.target_id!r} is not in the target inventory "
                    f"(known: {', '.join(targets.ids())})"
                )
        for c in self.claims:
            c.span.check_in(text, f"claim {c.id!r}")
            if c.claimant_entity_id is not None and c.claimant_entity_id not in entities:
                raise ValueError(f"claim {c.id!r}: claimant entity {c.claimant_entity_id!r} does not exist")
        for o in self.out_of_scope:
            for n, piece in enumerate(o.spans):
                piece.check_in(text, f"out-of-scope {o.id!r} piece {n}")
        return self

    def speaker_of(self, quote: Quote) -> str | None:
        """The quote's speaker entity, through its mention when only that is given."""
        if quote.speaker_entity_id is not None:
            return quote.speaker_entity_id
        if quote.speaker_mention_id is not None:
            return next(m.entity_id for m in self.mentions if m.id == quote.speaker_mention_id)
        return None
