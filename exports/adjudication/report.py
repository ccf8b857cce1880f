"""The conflicts file (``AdjudicationReport``: how the gold was made, every conflict) and its records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from exports.adjudication.decisions import Decision
from exports.compare import Boundary
from exports.corpus import Corpus
from schemas import AnnotatedDocument


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Version(_Record):
    """One annotator's answer in a conflict."""

    annotator: str
    unit: str | None = Field(default=None, description="The annotator's item id (or annotation id).")
    value: str | None = Field(default=None, description="Attribute conflicts: this annotator's value.")
    attributes: dict[str, str] = Field(default_factory=dict, description="Unit conflicts: all its values.")
    shown: str = Field(description="The version for a person: texts and names instead of offsets and ids.")


class Conflict(_Record):
    id: str = Field(description="Stable across runs while the annotations stay the same: key of the decisions file.")
    article_id: str
    kind: Literal["unit", "attribute", "ground-truth"]
    layer: str | None = None
    attribute: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = Field(default=None, description="Article text the conflict covers.")
    problem: str
    annotators: list[str] = Field(description="All of the article's annotators.")
    versions: list[Version]
    decision: Decision | None = Field(default=None, description="None: still open (the unit is not in the gold).")


class InputFile(_Record):
    path: str
    sha256: str


class ExcludedDocument(_Record):
    where: str
    article_id: str
    annotator: str
    reason: str


class ArticleOutcome(_Record):
    article_id: str
    annotators: list[str]
    method: Literal["ground-truth", "majority", "held-back"]
    needed: int | None = Field(default=None, description="Annotators who must agree (majority method).")
    ground_truth: str | None = Field(default=None, description="Annotator whose ground truth the gold is.")
    gold_items: dict[str, int] = Field(default_factory=dict)
    open_conflicts: int = 0
    decided_conflicts: int = 0


class AdjudicationReport(_Record):
    """``<gold stem>.conflicts.json``: how the gold was made, and every conflict."""

    created_at: datetime
    gold_file: str | None = None
    inputs: list[InputFile] = Field(default_factory=list)
    majority: str
    boundary: Boundary
    decisions_file: InputFile | None = None
    excluded: list[ExcludedDocument] = Field(default_factory=list)
    articles: list[ArticleOutcome]
    conflicts: list[Conflict]
    unused_decisions: list[str] = Field(default_factory=list, description="Decisions whose conflict no longer "
                                        "exists (the annotations changed, or it was settled in Label Studio).")

    def open_conflicts(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.decision is None]


@dataclass(frozen=True)
class Adjudication:
    gold: list[AnnotatedDocument]
    report: AdjudicationReport
    corpus: Corpus  # the annotators' documents that were adjudicated
