"""Label Studio result list -> checked regions and relation links (the first half of decoding).

Each result is validated against its wire model and the labeling config; regions get their
offsets checked (and repaired) against the article, per-region controls attach to their region,
relations are oriented as ``RELATION_ENDS`` says. What cannot be kept is rejected one item at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

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
from annotate.labelstudio.ids import Rejection, item_id_for
from annotate.labelstudio.repair import OffsetError, OffsetResolver, Repair
from annotate.labelstudio.wire import RESULT_MODELS, ChoicesResult, LabelsResult, RelationResult, TextAreaResult
from schemas import Article, Span, TargetInventory
from schemas.errors import first_error
from schemas.inventory import EntityInventory

LABELS = (CONTENT, CUE, MENTION, CLAIM)
# Relation label -> (label of its source region, label of its target region).
RELATION_ENDS = {SAID_BY: (CONTENT, MENTION), CUE_OF: (CUE, CONTENT), CONTINUES: (CONTENT, CONTENT),
                 CLAIMED_BY: (CLAIM, MENTION)}
# Per-region control -> (result type, the region label it belongs to).
CONTROLS = {
    KIND: ("choices", CONTENT), STANCE_TARGET: ("choices", CONTENT), STANCE_POLARITY: ("choices", CONTENT),
    SPEAKER_CHOICE: ("choices", CONTENT), SPEAKER_ENTITY: ("textarea", CONTENT), ENTITY_CHOICE: ("choices", MENTION),
    ENTITY: ("textarea", MENTION), ENTITY_TYPE: ("choices", MENTION), WIKIDATA: ("textarea", MENTION),
    CHECK_WORTHY: ("choices", CLAIM),
}


@dataclass
class Region:
    rid: str
    item_id: str
    label: str
    span: Span
    controls: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = self.span.text if len(self.span.text) <= 30 else self.span.text[:29] + "…"
        return f"{self.label} region {self.rid!r} {text!r} at [{self.span.start}, {self.span.end})"


@dataclass(frozen=True)
class Link:
    label: str
    source: str  # region ids, oriented as RELATION_ENDS says
    target: str


class RegionReader:
    """Reads a result list into regions (with their per-region controls) and relation links.

    Every item that cannot be kept is rejected on its own (``rejections``); repaired offsets and
    relations read the other way round are noted (``repairs``). ``decode`` builds the items on top.
    """

    def __init__(self, article: Article, targets: TargetInventory | None, entities: EntityInventory | None = None):
        self.article = article
        self.targets = targets
        self.entities = entities  # the task's entity list, which picked entity ids must be in
        self.resolver = OffsetResolver(article.text)
        self.repairs: list[Repair] = []
        self.rejections: list[Rejection] = []
        self.regions: dict[str, Region] = {}
        self.links: list[Link] = []

    def reject(self, region_id: str | None, message: str) -> None:
        self.rejections.append(Rejection(region_id=region_id, message=message))

    def note(self, region_id: str | None, reason: str) -> None:
        self.repairs.append(Repair(region_id=region_id, reason=reason))

    # -- parsing

    def _parse(self, results: list[Any]):
        labels: list[LabelsResult] = []
        controls: list[ChoicesResult | TextAreaResult] = []
        relations: list[RelationResult] = []
        for n, raw in enumerate(results):
            region_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            where = f"result #{n}" + (f" (region {region_id!r})" if region_id else "")
            if not isinstance(raw, dict):
                self.reject(None, f"{where}: is {type(raw).__name__}, not a JSON object")
                continue
            model = RESULT_MODELS.get(raw["type"]) if isinstance(raw.get("type"), str) else None
            if model is None:
                self.reject(region_id, f"{where}: type {raw.get('type')!r} is not one this labeling config makes "
                                       f"({', '.join(RESULT_MODELS)}); was the export made with another config?")
                continue
            try:
                item = model.model_validate(raw)
            except ValidationError as e:
                self.reject(region_id, f"{where}: {raw['type']} result is malformed: {first_error(e)}")
                continue
            if isinstance(item, RelationResult):
                relations.append(item)
            elif item.to_name != TEXT:
                self.reject(item.id, f"{where}: to_name {item.to_name!r} is not {TEXT!r}; was the export made "
                                     "with another labeling config?")
            elif isinstance(item, LabelsResult):
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

    def _build_regions(self, labels: list[LabelsResult]) -> None:
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
            item_id = item_id_for(rid)
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
            self.regions[rid] = Region(rid, item_id, value.labels[0], span)

    def _attach_controls(self, controls: list[ChoicesResult | TextAreaResult]) -> None:
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
            values = c.value.choices if isinstance(c, ChoicesResult) else [v.strip() for v in c.value.text]
            values = list(dict.fromkeys(v for v in values if v))
            if len(values) > 1:
                self.reject(c.id, f"{region}: {c.from_name} has several values ({', '.join(values)}); "
                                  "left out: keep one")
            elif values:
                region.controls[c.from_name] = values[0]
        for region in self.regions.values():  # drop the markers of duplicated controls
            region.controls = {k: v for k, v in region.controls.items() if v}

    def _resolve_relations(self, relations: list[RelationResult]) -> None:
        seen: set[Link] = set()
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
            link = Link(label, source.rid, target.rid)
            if label == CONTINUES:  # undirected: a chain of fragments
                link = Link(label, *sorted((source.rid, target.rid)))
            if link not in seen:
                seen.add(link)
                self.links.append(link)

    def _links(self, label: str) -> list[Link]:
        return [link for link in self.links if link.label == label]


def _shown(c: ChoicesResult | TextAreaResult) -> str:
    return ", ".join(c.value.choices if isinstance(c, ChoicesResult) else c.value.text)
