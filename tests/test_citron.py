"""Citron JSON in both directions: mapping, canonical round trips, and every error a file can cause."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.extract.entities import guess_entity_type
from annotate.extract.quotemarks import kind_from_marks, quoted_mask
from annotate.formats.citron.reader import citron_to_documents, import_citron
from annotate.formats.citron.writer import documents_to_citron, write_citron
from schemas import (
    AnnotatedDocument,
    Article,
    CheckWorthy,
    Claim,
    Entity,
    Mention,
    Provenance,
    Quote,
    QuoteKind,
    Span,
    Stance,
    ToolkitError,
    entity_id_for,
    sha256_of,
)

TEXT = ('Humpty Dumpty sat on a wall. "When I use a word," he said, "it means just what I choose it to mean." '
        "Alice 😀 frowned.\r\nAlice said she did not agree.")


def at(text: str, piece: str, after: int = 0) -> dict:
    """The Citron span of the first ``piece`` in ``text`` at or after ``after``."""
    start = text.index(piece, after)
    return {"start": start, "end": start + len(piece), "text": piece}


def humpty() -> dict:
    """A Citron document in canonical form: what ``documents_to_citron`` writes for its import."""
    said = TEXT.index("said")
    return {
        "id": "humpty",
        "annotator": "ann1",
        "text": TEXT,
        "quotes": [
            {"id": "q0", "cue": at(TEXT, "said"), "sources": [at(TEXT, "he")],
             "coreferences": [at(TEXT, "Humpty Dumpty")],
             "contents": [at(TEXT, '"When I use a word,"'), at(TEXT, '"it means just what I choose it to mean."')]},
            {"id": "q1", "cue": at(TEXT, "said", said + 1), "sources": [at(TEXT, "Alice", TEXT.index("\r\n"))],
             "coreferences": [], "contents": [at(TEXT, "she did not agree")]},
        ],
        "coreference_groups": [
            [at(TEXT, "Humpty Dumpty"), at(TEXT, "he")],
            [at(TEXT, "Alice"), at(TEXT, "Alice", TEXT.index("\r\n"))],
        ],
    }


# --- Citron -> documents ---------------------------------------------------------------------


def test_quote_maps_to_speaker_mention_named_by_its_coreference():
    [doc] = citron_to_documents(humpty())
    q0, q1 = doc.quotes
    assert [f.text for f in q0.content] == ['"When I use a word,"', '"it means just what I choose it to mean."']
    assert q0.cue.text == "said" and q0.kind is QuoteKind.DIRECT
    speaker = next(m for m in doc.mentions if m.id == q0.speaker_mention_id)
    assert speaker.span.text == "he"
    assert q0.speaker_entity_id == "humpty-dumpty"
    assert {e.id: e.name for e in doc.entities} == {"humpty-dumpty": "Humpty Dumpty", "alice": "Alice"}
    assert q1.kind is QuoteKind.INDIRECT and q1.speaker_entity_id == "alice"
    # The coreference group puts the first "Alice" (before the emoji and CRLF) on the same entity.
    assert sorted(m.span.start for m in doc.mentions if m.entity_id == "alice") == [
        TEXT.index("Alice"), TEXT.index("Alice", TEXT.index("\r\n"))]
    assert doc.article.id == "humpty" and doc.provenance.annotator == "ann1" and doc.provenance.origin == "import"


def test_canonical_citron_round_trips_exactly():
    warnings: list[str] = []
    assert documents_to_citron(citron_to_documents(humpty()), warnings=warnings) == [humpty()]
    assert warnings == []


def test_coreference_names_the_entity_and_exports_as_its_earliest_naming_mention():
    text = "Trump spoke first. Later Trump arrived. The former president said it was rigged."
    later = text.index("Trump", 1)
    quote = {"cue": at(text, "said"), "sources": [at(text, "The former president")],
             "coreferences": [at(text, "Trump", later)], "contents": [at(text, "it was rigged")]}
    obj = {"text": text, "quotes": [quote],
           "coreference_groups": [[at(text, "Trump"), at(text, "Trump", later)]]}
    [doc] = citron_to_documents(obj)
    # Named by the coreference Citron resolved to, not by the longer description.
    assert [(e.id, e.name, e.type.value) for e in doc.entities] == [("trump", "Trump", "other")]
    assert doc.quotes[0].speaker_entity_id == "trump"
    # Exported like Citron's resolver does it: the earliest instance of the name.
    [back] = documents_to_citron([doc])
    assert back["quotes"][0]["coreferences"] == [at(text, "Trump")]
    assert back["coreference_groups"] == [[at(text, "Trump"), at(text, "Trump", later),
                                           at(text, "The former president")]]


def test_contents_are_sorted_into_text_order():
    obj = humpty()
    obj["quotes"][0]["contents"].reverse()
    [doc] = citron_to_documents(obj)
    assert [f.start for f in doc.quotes[0].content] == sorted(f["start"] for f in obj["quotes"][0]["contents"])


def test_mixed_kind_when_part_of_the_content_is_quoted():
    text = 'Bob said the plan was "a disaster" for everyone.'
    obj = {"text": text, "quotes": [{"cue": at(text, "said"), "sources": [at(text, "Bob")],
                                     "contents": [at(text, 'the plan was "a disaster" for everyone')]}]}
    [doc] = citron_to_documents(obj)
    assert doc.quotes[0].kind is QuoteKind.MIXED


def test_sources_with_the_same_name_are_one_entity():
    text = "Putin said yes. Later Putin said no."
    second = text.index("Putin", 1)
    obj = {"text": text, "quotes": [
        {"cue": at(text, "said"), "sources": [at(text, "Putin")], "contents": [at(text, "yes")]},
        {"cue": at(text, "said", second), "sources": [at(text, "Putin", second)], "contents": [at(text, "no")]},
    ]}
    [doc] = citron_to_documents(obj)
    assert [e.id for e in doc.entities] == ["putin"]
    assert [q.speaker_entity_id for q in doc.quotes] == ["putin", "putin"]
    assert len({q.speaker_mention_id for q in doc.quotes}) == 2


def test_several_sources_keep_the_first_as_speaker_and_warn():
    text = "Smith and Jones said it was over."
    obj = {"text": text, "quotes": [{"cue": at(text, "said"), "sources": [at(text, "Jones"), at(text, "Smith")],
                                     "contents": [at(text, "it was over")], "confidence": "0.8123"}]}
    warnings: list[str] = []
    [doc] = citron_to_documents(obj, warnings=warnings)
    assert doc.quotes[0].speaker_entity_id == "smith"
    assert {m.entity_id for m in doc.mentions} == {"smith", "jones"}
    assert any("quotes[0]: 2 source(s) and 0 coreference(s)" in w for w in warnings)
    assert any("confidence scores are not imported" in w for w in warnings)


def test_unknown_keys_are_reported():
    obj = humpty()
    obj["title"] = "x"
    obj["quotes"][1]["cue"]["label"] = "Cue"
    warnings: list[str] = []
    citron_to_documents(obj, warnings=warnings)
    assert warnings == ["title: unknown key, ignored", "quotes[1].cue.label: unknown key, ignored"]


def test_article_id_from_field_then_given_then_text_hash():
    obj = humpty()
    assert citron_to_documents(obj, article_id="other")[0].article.id == "humpty"
    del obj["id"]
    assert citron_to_documents(obj, article_id="other")[0].article.id == "other"
    assert citron_to_documents(obj)[0].article.id == sha256_of(TEXT)[:16]
    assert [d.article.id for d in citron_to_documents([obj, humpty()])] == [sha256_of(TEXT)[:16], "humpty"]


def test_article_id_for_a_list_is_refused():
    with pytest.raises(ToolkitError, match="article_id names one document but 2 were given"):
        citron_to_documents([humpty(), humpty()], article_id="x")


# --- errors ----------------------------------------------------------------------------------


def _set(path: str, value):
    """A mutation of ``humpty()`` setting the value at a dotted path (``quotes.0.cue.start``)."""
    def mutate(obj):
        *parents, last = path.split(".")
        for part in parents:
            obj = obj[int(part)] if isinstance(obj, list) else obj[part]
        if isinstance(obj, list):
            obj[int(last)] = value
        else:
            obj[last] = value
    return mutate


def _delete(path: str):
    def mutate(obj):
        *parents, last = path.split(".")
        for part in parents:
            obj = obj[int(part)] if isinstance(obj, list) else obj[part]
        del obj[last]
    return mutate


ERRORS = [
    (_delete("text"), r"^text: missing; every document needs text and quotes"),
    (_set("text", 5), r"^text: input should be a valid string, got 5"),
    (_set("text", ""), r"^text: empty; a Citron document needs its article text"),
    (_set("text", "ab\ud800c"), r"^text: lone UTF-16 surrogate at code point 2"),
    (_delete("quotes"), r"^quotes: missing"),
    (_set("quotes", {"cue": 1}), r"^quotes: input should be a valid list"),
    (_set("quotes.1", "said"), r"^quotes\[1\]: input should be a valid dictionary"),
    (_delete("quotes.1.cue"), r"^quotes\[1\]\.cue: missing; every document needs text and quotes, every quote cue"),
    (_delete("quotes.0.sources"), r"^quotes\[0\]\.sources: missing"),
    (_delete("quotes.0.contents"), r"^quotes\[0\]\.contents: missing"),
    (_delete("quotes.0.contents.1.end"), r"^quotes\[0\]\.contents\[1\]\.end: missing"),
    (_set("quotes.0.cue.start", "53"), r"^quotes\[0\]\.cue\.start: input should be a valid integer, got '53'"),
    (_set("quotes.0.cue.start", True), r"^quotes\[0\]\.cue\.start: input should be a valid integer, got True"),
    (_set("quotes.0.cue.end", 57.0), r"^quotes\[0\]\.cue\.end: input should be a valid integer, got 57\.0"),
    (_set("quotes.0.cue.text", None), r"^quotes\[0\]\.cue\.text: input should be a valid string, got None"),
    (_set("quotes.0.coreferences", "Humpty"), r"^quotes\[0\]\.coreferences: input should be a valid list"),
    (_set("quotes.0.cue", {"start": -1, "end": 3, "text": "Hum"}),
     r"^quotes\[0\]\.cue: offsets \[-1, 3\) are empty, reversed or outside the text's 148 code points"),
    (_set("quotes.0.cue", {"start": 140, "end": 149, "text": "x" * 9}), r"^quotes\[0\]\.cue: offsets \[140, 149\)"),
    (_set("quotes.0.cue", {"start": 5, "end": 5, "text": ""}), r"^quotes\[0\]\.cue: offsets \[5, 5\) are empty"),
    (_set("quotes.0.cue", {"start": 6, "end": 2, "text": ""}), r"^quotes\[0\]\.cue: offsets \[6, 2\)"),
    (_set("quotes.1.sources.0.text", "Alicia"),
     r"^quotes\[1\]\.sources\[0\]: says 'Alicia' but the text has 'Alice' at \[\d+, \d+\); the offsets must be code"),
    (_set("quotes.1.contents", []), r"^quotes\[1\]\.contents: empty; a quote needs at least one content span"),
    (_set("quotes.0.contents.1", at(TEXT, "I use a word")), r"^quotes\[0\]\.contents: .*overlap or are out of order"),
    (_set("quotes.0.id", "a b"), r"^quotes\[0\]\.id: 'a b' is not a valid quote id"),
    (_set("quotes.0.id", True), r"^quotes\[0\]\.id: True is not a valid quote id"),
    (_set("quotes.0.id", 1.5), r"^quotes\[0\]\.id: 1\.5 is not a valid quote id"),
    (_set("quotes.1.id", "q0"), r"^quotes\[1\]\.id: 'q0' is already the id of quotes\[0\]; give each quote its own id"),
    (_set("quotes.0.sources.0", at(TEXT, "😀")), r"^quotes\[0\]\.sources\[0\]: '😀' has no letters or digits"),
    (_set("quotes.0.coreferences.0", at(TEXT, ". ")), r"^quotes\[0\]\.coreferences\[0\]: '\. ' has no letters"),
    (_set("coreference_groups.1.1", {"start": 0, "end": 999, "text": "x"}),
     r"^coreference_groups\[1\]\[1\]: offsets \[0, 999\)"),
    (_set("coreference_groups", [{"start": 0, "end": 6, "text": "Humpty"}]),
     r"^coreference_groups\[0\]: input should be a valid list"),
    (_set("id", "bad id"), r"^id: 'bad id' is not a valid article id"),
    (_set("id", 7), r"^id: input should be a valid string, got 7"),
    (_set("annotator", ""), r"^annotator: empty; name the annotator or remove the key"),
]


@pytest.mark.parametrize(("mutate", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_bad_input_names_quote_index_and_field(mutate, message):
    obj = copy.deepcopy(humpty())
    mutate(obj)
    with pytest.raises(ToolkitError, match=message):
        citron_to_documents(obj)


def test_error_in_a_list_names_the_document():
    bad = humpty()
    bad["quotes"][1]["cue"]["start"] = "x"
    with pytest.raises(ToolkitError, match=r"^document 1: quotes\[1\]\.cue\.start: input should be a valid integer"):
        citron_to_documents([humpty(), bad])
    with pytest.raises(ToolkitError, match=r"^document 0: expected a JSON object with .* got str"):
        citron_to_documents(["text"])


def test_utf16_offsets_are_recognised_in_the_message():
    text = "😀😀 Ann said no."
    start = len(text[: text.index("Ann")].encode("utf-16-le")) // 2  # 5: each emoji counts 2 in UTF-16
    obj = {"text": text, "quotes": [{"cue": at(text, "said"), "contents": [at(text, "no")],
                                     "sources": [{"start": start, "end": start + 3, "text": "Ann"}]}]}
    with pytest.raises(ToolkitError, match=r"^quotes\[0\]\.sources\[0\]: .*count UTF-16 code units"):
        citron_to_documents(obj)


def test_extractor_output_is_refused_with_the_reason():
    extractor = {"quotes": [{"sources": [{"start": 0, "end": 1, "text": "He"}], "coreferences": [],
                             "cue": {"start": 1, "end": 2, "text": "said"},
                             "contents": [{"start": 3, "end": 5, "text": "it rains"}], "confidence": "0.9120"}],
                 "source": {"application": "citron-extractor", "model:": "2021-11-15"}}
    with pytest.raises(ToolkitError, match=r"Citron extractor output \(citron-extractor\).*spaCy token indices"):
        citron_to_documents(extractor)


# --- documents -> Citron ---------------------------------------------------------------------


def _doc(**changes) -> AnnotatedDocument:
    [doc] = citron_to_documents(humpty())
    return doc.model_copy(update=changes)


def test_export_warns_about_what_citron_cannot_hold():
    doc = _doc()
    no_cue = Quote(id="nocue", kind=QuoteKind.INDIRECT, content=[Span.of(TEXT, 0, 6)], speaker_entity_id="alice")
    unspoken = Quote(id="unspoken", kind=QuoteKind.INDIRECT, content=[Span.of(TEXT, 0, 6)], cue=doc.quotes[0].cue,
                     speaker_entity_id="alice")
    relabelled = doc.quotes[1].model_copy(update={"kind": QuoteKind.DIRECT})
    entities = [doc.entities[0].model_copy(update={"name": "Mr Dumpty", "wikidata": "Q1"}), doc.entities[1],
                Entity(id="nobody", name="Nobody")]
    doc = AnnotatedDocument(
        article=doc.article, provenance=doc.provenance, entities=entities, mentions=doc.mentions,
        quotes=[doc.quotes[0], relabelled, no_cue, unspoken],
        stances=[Stance(id="s1", holder_entity_id="alice", target_id="t", polarity="favor")],
        claims=[Claim(id="c1", span=Span.of(TEXT, 0, 6), check_worthy=CheckWorthy.NO)],
    )
    warnings: list[str] = []
    [obj] = documents_to_citron([doc], warnings=warnings)
    assert [q["id"] for q in obj["quotes"]] == ["q0", "q1", "unspoken"]
    assert obj["quotes"][2]["sources"] == []
    expected = [
        "quote nocue has no cue, which Citron requires; not exported",
        "quote unspoken: speaker alice has no mention in the text",
        "entity nobody has no mention",
        "1 stance(s) not exported",
        "1 claim(s) not exported",
        "entity humpty-dumpty ('Mr Dumpty', other, Q1) comes back as humpty-dumpty ('Humpty Dumpty', other)",
        "quote q1: kind direct comes back as indirect",
    ]
    assert len(warnings) == len(expected)
    for fragment, warning in zip(expected, warnings):
        assert warning.startswith("humpty (ann1): ") and fragment in warning


def test_export_of_a_mention_no_entity_can_be_named_after_is_an_error():
    doc = _doc()
    dash = Mention(id="dash", span=Span.of(TEXT, TEXT.index("😀"), TEXT.index("😀") + 1), entity_id="alice")
    doc = AnnotatedDocument.model_validate({**doc.model_dump(), "mentions": [*doc.model_dump()["mentions"],
                                                                            dash.model_dump()]})
    with pytest.raises(ToolkitError, match=r"^humpty \(ann1\): the Citron export would not import again: "
                                           r"coreference_groups\[1\]\[1\]: '😀' has no letters"):
        documents_to_citron([doc])


# --- round trips (Hypothesis) ----------------------------------------------------------------

# Letters, quotation marks, emoji (one and two code points), CRLF, and line separators that
# str.splitlines would split at.
PIECES = ["a", "b", "e", "Q", "Z", "7", "é", "中", " ", " ", " ", ".", ",", '"', "“", "”", "'", "’",
          "😀", "👍🏽", "\r\n", "\n", "\u2028", "\x85"]
texts = st.lists(st.sampled_from(PIECES), min_size=2, max_size=50).map("".join).filter(
    lambda t: any(c.isascii() and c.isalnum() for c in t))
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,6}", fullmatch=True)


def _any_span(draw, text: str) -> tuple[int, int]:
    start = draw(st.integers(0, len(text) - 1))
    return start, draw(st.integers(start + 1, min(len(text), start + 12)))


def _mention_span(draw, text: str) -> tuple[int, int]:
    """A span around an ASCII letter or digit, so an entity can be named after it."""
    i = draw(st.sampled_from([i for i, c in enumerate(text) if c.isascii() and c.isalnum()]))
    return draw(st.integers(max(0, i - 4), i)), draw(st.integers(i + 1, min(len(text), i + 5)))


def _fragments(draw, text: str) -> list[tuple[int, int]]:
    """One to three content fragments in text order, not overlapping."""
    cuts = draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6, unique=True))
    cuts = sorted(cuts[: len(cuts) // 2 * 2])
    return list(zip(cuts[::2], cuts[1::2]))


def _wire(text: str, span: tuple[int, int]) -> dict:
    return {"start": span[0], "end": span[1], "text": text[span[0] : span[1]]}


@st.composite
def citron_objects(draw) -> dict:
    """Any valid Citron object: several sources, coreferences, groups, unsorted contents, optional keys."""
    text = draw(texts)
    quotes = []
    for n in range(draw(st.integers(0, 3))):
        contents = [_wire(text, s) for s in draw(st.permutations(_fragments(draw, text)))]
        quote = {"cue": _wire(text, _any_span(draw, text)), "contents": contents,
                 "sources": [_wire(text, _mention_span(draw, text)) for _ in range(draw(st.integers(0, 2)))]}
        if draw(st.booleans()):
            quote["coreferences"] = [_wire(text, _mention_span(draw, text)) for _ in range(draw(st.integers(0, 2)))]
        quote_id = draw(st.sampled_from([None, f"x{n}", n + 100]))
        if quote_id is not None:
            quote["id"] = quote_id
        if draw(st.booleans()):
            quote["confidence"] = draw(st.sampled_from([0.5, "0.4210"]))
        quotes.append(quote)
    obj = {"text": text, "quotes": quotes}
    groups = [[_wire(text, _mention_span(draw, text)) for _ in range(draw(st.integers(1, 3)))]
              for _ in range(draw(st.integers(0, 2)))]
    if groups:
        obj["coreference_groups"] = groups
    if draw(st.booleans()):
        obj["id"] = draw(ids)
    if draw(st.booleans()):
        obj["annotator"] = draw(st.text(min_size=1, max_size=8))
    return obj


@settings(deadline=None, max_examples=150)
@given(citron_objects())
def test_citron_documents_citron_is_stable(obj):
    """The import keeps every quote's spans; its documents are canonical; so is what they export to."""
    docs = citron_to_documents(obj)
    for quote, wire in zip(docs[0].quotes, obj["quotes"], strict=True):
        assert [(s.start, s.end) for s in quote.content] == sorted((s["start"], s["end"]) for s in wire["contents"])
        assert (quote.cue.start, quote.cue.end) == (wire["cue"]["start"], wire["cue"]["end"])
        speaker = next((m.span for m in docs[0].mentions if m.id == quote.speaker_mention_id), None)
        first = min(((s["start"], s["end"]) for s in wire["sources"]), default=None)
        assert ((speaker.start, speaker.end) if speaker else None) == first
    warnings: list[str] = []
    canonical = json.loads(json.dumps(documents_to_citron(docs, warnings=warnings), ensure_ascii=False))
    assert warnings == []
    again = citron_to_documents(canonical)
    assert again == docs  # documents -> citron -> documents
    assert documents_to_citron(again) == canonical  # citron -> documents -> citron


@st.composite
def canonical_documents(draw) -> AnnotatedDocument:
    """Documents in the form the format represents: entities named after their longest mention,
    typed by the name's words; kinds as quotation marks say; one speaker mention per quote."""
    text = draw(texts)
    keys = sorted({_mention_span(draw, text) for _ in range(draw(st.integers(0, 6)))})
    clusters: dict[int, list[tuple[int, int]]] = {}
    for key in keys:
        clusters.setdefault(draw(st.integers(0, 2)), []).append(key)

    def name(members: list[tuple[int, int]]) -> str:
        start, end = min(members, key=lambda k: (k[0] - k[1], k))
        return " ".join(text[start:end].split())

    by_id: dict[str, list[tuple[int, int]]] = {}
    for members in clusters.values():  # names that give one id are one entity
        by_id.setdefault(entity_id_for(name(members)), []).extend(members)
    entities, entity_of = [], {}
    for entity_id, members in sorted(by_id.items(), key=lambda item: min(item[1])):
        entities.append(Entity(id=entity_id, name=name(members), type=guess_entity_type(name(members))))
        entity_of.update(dict.fromkeys(members, entity_id))
    quoted = quoted_mask(text)
    quotes = []
    for quote_id in draw(st.lists(ids, max_size=3, unique=True)):
        content = [Span.of(text, *s) for s in _fragments(draw, text)]
        speaker = draw(st.sampled_from([None, *keys]))
        quotes.append(Quote(id=quote_id, kind=kind_from_marks(content, text, quoted), content=content,
                            cue=Span.of(text, *_any_span(draw, text)),
                            speaker_mention_id=f"m{speaker[0]}-{speaker[1]}" if speaker else None,
                            speaker_entity_id=entity_of[speaker] if speaker else None))
    return AnnotatedDocument(
        article=Article.from_text(draw(ids), text),
        provenance=Provenance(annotator=draw(st.text(min_size=1, max_size=8)), origin="import"),
        entities=entities,
        mentions=[Mention(id=f"m{s}-{e}", span=Span.of(text, s, e), entity_id=entity_of[(s, e)]) for s, e in keys],
        quotes=quotes,
    )


@settings(deadline=None, max_examples=150)
@given(canonical_documents())
def test_canonical_documents_survive_citron(doc):
    warnings: list[str] = []
    wire = json.loads(json.dumps(documents_to_citron([doc], warnings=warnings), ensure_ascii=False))
    assert warnings == []
    assert citron_to_documents(wire) == [doc]


# --- files -----------------------------------------------------------------------------------


def test_jsonl_round_trip_keeps_line_separators_inside_texts(tmp_path: Path):
    obj = humpty()
    obj["text"] = TEXT.replace("sat on", "sat\u2028on\x85")
    obj["id"] = "sep"
    obj["quotes"] = []
    del obj["coreference_groups"]
    out = tmp_path / "corpus.jsonl"
    write_citron([humpty(), obj], out)
    result = import_citron(out)
    assert [d.article.text for d in result.documents] == [TEXT, obj["text"]]
    assert documents_to_citron(result.documents) == [humpty(), obj]


def test_folder_export_and_import(tmp_path: Path):
    docs = citron_to_documents([humpty(), {**humpty(), "annotator": "ann 2"}])
    written = write_citron(documents_to_citron(docs), tmp_path)
    assert sorted(p.name for p in written) == ["humpty.ann-2.json", "humpty.ann1.json"]
    by_annotator = lambda d: d.provenance.annotator  # noqa: E731
    assert sorted(import_citron(tmp_path).documents, key=by_annotator) == sorted(docs, key=by_annotator)


def test_folder_export_refuses_two_files_with_one_name(tmp_path: Path):
    objs = documents_to_citron(citron_to_documents([humpty(), {**humpty(), "annotator": "ANN1"}]))
    with pytest.raises(ToolkitError, match=r"humpty\.ann1\.json: two documents of article humpty"):
        write_citron(objs, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_lone_object_takes_the_file_name_as_id(tmp_path: Path):
    obj = humpty()
    del obj["id"]
    (tmp_path / "bbc-123.json").write_text(json.dumps(obj), encoding="utf-8")
    (tmp_path / "no good.json").write_text(json.dumps(obj), encoding="utf-8")
    assert import_citron(tmp_path / "bbc-123.json").documents[0].article.id == "bbc-123"
    assert import_citron(tmp_path / "bbc-123.json", article_id="given").documents[0].article.id == "given"
    assert import_citron(tmp_path / "no good.json").documents[0].article.id == sha256_of(TEXT)[:16]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.json", '{"text": "x",\n "quotes": [}', r"bad\.json:2: invalid JSON \(Expecting value, column 13\)"),
    ("bad.jsonl", '\n{"text": "x"}\n{"text": "y", "quotes": []}', r"bad\.jsonl:2: quotes: missing"),
    ("bad.jsonl", '\n\n{"text": ', r"bad\.jsonl:3: invalid JSON"),
    ("empty.jsonl", "\n \n", r"empty\.jsonl: empty; expected one Citron JSON object per line"),
    ("list.json", '[{"text": "x", "quotes": []}, 3]', r"list\.json: document 1: expected a JSON object"),
    ("bytes.json", b'{"text": "\xff"}', r"bytes\.json: not UTF-8 at byte 10"),
])
def test_bad_file_names_the_place(tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(ToolkitError, match=message):
        import_citron(path)


def test_bad_paths(tmp_path: Path):
    with pytest.raises(ToolkitError, match=r"no \.json files found"):
        import_citron(tmp_path)
    with pytest.raises(ToolkitError, match=r"missing\.json: no such file"):
        import_citron(tmp_path / "missing.json")
    (tmp_path / "two.json").write_text(json.dumps([humpty(), humpty()]), encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"two\.json: --id names one document but this holds 2"):
        import_citron(tmp_path / "two.json", article_id="x")
    objs = documents_to_citron(citron_to_documents([humpty(), humpty()]))
    with pytest.raises(ToolkitError, match=r"one\.json: a Citron \.json file holds one document, 2 were given"):
        write_citron(objs, tmp_path / "one.json")
    with pytest.raises(ToolkitError, match=r"out\.txt: not a \.json, \.jsonl or existing folder"):
        write_citron(objs, tmp_path / "out.txt")
    with pytest.raises(ToolkitError, match=r"directory .*nowhere does not exist"):
        write_citron(objs, tmp_path / "nowhere" / "out.jsonl")
    assert not (tmp_path / "one.json").exists() and not (tmp_path / "out.txt").exists()


# --- command line ----------------------------------------------------------------------------

runner = CliRunner()


def test_cli_import_then_export(tmp_path: Path):
    source = tmp_path / "humpty.json"
    source.write_text(json.dumps({**humpty(), "confidence_model": "x"}), encoding="utf-8")
    docs = tmp_path / "docs.jsonl"
    result = runner.invoke(app, ["import", "citron", str(source), "--out", str(docs)])
    assert result.exit_code == 0, result.output
    assert "imported 1 document(s) with 2 quote(s)" in result.stdout
    assert "warning: " in result.stderr and "confidence_model: unknown key, ignored" in result.stderr
    assert [AnnotatedDocument.model_validate_json(line) for line in docs.read_text("utf-8").splitlines()] == \
        citron_to_documents(humpty())

    out = tmp_path / "back.json"
    result = runner.invoke(app, ["export-citron", str(docs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 1 document(s) with 2 quote(s)" in result.stdout and result.stderr == ""
    assert json.loads(out.read_text("utf-8")) == humpty()


def test_cli_error_is_one_line_and_exit_2(tmp_path: Path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"article": 1}\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", "export-citron", str(docs),
                           "--out", str(tmp_path / "x.jsonl")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {docs}:1: ") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()
