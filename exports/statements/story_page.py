"""The story page: a static HTML page of a collection's statements, each rendered outlet by outlet.

One section per story (in the order the report first names it). In each, the statements with two or
more renderings come first, one block each: gloss, speaker, occasion and reference, then a table with
one column per article of the story (in the order of ``articles``, headed by outlet, title and id) whose
cell holds that article's renderings of the statement, or says that the article does not report it.
Each rendering shows its kind, fidelity class and meaning-changed flag, and its words marked against the
statement's reference (``exports.statements.fidelity_view.align``): dropped words struck through, added
words highlighted, changed words as the reference's struck through beside the outlet's highlighted.
The statements with a single rendering follow in one compact table.

The page follows ``exports.html_report``: self-contained (inline CSS, no scripts, a Content-Security-Policy
forbidding both), every piece of text escaped, and deterministic (the same report and articles give the
same bytes: nothing depends on the clock or on set order).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from exports.html_report import esc, page_start
from exports.statements.fidelity_view import FidelityReport, RenderingView, StatementView, WordChange
from schemas import Article, ToolkitError
from schemas.files import write_atomically

TITLE = "Statements across outlets"

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #111827; background: #f9fafb; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.2rem; margin: 0 0 .3rem; } h3 { font-size: 1.02rem; margin: 0 0 .2rem; }
section.story { margin: 1.5rem 0 2.5rem; }
.statement { background: #fff; border: 1px solid #d1d5db; border-radius: 8px; padding: .8rem 1rem; margin: 1rem 0; }
.meta { margin: 0 0 .5rem; color: #374151; } .meta b { color: #111827; }
.muted { color: #6b7280; } small { font-size: .8rem; }
table { border-collapse: collapse; width: 100%; }
table.outlets { table-layout: fixed; }
th, td { border: 1px solid #e5e7eb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: normal; overflow-wrap: anywhere; }
th .name { font-weight: 600; display: block; } th .title { font-style: italic; display: block; }
td.none { background: repeating-linear-gradient(45deg, #f9fafb 0 6px, #f3f4f6 6px 12px); color: #6b7280; }
.rendering + .rendering { border-top: 1px dashed #d1d5db; margin-top: .5rem; padding-top: .5rem; }
.rendering.reference { outline: 2px solid #2563eb; outline-offset: 2px; border-radius: 4px; }
.badges { margin-bottom: .25rem; }
.badge { display: inline-block; font-size: .75rem; border-radius: 8px; padding: 0 .4rem; margin: 0 .2rem .15rem 0;
         background: #e5e7eb; white-space: nowrap; }
.badge.ref { background: #2563eb; color: #fff; }
.f-verbatim { background: #bbf7d0; } .f-excerpt { background: #bae6fd; }
.f-variant { background: #fde68a; } .f-paraphrase { background: #e9d5ff; }
.m-changed { background: #dc2626; color: #fff; font-weight: 600; } .m-kept { background: #dcfce7; }
.m-unjudged { background: #f3f4f6; color: #6b7280; }
.words { font: 15px/1.7 Georgia, serif; overflow-wrap: anywhere; }
.w-dropped { text-decoration: line-through #b91c1c 2px; color: #b91c1c; background: #fee2e2; }
.w-added { text-decoration: none; background: #bbf7d0; color: #14532d; }
.w-changed { background: #fef3c7; border-bottom: 2px solid #d97706; }
.w-changed .w-was { text-decoration: line-through #92400e 1.5px; color: #92400e; font-size: .9em; }
.w-changed .w-now { background: #fde68a; }
details { margin-top: .25rem; font-size: .85rem; color: #374151; } summary { color: #6b7280; cursor: default; }
.legend span { margin-right: .8rem; padding: 0 .2rem; }
table.singles td.words { font-size: 14px; }
"""


def render_story_page(report: FidelityReport, articles: dict[str, Article], *, title: str = TITLE) -> str:
    """The page for ``report``; ``articles`` by id, in the order their columns are shown (the gold's order).

    A rendering whose article is not in ``articles`` is a ``ToolkitError``: the report was made on other gold.
    """
    stories: dict[str | None, list[StatementView]] = {}
    for s in report.statements:
        stories.setdefault(s.story, []).append(s)
    for s in report.statements:
        for r in s.renderings:
            if r.article_id not in articles:
                raise ToolkitError(f"statement {s.id!r}: rendering {r.key!r} is in article {r.article_id!r}, which "
                                   "is not among the articles given; pass the gold the statements were linked on")
    sections = [_story_section(n, story, statements, articles) for n, (story, statements) in enumerate(stories.items())]
    linked = sum(len(s.renderings) > 1 for s in report.statements)
    contents = "".join(
        f'<li><a href="#story-{n}">{_story_name(story)}</a> <span class="muted">{len(statements)} statements, '
        f"{sum(len(s.renderings) > 1 for s in statements)} reported more than once</span></li>"
        for n, (story, statements) in enumerate(stories.items()))
    return page_start(title, CSS) + f"""\
<p>{len(stories)} {_plural(len(stories), "story", "stories")}, {len(report.statements)} statements
({linked} rendered two or more times), {sum(len(s.renderings) for s in report.statements)} renderings.
Each rendering's words are compared with its statement's <b>reference</b>, the fullest direct rendering
(outlined in blue); report version {esc(report.report_version)}.</p>
<p class="legend">Words: <span>kept</span><del class="w-dropped">dropped from the reference</del>
<ins class="w-added">added by the outlet</ins>
<span class="w-changed"><del class="w-was">reference's words</del> <span class="w-now">changed into these</span></span>
Fidelity: <span class="badge f-verbatim">verbatim</span><span class="badge f-excerpt">excerpt</span>
<span class="badge f-variant">variant</span><span class="badge f-paraphrase">paraphrase</span>
Annotators' flag: <span class="badge m-changed">meaning changed</span></p>
<ol class="contents">{contents}</ol>
{"".join(sections)}
</body>
</html>
"""


def write_story_page(path: Path, report: FidelityReport, articles: dict[str, Article], *, title: str = TITLE) -> None:
    """Write the page to ``path``, all or nothing."""
    write_atomically(Path(path), render_story_page(report, articles, title=title))


def _story_section(n: int, story: str | None, statements: list[StatementView], articles: dict[str, Article]) -> str:
    rendered = {r.article_id for s in statements for r in s.renderings}
    # The story's articles, and (in a collection without story labels) the ones its statements quote.
    columns = [a for a in articles.values() if (story is not None and a.story == story) or a.id in rendered]
    linked = [s for s in statements if len(s.renderings) > 1]
    singles = [s for s in statements if len(s.renderings) == 1]
    parts = [f'<section class="story" id="story-{n}">', f"<h2>{_story_name(story)}</h2>",
             f'<p class="muted">{len(columns)} {_plural(len(columns), "article", "articles")}; '
             f"{len(linked)} statements rendered two or more times, {len(singles)} rendered once.</p>"]
    parts += [_statement_block(f"statement-{n}-{m}", s, columns) for m, s in enumerate(linked)]
    if singles:
        heads = "".join(f"<th>{h}</th>" for h in ("statement", "speaker", "occasion", "article", "rendering"))
        rows = "".join(_single_row(f"statement-{n}-{len(linked) + m}", s, articles) for m, s in enumerate(singles))
        parts.append(f'<h3>Rendered once</h3><table class="singles"><tr>{heads}</tr>{rows}</table>')
    parts.append("</section>")
    return "\n".join(parts)


def _statement_block(anchor: str, s: StatementView, columns: list[Article]) -> str:
    outlets = len({r.article_id for r in s.renderings})
    reference = next(r for r in s.renderings if r.is_reference)
    heads = "".join(f'<th class="outlet">{_article_head(a)}</th>' for a in columns)
    cells = []
    for a in columns:
        mine = [r for r in s.renderings if r.article_id == a.id]
        cells.append(f"<td>{''.join(_rendering(r) for r in mine)}</td>" if mine
                     else '<td class="none">not reported</td>')
    return (f'<div class="statement" id="{anchor}"><h3>{esc(s.gloss)}</h3>'
            f'<p class="meta">{_meta(s)} · reported by <b>{outlets}</b> of {len(columns)} articles · '
            f"reference: <b>{esc(reference.outlet or reference.article_id)}</b> "
            f'<span class="muted">{esc(reference.key)}</span></p>'
            f'<table class="outlets"><tr>{heads}</tr><tr>{"".join(cells)}</tr></table></div>')


def _single_row(anchor: str, s: StatementView, articles: dict[str, Article]) -> str:
    r = s.renderings[0]
    return (f'<tr id="{anchor}"><td><b>{esc(s.gloss)}</b><br><small class="muted">{esc(s.id)}</small></td>'
            f"<td>{esc(s.speaker)}</td><td>{esc(s.occasion or '')}</td>"
            f"<td>{_article_head(articles[r.article_id])}</td><td>{_badges(r)}"
            f'<div class="words">{esc(r.text)}</div></td></tr>')


def _meta(s: StatementView) -> str:
    occasion = f" · <b>occasion</b> {esc(s.occasion)}" if s.occasion else ""
    return f'<b>speaker</b> {esc(s.speaker)}{occasion} · <span class="muted">{esc(s.id)}</span>'


def _article_head(a: Article) -> str:
    name = f'<span class="name">{esc(a.outlet)}</span>' if a.outlet else ""
    title = f'<span class="title">{esc(a.title)}</span>' if a.title else ""
    return f'{name}{title}<small class="muted">{esc(a.id)}</small>'


def _rendering(r: RenderingView) -> str:
    counts = "" if r.is_reference else (
        f'<span class="badge" title="words dropped / added / changed against the reference">'
        f"−{r.dropped} +{r.added} ~{r.changed}</span>")
    return (f'<div class="rendering{" reference" if r.is_reference else ""}">{_badges(r)}{counts}'
            f'<div class="words">{marked_words(r.alignment)}</div>'
            f"<details><summary>as printed · {esc(r.key)}</summary>{esc(r.text)}</details></div>")


def _badges(r: RenderingView) -> str:
    meaning = {True: ("m-changed", "meaning changed"), False: ("m-kept", "meaning kept"),
               None: ("m-unjudged", "meaning not judged")}[r.changes_meaning]
    ref = '<span class="badge ref">reference</span>' if r.is_reference else ""
    return (f'<div class="badges">{ref}<span class="badge">{esc(r.kind.value)}</span>'
            f'<span class="badge f-{esc(r.fidelity.value)}">{esc(r.fidelity.value)}</span>'
            f'<span class="badge {meaning[0]}">{meaning[1]}</span></div>')


def marked_words(alignment: Iterable[WordChange]) -> str:
    """The rendering's words as HTML, marked against the reference (the classes of the legend)."""
    out = []
    for c in alignment:
        ref, own = esc(" ".join(c.reference)), esc(" ".join(c.rendering))
        if c.op == "equal":
            out.append(own)
        elif c.op == "dropped":
            out.append(f'<del class="w-dropped">{ref}</del>')
        elif c.op == "added":
            out.append(f'<ins class="w-added">{own}</ins>')
        else:
            out.append(f'<span class="w-changed"><del class="w-was">{ref}</del> <span class="w-now">{own}</span>'
                       "</span>")
    return " ".join(out)


def _story_name(story: str | None) -> str:
    return esc(story) if story is not None else "Collection without story labels"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
