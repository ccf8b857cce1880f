"""The statement evaluation report: a linker's statements scored against the gold's, pooled and per story."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table

from exports.cluster_metrics import ClusterScores
from exports.statements.agreement_report import CLUSTER_METRIC_NAMES
from schemas.files import read_model
from schemas.version import SCHEMA_VERSION

REPORT_VERSION = "1.0.0"

StatementQuotes = Literal["gold", "predicted"]
SCORED = ("muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MentionCounts(_Model):
    """Renderings (mentions) and statements (clusters) on each side, and how the mentions met.

    ``matched + spurious == predicted`` and ``matched + missing == gold``.
    """

    gold: int = Field(ge=0, description="Gold renderings.")
    predicted: int = Field(ge=0, description="Predicted renderings.")
    matched: int = Field(ge=0, description="Predicted renderings of a gold rendering's quote (end to end: aligned "
                                           "to it).")
    spurious: int = Field(ge=0, description="Predicted renderings of no gold rendering: twinless in the response.")
    missing: int = Field(ge=0, description="Gold renderings no predicted rendering matched: twinless in the key.")
    gold_statements: int = Field(ge=0)
    predicted_statements: int = Field(ge=0)


class QuoteAlignment(_Model):
    """End to end only: predicted quotes aligned one-to-one to gold quotes, per article (overlap boundary)."""

    boundary: Literal["overlap"] = "overlap"
    articles: int = Field(ge=0, description="Articles with a gold and a predicted document.")
    gold_quotes: int = Field(ge=0, description="Quotes of the gold documents.")
    predicted_quotes: int = Field(ge=0, description="Quotes of the predicted documents.")
    aligned: int = Field(ge=0, description="Predicted quotes aligned to a gold quote.")
    gold_only_articles: list[str] = Field(default_factory=list, description="Gold articles without a prediction.")
    predicted_only_articles: list[str] = Field(default_factory=list,
                                               description="Predicted articles not in the gold: all spurious.")


class StoryStatementEvaluation(_Model):
    """One story's figures: both sides' statements cut to the story's renderings."""

    story: str | None
    mentions: MentionCounts
    scores: ClusterScores


class StatementEvaluation(_Model):
    """Predicted statements scored against the gold statements: cluster metrics over renderings (the gold is the
    key), pooled over all stories and per story."""

    report_version: str = REPORT_VERSION
    schema_version: str = SCHEMA_VERSION
    quotes: StatementQuotes = Field(description="What the predicted renderings point at: the gold's quotes, or the "
                                                "predicted documents' quotes (end to end).")
    gold_source: str | None = None
    predicted_source: str | None = None
    alignment: QuoteAlignment | None = Field(default=None, description="End to end only.")
    mentions: MentionCounts
    scores: ClusterScores = Field(description="Pooled over all stories.")
    stories: list[StoryStatementEvaluation]

    def story(self, story: str | None) -> StoryStatementEvaluation:
        """The figures of one story (KeyError if absent)."""
        for s in self.stories:
            if s.story == story:
                return s
        raise KeyError(story)


def read_statement_evaluation(path: Path) -> StatementEvaluation:
    return read_model(path, StatementEvaluation, "give a report written by `annotate evaluate --statements-json`")


def print_statement_evaluation(report: StatementEvaluation, console: Console | None = None) -> None:
    """The pooled metrics, then (with several stories) one line per story."""
    console = console or Console()
    m = report.mentions
    on = "gold quotes" if report.quotes == "gold" else "predicted quotes (end to end)"
    table = Table(title=f"Statements on {on}, {len(report.stories)} story(ies), pooled")
    for column in ("metric", "P", "R", "F1"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for metric in SCORED:
        prf = getattr(report.scores, metric)
        table.add_row(CLUSTER_METRIC_NAMES[metric], _num(prf.precision), _num(prf.recall), _num(prf.f1))
    table.add_row(CLUSTER_METRIC_NAMES["conll"], "", "", _num(report.scores.conll))
    console.print(table)
    console.print(f"renderings: {m.gold} gold, {m.predicted} predicted ({m.matched} matched, {m.spurious} spurious, "
                  f"{m.missing} missing); statements: {m.gold_statements} gold, {m.predicted_statements} predicted")
    a = report.alignment
    if a is not None:
        console.print(f"quotes aligned one-to-one per article ({a.boundary}): {a.aligned} of {a.predicted_quotes} "
                      f"predicted and {a.gold_quotes} gold quotes, {a.articles} article(s)"
                      + (f"; gold only: {', '.join(a.gold_only_articles)}" if a.gold_only_articles else "")
                      + (f"; predicted only: {', '.join(a.predicted_only_articles)}"
                         if a.predicted_only_articles else ""))
    if len(report.stories) < 2:
        return
    per_story = Table(title="Statements per story (F1)")
    for column in ("story", "gold", "pred", "matched", "spurious", "missing", "MUC", "B-cubed", "CEAF-e", "LEA",
                   "CoNLL"):
        per_story.add_column(column, justify="left" if column == "story" else "right")
    for s in report.stories:
        c, x = s.mentions, s.scores
        per_story.add_row(str(s.story), str(c.gold), str(c.predicted), str(c.matched), str(c.spurious),
                          str(c.missing), *(_num(getattr(x, k).f1) for k in ("muc", "b_cubed", "ceaf_e", "lea")),
                          _num(x.conll))
    console.print(per_story)


def _num(x: float) -> str:
    return f"{x:.3f}"
