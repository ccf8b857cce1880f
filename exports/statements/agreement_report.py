"""The statement agreement report: cluster metrics between annotators, per story and pooled, with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table

from schemas.files import read_model
from schemas.version import SCHEMA_VERSION

REPORT_VERSION = "1.0.0"

ClusterMetric = Literal["muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea", "conll", "link_kappa"]
CLUSTER_METRICS: tuple[ClusterMetric, ...] = ("muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea", "conll",
                                              "link_kappa")
CLUSTER_METRIC_NAMES: dict[str, str] = {
    "muc": "MUC", "b_cubed": "B-cubed", "ceaf_m": "CEAF-m", "ceaf_e": "CEAF-e", "blanc": "BLANC", "lea": "LEA",
    "conll": "CoNLL F1 (mean of MUC, B-cubed, CEAF-e)", "link_kappa": "Cohen's kappa, same-statement links",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClusterFigure(_Model):
    """One metric: precision and recall where the metric has them (the first annotator as the key), and its F1
    (CoNLL: the mean F1; kappa: the coefficient) with a bootstrap interval over the resampling units."""

    metric: ClusterMetric
    precision: float | None = None
    recall: float | None = None
    value: float | None = Field(description="F1, the CoNLL mean, or kappa; None when undefined.")
    ci_low: float | None = None
    ci_high: float | None = None


class StoryClusterAgreement(_Model):
    story: str | None
    annotators: tuple[str, str]
    renderings: int = Field(ge=0, description="Renderings both annotators placed.")
    figures: list[ClusterFigure]


class PairClusterAgreement(_Model):
    annotators: tuple[str, str]
    stories: int = Field(ge=1)
    renderings: int = Field(ge=0)
    statements: tuple[int, int] = Field(description="Statements of each annotator over the shared renderings.")
    bootstrap_unit: Literal["story", "task"] = Field(
        description="What the intervals resample: stories, or with a single story its (story, speaker) tasks.")
    bootstrap_units: int = Field(ge=0)
    figures: list[ClusterFigure]


class StatementAgreementReport(_Model):
    report_version: str = REPORT_VERSION
    schema_version: str = SCHEMA_VERSION
    annotators: list[str]
    pairs: list[PairClusterAgreement]
    stories: list[StoryClusterAgreement]
    resamples: int
    confidence: float
    unplaced: dict[str, list[str]] = Field(
        default_factory=dict, description="Per annotator pair 'a|b': renderings only one of them placed (left out).")

    def figure(self, metric: str, pair: int = 0) -> ClusterFigure:
        return next(f for f in self.pairs[pair].figures if f.metric == metric)


def read_statement_agreement(path: Path) -> StatementAgreementReport:
    return read_model(path, StatementAgreementReport, "give a report written by `annotate statements agreement --json`")


def print_statement_agreement(report: StatementAgreementReport, console: Console | None = None) -> None:
    console = console or Console()
    for pair in report.pairs:
        table = Table(title=f"Statement agreement {pair.annotators[0]} vs {pair.annotators[1]}: {pair.stories} "
                            f"story(ies), {pair.renderings} renderings, {pair.statements[0]} vs "
                            f"{pair.statements[1]} statements")
        for column in ("metric", "P", "R", "F1 / value", f"{report.confidence:.0%} CI ({pair.bootstrap_unit}s)"):
            table.add_column(column)
        for f in pair.figures:
            ci = f"[{f.ci_low:.3f}, {f.ci_high:.3f}]" if f.ci_low is not None and f.ci_high is not None else "-"
            table.add_row(CLUSTER_METRIC_NAMES[f.metric], _num(f.precision), _num(f.recall), _num(f.value), ci)
        console.print(table)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
