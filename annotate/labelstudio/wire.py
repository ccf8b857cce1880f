"""Typed models of the Label Studio JSON the toolkit reads and writes, in both directions.

Result items (``labels``, ``choices``, ``textarea``, ``relation``) are what ``encode`` builds and
``regions`` validates; the exported task, annotation and user are what an export (or
``StudioClient.export_tasks``) holds; ``NewTask`` and ``Prediction`` are what an import sends, and
``EntityOption`` is one entry of a task's entity list (``annotate.labelstudio.entities``).
Models are serialised (``to_json``) only where they leave for the server, in ``client``.

Reading, Label Studio adds fields of its own (origin, score, readonly, ...): what is not read
is ignored. Field order is the order the encoder has always written keys in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, StrictInt

# ---------------------------------------------------------------- result items


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class LabelsValue(_Wire):
    start: int
    end: int
    text: str
    labels: list[str]


class ChoicesValue(_Wire):
    # Label Studio repeats the region's position on its per-region controls. It is written, never read
    # (the labels result is the authority), so a bad value here must not reject the control.
    start: SkipValidation[int | None] = None
    end: SkipValidation[int | None] = None
    text: SkipValidation[str | None] = None
    choices: list[str]


class TextAreaValue(_Wire):
    start: SkipValidation[int | None] = None  # as in ChoicesValue
    end: SkipValidation[int | None] = None
    text: list[str]  # what the annotator typed in the box, not the region's text


class LabelsResult(_Wire):
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    type: Literal["labels"] = "labels"
    value: LabelsValue


class ChoicesResult(_Wire):
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    type: Literal["choices"] = "choices"
    value: ChoicesValue


class TextAreaResult(_Wire):
    id: str = Field(min_length=1)
    from_name: str
    to_name: str
    type: Literal["textarea"] = "textarea"
    value: TextAreaValue


class RelationResult(_Wire):
    from_id: str
    to_id: str
    type: Literal["relation"] = "relation"
    direction: Literal["left", "right", "bi"] = "right"
    labels: list[str] = Field(default_factory=list)


ResultItem = LabelsResult | ChoicesResult | TextAreaResult | RelationResult
RESULT_MODELS: dict[str, type[ResultItem]] = {
    "labels": LabelsResult, "choices": ChoicesResult, "textarea": TextAreaResult, "relation": RelationResult,
}


# ---------------------------------------------------------------- exported tasks


class ExportedUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    email: str | None = None


class ExportedAnnotation(BaseModel):
    """One annotation as a JSON export gives it (``result`` stays Label Studio JSON, read by ``decode``)."""

    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    # An int in the export endpoint's output; {id, email, ...} in snapshot exports that expand it.
    completed_by: StrictInt | ExportedUser | None = None
    result: list[Any] = Field(default_factory=list)
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ExportedTask(BaseModel):
    """One task of a JSON export: its data (keys of ``TASK_DATA_KEYS``) and its annotations."""

    model_config = ConfigDict(extra="ignore")

    id: StrictInt
    project: StrictInt | None = None
    data: dict[str, Any]
    annotations: list[ExportedAnnotation] = Field(default_factory=list)
    predictions: list[Any] = Field(default_factory=list)
    drafts: list[Any] = Field(default_factory=list)


# ---------------------------------------------------------------- what an import sends


class EntityOption(BaseModel):
    """One entry of a task's entity list (``data.entities``), as Label Studio's dynamic choices read it.

    The drop-down shows ``value`` ("Vladimir Putin (person)") and the result records ``alias``, the
    entity id (Label Studio puts a choice's alias in the result in place of its value); ``hint`` shows
    on hover. Label Studio ignores the ``entity_*`` keys: they carry the rest of the entry, so that an
    export alone says what each id in its results was.
    """

    model_config = ConfigDict(extra="ignore")

    value: str
    alias: str
    hint: str | None = None
    entity_name: str
    entity_type: str
    entity_wikidata: str | None = None
    entity_aliases: list[str] = Field(default_factory=list)


class Prediction(BaseModel):
    """A pre-annotation: the results a model (or another annotator's version) proposes."""

    model_version: str
    result: list[ResultItem]


class NewTask(BaseModel):
    """A task to import: its data, and its predictions (None: the key is left out of the request)."""

    data: dict[str, str | list[EntityOption]]
    predictions: list[Prediction] | None = None


def to_json(value: Any) -> Any:
    """``value`` as plain JSON: models dumped (None fields left out), inside dicts and lists too."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value
