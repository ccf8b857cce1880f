"""The static HTML report: escaping, disagreement marks against an independent count, and a real browser."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports.html_report import render_report
from schemas import AnnotatedDocument, Article, Claim, Entity, Mention, Provenance, Quote, Span, ToolkitError

SCREENSHOT = Path("/tmp/html_report_test.png")

HOSTILE = ('Putin said: "<script>alert(1)</script> troops & <b>bold</b> &amp; targets." Macron replied that '
           "Europe would decide. Zelensky said <img src=x onerror=alert(2)> nothing, and talks go on.")
PLAIN = "Peskov told reporters that the talks had stalled. Nobody else spoke."
EVE = "eve <eve@example.com>"  # annotator names are emails and need escaping too
NAMES = {"putin": 'Vladimir "V." Putin', "macron": "Emmanuel Macron", "zelensky": "Volodymyr Zelensky",
         "peskov": "Dmitry Peskov"}


def between(text: str, first: str, last: str) -> tuple[int, int]:
    start = text.index(first)
    return start, text.index(last, start) + len(last)


def word(text: str, w: str) -> tuple[int, int]:
    start = text.index(w)
    return start, start + len(w)


def build(annotator: str, article: Article, mentions=(), quotes=(), claims=()) -> AnnotatedDocument:
    """mentions [((s, e), entity)]; quotes [(kind, (s, e), cue (s, e) | None, speaker index | None)];
    claims [(s, e)]."""
    text = article.text
    ms = [Mention(id=f"m{i}", span=Span.of(text, *span), entity_id=e) for i, (span, e) in enumerate(mentions)]
    return AnnotatedDocument(
        article=article, provenance=Provenance(annotator=annotator),
        entities=[Entity(id=e, name=NAMES[e]) for e in sorted({m.entity_id for m in ms})], mentions=ms,
        quotes=[Quote(id=f"q{i}", kind=kind, content=[Span.of(text, *content)],
                      cue=Span.of(text, *cue) if cue else None,
                      speaker_mention_id=None if speaker is None else f"m{speaker}")
                for i, (kind, content, cue, speaker) in enumerate(quotes)],
        claims=[Claim(id=f"c{i}", span=Span.of(text, *span), check_worthy="yes") for i, span in enumerate(claims)],
    )


def fixture_docs() -> list[AnnotatedDocument]:
    hostile = Article.from_text("hostile", HOSTILE, title="<i>Title</i> & co")
    plain = Article.from_text("plain", PLAIN)
    lone = Article.from_text("lone", PLAIN + " Again.")
    t = HOSTILE
    said = ("direct", between(t, '"<script>', 'targets."'), word(t, "said"), 0)
    mentions = [(word(t, "Putin"), "putin"), (word(t, "Macron"), "macron")]
    a = build("a", hostile, mentions, [said, ("indirect", between(t, "Europe", "decide"), word(t, "replied"), 1)],
              [between(t, "talks", "go on")])
    # eve: an extra mention (unmatched), the same quote with another kind and a longer cue (differs), no claim.
    eve = build(EVE, hostile, [*mentions, (word(t, "Zelensky"), "zelensky")],
                [said, ("direct", between(t, "Europe", "decide"), between(t, "replied", "that"), 1)])
    p = PLAIN
    plain_spec = ([(word(p, "Peskov"), "peskov")], [("indirect", between(p, "the talks", "stalled"),
                                                      word(p, "told"), 0)])
    return [a, eve, build("a", plain, *plain_spec), build(EVE, plain, *plain_spec), build("a", lone, *plain_spec)]


def layer_units(doc: AnnotatedDocument) -> dict[str, list[tuple[int, int]]]:
    return {"content": [(s.start, s.end) for q in doc.quotes for s in q.content],
            "cue": [(q.cue.start, q.cue.end) for q in doc.quotes if q.cue],
            "mention": [(m.span.start, m.span.end) for m in doc.mentions],
            "claim": [(c.span.start, c.span.end) for c in doc.claims]}


def naive_unmatched(docs: list[AnnotatedDocument]) -> int | None:
    """Units that overlap no unit of the same layer of the article's other annotator. Exact when every article
    has at most two annotators and no unit overlaps two of the other's (then overlap alone decides a match);
    None otherwise."""
    by_article: dict[str, list[AnnotatedDocument]] = {}
    for doc in docs:
        by_article.setdefault(doc.article.id, []).append(doc)
    count = 0
    for pair in by_article.values():
        if len(pair) == 1:
            continue
        if len(pair) > 2:
            return None
        left, right = (layer_units(d) for d in pair)
        for layer in left:
            for mine, theirs in ((left[layer], right[layer]), (right[layer], left[layer])):
                for s, e in mine:
                    partners = sum(s < e2 and s2 < e for s2, e2 in theirs)
                    if partners > 1:
                        return None
                    count += partners == 0
    return count


def column_texts(page_html: str) -> list[str]:
    """The text of every annotator column, tags removed and entities decoded (what a browser shows)."""
    return [html.unescape(re.sub(r"<[^>]*>", "", inner))
            for inner in re.findall(r'<div class="text">(.*?)</div>', page_html, flags=re.S)]


def test_article_text_names_and_titles_are_escaped_never_markup():
    page = render_report(fixture_docs()).html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp;amp;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "&lt;i&gt;Title&lt;/i&gt; &amp; co" in page
    assert "eve &lt;eve@example.com&gt;" in page and "Vladimir &quot;V.&quot; Putin" in page
    assert re.search(r"<script|<img|<b>bold|<i>Title|<eve", page, flags=re.I) is None
    assert page.count("onerror") == page.count("&lt;img src=x onerror=alert(2)&gt;")  # only as text
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert re.search(r"(src|href)=\"(?!#)", page) is None  # no external assets: only in-page links


def test_disagreements_are_marked_as_an_independent_count_says():
    docs = fixture_docs()
    report = render_report(docs)
    expected = naive_unmatched(docs)
    assert expected == 2  # a's claim, eve's Zelensky mention
    assert report.unmatched == expected and report.html.count('class="flag unmatched"') == expected
    # The second quote's kind and cue boundaries differ: one quote group and one cue group, both annotators.
    assert report.differing == 2 and report.html.count('class="flag differs"') == 4
    hostile, lone, plain = report.articles
    assert hostile.unmatched == {"a": 1, EVE: 1} and plain.unmatched == {"a": 0, EVE: 0}
    assert lone.annotators == ["a"] and lone.unmatched == {"a": 0} and lone.differing == 0
    assert hostile.units[EVE] == {"quote content": 2, "cue": 2, "mention": 3, "claim": 0}
    assert "differs: kind" in report.html and "differs: span" in report.html


def test_every_column_shows_exactly_its_article_text():
    docs = fixture_docs()
    texts = column_texts(render_report(docs).html)
    assert texts == [HOSTILE, HOSTILE, PLAIN + " Again.", PLAIN, PLAIN]  # articles by id, annotators sorted


WORDS = [m.span() for m in re.finditer(r"\w+", HOSTILE)]


@st.composite
def annotations(draw):
    def spans(n):
        cuts = sorted(draw(st.sets(st.integers(0, len(WORDS) - 1), max_size=2 * n)))
        return [(WORDS[x][0], WORDS[y][1]) for x, y in zip(cuts[::2], cuts[1::2])]

    words = draw(st.lists(st.integers(0, len(WORDS) - 1), unique=True, max_size=4))
    mentions = [(WORDS[w], draw(st.sampled_from(sorted(NAMES)))) for w in words]
    quotes = [(draw(st.sampled_from(["direct", "indirect"])), span, draw(st.none() | st.sampled_from(WORDS)),
               draw(st.none() | st.integers(0, len(mentions) - 1)) if mentions else None) for span in spans(3)]
    return mentions, quotes, spans(2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(annotations(), min_size=1, max_size=3))
def test_random_annotations_keep_the_text_and_flag_every_unmatched_unit(specs):
    article = Article.from_text("hostile", HOSTILE)
    docs = [build(f"ann{i}", article, *spec) for i, spec in enumerate(specs)]
    report = render_report(docs)
    assert column_texts(report.html) == [HOSTILE] * len(docs)
    assert report.html.count('class="flag unmatched"') == report.unmatched
    units = sum(len(v) for d in docs for v in layer_units(d).values())
    assert report.unmatched <= units
    if len(docs) == 1:
        assert report.unmatched == 0 and report.differing == 0
    expected = naive_unmatched(docs)
    if expected is not None:
        assert report.unmatched == expected


def run_cli(*argv: str) -> int:
    import sys

    from annotate.cli import main

    old, sys.argv = sys.argv, ["annotate", *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    return exit_info.value.code or 0


def test_cli_writes_the_report(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(d.model_dump_json() + "\n" for d in fixture_docs()), encoding="utf-8")
    out = tmp_path / "report.html"
    assert run_cli("report-html", str(docs), "--out", str(out)) == 0
    assert "3 articles, 2 unmatched units, 2 attribute differences" in capsys.readouterr().out
    assert column_texts(out.read_text(encoding="utf-8"))[0] == HOSTILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs.jsonl", "report.html"]
    # The same page from `annotate agreement --html`.
    beside = tmp_path / "agreement.html"
    assert run_cli("agreement", str(docs), "--resamples", "20", "--html", str(beside)) == 0
    assert f"HTML report written to {beside}" in capsys.readouterr().out
    assert beside.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_nothing_to_show_is_an_error():
    doc = build("gold", Article.from_text("x", PLAIN)).model_copy(
        update={"provenance": Provenance(annotator="gold", origin="gold")})
    with pytest.raises(ToolkitError, match="no annotator documents to show"):
        render_report([doc])


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed")
def test_the_report_renders_in_chromium_and_runs_nothing(tmp_path):
    from playwright.sync_api import sync_playwright

    docs = fixture_docs()
    path = tmp_path / "report.html"
    path.write_text(render_report(docs).html, encoding="utf-8")
    dialogs, requests, errors = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            columns = page.locator(".column .text")
            shown = [columns.nth(i).inner_text() for i in range(columns.count())]
            assert shown == [HOSTILE, HOSTILE, PLAIN + " Again.", PLAIN, PLAIN]
            literal = page.get_by_text("<script>alert(1)</script>", exact=False).first
            assert literal.is_visible()
            assert page.locator(".column .flag.unmatched").count() == naive_unmatched(docs)
            assert page.locator(".column .flag.differs").count() == 4
            assert page.locator(".column .s-unmatched").first.is_visible()
            badge = page.locator(".column .flag.unmatched").first
            assert badge.bounding_box()["width"] > 0  # the badge is drawn though it holds no text
            assert page.evaluate("document.querySelectorAll('script, img, iframe, object').length") == 0
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert dialogs == [] and errors == []
    assert requests == [path.as_uri()]  # nothing fetched but the page itself
    assert SCREENSHOT.stat().st_size > 10_000
