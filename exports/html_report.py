"""A static HTML page for adjudicators: per article, each annotator's spans side by side, disagreements marked.

One column per annotator shows the article text with the layers colour-coded (quote content,
cue, mention, claim; each layer its own visual channel, so overlapping layers stay visible).
Units are grouped across annotators exactly as adjudication groups them (``exports.adjudication.
groups.group_units`` over the comparison core); a unit is

- *unmatched* when its group lacks one of the article's annotators (or holds two units of one):
  red hatching and a red ✗ badge;
- *differing* when every annotator marked it but an attribute differs (boundaries, kind, cue,
  speaker, stance, entity, check-worthiness, claimant): amber dashes and a ≠ badge.

Each article has a summary (units per annotator, unmatched, differing) and a table of its
disagreements with every annotator's values. The page is self-contained: inline CSS, no
scripts, no external assets, and a Content-Security-Policy that forbids both; every piece of
article text, name and value is HTML-escaped, so an article is never interpreted as markup.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from exports.adjudication.groups import ATTRIBUTES, UnitView, group_units
from exports.compare import NO_VALUE, Boundary, Layer
from exports.corpus import Corpus
from schemas import AnnotatedDocument, ToolkitError

# Report layers in display order, with the CSS class and the name shown to people.
LAYERS = {Layer.QUOTE: ("content", "quote content"), Layer.CUE: ("cue", "cue"),
          Layer.MENTION: ("mention", "mention"), Layer.CLAIM: ("claim", "claim")}
UNMATCHED, DIFFERS, AGREED, SINGLE = "unmatched", "differs", "agreed", "single"

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #111827; background: #f9fafb; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin: 0 0 .4rem; }
section.article { background: #fff; border: 1px solid #d1d5db; border-radius: 8px; padding: 1rem; margin: 1.2rem 0; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; }
th, td { border: 1px solid #e5e7eb; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: #b91c1c; font-weight: 600; } td.warn { color: #b45309; font-weight: 600; }
.columns { display: grid; gap: 1rem; }
.column h3 { font-size: .95rem; margin: 0 0 .3rem; }
.text { white-space: pre-wrap; font: 15px/1.9 Georgia, serif; border: 1px solid #e5e7eb; padding: .6rem;
        border-radius: 6px; background: #fff; overflow-wrap: anywhere; }
.l-content { background: #dbeafe; }
.l-cue { background: #fde68a; font-weight: 600; }
.l-mention { border-bottom: 3px solid #16a34a; }
.l-claim { text-decoration: underline wavy #9333ea; text-decoration-skip-ink: none; text-underline-offset: 6px; }
.s-unmatched { outline: 2px solid #dc2626; outline-offset: -1px;
               background-image: repeating-linear-gradient(45deg, rgba(220,38,38,.22) 0 4px, transparent 4px 8px); }
.s-differs { outline: 2px dashed #d97706; outline-offset: -1px; }
.flag::before, .flag-sample::before { display: inline-block; font: bold 11px/1 system-ui, sans-serif; color: #fff;
    border-radius: 8px; padding: 2px 4px; margin: 0 1px; vertical-align: super; }
.unmatched.flag::before, .unmatched.flag-sample::before { content: "\\2717"; background: #dc2626; }
.differs.flag::before, .differs.flag-sample::before { content: "\\2260"; background: #d97706; }
.legend span.chip { padding: 0 .3rem; margin-right: .6rem; }
.muted { color: #6b7280; }
"""
# No scripts, no fetches: only the inline style above may apply.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def page_start(title: str, css: str) -> str:
    """The opening of a self-contained page: the Content-Security-Policy that forbids scripts and outside
    requests, the inline stylesheet, and the title as the heading (escaped)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{css}</style>
</head>
<body>
<h1>{esc(title)}</h1>
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class _Mark:
    """One annotator's unit in their column."""

    layer: Layer
    status: str
    segments: list[tuple[int, int]]
    title: str


@dataclass(frozen=True)
class ArticleSummary:
    article_id: str
    annotators: list[str]
    units: dict[str, dict[str, int]]  # annotator -> layer name -> units
    unmatched: dict[str, int]  # annotator -> their units nobody else (not everybody) marked
    differing: int  # groups every annotator marked with an attribute that differs
    groups: int


@dataclass(frozen=True)
class HtmlReport:
    html: str
    articles: list[ArticleSummary]

    @property
    def unmatched(self) -> int:
        return sum(sum(a.unmatched.values()) for a in self.articles)

    @property
    def differing(self) -> int:
        return sum(a.differing for a in self.articles)


def _segments(doc: AnnotatedDocument, view: UnitView) -> list[tuple[int, int]]:
    if view.layer is Layer.QUOTE:
        quote = next(q for q in doc.quotes if q.id == view.ref)
        return [(s.start, s.end) for s in quote.content]
    return [(view.start, view.end)]


def _differences(group: list[UnitView]) -> list[str]:
    return [name for name in ATTRIBUTES[group[0].layer] if len({v.values[name] for v in group}) > 1]


def _status(group: list[UnitView], annotators: list[str]) -> str:
    if len(annotators) < 2:
        return SINGLE
    marked = [v.annotator for v in group]
    if len(set(marked)) < len(marked) or len(marked) < len(annotators):
        return UNMATCHED
    return DIFFERS if _differences(group) else AGREED


def _value(text: str, names: dict[str, str], name: str, value: str) -> str:
    """A value for people: texts instead of offsets, names instead of entity ids."""
    if value == NO_VALUE:
        return "(none)"
    if name in ("span", "cue"):
        pieces = [text[int(s) : int(e)] for s, e in (p.split("-") for p in value.split("+"))]
        return " … ".join(f"“{p if len(p) <= 90 else p[:89] + '…'}”" for p in pieces)
    if name in ("entity", "speaker", "claimant"):
        return names.get(value, value)
    return value


def _column(text: str, marks: list[_Mark]) -> str:
    """The text with every mark: pieces between span boundaries carry the classes of the marks covering them;
    a badge (an empty element drawn by CSS, so it adds no text) stands where each disagreeing unit begins."""
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for m, mark in enumerate(marks):
        for s, e in mark.segments:
            starts.setdefault(s, []).append(m)
            ends.setdefault(e, []).append(m)
    flags: dict[int, list[_Mark]] = {}
    for mark in marks:
        if mark.status in (UNMATCHED, DIFFERS):
            flags.setdefault(mark.segments[0][0], []).append(mark)
    cuts = sorted({0, len(text), *starts, *ends})
    active: Counter[int] = Counter()
    out = []
    for p, q in zip(cuts, cuts[1:]):
        for m in ends.get(p, []):
            active[m] -= 1
        for m in starts.get(p, []):
            active[m] += 1
        out += [f'<span class="flag {mark.status}" title="{esc(mark.title)}"></span>' for mark in flags.get(p, [])]
        covering = [marks[m] for m, n in active.items() if n > 0]
        piece = esc(text[p:q])
        if not covering:
            out.append(piece)
            continue
        classes = sorted({f"l-{LAYERS[c.layer][0]}" for c in covering}
                         | {f"s-{c.status}" for c in covering if c.status in (UNMATCHED, DIFFERS)})
        title = "\n".join(c.title for c in covering)
        out.append(f'<span class="{" ".join(classes)}" title="{esc(title)}">{piece}</span>')
    return "".join(out)


def _problem(status: str, group: list[UnitView], annotators: list[str]) -> str:
    marked = sorted({v.annotator for v in group})
    if status == UNMATCHED:
        return f"marked by {', '.join(marked)} only" if len(marked) < len(annotators) else "marked twice by one"
    return f"differs in {', '.join(_differences(group))}" if status == DIFFERS else ""


def _disagreement_row(layer_name: str, status: str, group: list[UnitView], annotators: list[str], show) -> str:
    """One table row: the layer, what is wrong, where, and each annotator's values (the ones that matter)."""
    differences = _differences(group)
    names = ["span", *(n for n in (differences if status == DIFFERS else ATTRIBUTES[group[0].layer]) if n != "span")]
    cells = []
    for annotator in annotators:
        mine = [v for v in group if v.annotator == annotator]
        shown = "<br>".join(esc("; ".join(f"{n}: {show(n, v.values[n])}" for n in names)) for v in mine)
        cells.append(f"<td>{shown or '<span class=muted>—</span>'}</td>")
    what = "unmatched" if status == UNMATCHED else "differs: " + ", ".join(differences)
    where = show("span", f"{min(v.start for v in group)}-{max(v.end for v in group)}")
    return (f'<tr><td>{esc(layer_name)}</td><td class="{"bad" if status == UNMATCHED else "warn"}">{esc(what)}</td>'
            f"<td>{esc(where)}</td>{''.join(cells)}</tr>")


def _article_section(n: int, docs: list[AnnotatedDocument], doc_base: int,
                     groups: dict[Layer, list[list[UnitView]]]) -> tuple[str, ArticleSummary]:
    article = docs[0].article
    annotators = [d.provenance.annotator for d in docs]
    entity_names = {e.id: e.name for d in docs for e in d.entities}

    def show(name: str, value: str) -> str:
        return _value(article.text, entity_names, name, value)

    marks: dict[str, list[_Mark]] = {a: [] for a in annotators}
    units = {a: dict.fromkeys((name for _, name in LAYERS.values()), 0) for a in annotators}
    unmatched = dict.fromkeys(annotators, 0)
    rows, differing, total = [], 0, 0
    for layer, (_, layer_name) in LAYERS.items():
        for group in groups[layer]:
            status = _status(group, annotators)
            total, differing = total + 1, differing + (status == DIFFERS)
            problem = _problem(status, group, annotators)
            for view in group:
                units[view.annotator][layer_name] += 1
                unmatched[view.annotator] += status == UNMATCHED
                values = "; ".join(f"{k} {show(k, v)}" for k, v in view.values.items() if k != "span")
                title = " - ".join(filter(None, [f"{layer_name} {view.ref} ({view.annotator})", values, problem]))
                marks[view.annotator].append(_Mark(layer, status, _segments(docs[view.doc - doc_base], view), title))
            if status in (UNMATCHED, DIFFERS):
                rows.append(_disagreement_row(layer_name, status, group, annotators, show))

    layer_heads = "".join(f"<th>{esc(name)}</th>" for _, name in LAYERS.values())
    count_rows = "".join(
        f"<tr><th>{esc(a)}</th>" + "".join(f'<td class="n">{units[a][name]}</td>' for _, name in LAYERS.values())
        + f'<td class="n{" bad" if unmatched[a] else ""}">{unmatched[a]}</td></tr>' for a in annotators)
    columns = "".join(f'<div class="column"><h3>{esc(a)}</h3><div class="text">{_column(article.text, marks[a])}'
                      "</div></div>" for a in annotators)
    grid = f"grid-template-columns: repeat({len(annotators)}, minmax(0, 1fr))"
    plural = "s" if len(annotators) != 1 else ""
    parts = [
        f'<section class="article" id="article-{n}">',
        f"<h2>{esc(article.id)}{' - ' + esc(article.title) if article.title else ''}</h2>",
        f'<p class="summary">{len(annotators)} annotator{plural}; {total} unit groups; '
        f"<b>{sum(unmatched.values())}</b> unmatched units; <b>{differing}</b> groups with differing attributes"
        + (" (one annotator: nothing to compare)" if len(annotators) < 2 else "") + "</p>",
        f'<table class="counts"><tr><th>annotator</th>{layer_heads}<th>unmatched</th></tr>{count_rows}</table>',
        f'<div class="columns" style="{grid}">{columns}</div>',
    ]
    if rows:
        heads = "".join(f"<th>{esc(a)}</th>" for a in annotators)
        parts.append(f'<h3>Disagreements</h3><table class="disagreements"><tr><th>layer</th><th>what</th>'
                     f'<th>where</th>{heads}</tr>{"".join(rows)}</table>')
    parts.append("</section>")
    return "\n".join(parts), ArticleSummary(article.id, annotators, units, unmatched, differing, total)


def render_report(docs: Sequence[AnnotatedDocument], *, boundary: Boundary = Boundary.OVERLAP,
                  where: Sequence[str] | None = None, title: str = "Annotator disagreements") -> HtmlReport:
    """The page for ``docs`` (annotators' documents, any order; gold and predictions are left out)."""
    corpus = Corpus.of(docs, where)
    if not corpus.docs:
        raise ToolkitError("no annotator documents to show (all are gold or predictions); pass the JSONL of a pull")
    grouped = {layer: group_units(corpus, layer, boundary) for layer in LAYERS}
    sections, summaries = [], []
    for a in range(len(corpus.article_ids)):
        section, summary = _article_section(a, corpus.article_docs(a), int(corpus.offsets[a]),
                                            {layer: grouped[layer][a] for layer in LAYERS})
        sections.append(section)
        summaries.append(summary)
    total_unmatched = sum(sum(s.unmatched.values()) for s in summaries)
    contents = "".join(
        f'<li><a href="#article-{n}">{esc(s.article_id)}</a> <span class="muted">{sum(s.unmatched.values())} '
        f"unmatched, {s.differing} differing</span></li>" for n, s in enumerate(summaries))
    legend = "".join(f'<span class="chip l-{css}">{esc(name)}</span>' for css, name in LAYERS.values())
    page = page_start(title, CSS) + f"""\
<p>{len(summaries)} articles, {len(corpus.docs)} documents by {len({d.provenance.annotator for d in corpus.docs})}
annotators; units matched with {esc(boundary.value)} boundaries. <b>{total_unmatched}</b> unmatched units,
<b>{sum(s.differing for s in summaries)}</b> groups with differing attributes.</p>
<p class="legend">Layers: {legend}
Disagreements: <span class="chip s-unmatched"><span class="unmatched flag-sample"></span> not marked by every
annotator</span> <span class="chip s-differs"><span class="differs flag-sample"></span> attributes differ</span>
(hover a span for its values)</p>
<ol class="contents">{contents}</ol>
{"".join(sections)}
</body>
</html>
"""
    return HtmlReport(page, summaries)
