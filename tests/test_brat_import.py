"""The BRAT importer: PolNeAR's annotator-training set span for span and its train compartment event for
event, the mapping of events to quotes, PolNeAR's Discuss and Discard labels (a flagged cue imported, text
marked out of scope kept), the per-label tally, and every bad line reported with its file and line number."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.formats.brat import import_brat
from schemas import (
    AnnotatedDocument,
    Article,
    Entity,
    EntityType,
    Mention,
    Provenance,
    Quote,
    QuoteKind,
    Span,
    ToolkitError,
)
from schemas.models import OutOfScope
from schemas.paths import REPO_ROOT, SEEDS_DIR

POLNEAR = next((p for p in (Path("/work/shared/corpora/polnear"), REPO_ROOT.parent / "shared/corpora/polnear")
                if (p / "annotator-training").is_dir()), None)
needs_polnear = pytest.mark.skipif(
    POLNEAR is None, reason="PolNeAR not found at /work/shared/corpora/polnear or ../shared/corpora/polnear")

TEXT = "“We will win,” Jane Doe said. Officials said the vote was fair, and the Post reported “big” gains."


def _corpus(tmp_path: Path, ann: str, text: str = TEXT, name: str = "a_ann1", layout: str = "polnear") -> Path:
    """A one-article BRAT folder; ``ann`` lines are written as given (bytes, no newline translation)."""
    root = tmp_path / "corpus"
    text_dir, ann_dir = (root / "text", root / "attributions") if layout == "polnear" else (root, root)
    text_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    (text_dir / f"{name.rsplit('_', 1)[0]}.txt").write_bytes(text.encode("utf-8"))
    (ann_dir / f"{name}.ann").write_bytes(ann.encode("utf-8"))
    return root


def _t(tid: str, type_: str, text: str, *pieces: str, within: str = TEXT, after: int = 0) -> str:
    """A T line for ``pieces`` of ``within``, each found at its first occurrence from ``after``."""
    offsets = []
    for piece in pieces:
        start = within.index(piece, after)
        offsets.append(f"{start} {start + len(piece)}")
    return f"{tid}\t{type_} {';'.join(offsets)}\t{text}\n"


SECOND = TEXT.index("Officials")
GOOD = (
    _t("T1", "Source", "Jane Doe", "Jane Doe")
    + _t("T2", "Cue", "said", "said")
    + _t("T3", "Content", "“We will win,”", "“We will win,”")
    + _t("T4", "Attribution", "said", "said")
    + "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n"
    + _t("T5", "Source", "Officials", "Officials")
    + _t("T6", "Cue", "said", "said", after=SECOND)
    + _t("T7", "Content", "the vote was fair", "the vote was fair")
    + _t("T8", "Attribution", "said", "said", after=SECOND)
    + "E2\tAttribution:T8 Cue:T6 Source:T5 Content:T7\n"
    + _t("T9", "Cue", "reported", "reported")
    + _t("T10", "Content", "“big” gains", "“big” gains")
    + _t("T11", "Attribution-no-source", "reported", "reported")
    + "E3\tAttribution-no-source:T11 Content:T10 Cue:T9\n"
)
NEXT_LINE = GOOD.count("\n") + 1  # the number of a line appended to GOOD


def _only(tmp_path: Path, ann: str, **kwargs) -> tuple[AnnotatedDocument, list[str]]:
    result = import_brat(_corpus(tmp_path, ann, **kwargs))
    [doc] = result.documents
    return doc, result.warnings


# --- PolNeAR's annotator-training set ---------------------------------------------------------------

_T_HEAD = re.compile(r"(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)")


def _ann_spans(path: Path) -> tuple[dict[str, tuple[str, list[tuple[int, int]], str]], list[tuple[str, list]]]:
    """An independent reading of an .ann file: T id -> (type, fragments, text on its first line); events as
    (id, args). Lines that continue a span's text over a line break are neither T nor E lines here."""
    spans, events = {}, []
    for line in path.read_bytes().decode("utf-8").split("\n"):
        if m := _T_HEAD.fullmatch(line):
            tid, type_, offsets, text = m.groups()
            spans[tid] = (type_, [tuple(map(int, o.split())) for o in offsets.split(";")], text)
        elif re.match(r"E\d+\t", line):
            eid, args = line.split("\t")
            events.append((eid, [a.split(":") for a in args.split()[1:]]))
    return spans, events


@needs_polnear
def test_annotator_training_imports_every_span_exactly():
    directory = POLNEAR / "annotator-training"
    result = import_brat(directory)
    assert len(result.documents) == 24
    assert len({d.article.id for d in result.documents}) == 4
    annotators = {d.provenance.annotator for d in result.documents}
    assert annotators == {"4b22", "4e07", "5fec", "6b86", "d473", "ef2d"}
    assert all(d.provenance.origin == "import" for d in result.documents)
    checked = 0
    for doc in result.documents:
        text = doc.article.text
        assert text == (directory / "text" / f"{doc.article.id}.txt").read_bytes().decode("utf-8")
        spans, events = _ann_spans(directory / "attributions" / f"{doc.article.id}_{doc.provenance.annotator}.ann")
        quotes = {q.id: q for q in doc.quotes}
        mentions = {m.id: m for m in doc.mentions}
        for eid, args in events:
            content_ids = [t for role, t in args if role.startswith("Content")]
            if not content_ids:
                assert eid not in quotes
                continue
            quote = quotes[eid]
            expected = sorted(f for t in content_ids for f in spans[t][1])
            assert [(s.start, s.end) for s in quote.content] == expected
            for t in content_ids:  # BRAT's text of a discontiguous span: its pieces joined by spaces
                assert " ".join(text[s:e] for s, e in spans[t][1]) == spans[t][2]
            for s in quote.content:
                assert text[s.start : s.end] == s.text
            cue = [t for role, t in args if role == "Cue"]
            assert (quote.cue.text if quote.cue else None) == (spans[cue[0]][2] if cue else None)
            source = [t for role, t in args if role == "Source"]
            if source:
                mention = mentions[quote.speaker_mention_id]
                assert (mention.id, mention.span.text) == (source[0], spans[source[0]][2])
                assert doc.speaker_of(quote) == mention.entity_id
            else:
                assert quote.speaker_mention_id is None
            checked += 1
    assert checked == sum(len(d.quotes) for d in result.documents) > 300


@needs_polnear
def test_polnear_flags_are_warnings_with_file_and_line_and_discards_are_kept():
    directory = POLNEAR / "annotator-training"
    result = import_brat(directory)
    discuss, discard = {}, {}
    for ann in sorted((directory / "attributions").glob("*.ann")):
        spans, _ = _ann_spans(ann)
        for tid, (type_, fragments, _) in spans.items():
            {"Discuss": discuss, "Discard": discard}.get(type_, {})[(ann, tid)] = fragments
    assert len(discuss) == 13 and len(discard) == 11
    # No event uses a Discuss span here: each is skipped with a warning naming its own T line.
    assert len(result.warnings) == len(discuss)
    for warning in result.warnings:
        path, line, message = warning.split(":", 2)
        tid = message.rsplit(" uses ", 1)[1].split(";")[0]
        assert (Path(path), tid) in discuss
        assert (Path(path).read_bytes().decode("utf-8").split("\n")[int(line) - 1]).startswith(f"{tid}\tDiscuss ")
    kept = {(directory / "attributions" / f"{d.article.id}_{d.provenance.annotator}.ann", o.id):
            [(s.start, s.end) for s in o.spans] for d in result.documents for o in d.out_of_scope}
    assert kept == {key: sorted(fragments) for key, fragments in discard.items()}
    assert result.label("Discard").outcomes == {"kept as out-of-scope": 11}
    assert result.label("Discuss").outcomes == {"unreferenced (skipped, listed)": 13}


# --- mapping -------------------------------------------------------------------------------------------

def test_events_become_quotes_with_kinds_cues_and_speakers(tmp_path):
    doc, warnings = _only(tmp_path, GOOD)
    assert warnings == []
    quotes = {q.id: q for q in doc.quotes}
    assert quotes["E1"].kind is QuoteKind.DIRECT
    assert quotes["E2"].kind is QuoteKind.INDIRECT
    assert quotes["E3"].kind is QuoteKind.MIXED
    assert quotes["E3"].speaker_mention_id is None and quotes["E3"].cue.text == "reported"
    assert {e.id: e.type for e in doc.entities} == {"jane-doe": EntityType.OTHER, "officials": EntityType.GROUP}
    assert doc.speaker_of(quotes["E1"]) == "jane-doe"


def test_discontiguous_content_is_sorted_into_fragments(tmp_path):
    # BRAT keeps the pieces in the annotator's order ("92 97;1 12"): the quote lists them in text order.
    ann = (_t("T1", "Content", "gains We will win", "gains", "We will win")
           + _t("T2", "Cue", "said", "said") + _t("T3", "Attribution", "said", "said")
           + "E1\tAttribution:T3 Cue:T2 Content:T1\n")
    assert ann.index(str(TEXT.index("gains"))) < ann.index(";1 12")
    doc, _ = _only(tmp_path, ann)
    [quote] = doc.quotes
    assert [s.text for s in quote.content] == ["We will win", "gains"]
    assert quote.kind is QuoteKind.MIXED
    assert quote.cue.text == "said" and quote.speaker_mention_id is None


def test_same_source_text_is_one_entity(tmp_path):
    text = "Smith said it rains. Smith said it pours."
    ann = ""
    for n, (after, content) in enumerate(((0, "it rains"), (21, "it pours")), start=1):
        ann += (_t(f"T{n}1", "Source", "Smith", "Smith", within=text, after=after)
                + _t(f"T{n}2", "Cue", "said", "said", within=text, after=after)
                + _t(f"T{n}3", "Content", content, content, within=text)
                + _t(f"T{n}4", "Attribution", "said", "said", within=text, after=after)
                + f"E{n}\tAttribution:T{n}4 Source:T{n}1 Cue:T{n}2 Content:T{n}3\n")
    doc, _ = _only(tmp_path, ann, text=text)
    assert [e.id for e in doc.entities] == ["smith"]
    assert [m.id for m in doc.mentions] == ["T11", "T21"]
    assert [doc.speaker_of(q) for q in doc.quotes] == ["smith", "smith"]


def test_crlf_text_keeps_its_offsets(tmp_path):
    text = "Line one.\r\nSmith said it rains.\r\n"
    start = text.index("it rains")
    ann = (f"T1\tContent {start} {start + 8}\tit rains\nT2\tCue 17 21\tsaid\nT3\tAttribution 17 21\tsaid\n"
           "E1\tAttribution:T3 Content:T1 Cue:T2\n")
    assert text[17:21] == "said"
    doc, _ = _only(tmp_path, ann.replace("\n", "\r\n"), text=text)  # CRLF .ann lines read too
    assert doc.article.text == text
    assert doc.quotes[0].content[0].start == start


def test_flat_layout(tmp_path):
    doc, _ = _only(tmp_path, GOOD, layout="flat")
    assert len(doc.quotes) == 3


def test_unsupported_lines_are_warnings_naming_file_and_line(tmp_path):
    ann = GOOD + "#1\tAnnotatorNotes T1\tchecked\nR1\tRel Arg1:T1 Arg2:T5\n" + _t("T20", "Flag", "Jane", "Jane") \
        + _t("T21", "Cue", "Post", "Post") \
        + "E9\tAttribution:T4 Cue:T2\nE10\tAttribution:T4 Content:T3 Cue:T2 Topic:T1\n"
    doc, warnings = _only(tmp_path, ann)
    ann_path = tmp_path / "corpus" / "attributions" / "a_ann1.ann"
    lines = ann.split("\n")
    expected = {
        lines.index("#1\tAnnotatorNotes T1\tchecked") + 1: "note line not imported",
        lines.index("R1\tRel Arg1:T1 Arg2:T5") + 1: "relation line not imported",
        next(n for n, line in enumerate(lines, 1) if line.startswith("T20")):
            "span type 'Flag' is not part of the attribution scheme and no attribution uses T20; skipped",
        next(n for n, line in enumerate(lines, 1) if line.startswith("T21")): "Cue span T21 is used by no attribution",
        lines.index("E9\tAttribution:T4 Cue:T2") + 1: "has no Content",
        lines.index("E10\tAttribution:T4 Content:T3 Cue:T2 Topic:T1") + 1: "role 'Topic'",
    }
    assert len(warnings) == len(expected)
    for lineno, message in expected.items():
        assert any(w.startswith(f"{ann_path}:{lineno}: ") and message in w for w in warnings), (lineno, warnings)
    assert [q.id for q in doc.quotes] == ["E1", "E2", "E3", "E10"]


# --- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    ("X1\tsomething\n", r"a_ann1\.ann:{line}: unknown line type 'X1\\tsomething'"),
    ("T20\tSource 0 3\tabc\n", r"a_ann1\.ann:{line}: T20 says 'abc' but the article has '“We'"),
    ("T20\tSource 0 999\tabc\n", r"a_ann1\.ann:{line}: T20 offsets 0 999 are empty or past the article's"),
    ("T20\tSource 5 5\t\n", r"a_ann1\.ann:{line}: T20 offsets 5 5 are empty"),
    ("T20 Source 0 3 abc\n", r"a_ann1\.ann:{line}: malformed span line"),
    ("E20\tAttribution:T4 Content:T99\n", r"a_ann1\.ann:{line}: T99 is not defined in this file"),
    ("E20\tAttribution:T4 Content:T8\n", r"a_ann1\.ann:{line}: T8 is labelled Attribution, not Content; fix the ref"),
    ("E20\tAttribution:T3 Cue:T2\n",
     r"a_ann1\.ann:{line}: T3 is labelled Content, not Attribution or Attribution-no-source; fix the reference"),
    ("E20\tAttribution T4\n", r"a_ann1\.ann:{line}: malformed event line"),
    ("T1\tSource 0 1\t“\n", r"a_ann1\.ann:{line}: id T1 is used twice"),
])
def test_bad_lines_raise_with_file_and_line(tmp_path, extra, message):
    with pytest.raises(ToolkitError, match=message.format(line=NEXT_LINE)):
        import_brat(_corpus(tmp_path, GOOD + extra))


def test_overlapping_content_fragments_are_an_error(tmp_path):
    ann = GOOD + _t("T20", "Content", "We will", "We will") + "E20\tAttribution:T4 Content:T3 Content2:T20\n"
    with pytest.raises(ToolkitError, match=rf"a_ann1\.ann:{NEXT_LINE + 1}: event E20: .*overlap"):
        import_brat(_corpus(tmp_path, ann))


def test_file_level_errors(tmp_path):
    with pytest.raises(ToolkitError, match=r"name has no annotator; rename it to <article>_<annotator>\.ann"):
        import_brat(_corpus(tmp_path / "1", GOOD, name="a"))
    root = _corpus(tmp_path / "2", GOOD)
    (root / "attributions" / "other_ann1.ann").write_text("", encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"other_ann1\.ann: no article text .*other\.txt"):
        import_brat(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolkitError, match=r"empty: no \.ann files found"):
        import_brat(tmp_path / "empty")
    with pytest.raises(ToolkitError, match=r"missing: not a directory"):
        import_brat(tmp_path / "missing")
    root = _corpus(tmp_path / "3", GOOD)
    (root / "attributions" / "a_ann1.ann").write_bytes(b"T1\tSource 0 1\t\xff\n")
    with pytest.raises(ToolkitError, match=r"a_ann1\.ann: not UTF-8 at byte 14"):
        import_brat(root)


# --- the command -------------------------------------------------------------------------------------

def _annotate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=REPO_ROOT)


def test_import_command_writes_documents_and_reports_warnings(tmp_path):
    root = _corpus(tmp_path, GOOD + "#1\tAnnotatorNotes T1\tchecked\n")
    out = tmp_path / "docs.jsonl"
    proc = _annotate("import", "brat", str(root), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("warning: ") and f"a_ann1.ann:{NEXT_LINE}: BRAT note line" in proc.stderr
    [doc] = [AnnotatedDocument.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q.id for q in doc.quotes] == ["E1", "E2", "E3"]
    assert proc.stdout.splitlines() == [
        f"wrote 1 documents (1 articles, 3 quotes) to {out}; 1 warnings",
        "  Attribution: 2 spans: 2 trigger of an imported attribution",
        "  Attribution-no-source: 1 spans: 1 trigger of an imported attribution",
        "  Content: 3 spans: 3 imported as content",
        "  Cue: 3 spans: 3 imported as cue",
        "  Source: 2 spans: 2 imported as source",
    ]
    strict = _annotate("import", "brat", str(root), "--out", str(tmp_path / "strict.jsonl"), "--strict")
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1
    assert f"a_ann1.ann:{NEXT_LINE}: BRAT note line not imported; skipped (and 0 more warnings)" in strict.stderr
    assert not (tmp_path / "strict.jsonl").exists()


def test_import_command_prints_what_became_of_flags_and_discards(tmp_path):
    root = _corpus(tmp_path, FLAGGED_ANN, text=FLAGGED, name="flagged_ann1")
    proc = _annotate("import", "brat", str(root), "--out", str(tmp_path / "flagged.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "  Discard: 2 spans: 2 kept as out-of-scope" in proc.stdout.splitlines()
    assert "  Discuss: 2 spans: 1 imported as cue, 1 unreferenced (skipped, listed)" in proc.stdout.splitlines()
    assert [line.split(": ", 2)[2] for line in proc.stderr.splitlines()] == [
        "T7 is labelled Discuss but is the Cue of E2; imported as the quote's cue",
        "span type 'Discuss' is not part of the attribution scheme and no attribution uses T10; skipped"]


def test_import_command_error_is_one_line(tmp_path):
    proc = _annotate("import", "brat", str(_corpus(tmp_path, GOOD + "X1\tbad\n")), "--out", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ") and f"a_ann1.ann:{NEXT_LINE}: unknown line type" in proc.stderr
    assert not (tmp_path / "o.jsonl").exists()


# --- PolNeAR's Discuss and Discard labels -------------------------------------------------------------

FLAGGED = "By Ann Lee\n\nSmith said the vote was fair. Jones was thanking the crowd. Many doubted it.\n\nFollow Ann Lee"
FLAGGED_ANN = (
    _t("T1", "Discard", "By Ann Lee", "By Ann Lee", within=FLAGGED)
    + _t("T2", "Source", "Smith", "Smith", within=FLAGGED)
    + _t("T3", "Cue", "said", "said", within=FLAGGED)
    + _t("T4", "Content", "the vote was fair", "the vote was fair", within=FLAGGED)
    + _t("T5", "Attribution", "said", "said", within=FLAGGED)
    + "E1\tAttribution:T5 Source:T2 Cue:T3 Content:T4\n"
    + _t("T6", "Source", "Jones", "Jones", within=FLAGGED)
    + _t("T7", "Discuss", "thanking", "thanking", within=FLAGGED)  # a cue flagged for discussion
    + _t("T8", "Content", "the crowd", "the crowd", within=FLAGGED)
    + _t("T9", "Attribution", "thanking", "thanking", within=FLAGGED)
    + "E2\tAttribution:T9 Source:T6 Content:T8 Cue:T7\n"
    + _t("T10", "Discuss", "Many doubted it.", "Many doubted it.", within=FLAGGED)  # a flag no event uses
    # A discontiguous Discard, its pieces in the annotator's order (the second piece first).
    + _t("T11", "Discard", "Ann Lee Follow", "Ann Lee", "Follow", within=FLAGGED, after=FLAGGED.index("Follow"))
)


def _at(text: str, piece: str, after: int = 0) -> Span:
    start = text.index(piece, after)
    return Span(start=start, end=start + len(piece), text=piece)


def test_discuss_cue_is_imported_and_discard_is_kept_out_of_scope(tmp_path):
    result = import_brat(_corpus(tmp_path, FLAGGED_ANN, text=FLAGGED, name="flagged_ann1"))
    text, follow = FLAGGED, FLAGGED.index("Follow")
    expected = AnnotatedDocument(
        article=Article.from_text("flagged", text), provenance=Provenance(annotator="ann1", origin="import"),
        entities=[Entity(id="smith", name="Smith"), Entity(id="jones", name="Jones")],
        mentions=[Mention(id="T2", span=_at(text, "Smith"), entity_id="smith"),
                  Mention(id="T6", span=_at(text, "Jones"), entity_id="jones")],
        quotes=[Quote(id="E1", kind=QuoteKind.INDIRECT, content=[_at(text, "the vote was fair")], cue=_at(text, "said"),
                      speaker_mention_id="T2", speaker_entity_id="smith"),
                Quote(id="E2", kind=QuoteKind.INDIRECT, content=[_at(text, "the crowd")], cue=_at(text, "thanking"),
                      speaker_mention_id="T6", speaker_entity_id="jones")],
        out_of_scope=[OutOfScope(id="T1", label="Discard", spans=[_at(text, "By Ann Lee")]),
                      OutOfScope(id="T11", label="Discard", spans=[_at(text, "Follow"), _at(text, "Ann Lee", follow)])],
    )
    assert result.documents == [expected]
    ann_path = tmp_path / "corpus" / "attributions" / "flagged_ann1.ann"
    lines = FLAGGED_ANN.split("\n")
    assert result.warnings == [
        f"{ann_path}:{lines.index('E2' + chr(9) + 'Attribution:T9 Source:T6 Content:T8 Cue:T7') + 1}: "
        "T7 is labelled Discuss but is the Cue of E2; imported as the quote's cue",
        f"{ann_path}:{next(n for n, line in enumerate(lines, 1) if line.startswith('T10'))}: span type 'Discuss' is "
        "not part of the attribution scheme and no attribution uses T10; skipped",
    ]


def test_every_span_is_tallied_per_label(tmp_path):
    result = import_brat(_corpus(tmp_path, FLAGGED_ANN, text=FLAGGED, name="flagged_ann1"))
    assert {t.label: t.outcomes for t in result.labels} == {
        "Attribution": {"trigger of an imported attribution": 2},
        "Content": {"imported as content": 2},
        "Cue": {"imported as cue": 1},
        "Discard": {"kept as out-of-scope": 2},
        "Discuss": {"imported as cue": 1, "unreferenced (skipped, listed)": 1},
        "Source": {"imported as source": 2},
    }
    assert sum(t.spans for t in result.labels) == FLAGGED_ANN.count("\nT") + 1 == 11
    assert result.label("Discuss").describe() == "Discuss: 2 spans: 1 imported as cue, 1 unreferenced (skipped, listed)"
    assert result.label("Nothing").spans == 0


def test_a_discard_an_attribution_uses_is_imported_in_its_role(tmp_path):
    ann = GOOD.replace("T2\tCue", "T2\tDiscard")
    doc, warnings = _only(tmp_path, ann)
    assert {q.id: q.cue.text for q in doc.quotes}["E1"] == "said" and doc.out_of_scope == []
    assert any("T2 is labelled Discard but is the Cue of E1; imported as the quote's cue" in w for w in warnings)


def test_a_span_label_decides_its_role_when_the_event_says_otherwise(tmp_path):
    # PolNeAR train has one such event: the Source and Content arcs swapped, the spans' labels right.
    doc, warnings = _only(tmp_path, GOOD.replace("E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
                                                 "E1\tAttribution:T4 Content:T1 Cue:T2 Source:T3"))
    quote = {q.id: q for q in doc.quotes}["E1"]
    assert [s.text for s in quote.content] == ["“We will win,”"] and doc.speaker_of(quote) == "jane-doe"
    assert [w.split(": ", 1)[1] for w in warnings] == [
        "T1 is labelled Source but is the Content of E1; imported as source, as its label says",
        "T3 is labelled Content but is the Source of E1; imported as content, as its label says",
    ]


def test_span_text_over_several_lines(tmp_path):
    # BRAT writes the line breaks inside a span's text as they are: its text goes on over the next lines.
    text = "Smith said the plan works.\n\nIt will pass, he said."
    content = "the plan works.\n\nIt will pass"
    start = text.index(content)
    ann = (f"T1\tSource 0 5\tSmith\nT2\tCue 6 10\tsaid\nT3\tContent {start} {start + len(content)}\t{content}\n"
           "T4\tAttribution 6 10\tsaid\nE1\tAttribution:T4 Source:T1 Cue:T2 Content:T3\n#1\tAnnotatorNotes T1\tok\n")
    assert ann.count("\n") == 8
    doc, warnings = _only(tmp_path, ann, text=text)
    assert [s.text for s in doc.quotes[0].content] == [content]
    assert [w.rsplit(":", 2)[-2] for w in warnings] == ["8"]  # line numbers count the continuation lines
    with pytest.raises(ToolkitError, match=r"a_ann1\.ann:3: T3 says 'the plan works\.' but the article has"):
        import_brat(_corpus(tmp_path / "cut", ann.replace("\n\nIt will pass\n", "\n"), text=text))


def test_json_without_out_of_scope_is_unchanged():
    # The field was added after documents were published: absent when empty, so old files stay byte for byte.
    lines = (SEEDS_DIR / "annotations" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and all("out_of_scope" not in line for line in lines)
    for line in lines:
        assert AnnotatedDocument.model_validate_json(line).model_dump_json() == line


def test_out_of_scope_round_trips_and_is_checked_against_the_text(tmp_path):
    [doc] = import_brat(_corpus(tmp_path, FLAGGED_ANN, text=FLAGGED, name="flagged_ann1")).documents
    dumped = doc.model_dump_json()
    assert dumped.endswith(',"out_of_scope":[{"id":"T1","label":"Discard","spans":[{"start":0,"end":10,'
                           '"text":"By Ann Lee"}]},' + dumped.split(',"out_of_scope":[', 1)[1].split("},", 1)[1])
    assert AnnotatedDocument.model_validate_json(dumped) == doc
    data = doc.model_dump()
    data["out_of_scope"][0]["spans"] = [{"start": 1, "end": 11, "text": "By Ann Lee"}]
    with pytest.raises(ValueError, match=r"out-of-scope 'T1' piece 0: span \[1, 11\) says 'By Ann Lee'"):
        AnnotatedDocument.model_validate(data)
    pieces = [{"start": 3, "end": 10, "text": "Ann Lee"}, {"start": 0, "end": 2, "text": "By"}]
    with pytest.raises(ValueError, match=r"pieces \[3, 10\) and \[0, 2\) overlap or are out of order"):
        OutOfScope(id="T1", label="Discard", spans=pieces)


# --- PolNeAR's train compartment ----------------------------------------------------------------------

# The one event with a Discuss cue, the one with swapped arcs, the three with span texts over several lines,
# and two ordinary files.
TRAIN_FILES = [
    "breitbart_2016-03-01_the-latest-sanders-wins-minnesot_ef2d",
    "nyt_2016-07-15_latest-poll-has-trump-pulling-ev_d473",
    "nyt_2016-04-18_for-news-outlets-feeling-the-squ_4e07",
    "usa-today_2016-08-09_khans-trump-stirs-ugliness-musli_4e07",
    "wash-post_2016-06-27_byline-amber-phillips_4e07",
    "breitbart_2015-11-19_exclusive-excerpt-dinesh-d-souza_6b86",
    "politico_2016-02-11_things-to-watch-in-tonight-s-deb_4b22",
]


@pytest.fixture(scope="module")
def train():
    if POLNEAR is None or not (POLNEAR / "train").is_dir():
        pytest.skip("PolNeAR's train compartment not found at /work/shared/corpora/polnear or ../shared")
    return import_brat(POLNEAR / "train")


def test_train_imports_every_attribution_with_content(train):
    directory = POLNEAR / "train" / "attributions"
    ann_files = sorted(directory.glob("*.ann"))
    assert len(train.documents) == len(ann_files) == 919 and len({d.article.id for d in train.documents}) == 840
    with_content = discards = 0
    for ann in ann_files:
        spans, events = _ann_spans(ann)
        with_content += sum(any(role.startswith("Content") for role, _ in args) for _, args in events)
        discards += sum(type_ == "Discard" for type_, _, _ in spans.values())
    assert sum(len(d.quotes) for d in train.documents) == with_content
    assert sum(len(d.out_of_scope) for d in train.documents) == discards == train.label("Discard").spans == 368
    assert train.label("Discuss").outcomes == {"imported as cue": 1, "unreferenced (skipped, listed)": 662}


def test_train_files_event_for_event(train):
    documents = {f"{d.article.id}_{d.provenance.annotator}": d for d in train.documents}
    for name in TRAIN_FILES:
        doc, text = documents[name], documents[name].article.text
        spans, events = _ann_spans(POLNEAR / "train" / "attributions" / f"{name}.ann")
        quotes = {q.id: q for q in doc.quotes}
        assert len(quotes) == len(events) > 0, name
        for eid, args in events:
            quote = quotes[eid]
            roles = {}
            for role, tid in args:  # the span's label decides, else the event's role (a Discuss cue)
                label = spans[tid][0]
                roles.setdefault(label if label in ("Source", "Cue", "Content") else role.rstrip("0123456789"),
                                 []).append(tid)
            assert [(s.start, s.end) for s in quote.content] == sorted(f for t in roles["Content"] for f in spans[t][1])
            cue = roles.get("Cue", [None])[0]
            assert (quote.cue.start, quote.cue.end) == spans[cue][1][0] if cue else quote.cue is None
            source = roles.get("Source", [None])[0]
            assert quote.speaker_mention_id == source
            for s in quote.content:
                assert text[s.start : s.end] == s.text
    flagged = {q.id: q for q in documents[TRAIN_FILES[0]].quotes}["E69"]
    assert (flagged.cue.text, flagged.content[0].text) == ("thanking", "the raucous crowd")
    swapped = {q.id: q for q in documents[TRAIN_FILES[1]].quotes}["E50"]
    assert swapped.content[0].text == "Mr. Trump"
