"""The BRAT importer: PolNeAR's annotator-training set span for span, the mapping of events to
quotes, and every bad line reported with its file and line number."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from annotate.formats.brat import import_brat
from schemas import AnnotatedDocument, EntityType, QuoteKind, ToolkitError
from schemas.paths import REPO_ROOT

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

def _ann_spans(path: Path) -> tuple[dict[str, tuple[str, list[tuple[int, int]], str]], list[tuple[str, list]]]:
    """An independent reading of an .ann file: T id -> (type, fragments, text); events as (id, args)."""
    spans, events = {}, []
    for line in path.read_bytes().decode("utf-8").split("\n"):
        if line.startswith("T"):
            tid, middle, text = line.split("\t")
            type_, offsets = middle.split(" ", 1)
            spans[tid] = (type_, [tuple(map(int, o.split())) for o in offsets.split(";")], text)
        elif line.startswith("E"):
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
def test_polnear_notes_are_warnings_with_file_and_line():
    result = import_brat(POLNEAR / "annotator-training")
    assert result.warnings
    for warning in result.warnings:
        path, line, message = warning.split(":", 2)
        assert Path(path).suffix == ".ann" and int(line) > 0
        assert "'Discard'" in message or "'Discuss'" in message


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
    ann = GOOD + "#1\tAnnotatorNotes T1\tchecked\nR1\tRel Arg1:T1 Arg2:T5\n" + _t("T20", "Discard", "Jane", "Jane") \
        + "E9\tAttribution:T4 Cue:T2\nE10\tAttribution:T4 Content:T3 Cue:T2 Topic:T1\n"
    doc, warnings = _only(tmp_path, ann)
    ann_path = tmp_path / "corpus" / "attributions" / "a_ann1.ann"
    lines = ann.split("\n")
    expected = {
        lines.index("#1\tAnnotatorNotes T1\tchecked") + 1: "note line not imported",
        lines.index("R1\tRel Arg1:T1 Arg2:T5") + 1: "relation line not imported",
        next(n for n, line in enumerate(lines, 1) if line.startswith("T20")): "span type 'Discard'",
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
    ("E20\tAttribution:T4 Source:T2 Content:T3\n", r"a_ann1\.ann:{line}: T2 is a Cue span, not Source; fix the ref"),
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
    strict = _annotate("import", "brat", str(root), "--out", str(tmp_path / "strict.jsonl"), "--strict")
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1
    assert f"a_ann1.ann:{NEXT_LINE}: BRAT note line not imported; skipped (and 0 more warnings)" in strict.stderr
    assert not (tmp_path / "strict.jsonl").exists()


def test_import_command_error_is_one_line(tmp_path):
    proc = _annotate("import", "brat", str(_corpus(tmp_path, GOOD + "X1\tbad\n")), "--out", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ") and f"a_ann1.ann:{NEXT_LINE}: unknown line type" in proc.stderr
    assert not (tmp_path / "o.jsonl").exists()
