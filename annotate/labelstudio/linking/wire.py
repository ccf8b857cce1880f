"""Typed Label Studio JSON of the linking project: its task data, its ranker result, what an import sends.

A task's data (``LinkingTaskData``) is what ``tasks`` builds and ``decode`` reads back; a ranker
result (``RankerResult``) is what a prediction carries and an annotation returns::

    {"from_name": "statements", "to_name": "renderings", "type": "ranker",
     "value": {"ranker": {"_": [], "statement_1": ["000_x/q1", "001_y/q2"], "statement_2": ["002_z/q1"]}}}

Reading, Label Studio's extra keys (id, origin, ...) are ignored, as in ``annotate.labelstudio.wire``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from annotate.labelstudio.linking.config import LIST, RANKER, RESULT_TYPE
from schemas.models import Id


class RenderingItem(BaseModel):
    """One card of the list: a rendering (its ``QuoteMention.key``), where it is from, and its sentence."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)  # article_id/quote_id
    title: str  # outlet (or article id) and quote kind
    html: str  # the sentence(s) around the quote, the quote's fragments in <mark>, HTML-escaped


class LinkingTaskData(BaseModel):
    """A linking task's data: what the annotator sees and what decoding needs."""

    model_config = ConfigDict(extra="ignore")

    heading: str
    story: Id | None = None  # None: a collection without story labels
    speaker: Id
    speaker_name: str
    items: list[RenderingItem] = Field(min_length=2)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Of story, speaker and items (``content_sha256``).")

    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]


class RankerValue(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    ranker: dict[str, list[str]]


class RankerResult(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    from_name: Literal["statements"] = RANKER
    to_name: Literal["renderings"] = LIST
    type: Literal["ranker"] = RESULT_TYPE
    value: RankerValue


class LinkingPrediction(BaseModel):
    model_version: str
    result: list[RankerResult]


class LinkingTask(BaseModel):
    """A linking task to import (``predictions`` None: the key is left out)."""

    data: LinkingTaskData
    predictions: list[LinkingPrediction] | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
