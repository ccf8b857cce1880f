"""AnnotatedDocument -> Label Studio result items, in the one canonical form both directions share.

The region and control names come from ``annotate.labelstudio.config``; its docstring says how the
label models map onto regions. This module fixes the one *canonical* form of that mapping,
which ``document_to_results`` writes and ``results_to_document`` reads back unchanged:

- Region ids are item ids. A mention's region is the mention id, a claim's the claim id, a
  quote's first content fragment (in text order) the quote id; later fragments are
  ``<quote id>.<n>`` (n = 1, 2, ...) chained by ``continues``, and the cue is ``<quote id>.cue``.
  Label Studio has one id namespace per annotation, so ids that clash there are an error.
  Region ids Label Studio made up that are not valid item ids are escaped (``ids.item_id_for``).
- Entities exist through their mentions. Without an entity list (``entities`` None), every Mention
  region carries its entity's name (``entity`` box), type and Wikidata id, and the entity id is
  ``schemas.entity_id_for(name)``. An entity with no mention survives only as a quote's speaker
  (``speaker_entity`` box on the quote's first fragment), with type ``other`` and no Wikidata id.
- With the task's entity list (a ``schemas.inventory.EntityInventory``), an entity the list has (by
  id) is picked: its Mention regions carry ``entity_id`` = the entity id (the list's entry gives
  name, type and Wikidata id), plus ``entity_type`` / ``wikidata`` only where the document's differ
  from the entry's; a speaker without a mention is picked with ``speaker_entity_id``. The document's
  name must be the entry's, and so must, for a speaker without a mention, type and Wikidata id. An
  entity the list lacks is typed as above, and its name must not be one the list knows (an alias
  would be read back as the listed entity).
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

from typing import Any

from annotate.labelstudio.config import (
    CHECK_WORTHY,
    CLAIM,
    CLAIMED_BY,
    CONTENT,
    CONTINUES,
    CUE,
    CUE_OF,
    ENTITY,
    ENTITY_CHOICE,
    ENTITY_TYPE,
    KIND,
    MENTION,
    SAID_BY,
    SPAN_LABELS,
    SPEAKER_CHOICE,
    SPEAKER_ENTITY,
    STANCE_POLARITY,
    STANCE_TARGET,
    TEXT,
    WIKIDATA,
)
from annotate.labelstudio.ids import Rejected, checked_entity_id
from annotate.labelstudio.wire import (
    ChoicesResult,
    ChoicesValue,
    LabelsResult,
    LabelsValue,
    RelationResult,
    ResultItem,
    TextAreaResult,
    TextAreaValue,
    to_json,
)
from schemas import AnnotatedDocument, Entity, EntityType, Mention, Quote, Span, Stance, ToolkitError
from schemas.inventory import EntityInventory, InventoryEntry


def _region(region_id: str, span: Span, label: str) -> LabelsResult:
    return LabelsResult(id=region_id, from_name=SPAN_LABELS, to_name=TEXT,
                        value=LabelsValue(start=span.start, end=span.end, text=span.text, labels=[label]))


def _choice(region_id: str, span: Span, control: str, value: str) -> ChoicesResult:
    return ChoicesResult(id=region_id, from_name=control, to_name=TEXT,
                         value=ChoicesValue(start=span.start, end=span.end, text=span.text, choices=[value]))


def _text_box(region_id: str, span: Span, control: str, value: str) -> TextAreaResult:
    # TextArea results carry the box content as a list of strings in value.text.
    return TextAreaResult(id=region_id, from_name=control, to_name=TEXT,
                          value=TextAreaValue(start=span.start, end=span.end, text=[value]))


def _relation(from_id: str, to_id: str, label: str) -> RelationResult:
    return RelationResult(from_id=from_id, to_id=to_id, direction="right", labels=[label])


def document_to_results(doc: AnnotatedDocument, entities: EntityInventory | None = None) -> list[dict[str, Any]]:
    """``document_to_items(doc, entities)`` as Label Studio JSON."""
    return [to_json(item) for item in document_to_items(doc, entities)]


def document_to_items(doc: AnnotatedDocument, entities: EntityInventory | None = None) -> list[ResultItem]:
    """The Label Studio result list for ``doc`` in the canonical form (module docstring).

    ``entities``: the entity list of the task the results are for; the entities it has are picked.
    Raises ``ToolkitError`` for what the labeling config cannot hold: a stance without evidence,
    or whose holder is not its evidence's speaker, a quote evidencing two stances, a claimant or
    typed entity without a mention, an entity nothing refers to, names that give one entity id,
    an entity that differs from its entry in the list, or item ids that clash as region ids.
    """
    listed = _listed(doc, entities)
    by_id = {e.id: e for e in doc.entities}
    by_slug: dict[str, str] = {}
    for e in doc.entities:
        if e.id in listed:
            continue
        if entities is not None and entities.find(e.name) is not None:
            raise ToolkitError(
                f"article {doc.article.id!r}: entity {e.id!r} is not in the entity list, but its name {e.name!r} is "
                f"the list's {entities.find(e.name).id!r}, so Label Studio would link it there; link it to that "
                "entity or rename it"
            )
        try:
            slug = checked_entity_id(e.name, f"entity {e.id!r}")
        except Rejected as err:
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
        if e.id in listed and e.id in speakers_without_mention:
            if e != listed[e.id].entity():
                raise ToolkitError(
                    f"entity {e.id!r}: differs from its entry in the entity list ({listed[e.id].shown()}, Wikidata "
                    f"{listed[e.id].wikidata}) and has no mention to say how; give it the list's type and Wikidata id"
                )
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

    results: list[ResultItem] = []
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
        entity = by_id[m.entity_id]
        rid = claim_region(m.id, f"mention {m.id!r}")
        results.append(_region(rid, m.span, MENTION))
        entry = listed.get(entity.id)
        if entry is None:
            results += [_text_box(rid, m.span, ENTITY, entity.name),
                        _choice(rid, m.span, ENTITY_TYPE, entity.type.value)]
        else:
            results.append(_choice(rid, m.span, ENTITY_CHOICE, entity.id))
            if entity.type is not entry.type:
                results.append(_choice(rid, m.span, ENTITY_TYPE, entity.type.value))
        if entity.wikidata and (entry is None or entity.wikidata != entry.wikidata):
            results.append(_text_box(rid, m.span, WIKIDATA, entity.wikidata))
    for q in sorted(doc.quotes, key=quote_order):
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
        elif q.speaker_entity_id in listed:
            results.append(_choice(first, head, SPEAKER_CHOICE, q.speaker_entity_id))
        elif q.speaker_entity_id is not None:
            results.append(_text_box(first, head, SPEAKER_ENTITY, by_id[q.speaker_entity_id].name))
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


def _listed(doc: AnnotatedDocument, entities: EntityInventory | None) -> dict[str, InventoryEntry]:
    """The document's entities that the list has (by id), each with its entry; checked to be picked as they are."""
    listed: dict[str, InventoryEntry] = {}
    for e in doc.entities:
        entry = entities.get(e.id) if entities is not None else None
        if entry is None:
            continue
        if e.name != entry.name or (e.wikidata is None and entry.wikidata is not None):
            raise ToolkitError(
                f"article {doc.article.id!r}: entity {e.id!r} ({_shown(e)}) differs from its entry in the entity list "
                f"({_shown(entry.entity())}), and a pick from the list carries the entry's name and Wikidata id; "
                "make the document's entity the list's (schemas.inventory.EntityInventory.canonical)"
            )
        listed[e.id] = entry
    return listed


def _shown(e: Entity) -> str:
    return f"{e.name!r}, {e.type.value}" + (f", {e.wikidata}" if e.wikidata else "")


def quote_order(q: Quote) -> tuple[int, int, str]:
    return q.content[0].start, q.content[0].end, q.id
