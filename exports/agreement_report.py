"""The agreement report: a versioned pydantic model, its one reader, its summary rows, and its terminal rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.table import Table

from schemas.errors import ToolkitError
from schemas.files import read_model
from schemas.version import SCHEMA_VERSION

REPORT_VERSION = "1.0.0"

Metric = Literal["f1_exact", "f1_overlap", "token_alpha", "alpha", "cohen_kappa", "fleiss_kappa",
                 "attribution_agreement"]

METRIC_NAMES: dict[str, str] = {
    "f1_exact": "pairwise F1, exact spans",
    "f1_overlap": "pairwise F1, overlapping spans",
    "token_alpha": "Krippendorff's alpha, token roles",
    "alpha": "Krippendorff's alpha (nominal)",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "attribution_agreement": "attribution agreement (same speaker)",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Figure(_Model):
    """One agreement figure."""

    metric: Metric
    layer: str = Field(description="quote, cue, speaker, mention, claim, or token (token roles).")
    label: str | None = Field(default=None, description="Figure for one label only (F1 per label, alpha one-vs-rest).")
    attribute: str | None = Field(default=None, description="Attribute of aligned units (kind, speaker, ...).")
    value: float | None = Field(description="None when undefined: no units, or a single category.")
    ci_low: float | None = Field(default=None, description="Bootstrap interval over articles (corpus only).")
    ci_high: float | None = None
    n: int = Field(ge=0, description="What the figure rests on: units (F1), paired values (alpha), aligned pairs.")


class ArticleAgreement(_Model):
    article_id: str
    annotators: list[str]
    figures: list[Figure]


class PairAgreement(_Model):
    annotators: tuple[str, str]
    articles: int = Field(ge=1, description="Articles both annotated.")
    figures: list[Figure]


class ExcludedDocument(_Model):
    article_id: str
    annotator: str
    reason: str


class BootstrapSettings(_Model):
    resamples: int = Field(ge=1)
    seed: int
    confidence: float = Field(gt=0, lt=1)
    unit: Literal["article"] = "article"


class SummaryRow(_Model):
    """One row of a dataset card's agreement table."""

    metric: str
    layer: str
    value: float | None
    ci: tuple[float, float] | None
    n: int


class AgreementReport(_Model):
    """Inter-annotator agreement of a set of annotated documents: corpus, each article, each annotator pair.

    Spans are aligned one-to-one by overlap (code points); token roles come from ``tokeniser``
    tokens; attributes are compared on aligned units.
    """

    report_version: str = REPORT_VERSION
    schema_version: str = SCHEMA_VERSION
    tokeniser: str = Field(description="Regular expression of the tokens used for token roles.")
    role_priority: list[str] = Field(description="A token in several roles takes the last one listed.")
    bootstrap: BootstrapSettings
    documents: int
    annotators: list[str]
    articles_compared: int = Field(description="Articles with two or more annotators.")
    single_annotator_articles: list[str] = Field(description="Reported, not compared: nothing to agree with.")
    excluded: list[ExcludedDocument] = Field(default_factory=list)
    corpus: list[Figure]
    articles: list[ArticleAgreement]
    pairs: list[PairAgreement]

    def figure(self, metric: str, layer: str, label: str | None = None, attribute: str | None = None) -> Figure:
        """The corpus figure with these keys (KeyError if absent)."""
        for f in self.corpus:
            if (f.metric, f.layer, f.label, f.attribute) == (metric, layer, label, attribute):
                return f
        raise KeyError((metric, layer, label, attribute))

    def summary_rows(self) -> list[SummaryRow]:
        """The corpus figures over all labels, for a dataset card: metric, layer, value, CI."""
        return [
            SummaryRow(
                metric=METRIC_NAMES[f.metric] + (f" of {f.attribute}" if f.attribute else ""),
                layer=f.layer, value=f.value,
                ci=(f.ci_low, f.ci_high) if f.ci_low is not None and f.ci_high is not None else None, n=f.n,
            )
            for f in self.corpus
            if f.label is None
        ]


def read_agreement_report(path: Path) -> AgreementReport:
    """The report ``annotate agreement --json`` wrote to ``path`` (given with ``--agreement`` to evaluate and
    publish); a missing or invalid file is a ``ToolkitError``."""
    if not path.is_file():
        raise ToolkitError(f"--agreement {path}: no such file; give the JSON written by `annotate agreement --json`")
    return read_model(path, AgreementReport, "give the JSON written by `annotate agreement --json`")


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _find(figures: list[Figure], metric: str, layer: str, attribute: str | None = None) -> str:
    for f in figures:
        if (f.metric, f.layer, f.label, f.attribute) == (metric, layer, None, attribute):
            return _number(f.value)
    return ""


# Columns of the per-article and per-pair tables: (header, metric, layer, attribute).
_COLUMNS = [
    ("token α", "token_alpha", "token", None),
    ("quote F1", "f1_overlap", "quote", None),
    ("cue F1", "f1_overlap", "cue", None),
    ("mention F1", "f1_overlap", "mention", None),
    ("claim F1", "f1_overlap", "claim", None),
    ("same speaker", "attribution_agreement", "quote", None),
]


def render(report: AgreementReport, console: Console, max_articles: int = 15) -> None:
    """Corpus figures, then annotator pairs, then the articles with the lowest token alpha."""
    corpus = Table(title=f"Agreement: {report.articles_compared} articles, {len(report.annotators)} annotators, "
                         f"{report.documents} documents")
    for header in ("metric", "layer", "label / attribute", "value",
                   f"{report.bootstrap.confidence:.0%} CI", "n"):
        corpus.add_column(header, justify="right" if header in ("value", "n") else "left")
    for f in report.corpus:
        ci = f"{f.ci_low:.3f} – {f.ci_high:.3f}" if f.ci_low is not None and f.ci_high is not None else ""
        corpus.add_row(METRIC_NAMES[f.metric], f.layer, f.label or f.attribute or "", _number(f.value), ci, str(f.n))
    console.print(corpus)

    if report.pairs:
        pairs = Table(title="Annotator pairs")
        pairs.add_column("annotators")
        pairs.add_column("articles", justify="right")
        for header, *_ in _COLUMNS:
            pairs.add_column(header, justify="right")
        for p in report.pairs:
            pairs.add_row(" / ".join(p.annotators), str(p.articles),
                          *(_find(p.figures, metric, layer, attr) for _, metric, layer, attr in _COLUMNS))
        console.print(pairs)

    if report.articles:
        def token_alpha(a: ArticleAgreement) -> float:
            value = next((f.value for f in a.figures if f.metric == "token_alpha" and f.label is None), None)
            return 2.0 if value is None else value

        shown = sorted(report.articles, key=token_alpha)[:max_articles]
        more = len(report.articles) - len(shown)
        articles = Table(title="Articles, lowest token alpha first" + (f" ({more} more in --json)" if more else ""))
        articles.add_column("article")
        articles.add_column("annotators", justify="right")
        for header, *_ in _COLUMNS:
            articles.add_column(header, justify="right")
        for a in shown:
            articles.add_row(a.article_id, str(len(a.annotators)),
                             *(_find(a.figures, metric, layer, attr) for _, metric, layer, attr in _COLUMNS))
        console.print(articles)

    if report.single_annotator_articles:
        console.print(f"{len(report.single_annotator_articles)} article(s) with a single annotator, not compared: "
                      + ", ".join(report.single_annotator_articles[:10])
                      + (" ..." if len(report.single_annotator_articles) > 10 else ""))
    if report.excluded:
        console.print(f"{len(report.excluded)} document(s) left out: "
                      + "; ".join(f"{e.article_id}/{e.annotator} ({e.reason})" for e in report.excluded[:5])
                      + (" ..." if len(report.excluded) > 5 else ""))
