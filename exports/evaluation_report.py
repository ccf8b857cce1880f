"""The evaluation report: a versioned pydantic model of extractor quality against a gold, and its terminal rendering."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from rich.console import Console
from rich.table import Table

from exports.agreement_report import BootstrapSettings
from exports.published_metrics import PublishedFigures, Ratio
from schemas.version import SCHEMA_VERSION

REPORT_VERSION = "1.0.0"

Metric = Literal["span", "token_overlap", "attribution_entity", "attribution_mention", "stance", "stance_macro_f1",
                 "stance_f_avg"]

METRIC_NAMES: dict[str, str] = {
    "span": "spans, one-to-one alignment",
    "token_overlap": "tokens inside the other side's spans, each counted once (Citron's own: --published)",
    "attribution_entity": "attribution: found quote, right speaker entity",
    "attribution_mention": "attribution: found quote, speaker mentions overlap",
    "stance": "stance (holder, target) -> polarity",
    "stance_macro_f1": "stance macro-F1 (favor, against, neutral)",
    "stance_f_avg": "stance F_avg (mean F1 of favor and against, SemEval-2016)",
}

MULTIPLE_GOLD_POLICY = (
    "Every (article, gold document) pair is evaluated against the article's one prediction. Micro figures pool the "
    "counts of all pairs, so an article with k gold documents (annotators) weighs k times; macro figures "
    "(f1_annotator_macro) are the mean over gold annotators of each annotator's own micro F1. Bootstrap intervals "
    "resample articles, keeping all of an article's pairs together."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    value: float | None = Field(description="None when undefined (nothing on either side to count).")
    ci_low: float | None = Field(default=None, description="Bootstrap interval over articles (corpus figures only).")
    ci_high: float | None = None


class Ceiling(_Model):
    """Human agreement on the gold corpus for the same quantity: what a prediction can hope to reach."""

    metric: str = Field(description="Figure of the agreement report it comes from (metric, layer, label).")
    of: Literal["f1", "accuracy"] = Field(description="The figure of this row it bounds.")
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = Field(ge=0)


class Figure(_Model):
    """One evaluation figure: precision, recall and F1 (or one value for stance summaries)."""

    metric: Metric
    layer: str = Field(description="quote (content), cue, speaker, claim, or stance.")
    scheme: str | None = Field(default=None, description="strict, exact, partial, type, overlap (spans); token.")
    label: str | None = Field(default=None, description="None: all labels. Per label both sides are filtered to "
                                                        "the label first, as nervaluate's per-entity results.")
    precision: Estimate | None = None
    recall: Estimate | None = None
    f1: Estimate
    accuracy: Estimate | None = Field(default=None, description="Attribution: share of found gold quotes (overlap "
                                                                "match) whose speaker is right.")
    n_gold: int = Field(ge=0, description="Gold units (tokens for token_overlap, items for stance).")
    n_pred: int = Field(ge=0)
    correct_gold: float = Field(ge=0, description="Credit on the gold side (recall numerator).")
    correct_pred: float = Field(ge=0, description="Credit on the predicted side (precision numerator).")
    f1_annotator_macro: float | None = Field(default=None, description="Mean over gold annotators of their F1.")
    ceiling: Ceiling | None = None


class AnnotatorEvaluation(_Model):
    annotator: str
    articles: int = Field(ge=1)
    figures: list[Figure]


class InputSummary(_Model):
    path: str
    kind: Literal["release", "jsonl"]
    release_version: str | None = None
    split: str | None = Field(default=None, description="Release split read; None: all splits.")
    documents: int = Field(ge=0)
    articles: int = Field(ge=0)
    annotators: list[str]


class UnmatchedPrediction(_Model):
    """A prediction that was not evaluated, and why."""

    where: str = Field(description="file:line of the predicted document.")
    article_id: str
    reason: Literal["not in the gold", "text differs"]
    detail: str


class EvaluationReport(_Model):
    """Predicted AnnotatedDocuments evaluated against gold ones: spans (SemEval-2013 schemes and token overlap),
    attribution, stance and claims, with bootstrap intervals over articles and human agreement as the ceiling.
    """

    report_version: str = REPORT_VERSION
    schema_version: str = SCHEMA_VERSION
    gold: InputSummary
    predictions: InputSummary
    tokeniser: str = Field(description="Regular expression of the tokens of token_overlap.")
    multiple_gold: str = MULTIPLE_GOLD_POLICY
    bootstrap: BootstrapSettings
    articles_evaluated: int = Field(ge=0)
    pairs_evaluated: int = Field(ge=0, description="(article, gold document) pairs.")
    ceiling_source: str | None = Field(default=None, description="Agreement report the ceilings come from.")
    figures: list[Figure] = Field(description="Corpus figures (micro), with intervals.")
    annotators: list[AnnotatorEvaluation] = Field(description="The same figures against each gold annotator alone.")
    unmatched_predictions: list[UnmatchedPrediction] = Field(default_factory=list)
    unpredicted_articles: list[str] = Field(default_factory=list, description="Gold articles with no prediction: "
                                                                              "listed, not evaluated.")
    published: PublishedFigures | None = Field(default=None, description="The figures as the published extractors "
                                                                         "(Citron, the Gender Gap Tracker) compute "
                                                                         "them (`--published`).")

    @model_serializer(mode="wrap")
    def _no_published_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Added after reports were written: left out when not asked for, so those reports stay the same.
        data = handler(self)
        if data.get("published") is None:
            data.pop("published", None)
        return data

    def figure(self, metric: str, layer: str, scheme: str | None = None, label: str | None = None) -> Figure:
        """The corpus figure with these keys (KeyError if absent)."""
        for f in self.figures:
            if (f.metric, f.layer, f.scheme, f.label) == (metric, layer, scheme, label):
                return f
        raise KeyError((metric, layer, scheme, label))


SHORT_NAMES: dict[str, str] = {
    "attribution_entity": "attribution, speaker entity",
    "attribution_mention": "attribution, speaker mention",
    "stance": "stance",
    "stance_macro_f1": "stance macro-F1",
    "stance_f_avg": "stance F_avg",
}


def _number(estimate: Estimate | None) -> str:
    return "" if estimate is None else "n/a" if estimate.value is None else f"{estimate.value:.3f}"


def _ci(estimate: Estimate | None) -> str:
    if estimate is None or estimate.ci_low is None or estimate.ci_high is None:
        return ""
    return f"{estimate.ci_low:.3f}–{estimate.ci_high:.3f}"


def _ceiling(f: Figure) -> str:
    if f.ceiling is None or f.ceiling.value is None:
        return ""
    return f"{f.ceiling.value:.3f}" + ("ᵃ" if f.ceiling.of == "accuracy" else "")


def _name(f: Figure) -> str:
    if f.metric in ("span", "token_overlap"):
        return " ".join(x for x in (f.layer, f.label, f.scheme) if x)
    return " ".join(x for x in (SHORT_NAMES[f.metric], f.label) if x)


def _table(title: str, figures: list[Figure], report: EvaluationReport, accuracy: bool = False) -> Table:
    macro = len(report.annotators) > 1
    table = Table(title=title)
    headers = ["figure", *(["acc."] if accuracy else []), "P", "R", "F1",
               f"F1 {report.bootstrap.confidence:.0%} CI", *(["macro"] if macro else []), "ceiling", "gold", "pred"]
    for header in headers:
        table.add_column(header, justify="left" if header == "figure" else "right")
    for f in figures:
        macro_cell = ["n/a" if f.f1_annotator_macro is None else f"{f.f1_annotator_macro:.3f}"] if macro else []
        table.add_row(_name(f), *([_number(f.accuracy)] if accuracy else []), _number(f.precision),
                      _number(f.recall), _number(f.f1), _ci(f.f1), *macro_cell, _ceiling(f), str(f.n_gold),
                      str(f.n_pred))
    return table


def _ratio(ratio: Ratio | None) -> str:
    return "" if ratio is None else "n/a" if ratio.value is None else f"{ratio.value:.3f}"


def _counts(ratio: Ratio | None) -> str:
    return "" if ratio is None else f"{ratio.numerator}/{ratio.denominator}"


def render_published(published: PublishedFigures, console: Console) -> None:
    """The published extractors' figures, one table each, with the counts behind each ratio."""
    for source, title, prefix in (("citron", "Citron (bbc/citron metrics.py)", "citron "),
                                  ("ggt", "Gender Gap Tracker (evaluate_quotes.py, evaluate.py)", "GGT ")):
        figures = [f for f in published.figures if f.source == source]
        accuracy = any(f.accuracy is not None for f in figures)
        table = Table(title=f"As published, quirks kept: {title}, {published.pairs} pairs")
        headers = ["figure", "P", "R", "F1", *(["acc."] if accuracy else []), "P n/d",
                   "R/acc. n/d" if accuracy else "R n/d"]
        for header in headers:
            table.add_column(header, justify="left" if header == "figure" else "right")
        for f in figures:
            table.add_row(f.name.removeprefix(prefix), _ratio(f.precision), _ratio(f.recall),
                          "" if f.f1 is None else f"{f.f1:.3f}", *([_ratio(f.accuracy)] if accuracy else []),
                          _counts(f.precision), _counts(f.recall or f.accuracy))
        console.print(table)
    console.print(f"citron: tokens {published.tokeniser} (Citron's are spaCy's); quotes without a cue left out: "
                  f"{published.citron_left_out_gold} gold, {published.citron_left_out_pred} predicted; "
                  "'token-overlap quote' has P and R swapped, as Citron prints them")


def render(report: EvaluationReport, console: Console, max_listed: int = 10) -> None:
    """Spans over all labels, spans per label, attribution and stance; then what was not evaluated.

    Figures with nothing on either side (a layer neither gold nor prediction has) stay in the JSON only.
    """
    shown = [f for f in report.figures if f.n_gold or f.n_pred]
    empty = sorted({f.layer for f in report.figures} - {f.layer for f in shown})
    head = (f"{report.articles_evaluated} articles, {report.pairs_evaluated} (article, gold document) pairs, "
            f"{len(report.gold.annotators)} gold annotator(s)")
    spans = [f for f in shown if f.metric in ("span", "token_overlap")]
    console.print(_table(f"Spans: {head}", [f for f in spans if f.label is None], report))
    labelled = [f for f in spans if f.label is not None]
    if labelled:
        console.print(_table("Spans per label (both sides filtered to the label; token: the other side's spans "
                             "of any label)", labelled, report))
    others = [f for f in shown if f.metric not in ("span", "token_overlap")]
    if others:
        console.print(_table("Attribution (acc.: share of found gold quotes with the right speaker) and stance",
                             others, report, accuracy=True))
    if empty:
        console.print(f"nothing to evaluate (no gold and no predicted items): {', '.join(empty)}")
    if report.ceiling_source:
        console.print(f"ceiling: human agreement on the gold, from {report.ceiling_source} (ᵃ: bounds the accuracy)")
    else:
        console.print("ceiling: no agreement report (give --agreement REPORT.json from `annotate agreement --json`)")
    if len(report.annotators) > 1:
        console.print("several gold documents per article: " + report.multiple_gold)
    if report.published is not None:
        render_published(report.published, console)
    if report.unmatched_predictions:
        listed = report.unmatched_predictions[:max_listed]
        console.print(f"{len(report.unmatched_predictions)} prediction(s) NOT evaluated: "
                      + "; ".join(f"{u.article_id} at {u.where} ({u.reason}: {u.detail})" for u in listed)
                      + (" ..." if len(report.unmatched_predictions) > max_listed else ""))
    if report.unpredicted_articles:
        console.print(f"{len(report.unpredicted_articles)} gold article(s) without a prediction, NOT evaluated: "
                      + ", ".join(report.unpredicted_articles[:max_listed])
                      + (" ..." if len(report.unpredicted_articles) > max_listed else ""))
