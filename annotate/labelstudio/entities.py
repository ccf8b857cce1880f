"""A task's entity list: the story's inventory written into the task's data, and read back from an export.

``task_entities`` gives the options Label Studio's two entity pickers show (``wire.EntityOption``, under
the data key ``config.ENTITIES``); ``task_inventory`` rebuilds, from a task's data alone, the inventory
its annotator picked from, so that the decoder checks every picked id against what was on offer.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from annotate.labelstudio.ids import Rejected
from annotate.labelstudio.wire import EntityOption
from schemas.errors import first_error
from schemas.inventory import EntityInventory, InventoryEntry


def task_entities(inventory: EntityInventory) -> list[EntityOption]:
    """The inventory as the pickers' options, in the inventory's order."""
    return [EntityOption(value=e.shown(), alias=e.id, hint=_hint(e), entity_name=e.name, entity_type=e.type.value,
                         entity_wikidata=e.wikidata, entity_aliases=list(e.aliases)) for e in inventory.entities]


def _hint(entry: InventoryEntry) -> str | None:
    parts = [f"Wikidata {entry.wikidata}"] if entry.wikidata else []
    if entry.aliases:
        parts.append("also: " + ", ".join(entry.aliases))
    return "; ".join(parts) or None


def task_inventory(value: Any, where: str) -> EntityInventory | None:
    """The inventory a task's ``entities`` data holds; None when the task has none (missing, empty, or "").

    Raises ``Rejected`` when the data is not an entity list this toolkit wrote.
    """
    if value is None or value == "" or value == []:
        return None
    remedy = "the task's entity list was edited in Label Studio: preload the article again"
    if not isinstance(value, list):
        raise Rejected(None, f"{where}: data.entities is a {type(value).__name__}, not a list of entities; {remedy}")
    entries = []
    for n, option in enumerate(value):
        try:
            o = EntityOption.model_validate(option)
            entries.append(InventoryEntry(id=o.alias, name=o.entity_name, type=o.entity_type,
                                          wikidata=o.entity_wikidata, aliases=o.entity_aliases))
        except ValidationError as e:
            raise Rejected(None, f"{where}: data.entities[{n}]: {first_error(e)}; {remedy}") from None
    try:
        return EntityInventory(entities=entries)
    except ValidationError as e:
        raise Rejected(None, f"{where}: data.entities: {first_error(e)}; {remedy}") from None
