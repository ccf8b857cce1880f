"""Label Studio result JSON <-> ``AnnotatedDocument``, and whole JSON exports -> documents.

The region and control names come from ``schemas.labeling_config``; its docstring says how the
label models map onto regions. This module fixes the one *canonical* form of that mapping,
which ``document_to_results`` writes and ``results_to_document`` reads back unchanged:

- Region ids are item ids. A mention's region is the mention id, a claim's the claim id, a
  quote's first content fragment (in text order) the quote id; later fragments are
  ``<quote id>.<n>`` (n = 1, 2, ...) chained by ``continues``, and the cue is ``<quote id>.cue``.
  Label Studio has one id namespace per annotation, so ids that clash there are an error.
  Region ids Label Studio made up that are not valid item ids are escaped (``_item_id``).
- Entities exist through their mentions: every Mention region carries its entity's name
  (``entity`` box), type and Wikidata id, and the entity id is ``schemas.entity_id_for(name)``. An
  entity with no mention survives only as a quote's speaker (``speaker_entity`` box on the
  quote's first fragment), with type ``other`` and no Wikidata id.
- Quote kind is set on every fragment; ``said_by`` goes from the first fragment to the speaker
  mention, and then ``speaker_entity_id`` is None (the mention says who). Reading back, a
  per-quote value may sit on any fragment, and values on several fragments must agree.
- Stances live on their evidence quotes: the first fragment's ``stance_target`` and
  ``stance_polarity``. The holder is the quote's speaker, and there is one stance per
  (holder, target, polarity) with id ``stance_id_for(...)`` and every such quote as evidence.
- ``claimed_by`` goes from the claim to the claimant's first mention (in text order).
- Order: entities and stances by id; mentions and claims by (start, end, id); quotes by their
  first fragment; stance evidence in quote order; ``supported_by`` lists are empty.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from annotate.articles import first_error
from exports.repair import OffsetError, OffsetResolver, Repair
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
    TargetInventory,
    ToolkitError,
    entity_id_for,
    sha256_of,
)
from schemas.labeling_config import (
    CHECK_WORTHY,
    CLAIM,
    CLAIMED_BY,
    CONTENT,
    CONTINUES,
    CUE,
    CUE_OF,
    ENTITY,
    ENTITY_TYPE,
    KIND,
    MENTION,
    SAID_BY,
    SPAN_LABELS,
    SPEAKER_ENTITY,
    STANCE_POLARITY,
    STANCE_TARGET,
    TEXT,
    WIKIDATA,
)

LABELS = (CONTENT, CUE, MENTION, CLAIM)
# Relation label -> (label of its source region, label of its target region).
RELATION_ENDS = {SAID_BY: (CONTENT, MENTION), CUE_OF: (CUE, CONTENT), CONTINUES: (CONTENT, CONTENT),
                 CLAIMED_BY: (CLAIM, MENTION)}
# Per-region control -> (result type, the region label it belongs to).
CONTROLS = {
    KIND: ("choices", CONTENT), STANCE_TARGET: ("choices", CONTENT), STANCE_POLARITY: ("choices", CONTENT),
    SPEAKER_ENTITY: ("textarea", CONTENT), ENTITY: ("textarea", MENTION), ENTITY_TYPE: ("choices", MENTION),
    WIKIDATA: ("textarea", MENTION), CHECK_WORTHY: ("choices", CLAIM),
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")
_WIKIDATA = re.compile(r"^Q[1-9][0-9]*$")
# Article fields a task's data may carry besides text, article_id and sha256.
_ARTICLE_FIELDS = ("title", "outlet", "published", "url", "language", "story")


# ---------------------------------------------------------------- canonical ids


class _Rejected(Exception):
    """One item cannot be kept; caught where the item is built and turned into a ``Rejection``."""

    def __init__(self, region_id: str | None, message: str):
        super().__init__(message)
        self.region_id = region_id
        self.message = message


def _entity_id(name: str, where: object) -> str:
    """``schemas.entity_id_for(name)``, or ``_Rejected`` when the name makes no usable id."""
    try:
        entity_id = entity_id_for(name)
    except ValueError as e:
        raise _Rejected(None, f"{where}: {e}; type the canonical name in Latin letters") from None
    if len(entity_id) > 120:  # leaves room for stance ids (holder:target:polarity, at most 200)
        raise _Rejected(None, f"{where}: entity name {name[:40]!r}... is too long for an id; shorten it")
    return entity_id


def stance_id_for(holder_entity_id: str, target_id: str, polarity: Polarity) -> str:
    return f"{holder_entity_id}:{target_id}:{polarity.value}"


def _item_id(region_id: str) -> str:
    """Our item id for a Label Studio region id (Label Studio's own ids may start with ``-`` or ``_``).

    Valid ids stay as they are; others get other characters escaped as ``+<hex>`` and an ``r``
    in front. A clash with another region's id is caught where regions are read.
    """
    if _ID.match(region_id) and len(region_id) <= 200:
        return region_id
    escaped = re.sub(r"[^A-Za-z0-9._:@-]", lambda m: f"+{ord(m[0]):x}", region_id)
    return escaped if escaped[0].isalnum() else "r" + escaped


# ---------------------------------------------------------------- records


class Rejection(BaseModel):
    """Something from Label Studio that was left out of the document, and why (one line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region_id: str | None
    message: str
    task_id: int | None = None
    annotation_id: int | None = None


class ConversionOutcome(BaseModel):
    """One annotation converted: the document of everything that passed, plus what was changed or left out."""

    document: AnnotatedDocument
    repairs: list[Repair] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)


# ---------------------------------------------------------------- document -> results


def _region(region_id: str, span: Span, label: str) -> dict[str, Any]:
    return {"id": region_id, "from_name": SPAN_LABELS, "to_name": TEXT, "type": "labels",
            "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [label]}}


def _choice(region_id: str, span: Span, control: str, value: str) -> dict[str, Any]:
    return {"id": region_id, "from_name": control, "to_name": TEXT, "type": "choices",
            "value": {"start": span.start, "end": span.end, "text": span.text, "choices": [value]}}


def _text_box(region_id: str, span: Span, control: str, value: str) -> dict[str, Any]:
    # TextArea results carry the box content as a list of strings in value.text.
    return {"id": region_id, "from_name": control, "to_name": TEXT, "type": "textarea",
            "value": {"start": span.start, "end": span.end, "text": [value]}}


def _relation(from_id: str, to_id: str, label: str) -> dict[str, Any]:
    return {"from_id": from_id, "to_id": to_id, "type": "relation", "direction": "right", "labels": [label]}


def document_to_results(doc: AnnotatedDocument) -> list[dict[str, Any]]:
    """The Label Studio result list for ``doc`` in the canonical form (module docstring).

    Raises ``ToolkitError`` for what the labeling config cannot hold: a stance without evidence,
    or whose holder is not its evidence's speaker, a quote evidencing two stances, a claimant or
    typed entity without a mention, an entity nothing refers to, names that give one entity id,
    or item ids that clash as region ids.
    """
    entities = {e.id: e for e in doc.entities}
    by_slug: dict[str, str] = {}
    for e in doc.entities:
        try:
            slug = _entity_id(e.name, f"entity {e.id!r}")
        except _Rejected as err:
            raise ToolkitError(f"article {doc.article.id!r}: {err.message}") from None
        if slug in by_slug:
            raise ToolkitError(
                f"article {doc.article.id!r}: entities {by_slug[slug]!r} and {e.id!r} have names that give the "
                f"same id {slug!r}; Label Studio tells entities apart by name only: rename one"
            )
        by_slug[slug] = e.id
    mentions = sorted(doc.mentions, key=lambda m: (m.span.start, m.span.end, m.id))
    first_mention: dict[str, Mention] = {}
    for m in mentions:
        first_mention.setdefault(m.entity_id, m)
    speakers_without_mention = {q.speaker_entity_id for q in doc.quotes if q.speaker_mention_id is None}
    for e in doc.entities:
        if e.id in first_mention:
            continue
        if e.id not in speakers_without_mention:
            raise ToolkitError(
                f"entity {e.id!r}: no mention and no quote's speaker refers to it, so Label Studio has nowhere "
                "to keep it; add a mention of it or remove it"
            )
        if e.type is not EntityType.OTHER or e.wikidata is not None:
            raise ToolkitError(
                f"entity {e.id!r}: has a type or Wikidata id but no mention, and Label Studio keeps those on "
                "Mention regions; add a mention of it, or set type 'other' and no Wikidata id"
            )

    stance_of: dict[str, Stance] = {}
    for s in doc.stances:
        if not s.evidence:
            raise ToolkitError(
                f"stance {s.id!r}: has no evidence quote, and Label Studio keeps stances on quotes; "
                "add the quote that shows it or drop the stance"
            )
        for quote_id in s.evidence:
            quote = next(q for q in doc.quotes if q.id == quote_id)
            if doc.speaker_of(quote) != s.holder_entity_id:
                raise ToolkitError(
                    f"stance {s.id!r}: holder {s.holder_entity_id!r} is not the speaker of its evidence quote "
                    f"{quote_id!r} ({doc.speaker_of(quote)!r}); Label Studio takes the holder from the quote's speaker"
                )
            if quote_id in stance_of and stance_of[quote_id].id != s.id:
                raise ToolkitError(
                    f"quote {quote_id!r}: is evidence for stances {stance_of[quote_id].id!r} and {s.id!r}, but a "
                    "quote holds one stance target in Label Studio; split the evidence or drop one stance"
                )
            stance_of[quote_id] = s

    results: list[dict[str, Any]] = []
    regions: dict[str, str] = {}

    def claim_region(region_id: str, what: str) -> str:
        if region_id in regions:
            raise ToolkitError(
                f"article {doc.article.id!r}: {what} and {regions[region_id]} would both be region {region_id!r} "
                "in Label Studio, where regions share one id namespace; rename one"
            )
        regions[region_id] = what
        return region_id

    for m in mentions:
        entity = entities[m.entity_id]
        rid = claim_region(m.id, f"mention {m.id!r}")
        results += [_region(rid, m.span, MENTION), _text_box(rid, m.span, ENTITY, entity.name),
                    _choice(rid, m.span, ENTITY_TYPE, entity.type.value)]
        if entity.wikidata:
            results.append(_text_box(rid, m.span, WIKIDATA, entity.wikidata))
    for q in sorted(doc.quotes, key=_quote_order):
        ids = [claim_region(q.id if n == 0 else f"{q.id}.{n}", f"quote {q.id!r} fragment {n}")
               for n in range(len(q.content))]
        for rid, span in zip(ids, q.content):
            results += [_region(rid, span, CONTENT), _choice(rid, span, KIND, q.kind.value)]
        first, head = ids[0], q.content[0]
        if q.id in stance_of:
            stance = stance_of[q.id]
            results += [_choice(first, head, STANCE_TARGET, stance.target_id),
                        _choice(first, head, STANCE_POLARITY, stance.polarity.value)]
        if q.speaker_mention_id is not None:
            results.append(_relation(first, q.speaker_mention_id, SAID_BY))
        elif q.speaker_entity_id is not None:
            results.append(_text_box(first, head, SPEAKER_ENTITY, entities[q.speaker_entity_id].name))
        results += [_relation(a, b, CONTINUES) for a, b in zip(ids, ids[1:])]
        if q.cue is not None:
            cue = claim_region(f"{q.id}.cue", f"quote {q.id!r} cue")
            results += [_region(cue, q.cue, CUE), _relation(cue, first, CUE_OF)]
    for c in sorted(doc.claims, key=lambda c: (c.span.start, c.span.end, c.id)):
        rid = claim_region(c.id, f"claim {c.id!r}")
        results += [_region(rid, c.span, CLAIM), _choice(rid, c.span, CHECK_WORTHY, c.check_worthy.value)]
        if c.claimant_entity_id is not None:
            if c.claimant_entity_id not in first_mention:
                raise ToolkitError(
                    f"claim {c.id!r}: claimant {c.claimant_entity_id!r} has no mention, and Label Studio links "
                    "claims to mentions (claimed_by); add a mention of the claimant"
                )
            results.append(_relation(rid, first_mention[c.claimant_entity_id].id, CLAIMED_BY))
    return results


def _quote_order(q: Quote) -> tuple[int, int, str]:
    return q.content[0].start, q.content[0].end, q.id


# ---------------------------------------------------------------- results -> document: wire models


class _Wire(BaseModel):
    # Label Studio adds fields of its own (origin, score, readonly, ...): ignore what we do not read.
    model_config = ConfigDict(extra="ignore", strict=True)


class _LabelsValue(_Wire):
    start: int
    end: int
    text: str
    labels: list[str]


class _ChoicesValue(_Wire):
    choices: list[str]


class _TextAreaValue(_Wire):
    text: list[str]


class _LabelsResult(_Wire):
    type: Literal["labels"]
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    value: _LabelsValue


class _ChoicesResult(_Wire):
    type: Literal["choices"]
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    value: _ChoicesValue


class _TextAreaResult(_Wire):
    type: Literal["textarea"]
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    value: _TextAreaValue


class _RelationResult(_Wire):
    type: Literal["relation"]
    from_id: str
    to_id: str
    direction: Literal["left", "right", "bi"] = "right"
    labels: list[str] = Field(default_factory=list)


_RESULT_MODELS: dict[str, type[_Wire]] = {
    "labels": _LabelsResult, "choices": _ChoicesResult, "textarea": _TextAreaResult, "relation": _RelationResult,
}


# ---------------------------------------------------------------- results -> document: conversion


@dataclass
class _Region:
    rid: str
    item_id: str
    label: str
    span: Span
    controls: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = self.span.text if len(self.span.text) <= 30 else self.span.text[:29] + "…"
        return f"{self.label} region {self.rid!r} {text!r} at [{self.span.start}, {self.span.end})"


@dataclass(frozen=True)
class _Link:
    label: str
    source: str  # region ids, oriented as RELATION_ENDS says
    target: str


def results_to_document(
    article: Article,
    results: Sequence[Any],
    provenance: Provenance,
    *,
    targets: TargetInventory | None = None,
) -> ConversionOutcome:
    """The document that Label Studio ``results`` describe; what cannot be kept is rejected one item at a time.

    ``targets`` (optional) also rejects stances whose target is not in the inventory. Raises
    ``ToolkitError`` only when ``results`` is not a list.
    """
    if not isinstance(results, list):
        raise ToolkitError(f"article {article.id!r}: the result is {type(results).__name__}, not a list of regions")
    return _Converter(article, targets).convert(results, provenance)


class _Converter:
    def __init__(self, article: Article, targets: TargetInventory | None):
        self.article = article
        self.targets = targets
        self.resolver = OffsetResolver(article.text)
        self.repairs: list[Repair] = []
        self.rejections: list[Rejection] = []
        self.regions: dict[str, _Region] = {}
        self.links: list[_Link] = []
        self.quote_fragments: dict[str, list[_Region]] = {}  # quote head region id -> its fragments

    def reject(self, region_id: str | None, message: str) -> None:
        self.rejections.append(Rejection(region_id=region_id, message=message))

    def note(self, region_id: str | None, reason: str) -> None:
        self.repairs.append(Repair(region_id=region_id, reason=reason))

    def convert(self, results: list[Any], provenance: Provenance) -> ConversionOutcome:
        labels, controls, relations = self._parse(results)
        self._build_regions(labels)
        self._attach_controls(controls)
        self._resolve_relations(relations)
        entities, mentions = self._mentions()
        quotes = self._quotes(entities, mentions)
        stances = self._stances(quotes, mentions)
        claims = self._claims(mentions)
        try:
            document = AnnotatedDocument(
                article=self.article, provenance=provenance,
                entities=sorted(entities.values(), key=lambda e: e.id),
                mentions=sorted(mentions.values(), key=lambda m: (m.span.start, m.span.end, m.id)),
                quotes=sorted(quotes.values(), key=_quote_order),
                stances=sorted(stances, key=lambda s: s.id),
                claims=sorted(claims, key=lambda c: (c.span.start, c.span.end, c.id)),
            )
        except ValidationError as e:  # every check above should make this unreachable
            raise ToolkitError(
                f"article {self.article.id!r}: converted document is invalid: {first_error(e)}"
            ) from None
        return ConversionOutcome(document=document, repairs=self.repairs, rejections=self.rejections)

    # -- parsing

    def _parse(self, results: list[Any]):
        labels: list[_LabelsResult] = []
        controls: list[_ChoicesResult | _TextAreaResult] = []
        relations: list[_RelationResult] = []
        for n, raw in enumerate(results):
            region_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            where = f"result #{n}" + (f" (region {region_id!r})" if region_id else "")
            if not isinstance(raw, dict):
                self.reject(None, f"{where}: is {type(raw).__name__}, not a JSON object")
                continue
            model = _RESULT_MODELS.get(raw["type"]) if isinstance(raw.get("type"), str) else None
            if model is None:
                self.reject(region_id, f"{where}: type {raw.get('type')!r} is not one this labeling config makes "
                                       f"({', '.join(_RESULT_MODELS)}); was the export made with another config?")
                continue
            try:
                item = model.model_validate(raw)
            except ValidationError as e:
                self.reject(region_id, f"{where}: {raw['type']} result is malformed: {first_error(e)}")
                continue
            if isinstance(item, _RelationResult):
                relations.append(item)
            elif item.to_name != TEXT:
                self.reject(item.id, f"{where}: to_name {item.to_name!r} is not {TEXT!r}; was the export made "
                                     "with another labeling config?")
            elif isinstance(item, _LabelsResult):
                if item.from_name != SPAN_LABELS:
                    self.reject(item.id, f"{where}: labels from {item.from_name!r}, expected {SPAN_LABELS!r}; "
                                         "was the export made with another labeling config?")
                else:
                    labels.append(item)
            elif item.from_name not in CONTROLS or CONTROLS[item.from_name][0] != item.type:
                expected = [name for name, (kind, _) in CONTROLS.items() if kind == item.type]
                self.reject(item.id, f"{where}: {item.type} control {item.from_name!r} is not in the labeling "
                                     f"config (expected one of {', '.join(expected)})")
            else:
                controls.append(item)
        return labels, controls, relations

    def _build_regions(self, labels: list[_LabelsResult]) -> None:
        counts = Counter(item.id for item in labels)
        owner: dict[str, str] = {}  # item id -> the region that has it
        for item in labels:
            rid, value = item.id, item.value
            where = f"region {rid!r} [{value.start}, {value.end}) {value.text[:30]!r}"
            if counts[rid] > 1:
                if not any(r.region_id == rid for r in self.rejections):  # report once per id
                    self.reject(rid, f"{where}: region id {rid!r} is used by {counts[rid]} regions; all are left "
                                     "out: delete the duplicates in Label Studio")
                continue
            if len(value.labels) != 1 or value.labels[0] not in LABELS:
                got = ", ".join(value.labels) or "no label"
                self.reject(rid, f"{where}: has {got}; a region needs exactly one of {', '.join(LABELS)}")
                continue
            item_id = _item_id(rid)
            if len(item_id) > 200:
                self.reject(rid, f"{where}: region id is {len(rid)} characters long; ids are at most 200: redraw it")
                continue
            if item_id in owner:
                self.reject(rid, f"{where}: its id becomes {item_id!r}, like region {owner[item_id]!r}'s; left "
                                 "out: redraw one of the two regions")
                continue
            try:
                span, repair = self.resolver.locate(rid, value.start, value.end, value.text)
            except OffsetError as e:
                self.reject(rid, f"{value.labels[0]} {e}")
                continue
            if repair is not None:
                self.repairs.append(repair)
            owner[item_id] = rid
            self.regions[rid] = _Region(rid, item_id, value.labels[0], span)

    def _attach_controls(self, controls: list[_ChoicesResult | _TextAreaResult]) -> None:
        counts = Counter((c.id, c.from_name) for c in controls)
        for c in controls:
            region = self.regions.get(c.id)
            if region is None:
                if not any(r.region_id == c.id for r in self.rejections):
                    self.reject(c.id, f"{c.from_name} value for region {c.id!r}: no such region; delete the value")
                continue
            if counts[(c.id, c.from_name)] > 1:
                if c.from_name not in region.controls:
                    region.controls[c.from_name] = ""
                    self.reject(c.id, f"{region}: {counts[(c.id, c.from_name)]} {c.from_name} values; "
                                      "left all out: keep one in Label Studio")
                continue
            if CONTROLS[c.from_name][1] != region.label:
                self.reject(c.id, f"{region}: has a {c.from_name} value ({_shown(c)}), which belongs on "
                                  f"{CONTROLS[c.from_name][1]} regions; ignored: clear it or relabel the region")
                continue
            values = c.value.choices if isinstance(c, _ChoicesResult) else [v.strip() for v in c.value.text]
            values = list(dict.fromkeys(v for v in values if v))
            if len(values) > 1:
                self.reject(c.id, f"{region}: {c.from_name} has several values ({', '.join(values)}); "
                                  "left out: keep one")
            elif values:
                region.controls[c.from_name] = values[0]
        for region in self.regions.values():  # drop the markers of duplicated controls
            region.controls = {k: v for k, v in region.controls.items() if v}

    def _resolve_relations(self, relations: list[_RelationResult]) -> None:
        seen: set[_Link] = set()
        for r in relations:
            where = f"relation {'/'.join(r.labels) or '(no label)'} {r.from_id!r} -> {r.to_id!r}"
            if len(r.labels) != 1 or r.labels[0] not in RELATION_ENDS:
                self.reject(r.from_id, f"{where}: needs exactly one label of {', '.join(RELATION_ENDS)}; "
                                       "pick one in Label Studio's relation panel")
                continue
            label = r.labels[0]
            missing = [rid for rid in (r.from_id, r.to_id) if rid not in self.regions]
            if missing:
                rejected = {x.region_id for x in self.rejections}
                why = "was left out (see its rejection)" if missing[0] in rejected else "does not exist"
                self.reject(r.from_id, f"{where}: region {missing[0]!r} {why}; relation ignored")
                continue
            if r.from_id == r.to_id:
                self.reject(r.from_id, f"{where}: links a region to itself; delete it")
                continue
            a, b = self.regions[r.from_id], self.regions[r.to_id]
            want = RELATION_ENDS[label]
            drawn = (a, b) if r.direction != "left" else (b, a)
            if (drawn[0].label, drawn[1].label) == want:
                source, target = drawn
            elif (drawn[1].label, drawn[0].label) == want:
                source, target = drawn[1], drawn[0]
                if r.direction != "bi":  # a bidirectional relation has no "wrong way round"
                    self.note(source.rid, f"{where}: drawn from the {drawn[0].label} to the {drawn[1].label}; "
                                          f"read as {label} from {source.rid!r} to {target.rid!r}")
            else:
                self.reject(r.from_id, f"{where}: {label} links a {want[0]} region to a {want[1]} region, "
                                       f"not {a.label} and {b.label}; fix the label or the regions")
                continue
            link = _Link(label, source.rid, target.rid)
            if label == CONTINUES:  # undirected: a chain of fragments
                link = _Link(label, *sorted((source.rid, target.rid)))
            if link not in seen:
                seen.add(link)
                self.links.append(link)

    def _links(self, label: str) -> list[_Link]:
        return [link for link in self.links if link.label == label]

    # -- items

    def _mentions(self) -> tuple[dict[str, Entity], dict[str, Mention]]:
        entities: dict[str, Entity] = {}
        mentions: dict[str, Mention] = {}
        ordered = sorted((r for r in self.regions.values() if r.label == MENTION),
                         key=lambda r: (r.span.start, r.span.end, r.rid))
        for region in ordered:
            name = region.controls.get(ENTITY)
            if name is None:
                name = " ".join(region.span.text.split())
                if not name:
                    self.reject(region.rid, f"{region}: covers only whitespace and names no entity; delete it")
                    continue
                self.note(region.rid, f"{region}: entity box is empty; used the mention text {name!r} as the "
                                      "canonical name (fill the box to link it to the right entity)")
            try:
                entity_id = _entity_id(name, region)
            except _Rejected as e:
                self.reject(region.rid, e.message + " (mention left out)")
                continue
            entity = entities.get(entity_id) or Entity(id=entity_id, name=name)
            if name != entity.name:
                self.note(region.rid, f"{region}: entity name {name!r} and {entity.name!r} give the same id "
                                      f"{entity_id!r}; kept {entity.name!r}")
            entity = self._typed(region, entity)
            entities[entity_id] = entity
            mentions[region.rid] = Mention(id=region.item_id, span=region.span, entity_id=entity_id)
        return entities, mentions

    def _typed(self, region: _Region, entity: Entity) -> Entity:
        """``entity`` with the type and Wikidata id of this mention; the first mention that sets one wins."""
        update: dict[str, Any] = {}
        kind = region.controls.get(ENTITY_TYPE)
        if kind is not None:
            if kind not in {t.value for t in EntityType}:
                self.reject(region.rid, f"{region}: entity type {kind!r} is not one of "
                                        f"{', '.join(t.value for t in EntityType)}; ignored")
            elif "type" not in entity.model_fields_set:
                update["type"] = EntityType(kind)
            elif kind != entity.type.value:
                self.note(region.rid, f"{region}: entity type {kind!r} differs from {entity.type.value!r} set on an "
                                      f"earlier mention of {entity.id!r}; kept {entity.type.value!r}")
        qid = region.controls.get(WIKIDATA)
        if qid is not None:
            if not _WIKIDATA.match(qid):
                self.reject(region.rid, f"{region}: Wikidata id {qid!r} is not like Q7747; ignored: fix the box")
            elif entity.wikidata is None:
                update["wikidata"] = qid
            elif qid != entity.wikidata:
                self.note(region.rid, f"{region}: Wikidata id {qid!r} differs from {entity.wikidata!r} set on an "
                                      f"earlier mention of {entity.id!r}; kept {entity.wikidata!r}")
        if not update:
            return entity
        # model_validate (not model_copy) so the "type" field counts as set from here on.
        return Entity.model_validate({**entity.model_dump(exclude_unset=True), **update})

    def _agreed(self, regions: list[_Region], control: str) -> str | None:
        """The one value of a per-quote control over the quote's fragments (None when unset)."""
        values = {r.controls[control] for r in regions if control in r.controls}
        if len(values) > 1:
            raise _Rejected(regions[0].rid, f"{regions[0]}: its fragments disagree on {control} "
                                            f"({', '.join(sorted(values))}); set it once")
        return values.pop() if values else None

    def _fragment_groups(self) -> list[list[_Region]]:
        # Union-find over Content regions chained by "continues" (fragments of one quote).
        parent = {rid: rid for rid, r in self.regions.items() if r.label == CONTENT}

        def root(rid: str) -> str:
            while parent[rid] != rid:
                parent[rid] = parent[parent[rid]]
                rid = parent[rid]
            return rid

        for link in self._links(CONTINUES):
            parent[root(link.source)] = root(link.target)
        groups: dict[str, list[_Region]] = defaultdict(list)
        for rid in parent:
            groups[root(rid)].append(self.regions[rid])
        return [sorted(g, key=lambda r: (r.span.start, r.span.end, r.rid)) for g in groups.values()]

    def _quotes(self, entities: dict[str, Entity], mentions: dict[str, Mention]) -> dict[str, Quote]:
        said_by = defaultdict(set)
        for link in self._links(SAID_BY):
            said_by[link.source].add(link.target)
        cues = defaultdict(set)
        for link in self._links(CUE_OF):
            cues[link.target].add(link.source)
        quotes: dict[str, Quote] = {}
        for fragments in self._fragment_groups():
            head = fragments[0]
            try:
                quote = self._quote(fragments, entities, mentions, said_by, cues)
            except _Rejected as e:
                others = [r.rid for r in fragments[1:]]
                self.reject(e.region_id, e.message + (f" (quote left out with fragments {', '.join(others)})"
                                                      if others else " (quote left out)"))
                continue
            quotes[head.rid] = quote
            self.quote_fragments[head.rid] = fragments
        linked = {rid for q in self.quote_fragments.values() for r in q for rid in cues[r.rid]}
        for region in self.regions.values():
            if region.label == CUE and region.rid not in linked:
                targets = [link.target for link in self._links(CUE_OF) if link.source == region.rid]
                why = ("its quote was left out" if targets else
                       "no cue_of relation links it to a quote: draw cue_of from the cue to the quote's content")
                self.reject(region.rid, f"{region}: {why}")
        return quotes

    def _quote(self, fragments, entities, mentions, said_by, cues) -> Quote:
        head = fragments[0]
        for before, after in zip(fragments, fragments[1:]):
            if after.span.start < before.span.end:
                raise _Rejected(after.rid, f"{after}: overlaps fragment {before.rid!r} of the same quote "
                                           "(chained by continues); fragments must not overlap")
        kind = self._agreed(fragments, KIND)
        if kind is None:
            raise _Rejected(head.rid, f"{head}: no quote kind chosen; pick "
                                      f"{'/'.join(k.value for k in QuoteKind)} in the region panel")
        if kind not in {k.value for k in QuoteKind}:
            raise _Rejected(head.rid, f"{head}: quote kind {kind!r} is not one of "
                                      f"{', '.join(k.value for k in QuoteKind)}")
        cue_ids = sorted({c for r in fragments for c in cues[r.rid]}, key=lambda c: self.regions[c].span.start)
        cue = None
        if len(cue_ids) > 1:
            self.reject(head.rid, f"{head}: {len(cue_ids)} cues ({', '.join(cue_ids)}) point at this quote; a "
                                  "quote has at most one: delete the extra cue_of (quote kept without a cue)")
        elif cue_ids:
            cue = self.regions[cue_ids[0]].span
        speaker_mention = self._speaker_mention(fragments, mentions, said_by)
        speaker_entity = None
        try:
            name = self._agreed(fragments, SPEAKER_ENTITY)
        except _Rejected as e:
            self.reject(e.region_id, e.message + " (speaker box ignored)")
            name = None
        entity_id = None
        if name is not None:
            try:
                entity_id = _entity_id(name, f"{head}: speaker box")
            except _Rejected as e:
                self.reject(head.rid, e.message + " (speaker box ignored)")
        if entity_id is not None:
            if speaker_mention is not None:
                if mentions[speaker_mention].entity_id != entity_id:
                    self.reject(head.rid, f"{head}: speaker box says {name!r} but said_by links mention "
                                          f"{speaker_mention!r} of {mentions[speaker_mention].entity_id!r}; "
                                          "kept the mention: clear the box")
            else:
                entities.setdefault(entity_id, Entity(id=entity_id, name=name))
                speaker_entity = entity_id
        return Quote(
            id=head.item_id, kind=QuoteKind(kind), content=[r.span for r in fragments], cue=cue,
            speaker_mention_id=mentions[speaker_mention].id if speaker_mention else None,
            speaker_entity_id=speaker_entity,
        )

    def _speaker_mention(self, fragments, mentions, said_by) -> str | None:
        head = fragments[0]
        targets = sorted({m for r in fragments for m in said_by[r.rid]},
                         key=lambda rid: (self.regions[rid].span.start, rid))
        kept = [rid for rid in targets if rid in mentions]
        for rid in targets:
            if rid not in mentions:
                self.reject(head.rid, f"{head}: said_by links mention {rid!r}, which was left out; "
                                      "quote kept without that speaker")
        entities = {mentions[rid].entity_id for rid in kept}
        if len(entities) > 1:
            self.reject(head.rid, f"{head}: said_by links mentions of {len(entities)} entities "
                                  f"({', '.join(sorted(entities))}); quote kept without a speaker: keep one said_by")
            return None
        if len(kept) > 1:
            self.note(head.rid, f"{head}: said_by links {len(kept)} mentions of {mentions[kept[0]].entity_id!r}; "
                                f"kept the first, {kept[0]!r}")
        return kept[0] if kept else None

    def _stances(self, quotes: dict[str, Quote], mentions: dict[str, Mention]) -> list[Stance]:
        mention_entity = {m.id: m.entity_id for m in mentions.values()}
        evidence: dict[tuple[str, str, Polarity], list[str]] = defaultdict(list)
        for head_rid, quote in sorted(quotes.items(), key=lambda kv: _quote_order(kv[1])):
            fragments = self.quote_fragments[head_rid]
            head = fragments[0]
            try:
                target = self._agreed(fragments, STANCE_TARGET)
                polarity = self._agreed(fragments, STANCE_POLARITY)
                if target is None and polarity is None:
                    continue
                if target is None or polarity is None:
                    missing, given = (STANCE_TARGET, polarity) if target is None else (STANCE_POLARITY, target)
                    raise _Rejected(head.rid, f"{head}: stance has {given!r} but no {missing}; set both or neither")
                if polarity not in {p.value for p in Polarity}:
                    raise _Rejected(head.rid, f"{head}: stance polarity {polarity!r} is not one of "
                                              f"{', '.join(p.value for p in Polarity)}")
                if self.targets is not None and target not in self.targets.ids():
                    raise _Rejected(head.rid, f"{head}: stance target {target!r} is not in the target inventory "
                                              f"({', '.join(self.targets.ids())})")
                holder = quote.speaker_entity_id or mention_entity.get(quote.speaker_mention_id or "")
                if holder is None:
                    raise _Rejected(head.rid, f"{head}: has a stance but no speaker to hold it; link the "
                                              "speaker's mention with said_by or fill the speaker box")
                if not _ID.match(target) or len(stance_id_for(holder, target, Polarity(polarity))) > 200:
                    raise _Rejected(head.rid, f"{head}: stance target {target!r} is not a valid target id "
                                              "(letters, digits, '-', at most about 70 characters)")
            except _Rejected as e:
                self.reject(e.region_id, e.message + " (stance left out, quote kept)")
                continue
            evidence[(holder, target, Polarity(polarity))].append(quote.id)
        return [Stance(id=stance_id_for(*key), holder_entity_id=key[0], target_id=key[1], polarity=key[2],
                       evidence=quote_ids) for key, quote_ids in evidence.items()]

    def _claims(self, mentions: dict[str, Mention]) -> list[Claim]:
        claimed_by = defaultdict(set)
        for link in self._links(CLAIMED_BY):
            claimed_by[link.source].add(link.target)
        claims = []
        for region in self.regions.values():
            if region.label != CLAIM:
                continue
            worthy = region.controls.get(CHECK_WORTHY)
            if worthy not in {c.value for c in CheckWorthy}:
                why = "no check-worthiness chosen" if worthy is None else f"check-worthiness {worthy!r} is unknown"
                self.reject(region.rid, f"{region}: {why}; pick {'/'.join(c.value for c in CheckWorthy)} "
                                        "(claim left out)")
                continue
            for rid in sorted(claimed_by[region.rid] - set(mentions)):
                self.reject(region.rid, f"{region}: claimed_by links mention {rid!r}, which was left out")
            claimants = {mentions[rid].entity_id for rid in claimed_by[region.rid] if rid in mentions}
            claimant = None
            if len(claimants) > 1:
                self.reject(region.rid, f"{region}: claimed_by links mentions of {len(claimants)} entities "
                                        f"({', '.join(sorted(claimants))}); claim kept without a claimant")
            elif claimants:
                claimant = claimants.pop()
            claims.append(Claim(id=region.item_id, span=region.span, claimant_entity_id=claimant,
                                check_worthy=CheckWorthy(worthy)))
        return claims


def _shown(c: _ChoicesResult | _TextAreaResult) -> str:
    return ", ".join(c.value.choices if isinstance(c, _ChoicesResult) else c.value.text)


# ---------------------------------------------------------------- whole exports


class _ExportedUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    email: str | None = None


class _ExportedAnnotation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    # An int in the export endpoint's output; {id, email, ...} in snapshot exports that expand it.
    completed_by: StrictInt | _ExportedUser | None = None
    result: list[Any] = Field(default_factory=list)
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _ExportedTask(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    project: StrictInt | None = None
    data: dict[str, Any]
    annotations: list[Any] = Field(default_factory=list)
    predictions: list[Any] = Field(default_factory=list)
    drafts: list[Any] = Field(default_factory=list)


class SkippedCounts(BaseModel):
    cancelled: int = 0
    drafts: int = 0
    predictions: int = 0
    superseded: int = Field(default=0, description="Older annotations of an article by the same annotator.")
    tasks_without_annotations: int = 0


class ExportConversion(BaseModel):
    """A whole export converted: one document per article per annotator, and what happened on the way."""

    tasks: int
    annotations: int
    projects: list[int] = Field(default_factory=list, description="Project ids the tasks name.")
    documents: list[AnnotatedDocument]
    repairs: list[Repair] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    skipped: SkippedCounts = Field(default_factory=SkippedCounts)

    def annotators(self) -> list[str]:
        return sorted({d.provenance.annotator for d in self.documents})


def load_export(raw: bytes) -> list[Any]:
    """The task list of a Label Studio JSON export; ``ToolkitError`` with the position when it is not one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ToolkitError(f"export: not UTF-8 at byte {e.start}; give the JSON export file as Label Studio wrote it"
                           ) from None
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as e:
        # An unterminated string, or an error at the very end, means the text stopped mid-JSON.
        ends_early = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
        truncated = " (the file ends early: truncated download?)" if ends_early else ""
        raise ToolkitError(f"export: invalid JSON at line {e.lineno} column {e.colno} (char {e.pos}): {e.msg}"
                           f"{truncated}; download the export again") from None
    except (ValueError, RecursionError) as e:  # e.g. integers too long to parse, absurd nesting
        raise ToolkitError(f"export: cannot read the JSON ({e}); download the export again") from None
    if not isinstance(tasks, list):
        raise ToolkitError(f"export: top level is a JSON {type(tasks).__name__}, not a list of tasks; give a "
                           "Label Studio JSON export (format JSON, not JSON_MIN or CSV)")
    return tasks


def parse_export(
    raw: bytes,
    articles_by_id: Mapping[str, Article] | None = None,
    *,
    targets: TargetInventory | None = None,
) -> ExportConversion:
    """Convert a full Label Studio JSON export (tasks with data, annotations, predictions, drafts).

    One document per article per annotator (the annotator is ``completed_by``'s email when the
    export has it, else ``user-<id>``); when an annotator has several annotations of one article
    the latest (``updated_at``, then id) wins. Cancelled annotations, drafts and predictions are
    counted, not converted. A task's article is rebuilt from its data and checked against
    ``data.sha256`` (and against ``articles_by_id`` when given, whose metadata then wins); a task
    that fails is rejected as a whole. Raises ``ToolkitError`` only when ``raw`` is no task list.
    """
    tasks = load_export(raw)
    out = ExportConversion(tasks=len(tasks), annotations=0, documents=[])
    latest: dict[tuple[str, str], tuple[tuple, ConversionOutcome, int, int]] = {}
    for n, raw_task in enumerate(tasks):
        bad_string = _unpaired_surrogate(raw_task)
        if bad_string is not None:
            task_id = raw_task.get("id") if isinstance(raw_task, dict) else None
            out.rejections.append(Rejection(
                region_id=None, task_id=task_id if type(task_id) is int else None,
                message=f"task #{n}: {bad_string} holds an unpaired UTF-16 surrogate (a \\udXXX escape), which is "
                        "not text; fix it in Label Studio (task left out)"))
            continue
        try:
            task = _ExportedTask.model_validate(raw_task)
        except ValidationError as e:
            task_id = raw_task.get("id") if isinstance(raw_task, dict) else None
            out.rejections.append(Rejection(
                region_id=None, task_id=task_id if type(task_id) is int else None,
                message=f"task #{n}: not a Label Studio task ({first_error(e)}); task left out"))
            continue
        if task.project is not None and task.project not in out.projects:
            out.projects.append(task.project)
        out.skipped.drafts += len(task.drafts)
        out.skipped.predictions += len(task.predictions)
        if not task.annotations:
            out.skipped.tasks_without_annotations += 1
            continue
        try:
            article = _task_article(task, articles_by_id)
        except _Rejected as e:
            out.rejections.append(Rejection(region_id=None, task_id=task.id, message=e.message))
            continue
        for m, raw_annotation in enumerate(task.annotations):
            out.annotations += 1
            try:
                annotation = _ExportedAnnotation.model_validate(raw_annotation)
            except ValidationError as e:
                out.rejections.append(Rejection(
                    region_id=None, task_id=task.id,
                    message=f"task {task.id} annotation #{m}: malformed ({first_error(e)}); annotation left out"))
                continue
            if annotation.was_cancelled:
                out.skipped.cancelled += 1
                continue
            annotator = _annotator(annotation)
            provenance, notes = _provenance(task, annotation, annotator)
            try:
                outcome = results_to_document(article, annotation.result, provenance, targets=targets)
            except ToolkitError as e:
                out.rejections.append(Rejection(region_id=None, task_id=task.id, annotation_id=annotation.id,
                                                message=f"task {task.id} annotation {annotation.id}: {e}"))
                continue
            outcome.repairs[:0] = notes
            key = (article.id, annotator)
            rank = (annotation.updated_at or annotation.created_at or datetime.min, annotation.id)
            previous = latest.get(key)
            if previous is not None:
                out.skipped.superseded += 1
                candidates = [previous, (rank, outcome, task.id, annotation.id)]
                older, newer = sorted(candidates, key=lambda x: _sortable(x[0]))
                out.rejections.append(Rejection(
                    region_id=None, task_id=older[2], annotation_id=older[3],
                    message=f"article {article.id!r}, {annotator}: annotation {older[3]} (task {older[2]}) is "
                            f"superseded by the later annotation {newer[3]} (task {newer[2]}); kept the later one"))
                latest[key] = newer
            else:
                latest[key] = (rank, outcome, task.id, annotation.id)
    for _, outcome, task_id, annotation_id in latest.values():
        out.documents.append(outcome.document)
        out.repairs += [r.model_copy(update={"task_id": task_id, "annotation_id": annotation_id})
                        for r in outcome.repairs]
        out.rejections += [r.model_copy(update={"task_id": task_id, "annotation_id": annotation_id})
                           for r in outcome.rejections]
    out.documents.sort(key=lambda d: (d.article.id, d.provenance.annotator))
    return out


def _unpaired_surrogate(value: Any) -> str | None:
    """The path of the first string with a lone surrogate (JSON allows "\\ud800"; UTF-8 and pydantic do not)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return path or "the task"
        elif isinstance(v, dict):
            stack += [(f"{path}.{k}" if path else str(k), x) for k, x in v.items()]
            stack += [(f"{path} key", k) for k in v]
        elif isinstance(v, list):
            stack += [(f"{path}[{i}]", x) for i, x in enumerate(v)]
    return None


def _sortable(rank: tuple) -> tuple:
    # Aware and naive datetimes do not compare; Label Studio's are aware, datetime.min is not.
    moment, annotation_id = rank
    return (moment.timestamp() if moment.tzinfo else float("-inf"), annotation_id)


def _task_article(task: _ExportedTask, articles_by_id: Mapping[str, Article] | None) -> Article:
    data = task.data
    where = f"task {task.id}"
    text, article_id, sha = data.get("text"), data.get("article_id"), data.get("sha256")
    if not isinstance(text, str) or not isinstance(article_id, str):
        raise _Rejected(None, f"{where}: data needs text and article_id strings (has {', '.join(sorted(data))}); "
                              "import tasks with the toolkit's preloader")
    where = f"{where} (article {article_id!r})"
    actual = sha256_of(text)
    known = (articles_by_id or {}).get(article_id)
    if not isinstance(sha, str):
        if known is None:
            raise _Rejected(None, f"{where}: data has no sha256 to check the text against; re-import the task "
                                  "with the toolkit's preloader, or give the articles to check against")
        sha = known.sha256
    if sha != actual:
        raise _Rejected(None, f"{where}: data.sha256 {sha[:12]}... does not match the task text ({actual[:12]}...): "
                              "the text was changed in Label Studio, so offsets cannot be trusted; re-import the task")
    if known is not None:
        if known.sha256 != actual:
            raise _Rejected(None, f"{where}: the task text differs from the article given (sha256 {actual[:12]}... "
                                  f"vs {known.sha256[:12]}...); the article changed since import: re-import it")
        return known
    # The preloader writes missing metadata as "" (Label Studio shows None as "null").
    fields = {k: data[k] for k in _ARTICLE_FIELDS if data.get(k) not in (None, "")}
    try:
        return Article(id=article_id, text=text, sha256=actual, **fields)
    except ValidationError as e:
        raise _Rejected(None, f"{where}: data.{first_error(e)}; fix the task data") from None


def _annotator(annotation: _ExportedAnnotation) -> str:
    user = annotation.completed_by
    if isinstance(user, _ExportedUser):
        return user.email.strip() if user.email and user.email.strip() else f"user-{user.id}"
    if isinstance(user, int):
        return f"user-{user}"
    return f"annotation-{annotation.id}"  # no user recorded (deleted account): never merge two of them


def _provenance(
    task: _ExportedTask, annotation: _ExportedAnnotation, annotator: str
) -> tuple[Provenance, list[Repair]]:
    fields = dict(annotator=annotator, origin="label-studio", task_id=task.id, annotation_id=annotation.id,
                  created_at=annotation.created_at, updated_at=annotation.updated_at,
                  lead_time=annotation.lead_time, ground_truth=annotation.ground_truth)
    try:
        return Provenance(**fields), []
    except ValidationError as e:
        fields["lead_time"] = None
        note = Repair(region_id=None, reason=f"annotation {annotation.id}: lead_time {annotation.lead_time!r} "
                                             f"dropped ({first_error(e)})")
        return Provenance(**fields), [note]
