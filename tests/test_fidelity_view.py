"""The fidelity view on the seed gold: the reference, the word alignment (worked out by hand from the LCS),
the counts, the JSON round trip, the terminal table, and the story page (escaping, one column per article,
the same bytes twice, dropped words struck through); and the alignment's invariants on random word lists."""

from __future__ import annotations

import dataclasses
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from exports.statements.fidelity_view import (
    FidelityReport,
    WordChange,
    align,
    fidelity_report,
    print_fidelity,
    reference_of,
    statement_view,
)
from exports.statements.story_page import CSS, render_story_page, write_story_page
from schemas import ToolkitError
from schemas.documents import read_documents
from schemas.paths import REPO_ROOT
from schemas.quote_mentions import quote_mentions, words_of
from schemas.statements import Fidelity, Rendering, Statement, StatementDocument, check_against_quotes

GOLD = read_documents([REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"])
STORY = "eef-2025-09-05-foreign-troops"
MENTIONS = {m.key: m for m in quote_mentions(GOLD)}
ARTICLES = {d.article.id: d.article for d in GOLD}
A, B, C, D = "000_77ccc7b56971afc5", "001_2d7e49398b561f7e", "002_b85bb421de1e3324", "003_e83bb071d895df33"
TARGETS = [f"{A}/q1", f"{A}/q2", f"{B}/q1", f"{B}/q2", f"{B}/q3", f"{C}/q1", f"{C}/q2", f"{D}/q3"]
NO_POINT = [f"{A}/q3", f"{B}/q9", f"{D}/q6"]
HOSTILE_GLOSS = "Troops would be <script>alert(1)</script> legitimate targets & more"


def statement(id: str, keys: list[str], gloss: str, changed: frozenset[str] = frozenset()) -> Statement:
    renderings = [Rendering(article_id=k.split("/")[0], quote_id=k.split("/")[1], changes_meaning=k in changed)
                  for k in keys]
    return Statement(id=id, story=STORY, speaker_entity_id="vladimir-putin", gloss=gloss,
                     occasion="Eastern Economic Forum, 5 September 2025", renderings=renderings)


def document() -> StatementDocument:
    # The single-rendering statement comes first here; the page must still show it after the linked ones.
    return StatementDocument(story=STORY, provenance={"annotator": "a"}, statements=[
        statement("guarantees", [f"{C}/q3"], "Peace guarantees must cover both Russia and Ukraine"),
        statement("targets", TARGETS, HOSTILE_GLOSS, changed=frozenset({f"{A}/q1"})),
        statement("no-point", NO_POINT, "No point in foreign troops once peace is reached"),
    ])


def report() -> FidelityReport:
    doc = document()
    check_against_quotes(doc, GOLD)
    return fidelity_report([doc], MENTIONS)


def runs(alignment: list[WordChange]) -> list[tuple[str, str, str]]:
    return [(c.op, " ".join(c.reference), " ".join(c.rendering)) for c in alignment]


def view(rep: FidelityReport, statement_id: str):
    return next(s for s in rep.statements if s.id == statement_id)


def test_the_reference_is_the_fullest_direct_rendering() -> None:
    # Direct renderings of "legitimate targets": 000/q2 23 words, 001/q3 23, 002/q2 20, 003/q3 46 (003 prints
    # the sentence before as well); 000/q1 has 25 words but is mixed, so it cannot be the reference.
    rep = report()
    assert view(rep, "targets").reference == f"{D}/q3"
    # "no point": 000/q3 and 003/q6 28 words each, 001/q9 29 (it ends in "full stop").
    assert view(rep, "no-point").reference == f"{B}/q9"
    assert [r.key for r in view(rep, "no-point").renderings if r.is_reference] == [f"{B}/q9"]
    # No direct rendering is longer than the one chosen, whatever the seed says.
    for s in rep.statements:
        ref = MENTIONS[s.reference]
        assert ref.is_direct
        assert all(len(MENTIONS[r.key].words) <= len(ref.words) for r in s.renderings if r.kind.value == "direct")


def test_reference_prefers_direct_and_the_earliest_on_a_tie() -> None:
    indirect = MENTIONS[f"{B}/q2"]  # 19 words, indirect
    short = MENTIONS[f"{C}/q2"]  # 20 words, direct
    assert reference_of([indirect, short]).key == short.key
    assert reference_of([MENTIONS[f"{D}/q6"], MENTIONS[f"{A}/q3"]]).key == f"{D}/q6"  # 28 words each
    assert reference_of([indirect]).key == indirect.key  # no direct rendering: the fullest one


def test_the_same_translation_aligns_as_one_equal_run() -> None:
    alignment = align(MENTIONS[f"{A}/q3"], MENTIONS[f"{D}/q6"])
    assert [c.op for c in alignment] == ["equal"]
    assert alignment[0].reference == alignment[0].rendering == list(alignment[0].reference)
    assert len(alignment[0].reference) == 28  # 000 ends in "," and 003 in ".": punctuation is no word


def test_another_translation_shows_its_changed_words() -> None:
    # 000: "... then there is no point in the presence of foreign troops on the territory of Ukraine,"
    # 001: "... then I simply do not see any sense in their presence on the territory of Ukraine, full stop,"
    # The longest common subsequence keeps "in" and "presence", so "there is no point in the" is no single
    # change: "there is no point" -> "I simply do not see any sense", "in" kept, "the" -> "their".
    alignment = align(MENTIONS[f"{A}/q3"], MENTIONS[f"{B}/q9"])
    assert runs(alignment) == [
        ("equal", "If decisions are reached that", "If decisions are reached that"),
        ("dropped", "will", ""),
        ("equal", "lead to peace to long-term peace then", "lead to peace to long-term peace then"),
        ("changed", "there is no point", "I simply do not see any sense"),
        ("equal", "in", "in"),
        ("changed", "the", "their"),
        ("equal", "presence", "presence"),
        ("dropped", "of foreign troops", ""),
        ("equal", "on the territory of Ukraine", "on the territory of Ukraine"),
        ("added", "", "full stop"),
    ]
    # The LCS is unique here, so the other direction is the mirror image: dropped and added swap sides.
    mirror = {"dropped": "added", "added": "dropped", "equal": "equal", "changed": "changed"}
    assert runs(align(MENTIONS[f"{B}/q9"], MENTIONS[f"{A}/q3"])) == [
        (mirror[op], own, ref) for op, ref, own in runs(alignment)]


def test_counts_are_the_words_in_the_runs() -> None:
    rep = report()
    for s in rep.statements:
        for r in s.renderings:
            assert r.dropped == sum(len(c.reference) for c in r.alignment if c.op == "dropped")
            assert r.added == sum(len(c.rendering) for c in r.alignment if c.op == "added")
            assert r.changed == sum(len(c.reference) for c in r.alignment if c.op == "changed")
            if r.is_reference:
                assert (r.dropped, r.added, r.changed) == (0, 0, 0)
    # 000/q3 against the reference 001/q9 (the mirror of the alignment above): "full stop" dropped;
    # "will" and "of foreign troops" added; "I simply do not see any sense" and "their" changed (7 + 1 words).
    a_q3 = next(r for r in view(rep, "no-point").renderings if r.key == f"{A}/q3")
    assert (a_q3.dropped, a_q3.added, a_q3.changed) == (2, 4, 8)
    assert a_q3.fidelity is Fidelity.VERBATIM and a_q3.changes_meaning is False


def test_an_excerpt_is_aligned_with_dropped_words_only() -> None:
    full = MENTIONS[f"{B}/q9"]
    excerpt = dataclasses.replace(full, quote_id="x1", text="then I simply do not see any sense in their presence")
    alignment = align(full, excerpt)
    assert [c.op for c in alignment] == ["dropped", "equal", "dropped"]
    assert runs(alignment)[1] == ("equal", excerpt.text, excerpt.text)
    assert len(alignment[0].reference) == 11 and len(alignment[2].reference) == 7  # "If ... peace" / "on ... stop"
    s = Statement(id="s", story=STORY, speaker_entity_id="vladimir-putin", gloss="g",
                  renderings=[Rendering(article_id=B, quote_id="q9"), Rendering(article_id=B, quote_id="x1")])
    v = statement_view(s, {**MENTIONS, excerpt.key: excerpt})
    shown = next(r for r in v.renderings if r.key == excerpt.key)
    assert shown.fidelity is Fidelity.EXCERPT
    assert (shown.dropped, shown.added, shown.changed) == (18, 0, 0)


def test_the_json_round_trips() -> None:
    rep = report()
    assert FidelityReport.model_validate_json(rep.model_dump_json()) == rep
    assert FidelityReport.model_validate_json(rep.model_dump_json(indent=2)).model_dump() == rep.model_dump()


def test_the_terminal_table_names_every_outlet() -> None:
    rep = report()
    out = io.StringIO()
    print_fidelity(rep, Console(file=out, width=300, color_system=None))
    text = out.getvalue()
    shown = {r.outlet or r.article_id for s in rep.statements if len(s.renderings) > 1 for r in s.renderings}
    assert shown == {A, B, "UPI", D}  # 002 is the only seed article with an outlet
    assert all(name in text for name in shown)
    assert text.count("[meaning changed]") == 1  # 000/q1, the one rendering flagged (not read as markup)
    assert "Peace guarantees" not in text  # a single rendering is left out unless asked for
    out = io.StringIO()
    print_fidelity(rep, Console(file=out, width=300, color_system=None), only_linked=False)
    assert "Peace guarantees" in out.getvalue()


def test_the_terminal_table_shows_brackets_as_written() -> None:
    # rich would read "[in Ukraine]" as markup and drop it, and fail on "[/b]"; glosses are free text.
    rep = report()
    odd = view(rep, "no-point").model_copy(update={"gloss": "troops [in Ukraine] [/b] stay"})
    out = io.StringIO()
    print_fidelity(FidelityReport(statements=[odd]), Console(file=out, width=300, color_system=None))
    assert "troops [in Ukraine] [/b] stay" in out.getvalue()
    assert "verbatim" in out.getvalue() and "[meaning changed]" not in out.getvalue()


class _Tables(HTMLParser):
    """The outlet tables of the page: per table, its head cells' text and its body cells' classes."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[list[str]] = []
        self.cells: list[list[str]] = []
        self._table = False  # inside an outlet table
        self._cell: str | None = None  # the outermost th or td open in it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "outlets" in classes:
            self._table = True
            self.heads.append([])
            self.cells.append([])
        elif self._table and self._cell is None and tag in ("th", "td"):
            self._cell = tag
            if tag == "th":
                self.heads[-1].append("")
            else:
                self.cells[-1].append(" ".join(classes))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._cell:
            self._cell = None
        elif tag == "table":
            self._table = False

    def handle_data(self, data: str) -> None:
        if self._cell == "th":
            self.heads[-1][-1] += data


def test_the_story_page_has_one_column_per_article() -> None:
    page = render_story_page(report(), ARTICLES)
    parser = _Tables()
    parser.feed(page)
    assert len(parser.heads) == len(parser.cells) == 2  # the two statements rendered more than once
    for heads, cells in zip(parser.heads, parser.cells):
        assert len(heads) == len(cells) == 4
        assert [next(i for i in ARTICLES if i in head) for head in heads] == [A, B, C, D]
    assert "UPI" in parser.heads[0][2]
    assert ARTICLES[B].title in parser.heads[0][1]
    # "no point" is not reported by 002 (UPI): its cell is the empty one, and only that one.
    assert ["none" in c for c in parser.cells[1]] == [False, False, True, False]
    # A story's article that reports none of the statements shown still has its column.
    alone = _Tables()
    alone.feed(render_story_page(FidelityReport(statements=[view(report(), "no-point")]), ARTICLES))
    assert [len(h) for h in alone.heads] == [4] and ["none" in c for c in alone.cells[0]] == [False, False, True, False]
    # Linked statements first, then the single one, whatever the document's order.
    assert page.index("No point in foreign troops") < page.index('class="singles"') < page.index("Peace guarantees")


def test_the_story_page_escapes_and_is_self_contained() -> None:
    page = render_story_page(report(), ARTICLES, title="<b>fact check</b>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; legitimate targets &amp; more" in page
    assert "&lt;b&gt;fact check&lt;/b&gt;" in page and "<b>fact check</b>" not in page
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)


def test_the_story_page_strikes_dropped_words() -> None:
    page = render_story_page(report(), ARTICLES)
    # 003/q6 against the reference 001/q9 lacks "full stop": struck through, with a legend entry.
    assert '<del class="w-dropped">full stop</del>' in page
    assert re.search(r"\.w-dropped\s*\{[^}]*line-through", CSS)
    assert page.count('class="w-dropped"') > 1  # the legend's sample and at least one rendering
    assert '<ins class="w-added">' in page and 'class="w-changed"' in page


def test_the_story_page_is_the_same_bytes_every_time(tmp_path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    write_story_page(first, report(), ARTICLES)
    write_story_page(second, report(), dict(ARTICLES))
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == render_story_page(report(), ARTICLES).encode("utf-8")


def test_the_story_page_needs_the_articles_of_the_report() -> None:
    articles = {k: v for k, v in ARTICLES.items() if k != C}
    with pytest.raises(ToolkitError, match=f"article '{C}', which is not among the articles given"):
        render_story_page(report(), articles)


WORDS = st.lists(st.sampled_from(["a", "A", "b", "peace", "Peace", "don't", "don’t", "troops", "x1"]), max_size=14)
BASE = MENTIONS[f"{B}/q9"]


def lcs_length(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """The textbook dynamic programme, independent of rapidfuzz."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous, row = row, [0]
        for j, y in enumerate(b):
            row.append(previous[j] + 1 if x == y else max(previous[j + 1], row[j]))
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(WORDS, WORDS)
def test_alignment_gives_back_both_sides(ref_words: list[str], own_words: list[str]) -> None:
    reference = dataclasses.replace(BASE, quote_id="r", text=" ".join(ref_words))
    rendering = dataclasses.replace(BASE, quote_id="o", text=" ".join(own_words))
    alignment = align(reference, rendering)
    assert [w for c in alignment if c.op in ("equal", "dropped", "changed") for w in c.reference] == ref_words
    assert [w for c in alignment if c.op in ("equal", "added", "changed") for w in c.rendering] == own_words
    for c in alignment:
        assert {"equal": True, "dropped": not c.rendering, "added": not c.reference,
                "changed": bool(c.reference and c.rendering)}[c.op]
        if c.op == "equal":
            assert words_of(" ".join(c.reference)) == words_of(" ".join(c.rendering))
    # Kept words are a longest common subsequence, and a change is never split into dropped-then-added.
    kept = sum(len(c.reference) for c in alignment if c.op == "equal")
    assert kept == lcs_length(reference.words, rendering.words)
    assert all(a.op == "equal" or b.op == "equal" for a, b in zip(alignment, alignment[1:]))

