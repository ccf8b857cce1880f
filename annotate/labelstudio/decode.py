"""Label Studio result list -> ``AnnotatedDocument``: the items built on the regions ``regions`` read.

Reads the canonical form ``encode`` writes (its module docstring) back unchanged, and tolerates
what annotators draw by hand: each item that cannot be kept is rejected on its own, with why.
An entity picked from the task's entity list is that list's entry (an id the list lacks is rejected);
a typed name the list knows (by its name or an alias) links to that entry too, with a note.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

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
    SPEAKER_CHOICE,
    SPEAKER_ENTITY,
    STANCE_POLARITY,
    STANCE_TARGET,
    WIKIDATA,
)
from annotate.labelstudio.encode import quote_order
from annotate.labelstudio.ids import ID, Rejected, Rejection, checked_entity_id, listed_entity, stance_id_for
from annotate.labelstudio.regions import Region, RegionReader
from annotate.labelstudio.repair import Repair
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
    Stance,
    TargetInventory,
    ToolkitError,
)
from schemas.errors import first_error
from schemas.inventory import EntityInventory, InventoryEntry

_WIKIDATA = re.compile(r"^Q[1-9][0-9]*$")


class ConversionOutcome(BaseModel):
    """One annotation converted: the document of everything that passed, plus what was changed or left out."""

    document: AnnotatedDocument
    repairs: list[Repair] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)


def results_to_document(
    article: Article,
    results: Sequence[Any],
    provenance: Provenance,
    *,
    targets: TargetInventory | None = None,
    entities: EntityInventory | None = None,
) -> ConversionOutcome:
    """The document that Label Studio ``results`` describe; what cannot be kept is rejected one item at a time.

    ``targets`` (optional) also rejects stances whose target is not in the inventory. ``entities`` is the
    task's entity list (``entities.task_inventory``): picked entities must be in it. Raises
    ``ToolkitError`` only when ``results`` is not a list.
    """
    if not isinstance(results, list):
        raise ToolkitError(f"article {article.id!r}: the result is {type(results).__name__}, not a list of regions")
    return _Converter(article, targets, entities).convert(results, provenance)


class _Converter(RegionReader):
    def __init__(self, article: Article, targets: TargetInventory | None, entities: EntityInventory | None):
        super().__init__(article, targets, entities)
        self.quote_fragments: dict[str, list[Region]] = {}  # quote head region id -> its fragments
        # Entity ids whose type / Wikidata id a mention has set (the first one that does wins over the list's).
        self.typed: set[str] = set()
        self.identified: set[str] = set()

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
                quotes=sorted(quotes.values(), key=quote_order),
                stances=sorted(stances, key=lambda s: s.id),
                claims=sorted(claims, key=lambda c: (c.span.start, c.span.end, c.id)),
            )
        except ValidationError as e:  # every check above should make this unreachable
            raise ToolkitError(
                f"article {self.article.id!r}: converted document is invalid: {first_error(e)}"
            ) from None
        return ConversionOutcome(document=document, repairs=self.repairs, rejections=self.rejections)

    def _mentions(self) -> tuple[dict[str, Entity], dict[str, Mention]]:
        entities: dict[str, Entity] = {}
        mentions: dict[str, Mention] = {}
        ordered = sorted((r for r in self.regions.values() if r.label == MENTION),
                         key=lambda r: (r.span.start, r.span.end, r.rid))
        for region in ordered:
            if region.controls.get(ENTITY) is None and region.controls.get(ENTITY_CHOICE) is None \
                    and not region.span.text.split():
                self.reject(region.rid, f"{region}: covers only whitespace and names no entity; delete it")
                continue
            try:
                entity = self._mention_entity(region, entities)
            except Rejected as e:
                self.reject(region.rid, e.message + " (mention left out)")
                continue
            entity = self._typed(region, entity)
            entities[entity.id] = entity
            mentions[region.rid] = Mention(id=region.item_id, span=region.span, entity_id=entity.id)
        return entities, mentions

    def _mention_entity(self, region: Region, entities: dict[str, Entity]) -> Entity:
        """The entity a mention links to: picked from the list, else typed in the box, else its own text."""
        picked, name = region.controls.get(ENTITY_CHOICE), region.controls.get(ENTITY)
        if picked is not None:
            entry = listed_entity(self.entities, picked, region)
            self._one_of(region, entry, name, "entity")
            return entities.get(entry.id) or entry.entity()
        if name is None:
            name = " ".join(region.span.text.split())
            self.note(region.rid, f"{region}: entity box is empty; used the mention text {name!r} as the "
                                  "canonical name (pick the entity from the list, or fill the box)")
        entity_id = checked_entity_id(name, region)
        entry = self._listed_as(region.rid, region, name)
        if entry is not None:
            return entities.get(entry.id) or entry.entity()
        entity = entities.get(entity_id) or Entity(id=entity_id, name=name)
        if name != entity.name:
            self.note(region.rid, f"{region}: entity name {name!r} and {entity.name!r} give the same id "
                                  f"{entity_id!r}; kept {entity.name!r}")
        return entity

    def _listed_as(self, rid: str, where: object, name: str) -> InventoryEntry | None:
        """The list's entry a typed name finds (by name or alias), noted when the name is not its own."""
        entry = self.entities.find(name) if self.entities is not None else None
        if entry is not None and name != entry.name:
            self.note(rid, f"{where}: the name {name!r} is the entity list's {entry.name!r} ({entry.id}); linked "
                           "to it (pick it from the list)")
        return entry

    def _one_of(self, where: object, entry: InventoryEntry, name: str | None, what: str) -> None:
        """A pick and a typed name together must mean the same entity."""
        typed = self.entities.find(name) if name is not None and self.entities is not None else None
        if name is not None and (typed is None or typed.id != entry.id):
            raise Rejected(None, f"{where}: {what} {entry.name!r} is picked from the list and {name!r} typed as a new "
                                 "one; keep one of the two")

    def _typed(self, region: Region, entity: Entity) -> Entity:
        """``entity`` with the type and Wikidata id of this mention; the first mention that sets one wins."""
        update: dict[str, Any] = {}
        kind = region.controls.get(ENTITY_TYPE)
        if kind is not None:
            if kind not in {t.value for t in EntityType}:
                self.reject(region.rid, f"{region}: entity type {kind!r} is not one of "
                                        f"{', '.join(t.value for t in EntityType)}; ignored")
            elif entity.id not in self.typed:
                update["type"] = EntityType(kind)
                self.typed.add(entity.id)
            elif kind != entity.type.value:
                self.note(region.rid, f"{region}: entity type {kind!r} differs from {entity.type.value!r} set on an "
                                      f"earlier mention of {entity.id!r}; kept {entity.type.value!r}")
        qid = region.controls.get(WIKIDATA)
        if qid is not None:
            if not _WIKIDATA.match(qid):
                self.reject(region.rid, f"{region}: Wikidata id {qid!r} is not like Q7747; ignored: fix the box")
            elif entity.id not in self.identified:
                update["wikidata"] = qid
                self.identified.add(entity.id)
            elif qid != entity.wikidata:
                self.note(region.rid, f"{region}: Wikidata id {qid!r} differs from {entity.wikidata!r} set on an "
                                      f"earlier mention of {entity.id!r}; kept {entity.wikidata!r}")
        return entity.model_copy(update=update) if update else entity

    def _agreed(self, regions: list[Region], control: str) -> str | None:
        """The one value of a per-quote control over the quote's fragments (None when unset)."""
        values = {r.controls[control] for r in regions if control in r.controls}
        if len(values) > 1:
            raise Rejected(regions[0].rid, f"{regions[0]}: its fragments disagree on {control} "
                                            f"({', '.join(sorted(values))}); set it once")
        return values.pop() if values else None

    def _fragment_groups(self) -> list[list[Region]]:
        # Union-find over Content regions chained by "continues" (fragments of one quote).
        parent = {rid: rid for rid, r in self.regions.items() if r.label == CONTENT}

        def root(rid: str) -> str:
            while parent[rid] != rid:
                parent[rid] = parent[parent[rid]]
                rid = parent[rid]
            return rid

        for link in self._links(CONTINUES):
            parent[root(link.source)] = root(link.target)
        groups: dict[str, list[Region]] = defaultdict(list)
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
            except Rejected as e:
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
                raise Rejected(after.rid, f"{after}: overlaps fragment {before.rid!r} of the same quote "
                                           "(chained by continues); fragments must not overlap")
        kind = self._agreed(fragments, KIND)
        if kind is None:
            raise Rejected(head.rid, f"{head}: no quote kind chosen; pick "
                                      f"{'/'.join(k.value for k in QuoteKind)} in the region panel")
        if kind not in {k.value for k in QuoteKind}:
            raise Rejected(head.rid, f"{head}: quote kind {kind!r} is not one of "
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
            found = self._speaker(fragments, entities)
        except Rejected as e:
            self.reject(e.region_id or head.rid, e.message)
            found = None
        if found is not None:
            speaker, how = found
            if speaker_mention is not None:
                if mentions[speaker_mention].entity_id != speaker.id:
                    self.reject(head.rid, f"{head}: speaker {how} says {speaker.name!r} but said_by links mention "
                                          f"{speaker_mention!r} of {mentions[speaker_mention].entity_id!r}; "
                                          f"kept the mention: clear the {how}")
            else:
                entities.setdefault(speaker.id, speaker)
                speaker_entity = speaker.id
        return Quote(
            id=head.item_id, kind=QuoteKind(kind), content=[r.span for r in fragments], cue=cue,
            speaker_mention_id=mentions[speaker_mention].id if speaker_mention else None,
            speaker_entity_id=speaker_entity,
        )

    def _speaker(self, fragments: list[Region], entities: dict[str, Entity]) -> tuple[Entity, str] | None:
        """The speaker a quote names without a mention, and how ("pick" from the list, or speaker "box")."""
        head = fragments[0]
        try:
            picked = self._agreed(fragments, SPEAKER_CHOICE)
        except Rejected as e:
            raise Rejected(e.region_id, e.message + " (speaker pick ignored)") from None
        try:
            name = self._agreed(fragments, SPEAKER_ENTITY)
        except Rejected as e:
            raise Rejected(e.region_id, e.message + " (speaker box ignored)") from None
        if picked is not None:
            try:
                entry = listed_entity(self.entities, picked, f"{head}: speaker")
                self._one_of(f"{head}: speaker", entry, name, "speaker")
            except Rejected as e:
                raise Rejected(head.rid, e.message + " (speaker pick ignored)") from None
            return entities.get(entry.id) or entry.entity(), "pick"
        if name is None:
            return None
        try:
            entity_id = checked_entity_id(name, f"{head}: speaker box")
        except Rejected as e:
            raise Rejected(head.rid, e.message + " (speaker box ignored)") from None
        entry = self._listed_as(head.rid, f"{head}: speaker box", name)
        if entry is not None:
            return entities.get(entry.id) or entry.entity(), "box"
        return entities.get(entity_id) or Entity(id=entity_id, name=name), "box"

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
        for head_rid, quote in sorted(quotes.items(), key=lambda kv: quote_order(kv[1])):
            fragments = self.quote_fragments[head_rid]
            head = fragments[0]
            try:
                target = self._agreed(fragments, STANCE_TARGET)
                polarity = self._agreed(fragments, STANCE_POLARITY)
                if target is None and polarity is None:
                    continue
                if target is None or polarity is None:
                    missing, given = (STANCE_TARGET, polarity) if target is None else (STANCE_POLARITY, target)
                    raise Rejected(head.rid, f"{head}: stance has {given!r} but no {missing}; set both or neither")
                if polarity not in {p.value for p in Polarity}:
                    raise Rejected(head.rid, f"{head}: stance polarity {polarity!r} is not one of "
                                              f"{', '.join(p.value for p in Polarity)}")
                if self.targets is not None and target not in self.targets.ids():
                    raise Rejected(head.rid, f"{head}: stance target {target!r} is not in the target inventory "
                                              f"({', '.join(self.targets.ids())})")
                holder = quote.speaker_entity_id or mention_entity.get(quote.speaker_mention_id or "")
                if holder is None:
                    raise Rejected(head.rid, f"{head}: has a stance but no speaker to hold it; link the "
                                              "speaker's mention with said_by or fill the speaker box")
                if not ID.match(target) or len(stance_id_for(holder, target, Polarity(polarity))) > 200:
                    raise Rejected(head.rid, f"{head}: stance target {target!r} is not a valid target id "
                                              "(letters, digits, '-', at most about 70 characters)")
            except Rejected as e:
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
