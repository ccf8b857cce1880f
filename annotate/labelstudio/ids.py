"""Canonical ids shared by the encoder and the decoder, and how a rejected item is reported.

Entity ids come from the task's entity list when picked (``listed_entity``), else from typed names
(``schemas.entity_id_for``); stance ids from (holder, target, polarity), item ids from Label Studio
region ids (escaped when Label Studio made up an id that is not a valid item id). ``Rejected`` is
raised where an item is built and becomes a ``Rejection`` in the pull report.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from schemas import Polarity, entity_id_for
from schemas.inventory import EntityInventory, InventoryEntry

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")


class Rejected(Exception):
    """One item cannot be kept; caught where the item is built and turned into a ``Rejection``."""

    def __init__(self, region_id: str | None, message: str):
        super().__init__(message)
        self.region_id = region_id
        self.message = message


class Rejection(BaseModel):
    """Something from Label Studio that was left out of the document, and why (one line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region_id: str | None
    message: str
    task_id: int | None = None
    annotation_id: int | None = None


def checked_entity_id(name: str, where: object) -> str:
    """``schemas.entity_id_for(name)``, or ``Rejected`` when the name makes no usable id."""
    try:
        entity_id = entity_id_for(name)
    except ValueError as e:
        raise Rejected(None, f"{where}: {e}; type the canonical name in Latin letters") from None
    if len(entity_id) > 120:  # leaves room for stance ids (holder:target:polarity, at most 200)
        raise Rejected(None, f"{where}: entity name {name[:40]!r}... is too long for an id; shorten it")
    return entity_id


def listed_entity(entities: EntityInventory | None, value: str, where: object) -> InventoryEntry:
    """The entry of the task's entity list that a picked ``value`` (an entity id) names, or ``Rejected``.

    A value the list lacks comes from a prediction or annotation made with another list (a stale
    prediction, or a list changed since the task was imported).
    """
    entry = entities.get(value) if entities is not None else None
    if entry is not None:
        return entry
    listed = "has no entity list" if entities is None else f"lists {len(entities.entities)} entities, not this one"
    raise Rejected(None, f"{where}: entity {value!r} is picked, but the task {listed} (a prediction or annotation "
                         "made with another list); pick the entity again, or type it as a new one")


def stance_id_for(holder_entity_id: str, target_id: str, polarity: Polarity) -> str:
    return f"{holder_entity_id}:{target_id}:{polarity.value}"


def item_id_for(region_id: str) -> str:
    """Our item id for a Label Studio region id (Label Studio's own ids may start with ``-`` or ``_``).

    Valid ids stay as they are; others get other characters escaped as ``+<hex>`` and an ``r``
    in front. A clash with another region's id is caught where regions are read.
    """
    if ID.match(region_id) and len(region_id) <= 200:
        return region_id
    escaped = re.sub(r"[^A-Za-z0-9._:@-]", lambda m: f"+{ord(m[0]):x}", region_id)
    return escaped if escaped[0].isalnum() else "r" + escaped
