"""A story's entity inventory: the participants annotators pick from, one entry each, with a stable id.

Every article of a story links a participant to the same entry id, whatever the article calls them.
Names are matched by their slug (``schemas.entity_id_for``), over each entry's id, canonical name and
aliases: with "Volodymyr Zelensky" an alias of the entry "Volodymyr Zelenskyy", both spellings find the
one entry. No slug may find two entries; that is checked when an inventory is built.

An inventory file (``seeds/entities.json``) holds one inventory; ``read_inventory`` and
``write_inventory`` are its one reader and writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from schemas.files import read_model, write_atomically
from schemas.labels import EntityType
from schemas.models import AnnotatedDocument, Entity, Id, entity_id_for
from schemas.paths import SEEDS_DIR

SEED_ENTITIES = SEEDS_DIR / "entities.json"


def name_key(name: str) -> str | None:
    """The slug a name is matched by (None for a name without letters or digits, which matches nothing)."""
    try:
        return entity_id_for(name)
    except ValueError:
        return None


class InventoryEntry(BaseModel):
    """One participant: its id (what every mention of it links to), canonical name, type, and other names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    name: str = Field(min_length=1)
    type: EntityType = EntityType.OTHER
    wikidata: str | None = Field(default=None, pattern=r"^Q[1-9][0-9]*$")
    aliases: list[str] = Field(default_factory=list, description="Other names or spellings ('Putin', 'Zelensky').")

    def entity(self) -> Entity:
        return Entity(id=self.id, name=self.name, type=self.type, wikidata=self.wikidata)

    def keys(self) -> list[str]:
        """The slugs that find this entry: its id's, its name's and its aliases'."""
        found = [name_key(n) for n in (self.id, self.name, *self.aliases)]
        return list(dict.fromkeys(k for k in found if k))

    def shown(self) -> str:
        """How a picker shows it: "Vladimir Putin (person)"."""
        return f"{self.name} ({self.type.value})"


class EntityInventory(BaseModel):
    """The entities of one story (``story`` None: of any story). Build a new one to change it (``extended``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(default="1.0.0", pattern=r"^\d+\.\d+\.\d+$")
    story: str | None = Field(default=None, description="The story it belongs to; None: it serves every story.")
    entities: list[InventoryEntry] = Field(default_factory=list)
    _by_key: dict[str, InventoryEntry] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, InventoryEntry] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _one_entry_per_name(self) -> EntityInventory:
        by_key: dict[str, InventoryEntry] = {}
        ids: set[str] = set()
        for entry in self.entities:
            if entry.id in ids:
                raise ValueError(f"entity id {entry.id!r} is listed more than once")
            ids.add(entry.id)
            if name_key(entry.name) is None:
                raise ValueError(f"entity {entry.id!r}: name {entry.name!r} has no letters or digits; "
                                 "give the canonical name in Latin letters")
            for key in entry.keys():
                other = by_key.setdefault(key, entry)
                if other.id != entry.id:
                    raise ValueError(f"entities {other.id!r} and {entry.id!r} are both found by the name {key!r}; "
                                     "a name (or alias) belongs to one entity: remove it from one of them")
        self._by_key = by_key
        self._by_id = {e.id: e for e in self.entities}
        return self

    def get(self, entity_id: str) -> InventoryEntry | None:
        """The entry with exactly this id."""
        return self._by_id.get(entity_id)

    def find(self, name: str) -> InventoryEntry | None:
        """The entry a name (or id) finds by its slug, if any."""
        key = name_key(name)
        return self._by_key.get(key) if key else None

    def resolve(self, entity: Entity) -> InventoryEntry | None:
        """The entry an entity of a document is: found by its id, else by its name."""
        return self.find(entity.id) or self.find(entity.name)

    def extended(self, entities: Iterable[Entity | InventoryEntry], *, aliases: bool = False) -> EntityInventory:
        """This inventory with what it does not know yet added as entries (in order, ids kept).

        An entity or entry it knows (by id or name) keeps the known entry's id, name, type and Wikidata id.
        The names of a known entry given, and with ``aliases`` the name of a known entity (use for gold,
        not for guesses), become aliases of the known entry, unless they already find an entry.
        """
        entries = {e.id: e for e in self.entities}
        by_key = dict(self._by_key)  # kept in step with ``entries``, so one pass finds what was added before

        def new_names(names: Iterable[str]) -> list[str]:
            fresh: dict[str, str] = {}
            for n in names:
                key = name_key(n)
                if key and key not in by_key:
                    fresh.setdefault(key, n)
            return list(fresh.values())

        for item in entities:
            if name_key(item.name) is None:  # cannot be shown or found by name: not listed
                continue
            others = list(item.aliases) if isinstance(item, InventoryEntry) else []
            known = next((by_key[k] for k in (name_key(item.id), name_key(item.name)) if k in by_key), None)
            if known is None:
                entry = InventoryEntry(id=item.id, name=item.name, type=item.type, wikidata=item.wikidata,
                                       aliases=[a for a in new_names(others) if name_key(a) != name_key(item.name)])
            else:
                extra = new_names([item.name, *others] if aliases or isinstance(item, InventoryEntry) else [])
                if not extra:
                    continue
                entry = known.model_copy(update={"aliases": [*known.aliases, *extra]})
            entries[entry.id] = entry
            by_key.update(dict.fromkeys(entry.keys(), entry))
        return EntityInventory(version=self.version, story=self.story, entities=list(entries.values()))

    def canonical(self, doc: AnnotatedDocument) -> AnnotatedDocument:
        """``doc`` with each entity the inventory knows replaced by its entry, and every reference re-linked.

        Entities it does not know stay as they are; two entities that find one entry become one.
        """
        new_id: dict[str, str] = {}
        entities: dict[str, Entity] = {}
        for entity in doc.entities:
            entry = self.resolve(entity)
            target = entry.entity() if entry is not None else entity
            new_id[entity.id] = target.id
            entities.setdefault(target.id, target)
        data = doc.model_dump()
        data["entities"] = [e.model_dump() for e in sorted(entities.values(), key=lambda e: e.id)]
        for mention in data["mentions"]:
            mention["entity_id"] = new_id[mention["entity_id"]]
        for quote in data["quotes"]:
            if quote["speaker_entity_id"] is not None:
                quote["speaker_entity_id"] = new_id[quote["speaker_entity_id"]]
        for stance in data["stances"]:
            stance["holder_entity_id"] = new_id[stance["holder_entity_id"]]
        for claim in data["claims"]:
            if claim["claimant_entity_id"] is not None:
                claim["claimant_entity_id"] = new_id[claim["claimant_entity_id"]]
        return AnnotatedDocument.model_validate(data)


def inventory_of_documents(docs: Iterable[AnnotatedDocument], story: str | None = None) -> EntityInventory:
    """The entities of ``docs`` as an inventory, the first document that names an entity giving its entry."""
    return EntityInventory(story=story).extended((e for doc in docs for e in doc.entities), aliases=True)


def read_inventory(path: Path) -> EntityInventory:
    return read_model(path, EntityInventory, "fix the entity inventory (format: seeds/entities.json)")


def write_inventory(path: Path, inventory: EntityInventory) -> None:
    """Pretty-printed JSON (a file people review), all or nothing."""
    text = json.dumps(inventory.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text, make_parents=True)
