"""The dataset card (README.md): YAML front matter the Hub and ``datasets`` read, and the sections a reader needs.

The front matter is produced the way ``datasets.Dataset.push_to_hub`` produces it (``DatasetCardData`` filled
by ``MetadataConfigs`` and ``DatasetInfosDict``), so ``configs``/``data_files`` and ``dataset_info`` follow the
Hub's format without hand-written YAML. The schema section is generated from the same ``ConfigSpec``
declarations that build the Parquet files; the agreement table from the agreement report's own summary rows;
the guidelines are copied from ``guidelines.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from datasets import ClassLabel, DatasetInfo, List, Value
from datasets.info import DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from exports.agreement_report import SummaryRow, read_agreement_report
from exports.dataset.configs import CONFIGS
from exports.dataset.release import EXAMPLES, ConfigChanges, ReleaseHistory
from exports.statements.agreement_report import CLUSTER_METRIC_NAMES, StatementAgreementReport
from schemas import TargetInventory
from schemas.guidelines import Guidelines

TASK_CATEGORIES = ["token-classification", "text-classification"]
DEFAULT_LICENSE = "cc-by-4.0"
DEFAULT_PRETTY_NAME = "News attribution: quotes, speakers, stances and claims"
NOT_RECORDED = "not recorded"  # raw documents whose provenance does not say how the annotators worked
SOURCES_LISTED = 200  # articles listed one by one in the provenance section; above that, counts per outlet



@dataclass(frozen=True)
class Agreement:
    """The report's own summary rows (``AgreementReport.summary_rows``), rendered as they are."""

    source: str
    confidence: float
    rows: list[SummaryRow]


def read_agreement(path: Path) -> Agreement:
    """The summary rows of an ``annotate agreement --json`` report, through the report model's own helper."""
    report = read_agreement_report(path)
    return Agreement(source=path.name, confidence=report.bootstrap.confidence, rows=report.summary_rows())


@dataclass(frozen=True)
class ArticleSource:
    id: str
    title: str | None
    outlet: str | None
    published: date | None
    url: str | None


@dataclass
class ProvenanceSummary:
    """Gathered while the rows stream past: who annotated, what schema, where each article came from."""

    tool_version: str
    schema_version: str
    gold_documents: int = 0
    articles: int = 0
    document_schema_versions: set[str] = field(default_factory=set)
    annotator_documents: dict[str, int] = field(default_factory=dict)
    annotation_modes: dict[str, int] = field(default_factory=dict)  # "blind" / "shared" / NOT_RECORDED -> raw documents
    gold_supporters: dict[str, int] = field(default_factory=dict)
    languages: set[str] = field(default_factory=set)
    outlets: dict[str, int] = field(default_factory=dict)
    sources: list[ArticleSource] = field(default_factory=list)


@dataclass(frozen=True)
class CardContext:
    version: str
    pretty_name: str
    license: str
    rows: dict[str, dict[str, int]]  # published configs -> split -> rows
    guidelines: Guidelines
    agreement: Agreement | None
    targets: TargetInventory
    provenance: ProvenanceSummary
    history: ReleaseHistory
    notes: str | None = None
    statement_agreement: StatementAgreementReport | None = None


def data_file(config: str, split: str) -> str:
    return f"data/{config}/{split}.parquet"


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for ``n`` examples."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")):
        if n < bound:
            return label
    return "100M<n<1B"


def front_matter(ctx: CardContext) -> str:
    largest = max((sum(splits.values()) for splits in ctx.rows.values()), default=0)
    card_data = DatasetCardData(
        pretty_name=ctx.pretty_name,
        license=ctx.license,
        language=sorted(ctx.provenance.languages),
        task_categories=TASK_CATEGORIES,
        size_categories=[size_category(largest)],
        tags=["news", "quotation-attribution", "stance-detection", "claim-detection"],
    )
    MetadataConfigs({
        config: {"data_files": [{"split": split, "path": data_file(config, split)} for split in splits]}
        for config, splits in ctx.rows.items()
    }).to_dataset_card_data(card_data)
    infos = {}
    for config, splits in ctx.rows.items():
        split_dict = SplitDict()
        for split, n in splits.items():
            split_dict.add(SplitInfo(name=split, num_examples=n))
        infos[config] = DatasetInfo(features=CONFIGS[config].features, splits=split_dict)
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    return f"---\n{card_data.to_yaml()}\n---\n"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _type_name(feature: object) -> str:
    if isinstance(feature, ClassLabel):
        return "class label: " + ", ".join(f"{i}={name}" for i, name in enumerate(feature.names))
    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, List):
        return f"list of {_type_name(feature.feature)}"
    if isinstance(feature, dict):
        return "struct {" + ", ".join(f"{k}: {_type_name(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _demoted(markdown: str, levels: int = 2) -> str:
    """Headings pushed down so the copied guidelines nest under the card's own section (not inside code)."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        out.append("#" * levels + line if not fenced and re.match(r"#{1,6} ", line) else line)
    return "\n".join(out)


def _description(ctx: CardContext) -> str:
    counts = [[f"`{config}`", *(splits.get(s, 0) for s in ("train", "validation", "test")), sum(splits.values())]
              for config, splits in ctx.rows.items()]
    missing = [name for name in CONFIGS if name not in ctx.rows]
    note = f"\nConfigs without rows in this release (not published): {', '.join(missing)}.\n" if missing else ""
    return (
        "## Dataset description\n\n"
        f"Version **{ctx.version}**. News articles annotated for attribution: **quotes** (direct, indirect, mixed; "
        "content fragments and cue), their **speakers** (mentions linked to canonical entities), the **stance** of "
        f"a holder toward the targets of the event *{ctx.targets.event}*, and **claims** with their check-worthiness. "
        "The gold layer is adjudicated from several annotators; the raw per-annotator documents are in "
        "`annotations`.\n\n"
        + ("**Statements** group the gold quotes across a story's articles: a statement (`statements`) is what one "
           "speaker said on one occasion, and each quote that reports it is one of its `renderings`, with a "
           "fidelity class computed from the words (verbatim, excerpt, variant, paraphrase) and the annotators' "
           "flag when the rendering changes the meaning. Join `renderings` to `quotes` by `id`.\n\n"
           if "statements" in ctx.rows else "")
        +
        "All offsets are half-open `[start, end)` **Unicode code-point** offsets into `articles.text` (Python `str` "
        "indices), and `text[start:end] == span.text` was verified for every span when this release was built.\n\n"
        + _table(["config", "train", "validation", "test", "total"], counts) + note
        + "\n```python\nfrom datasets import load_dataset\n\nquotes = load_dataset(\"<this repository or folder>\", "
        "\"quotes\")\nkinds = quotes[\"train\"].features[\"kind\"].names\n```\n\n"
        "### Splits\n\nSplit by story: articles about the same event (`articles.story`; an article without a story "
        "is its own story) are never in two splits. A story's split follows from a SHA-256 of its id "
        "(about 80/10/10 % of stories), so with enough stories it stays the same from release to release; with few "
        "stories the splits are filled by rank of that hash instead (fewer than three stories: fewer splits), and a "
        "story that moves shows as changed items in the changelog. Join the other configs to `articles` by "
        "`article_id`.\n"
    )


def _schema() -> str:
    parts = ["## Schema\n"]
    for spec in CONFIGS.values():
        rows = [[f"`{name}`", _type_name(column.feature), column.description] for name, column in spec.columns.items()]
        parts.append(f"### `{spec.name}`\n\n{spec.description}.\n\n" + _table(["field", "type", "description"], rows))
    return "\n".join(parts)


def _guidelines(ctx: CardContext) -> str:
    return (
        "## Annotation guidelines\n\n"
        f"Guidelines version: **{ctx.guidelines.version}**. The full guidelines, with every label's definition, "
        "as given to the annotators:\n\n"
        f"{_demoted(ctx.guidelines.text)}\n"
    )


def _statement_agreement(ctx: CardContext) -> str:
    report = ctx.statement_agreement
    if report is None:
        return ("\n### Statements\n\nNo statement agreement report was given for this release.\n"
                if "statements" in ctx.rows else "")
    parts = ["\n### Statements\n\nAgreement on grouping the gold quotes into statements (from `annotate statements "
             "agreement --json`): the first annotator's statements are the key, the second's the response; P and R "
             "swap with the order, F1 does not.\n"]
    for pair in report.pairs:
        ci = f"{report.confidence:.0%} CI ({pair.bootstrap_unit}s, n={pair.bootstrap_units})"
        rows = [[CLUSTER_METRIC_NAMES[f.metric], _fmt(f.precision), _fmt(f.recall), _fmt(f.value),
                 "" if f.ci_low is None or f.ci_high is None else f"[{_fmt(f.ci_low)}, {_fmt(f.ci_high)}]"]
                for f in pair.figures]
        parts.append(f"`{pair.annotators[0]}` vs `{pair.annotators[1]}`: {pair.stories} story(ies), {pair.renderings} "
                     f"renderings, {pair.statements[0]} vs {pair.statements[1]} statements.\n\n"
                     + _table(["metric", "P", "R", "F1 / value", ci], rows))
    return "\n".join(parts)


def _agreement(ctx: CardContext) -> str:
    if ctx.agreement is None:
        return "## Agreement\n\nNo agreement report was given for this release.\n" + _statement_agreement(ctx)
    ci_header = f"{ctx.agreement.confidence:.0%} CI"
    rows = [[r.metric, r.layer, _fmt(r.value), "" if r.ci is None else f"[{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]", r.n]
            for r in ctx.agreement.rows]
    return (
        "## Agreement\n\n"
        f"{_agreement_kind(ctx.provenance)} on the raw annotations, corpus level (from `{ctx.agreement.source}`, "
        "written by `annotate agreement --json`; bootstrap confidence intervals over articles; n = units the figure "
        "rests on):\n\n" + _table(["metric", "layer", "value", ci_header, "n"], rows) + _statement_agreement(ctx)
    )


def _agreement_kind(p: ProvenanceSummary) -> str:
    """Only annotators who could not see each other's work give an inter-annotator agreement figure."""
    if p.annotation_modes and set(p.annotation_modes) == {"blind"}:
        return "Inter-annotator agreement (every annotator worked blind)"
    if p.annotation_modes.get("shared"):
        return ("Agreement between annotators who worked in one shared project, where each could see the others' "
                "annotations: not an independent measurement,")
    return "Agreement (the documents do not record whether the annotators could see each other's work; see the notes)"


def _annotation_modes(p: ProvenanceSummary) -> str:
    said = {
        "blind": "blind: each annotator had a Label Studio server of their own and saw no one else's annotations",
        "shared": "shared: one Label Studio project, where every annotator could see the others' annotations",
        NOT_RECORDED: "not recorded in the documents (e.g. converted from a file)",
    }
    rows = [[said.get(mode, mode), n] for mode, n in sorted(p.annotation_modes.items())]
    return "### How the annotations were made\n\n" + _table(["mode", "raw documents"], rows) if rows else ""


def _targets(ctx: CardContext) -> str:
    t = ctx.targets
    return (
        "## Target inventory\n\n"
        f"Stance targets for *{t.event}* (inventory version {t.version}):\n\n"
        + _table(["target_id", "description"], [[f"`{x.id}`", x.description] for x in t.targets])
    )


def _provenance(ctx: CardContext) -> str:
    p = ctx.provenance
    annotators = [[name, n, p.gold_supporters.get(name, 0)] for name, n in sorted(p.annotator_documents.items())]
    annotators += [[name, 0, n] for name, n in sorted(p.gold_supporters.items()) if name not in p.annotator_documents]
    parts = [
        "## Provenance\n",
        f"- Built by news-attribution-annotate {p.tool_version}, schema version {p.schema_version} "
        f"(documents: {', '.join(sorted(p.document_schema_versions)) or 'none'}).",
        f"- Guidelines version {ctx.guidelines.version}; target inventory version {ctx.targets.version}.",
        f"- {p.articles} articles; {p.gold_documents} gold (adjudicated) documents; "
        f"{sum(p.annotator_documents.values())} raw annotator documents.\n",
        _annotation_modes(p),
        "### Annotators\n",
        _table(["annotator", "raw documents", "gold items supported"], annotators) if annotators
        else "No annotator is named in this release.\n",
        "### Sources\n",
    ]
    if p.articles <= SOURCES_LISTED:
        parts.append(_table(["article", "title", "outlet", "published", "url"],
                            [[f"`{s.id}`", s.title, s.outlet, s.published, s.url] for s in p.sources]))
    else:
        parts.append(f"{p.articles} articles; see the `articles` config for each one's title, outlet, date and URL. "
                     "Articles per outlet:\n\n" + _table(["outlet", "articles"], sorted(p.outlets.items())))
    return "\n".join(parts)


def _examples(changes: ConfigChanges) -> str:
    return "; ".join(f"{kind}: " + ", ".join(f"`{i}`" for i in ids)
                     + (" ..." if getattr(changes, kind) > len(ids) else "")
                     for kind, ids in changes.examples.items())


def _changelog(ctx: CardContext) -> str:
    parts = ["## Changelog\n"]
    for release in reversed(ctx.history.releases):
        against = f"against {release.previous}" if release.previous else "first release"
        parts.append(f"### {release.version} ({release.published_at.date().isoformat()})\n\n"
                     f"Fingerprint `{release.fingerprint}`; guidelines {release.guidelines_version}; {against}.\n")
        rows = []
        for config, c in release.changes.items():
            if c.added or c.removed or c.changed:
                shown = "(first release)" if release.previous is None else _examples(c)
                rows.append([f"`{config}`", c.added, c.removed, c.changed, shown])
        parts.append(_table(["config", "added", "removed", "changed", f"items (up to {EXAMPLES} per kind)"], rows)
                     if rows else "No changes.\n")
    parts.append("Every version's full item diff is in `.releases/<version>/diff.parquet` of the published folder.\n")
    return "\n".join(parts)


def render_card(ctx: CardContext) -> str:
    sections = [
        f"# {ctx.pretty_name}\n",
        _description(ctx),
        *([f"## Curators' notes\n\n{ctx.notes}\n"] if ctx.notes else []),
        _schema(),
        _guidelines(ctx),
        _agreement(ctx),
        _targets(ctx),
        _provenance(ctx),
        _changelog(ctx),
        f"## License\n\n{ctx.license}\n",
    ]
    return front_matter(ctx) + "\n".join(sections)
