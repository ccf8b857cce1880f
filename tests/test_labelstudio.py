"""Label Studio result JSON <-> AnnotatedDocument, and whole JSON exports -> documents."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.labelstudio.decode import results_to_document
from annotate.labelstudio.encode import document_to_results
from annotate.labelstudio.export import parse_export
from annotate.labelstudio.ids import stance_id_for
from schemas import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Polarity,
    Provenance,
    Quote,
    Span,
    Stance,
    TargetInventory,
    ToolkitError,
    entity_id_for,
    sha256_of,
)

TEXT = (
    "Putin said on Friday that Western troops in Ukraine would be “legitimate targets”. "
    "He added that talks were possible, and Macron said he disagreed. "
    "The Kremlin said 26 countries had pledged troops."
)
ARTICLE = Article.from_text("a1", TEXT, outlet="Test")
PROVENANCE = Provenance(annotator="ann1@example.com")
PUTIN = entity_id_for("Vladimir Putin")


def span(fragment: str, occurrence: int = 0, text: str = TEXT) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(fragment, start + 1)
    return Span.of(text, start, start + len(fragment))


def full_document() -> AnnotatedDocument:
    """Every feature once: fragments, cue, speaker by mention and by box, stance, claims."""
    return AnnotatedDocument(
        article=ARTICLE,
        provenance=PROVENANCE,
        entities=[
            Entity(id="emmanuel-macron", name="Emmanuel Macron", type="person"),
            Entity(id="the-kremlin", name="The Kremlin"),
            Entity(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747"),
        ],
        mentions=[
            Mention(id="m1", span=span("Putin"), entity_id=PUTIN),
            Mention(id="m2", span=span("He"), entity_id=PUTIN),
            Mention(id="m3", span=span("Macron"), entity_id="emmanuel-macron"),
        ],
        quotes=[
            Quote(id="q1", kind="mixed", content=[span("Western troops in Ukraine"), span("would be “legitimate")],
                  cue=span("said"), speaker_mention_id="m1"),
            Quote(id="q2", kind="indirect", content=[span("talks were possible")], speaker_mention_id="m2"),
            Quote(id="q3", kind="indirect", content=[span("26 countries had pledged troops")],
                  speaker_entity_id="the-kremlin"),
        ],
        stances=[
            Stance(id=stance_id_for(PUTIN, "foreign-troops-in-ukraine", Polarity.AGAINST), holder_entity_id=PUTIN,
                   target_id="foreign-troops-in-ukraine", polarity="against", evidence=["q1"]),
            Stance(id=stance_id_for(PUTIN, "putin-zelensky-meeting", Polarity.FAVOR), holder_entity_id=PUTIN,
                   target_id="putin-zelensky-meeting", polarity="favor", evidence=["q2"]),
        ],
        claims=[Claim(id="c1", span=span("Western troops in Ukraine would be “legitimate targets”"),
                      claimant_entity_id=PUTIN, check_worthy="yes")],
    )


def by_id(results: list[dict], region_id: str, from_name: str = "span") -> dict:
    return next(r for r in results if r.get("id") == region_id and r["from_name"] == from_name)


def without(results: list[dict], region_id: str, from_name: str) -> list[dict]:
    return [r for r in results if not (r.get("id") == region_id and r.get("from_name") == from_name)]


def region(region_id: str, s: Span, label: str) -> dict:
    return {"id": region_id, "from_name": "span", "to_name": "text", "type": "labels",
            "value": {"start": s.start, "end": s.end, "text": s.text, "labels": [label]}}


def choice(region_id: str, s: Span, control: str, value: str) -> dict:
    return {"id": region_id, "from_name": control, "to_name": "text", "type": "choices",
            "value": {"start": s.start, "end": s.end, "text": s.text, "choices": [value]}}


def box(region_id: str, s: Span, control: str, value: str) -> dict:
    return {"id": region_id, "from_name": control, "to_name": "text", "type": "textarea",
            "value": {"start": s.start, "end": s.end, "text": [value]}}


def relation(a: str, b: str, label: str, direction: str = "right") -> dict:
    return {"from_id": a, "to_id": b, "type": "relation", "direction": direction, "labels": [label]}


def convert(results: list, **kw):
    return results_to_document(ARTICLE, results, PROVENANCE, **kw)


def dump(doc: AnnotatedDocument) -> dict:
    return doc.model_dump(mode="json")


# ---------------------------------------------------------------- canonical form and round trip


def test_full_document_round_trips_unchanged():
    doc = full_document()
    outcome = convert(document_to_results(doc))
    assert outcome.rejections == [] and outcome.repairs == []
    assert dump(outcome.document) == dump(doc)


def test_canonical_results_shape():
    results = document_to_results(full_document())
    q1 = by_id(results, "q1")
    assert q1["value"]["labels"] == ["Content"] and q1["value"]["text"] == "Western troops in Ukraine"
    assert by_id(results, "q1.1")["value"]["text"] == "would be “legitimate"
    assert by_id(results, "q1.cue")["value"]["labels"] == ["Cue"]
    assert by_id(results, "m1", "entity")["value"]["text"] == ["Vladimir Putin"]  # TextArea: a list
    assert by_id(results, "m1", "wikidata")["value"]["text"] == ["Q7747"]
    assert by_id(results, "q1.1", "kind")["value"]["choices"] == ["mixed"]  # kind on every fragment
    assert by_id(results, "q1", "stance_target")["value"]["choices"] == ["foreign-troops-in-ukraine"]
    assert not [r for r in results if r.get("id") == "q1.1" and r["from_name"] == "stance_target"]
    assert by_id(results, "q3", "speaker_entity")["value"]["text"] == ["The Kremlin"]
    relations = {(r["from_id"], r["to_id"], r["labels"][0]) for r in results if r["type"] == "relation"}
    assert relations == {("q1", "m1", "said_by"), ("q1", "q1.1", "continues"), ("q1.cue", "q1", "cue_of"),
                         ("q2", "m2", "said_by"), ("c1", "m1", "claimed_by")}
    for r in results:
        if r["type"] != "relation":
            assert TEXT[r["value"]["start"]:r["value"]["end"]] == by_id(results, r["id"])["value"]["text"]


def test_entity_ids_are_the_schemas_slugs_of_names():
    import schemas

    assert entity_id_for is schemas.entity_id_for  # one definition for everything that names entities
    assert entity_id_for("  Élysée   Palace ") == "elysee-palace"


def test_entity_name_without_latin_letters_rejects_the_mention():
    s = span("Putin")
    outcome = convert([region("m1", s, "Mention"), box("m1", s, "entity", "Путин"),
                       region("m2", span("Macron"), "Mention"), box("m2", span("Macron"), "entity", "Emmanuel Macron")])
    assert [m.id for m in outcome.document.mentions] == ["m2"]
    (rejection,) = outcome.rejections
    assert rejection.region_id == "m1"
    assert "entity name 'Путин' has no letters or digits to make an id from; type the canonical name in Latin" \
        in rejection.message


def test_overlong_entity_name_in_the_speaker_box_is_ignored_and_the_quote_kept():
    q = span("talks were possible")
    results = [region("q", q, "Content"), choice("q", q, "kind", "indirect"), box("q", q, "speaker_entity", "N" * 300)]
    outcome = convert(results)
    assert [x.id for x in outcome.document.quotes] == ["q"] and outcome.document.quotes[0].speaker_entity_id is None
    assert "is too long for an id; shorten it (speaker box ignored)" in outcome.rejections[0].message


def test_entity_name_without_latin_letters_cannot_be_written():
    doc = full_document()
    entities = [e.model_copy(update={"name": "Кремль"}) if e.id == "the-kremlin" else e for e in doc.entities]
    with pytest.raises(ToolkitError, match="article 'a1': entity 'the-kremlin': entity name 'Кремль' has no letters"):
        document_to_results(doc.model_copy(update={"entities": entities}))


NAMES = ["Vladimir Putin", "Emmanuel Macron", "NATO", "Kyiv", "Élysée Palace", "Volodymyr Zelensky"]
TARGETS = ["foreign-troops-in-ukraine", "ukraine-in-nato", "us-involvement"]
PIECES = ["a", "b", "Putin", " ", "  ", ".", "\n", "\r\n", "\u00a0", "😀", "é", "“", "x y"]


@st.composite
def spans_in(draw, text: str) -> Span:
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, min(len(text), start + 12)))
    return Span.of(text, start, end)


@st.composite
def fragments_in(draw, text: str) -> list[Span]:
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), min_size=2, max_size=6)))
    pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2])]
    return [Span.of(text, a, b) for a, b in pairs]


@st.composite
def canonical_documents(draw) -> AnnotatedDocument:
    """Random documents in the canonical form (module docstring of annotate.labelstudio.encode)."""
    text = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=20, max_size=80)))
    article = Article.from_text("art-1", text)
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    mentioned, spare = names[: len(names) // 2 + 1], names[len(names) // 2 + 1:]
    entities: dict[str, Entity] = {}
    mentions: list[Mention] = []
    for name in mentioned:
        entity_id = entity_id_for(name)
        entities[entity_id] = Entity(
            id=entity_id, name=name, type=draw(st.sampled_from(["person", "organization", "country", "other"])),
            wikidata=draw(st.none() | st.integers(1, 10**6).map(lambda n: f"Q{n}")),
        )
        for _ in range(draw(st.integers(1, 3))):
            mentions.append(Mention(id=f"m{len(mentions)}", span=draw(spans_in(text)), entity_id=entity_id))
    mentions.sort(key=lambda m: (m.span.start, m.span.end, m.id))
    quotes: list[Quote] = []
    stance_of: dict[str, tuple[str, str, Polarity]] = {}
    for n in range(draw(st.integers(0, 4))):
        content = draw(fragments_in(text))
        speaker = draw(st.sampled_from(["none", "mention", "entity"]))
        mention_id = entity_id = None
        if speaker == "mention" and mentions:
            mention_id = draw(st.sampled_from(mentions)).id
        elif speaker == "entity" and spare:
            name = draw(st.sampled_from(spare))
            entity_id = entity_id_for(name)
            entities.setdefault(entity_id, Entity(id=entity_id, name=name))
        quote = Quote(id=f"q{n}", kind=draw(st.sampled_from(["direct", "indirect", "mixed"])), content=content,
                      cue=draw(st.none() | spans_in(text)), speaker_mention_id=mention_id,
                      speaker_entity_id=entity_id)
        holder = entity_id or next((m.entity_id for m in mentions if m.id == mention_id), None)
        if holder and draw(st.booleans()):
            # Few (target, polarity) pairs, so that stances with several evidence quotes come up often.
            stance_of[quote.id] = (holder, draw(st.sampled_from(TARGETS[:2])),
                                   draw(st.sampled_from([Polarity.AGAINST, Polarity.FAVOR])))
        quotes.append(quote)
    quotes.sort(key=lambda q: (q.content[0].start, q.content[0].end, q.id))
    evidence: dict[tuple, list[str]] = {}
    for q in quotes:
        if q.id in stance_of:
            evidence.setdefault(stance_of[q.id], []).append(q.id)
    stances = sorted((Stance(id=stance_id_for(*key), holder_entity_id=key[0], target_id=key[1], polarity=key[2],
                             evidence=ids) for key, ids in evidence.items()), key=lambda s: s.id)
    claims = sorted((Claim(id=f"c{n}", span=draw(spans_in(text)), check_worthy=draw(st.sampled_from(["yes", "no"])),
                           claimant_entity_id=draw(st.none() | st.sampled_from(sorted({m.entity_id for m in mentions})))
                           if mentions else None)
                     for n in range(draw(st.integers(0, 2)))), key=lambda c: (c.span.start, c.span.end, c.id))
    return AnnotatedDocument(article=article, provenance=PROVENANCE, entities=sorted(entities.values(),
                             key=lambda e: e.id), mentions=mentions, quotes=quotes, stances=stances, claims=claims)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canonical_documents())
def test_round_trip_through_label_studio_json_changes_nothing(doc):
    results = json.loads(json.dumps(document_to_results(doc)))  # as it travels over the wire
    outcome = results_to_document(doc.article, results, doc.provenance)
    assert outcome.rejections == []
    assert outcome.repairs == []
    assert dump(outcome.document) == dump(doc)


@settings(max_examples=60, deadline=None)
@given(canonical_documents(), st.randoms(use_true_random=False))
def test_result_order_does_not_matter(doc, rnd):
    results = document_to_results(doc)
    rnd.shuffle(results)
    assert dump(results_to_document(doc.article, results, doc.provenance).document) == dump(doc)


# ---------------------------------------------------------------- what the canonical form cannot hold


def test_stance_without_evidence_cannot_be_represented():
    doc = full_document().model_copy(update={"stances": [
        Stance(id="s1", holder_entity_id=PUTIN, target_id="ukraine-in-nato", polarity="against")]})
    with pytest.raises(ToolkitError, match="stance 's1': has no evidence quote.*add the quote"):
        document_to_results(doc)


def test_stance_holder_must_be_the_quote_speaker():
    doc = full_document().model_copy(update={"stances": [
        Stance(id="s1", holder_entity_id="emmanuel-macron", target_id="ukraine-in-nato", polarity="against",
               evidence=["q1"])]})
    with pytest.raises(ToolkitError, match="holder 'emmanuel-macron' is not the speaker of its evidence quote 'q1'"):
        document_to_results(doc)


def test_quote_evidencing_two_stances_cannot_be_represented():
    doc = full_document()
    second = Stance(id="s2", holder_entity_id=PUTIN, target_id="ukraine-in-nato", polarity="against",
                    evidence=["q1"])
    doc = doc.model_copy(update={"stances": [*doc.stances, second]})
    with pytest.raises(ToolkitError, match="quote 'q1': is evidence for stances .* and 's2'"):
        document_to_results(doc)


def test_claimant_without_mention_cannot_be_represented():
    doc = full_document()
    doc = doc.model_copy(update={"claims": [doc.claims[0].model_copy(update={"claimant_entity_id": "the-kremlin"})]})
    with pytest.raises(ToolkitError, match="claim 'c1': claimant 'the-kremlin' has no mention"):
        document_to_results(doc)


def test_entity_nothing_refers_to_cannot_be_represented():
    doc = full_document()
    doc = doc.model_copy(update={"entities": [*doc.entities, Entity(id="nato", name="NATO")]})
    with pytest.raises(ToolkitError, match="entity 'nato': no mention and no quote's speaker refers to it"):
        document_to_results(doc)


def test_typed_entity_without_mention_cannot_be_represented():
    doc = full_document()
    entities = [e.model_copy(update={"type": "organization"}) if e.id == "the-kremlin" else e for e in doc.entities]
    with pytest.raises(ToolkitError, match="entity 'the-kremlin': has a type or Wikidata id but no mention"):
        document_to_results(doc.model_copy(update={"entities": entities}))


def test_names_giving_one_entity_id_cannot_be_represented():
    doc = full_document()
    entities = [*doc.entities, Entity(id="putin-2", name="vladimir  PUTIN")]
    mentions = [*doc.mentions, Mention(id="m9", span=span("Putin"), entity_id="putin-2")]
    doc = AnnotatedDocument.model_validate({**doc.model_dump(), "entities": entities, "mentions": mentions})
    with pytest.raises(ToolkitError, match="entities 'vladimir-putin' and 'putin-2' have names that give the same id"):
        document_to_results(doc)


def test_ids_clashing_as_region_ids_cannot_be_represented():
    doc = full_document()
    claims = [doc.claims[0].model_copy(update={"id": "q1.cue"})]
    with pytest.raises(ToolkitError, match="quote 'q1' cue and claim 'q1.cue' would both be region 'q1.cue'|"
                                           "claim 'q1.cue' and quote 'q1' cue would both be region"):
        document_to_results(doc.model_copy(update={"claims": claims}))


# ---------------------------------------------------------------- reading what annotators make


def test_label_studio_region_ids_with_underscores_become_valid_ids():
    s = span("Putin")
    results = [region("-Xy_3", s, "Mention"), box("-Xy_3", s, "entity", "Vladimir Putin"),
               region("a b", span("Macron"), "Mention"), box("a b", span("Macron"), "entity", "Emmanuel Macron"),
               region("q_1", span("Kremlin"), "Mention"), box("q_1", span("Kremlin"), "entity", "The Kremlin")]
    outcome = convert(results)
    assert outcome.rejections == []
    assert [m.id for m in outcome.document.mentions] == ["r-Xy_3", "a+20b", "q_1"]


def test_escaped_region_id_clashing_with_another_is_rejected():
    results = [region("-x", span("Putin"), "Mention"), region("r-x", span("Macron"), "Mention")]
    outcome = convert(results)
    assert [m.id for m in outcome.document.mentions] == ["r-x"]
    assert "region '-x'" in outcome.rejections[0].message or "region 'r-x'" in outcome.rejections[0].message
    assert "its id becomes 'r-x'" in outcome.rejections[0].message


def test_empty_entity_box_uses_the_mention_text_with_a_note():
    s = span("Macron")
    outcome = convert([region("m1", s, "Mention"), box("m1", s, "entity", "   ")])
    assert outcome.document.entities == [Entity(id="macron", name="Macron")]
    assert outcome.document.mentions[0].entity_id == "macron"
    assert len(outcome.repairs) == 1
    assert "entity box is empty; used the mention text 'Macron'" in outcome.repairs[0].reason


def test_entity_type_and_wikidata_come_from_the_first_mention_that_sets_them():
    a, b = span("Putin"), span("He")
    outcome = convert([
        region("m1", a, "Mention"), box("m1", a, "entity", "Vladimir Putin"),
        region("m2", b, "Mention"), box("m2", b, "entity", "Vladimir Putin"), choice("m2", b, "entity_type", "person"),
        box("m2", b, "wikidata", "Q7747"),
    ])
    assert outcome.document.entities == [Entity(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747")]
    outcome = convert([
        region("m1", a, "Mention"), box("m1", a, "entity", "Vladimir Putin"), choice("m1", a, "entity_type", "person"),
        region("m2", b, "Mention"), box("m2", b, "entity", "Vladimir Putin"), choice("m2", b, "entity_type", "country"),
    ])
    assert outcome.document.entities[0].type.value == "person"
    assert "entity type 'country' differs from 'person'" in outcome.repairs[0].reason


def test_bad_wikidata_id_is_rejected_but_the_mention_kept():
    s = span("Putin")
    outcome = convert([region("m1", s, "Mention"), box("m1", s, "entity", "Vladimir Putin"),
                       box("m1", s, "wikidata", "Putin")])
    assert [m.id for m in outcome.document.mentions] == ["m1"]
    assert outcome.document.entities[0].wikidata is None
    assert "Wikidata id 'Putin' is not like Q7747" in outcome.rejections[0].message


def quote_results(kind: str | None = "direct") -> list[dict]:
    q, m = span("talks were possible"), span("He")
    results = [region("q", q, "Content"), region("m", m, "Mention"), box("m", m, "entity", "Vladimir Putin"),
               relation("q", "m", "said_by")]
    return results + ([choice("q", q, "kind", kind)] if kind else [])


def test_missing_kind_rejects_the_quote_with_a_clear_message():
    outcome = convert(quote_results(kind=None))
    assert outcome.document.quotes == []
    assert [m.id for m in outcome.document.mentions] == ["m"]
    (rejection,) = outcome.rejections
    assert rejection.region_id == "q"
    assert "Content region 'q' 'talks were possible' at [" in rejection.message
    assert "no quote kind chosen; pick direct/indirect/mixed" in rejection.message


@pytest.mark.parametrize("direction", ["right", "left", "bi"])
def test_relation_direction_is_handled(direction):
    results = quote_results()
    results[3] = relation("q", "m", "said_by", direction) if direction != "left" else relation("m", "q", "said_by",
                                                                                                "left")
    outcome = convert(results)
    assert outcome.document.quotes[0].speaker_mention_id == "m"
    assert outcome.rejections == [] and outcome.repairs == []


def test_relation_drawn_backwards_is_read_the_right_way_with_a_note():
    results = quote_results()
    results[3] = relation("m", "q", "said_by")
    outcome = convert(results)
    assert outcome.document.quotes[0].speaker_mention_id == "m"
    assert "drawn from the Mention to the Content; read as said_by from 'q' to 'm'" in outcome.repairs[0].reason


def test_fragments_chained_by_continues_make_one_quote_in_text_order():
    a, b, c = span("Western troops"), span("would be"), span("“legitimate targets”")
    results = [region("z", a, "Content"), region("y", b, "Content"), region("x", c, "Content"),
               choice("y", b, "kind", "direct"), relation("x", "y", "continues", "bi"),
               relation("z", "y", "continues", "left")]
    (quote,) = convert(results).document.quotes
    assert quote.id == "z" and quote.content == [a, b, c] and quote.kind.value == "direct"


def test_fragments_disagreeing_on_kind_reject_the_quote():
    a, b = span("Western troops"), span("would be")
    results = [region("a", a, "Content"), region("b", b, "Content"), choice("a", a, "kind", "direct"),
               choice("b", b, "kind", "indirect"), relation("a", "b", "continues")]
    outcome = convert(results)
    assert outcome.document.quotes == []
    assert "its fragments disagree on kind (direct, indirect)" in outcome.rejections[0].message
    assert "fragments b" in outcome.rejections[0].message


def test_stance_comes_from_the_quote_and_its_speaker():
    q = span("talks were possible")
    results = quote_results() + [choice("q", q, "stance_target", "putin-zelensky-meeting"),
                                 choice("q", q, "stance_polarity", "favor")]
    (stance,) = convert(results).document.stances
    assert (stance.holder_entity_id, stance.target_id, stance.polarity.value, stance.evidence) == (
        PUTIN, "putin-zelensky-meeting", "favor", ["q"])


def test_quotes_with_the_same_stance_make_one_stance_with_all_evidence():
    doc = full_document()
    stances = [Stance(id=stance_id_for(PUTIN, "ukraine-in-nato", Polarity.AGAINST), holder_entity_id=PUTIN,
                      target_id="ukraine-in-nato", polarity="against", evidence=["q1", "q2"])]
    doc = doc.model_copy(update={"stances": stances})
    results = document_to_results(doc)
    assert by_id(results, "q2", "stance_target")["value"]["choices"] == ["ukraine-in-nato"]
    (stance,) = convert(results).document.stances
    assert stance == stances[0]


@pytest.mark.parametrize(("control", "value", "message"), [
    ("stance_target", "ukraine-in-nato", "stance has 'ukraine-in-nato' but no stance_polarity"),
    ("stance_polarity", "against", "stance has 'against' but no stance_target"),
])
def test_half_a_stance_is_rejected_and_the_quote_kept(control, value, message):
    outcome = convert(quote_results() + [choice("q", span("talks were possible"), control, value)])
    assert outcome.document.stances == [] and [q.id for q in outcome.document.quotes] == ["q"]
    assert message in outcome.rejections[0].message and "stance left out, quote kept" in outcome.rejections[0].message


def test_stance_without_speaker_is_rejected():
    q = span("talks were possible")
    results = [region("q", q, "Content"), choice("q", q, "kind", "indirect"),
               choice("q", q, "stance_target", "ukraine-in-nato"), choice("q", q, "stance_polarity", "against")]
    outcome = convert(results)
    assert outcome.document.stances == []
    assert "has a stance but no speaker to hold it" in outcome.rejections[0].message


def test_stance_target_outside_the_inventory_is_rejected_when_targets_are_given():
    q = span("talks were possible")
    inventory = TargetInventory(version="1.0.0", event="e", targets=[{"id": "ukraine-in-nato", "description": "d"}])
    results = quote_results() + [choice("q", q, "stance_target", "moon-landing"), choice("q", q, "stance_polarity",
                                                                                          "favor")]
    outcome = convert(results, targets=inventory)
    assert outcome.document.stances == []
    message = outcome.rejections[0].message
    assert "stance target 'moon-landing' is not in the target inventory (ukraine-in-nato)" in message


def test_speaker_box_without_mention_creates_the_entity():
    q = span("talks were possible")
    results = [region("q", q, "Content"), choice("q", q, "kind", "indirect"), box("q", q, "speaker_entity", "NATO")]
    doc = convert(results).document
    assert doc.quotes[0].speaker_entity_id == "nato" and doc.entities == [Entity(id="nato", name="NATO")]


def test_speaker_box_contradicting_said_by_is_rejected_and_the_mention_kept():
    results = quote_results() + [box("q", span("talks were possible"), "speaker_entity", "Emmanuel Macron")]
    outcome = convert(results)
    assert outcome.document.quotes[0].speaker_mention_id == "m"
    assert "speaker box says 'Emmanuel Macron' but said_by links mention 'm'" in outcome.rejections[0].message


def test_cue_links_and_unlinked_cues():
    cue, stray = span("added"), span("said")
    results = quote_results() + [region("c", cue, "Cue"), relation("c", "q", "cue_of"), region("s", stray, "Cue")]
    outcome = convert(results)
    assert outcome.document.quotes[0].cue == cue
    (rejection,) = outcome.rejections
    assert rejection.region_id == "s" and "no cue_of relation links it to a quote" in rejection.message


def test_claims_need_check_worthiness_and_take_the_claimant_from_claimed_by():
    c, m = span("26 countries had pledged troops"), span("Kremlin")
    results = [region("c", c, "Claim"), choice("c", c, "check_worthy", "yes"), region("m", m, "Mention"),
               box("m", m, "entity", "The Kremlin"), relation("m", "c", "claimed_by", "left"),
               region("c2", span("talks"), "Claim")]
    outcome = convert(results)
    assert [(x.id, x.claimant_entity_id, x.check_worthy.value) for x in outcome.document.claims] == [
        ("c", "the-kremlin", "yes")]
    assert "Claim region 'c2'" in outcome.rejections[0].message
    assert "no check-worthiness chosen" in outcome.rejections[0].message


@pytest.mark.parametrize(("bad", "message"), [
    ({"id": "x", "from_name": "span", "to_name": "text", "type": "labels",
      "value": {"start": 0, "end": 5, "text": "Putin", "labels": ["Speaker"]}},
     r"region 'x' \[0, 5\) 'Putin': has Speaker; a region needs exactly one of Content, Cue, Mention, Claim"),
    ({"id": "x", "from_name": "span", "to_name": "text", "type": "labels",
      "value": {"start": 0, "end": 5, "text": "Putin", "labels": ["Mention", "Claim"]}},
     "has Mention, Claim; a region needs exactly one"),
    ({"id": "x", "from_name": "span", "to_name": "text", "type": "labels",
      "value": {"start": "0", "end": 5, "text": "Putin", "labels": ["Mention"]}},
     r"result #5 \(region 'x'\): labels result is malformed: value.start: Input should be a valid integer"),
    ({"id": "x", "type": "rectanglelabels", "value": {}}, "type 'rectanglelabels' is not one this labeling config"),
    ("junk", "result #5: is str, not a JSON object"),
    ({"id": "x", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["a"]}},
     "choices control 'sentiment' is not in the labeling config"),
    ({"id": "q", "from_name": "entity", "to_name": "text", "type": "textarea", "value": {"text": ["Putin"]}},
     "has a entity value \\(Putin\\), which belongs on Mention regions; ignored"),
    ({"id": "nope", "from_name": "kind", "to_name": "text", "type": "choices", "value": {"choices": ["direct"]}},
     "kind value for region 'nope': no such region"),
    (relation("q", "ghost", "said_by"), "relation said_by 'q' -> 'ghost': region 'ghost' does not exist"),
    ({"from_id": "q", "to_id": "m", "type": "relation", "direction": "right", "labels": []},
     r"relation \(no label\) 'q' -> 'm': needs exactly one label of said_by, cue_of, continues, claimed_by"),
    (relation("q", "m", "cue_of"), "cue_of links a Cue region to a Content region, not Content and Mention"),
    (relation("q", "q", "continues"), "links a region to itself"),
])
def test_bad_items_are_rejected_precisely_and_the_rest_kept(bad, message):
    outcome = convert(quote_results() + [bad])
    assert len(outcome.rejections) == 1
    assert re.search(message, outcome.rejections[0].message), outcome.rejections[0].message
    assert [q.id for q in outcome.document.quotes] == ["q"] and [m.id for m in outcome.document.mentions] == ["m"]


def test_duplicate_region_ids_reject_every_copy():
    a, b = span("Putin"), span("Macron")
    outcome = convert([region("d", a, "Mention"), region("d", b, "Mention"), region("m", b, "Mention")])
    assert [m.id for m in outcome.document.mentions] == ["m"]
    (rejection,) = outcome.rejections
    assert "region id 'd' is used by 2 regions; all are left out" in rejection.message


def test_relation_to_a_rejected_region_says_so():
    results = quote_results()
    results[1] = region("m", Span(start=0, end=5, text="Xyzzy"), "Mention")
    outcome = convert(results)
    messages = [r.message for r in outcome.rejections]
    assert any("Mention region 'm': offsets [0, 5) cover 'Putin' but the region says 'Xyzzy'" in m for m in messages)
    assert any("region 'm' was left out (see its rejection)" in m for m in messages)
    assert outcome.document.quotes[0].speaker_mention_id is None


def test_offsets_counted_in_utf16_are_repaired_and_reported():
    text = "🙂 Putin said 🙂 “no”."
    article = Article.from_text("a2", text)
    s = span("“no”", text=text)
    utf16 = len(text[: s.start].encode("utf-16-le")) // 2
    results = [region("q", Span(start=utf16, end=utf16 + 4, text="“no”"), "Content"),
               choice("q", s, "kind", "direct")]
    outcome = results_to_document(article, results, PROVENANCE)
    assert outcome.document.quotes[0].content == [s]
    (repair,) = outcome.repairs
    assert (repair.region_id, repair.old, repair.new) == ("q", (utf16, utf16 + 4), (s.start, s.end))
    assert "UTF-16" in repair.reason


def test_overlong_stance_target_is_rejected():
    q = span("talks were possible")
    outcome = convert(quote_results() + [choice("q", q, "stance_target", "t" * 190),
                                         choice("q", q, "stance_polarity", "favor")])
    assert outcome.document.stances == []
    assert "is not a valid target id" in outcome.rejections[0].message


def test_results_must_be_a_list():
    with pytest.raises(ToolkitError, match="article 'a1': the result is dict, not a list of regions"):
        results_to_document(ARTICLE, {"id": "x"}, PROVENANCE)


# ---------------------------------------------------------------- whole exports


def task_data(article: Article = ARTICLE, **changes) -> dict:
    data = {"text": article.text, "article_id": article.id, "sha256": article.sha256, "title": article.title,
            "outlet": article.outlet, "published": None, "url": None, "language": article.language}
    return {**data, **changes}


def exported_annotation(annotation_id: int, user, result: list, **changes) -> dict:
    """An annotation as Label Studio 1.23's JSON export writes it (data_export/serializers.py)."""
    annotation = {
        "id": annotation_id, "completed_by": user, "result": result, "was_cancelled": False, "ground_truth": False,
        "created_at": "2025-09-06T10:00:00.000000Z", "updated_at": f"2025-09-06T10:{annotation_id:02d}:00.000000Z",
        "draft_created_at": None, "lead_time": 42.5, "prediction": {}, "result_count": len(result),
        "unique_id": f"uuid-{annotation_id}", "import_id": None, "last_action": None, "bulk_created": False,
        "task": 1, "project": 1, "updated_by": user if isinstance(user, int) else user["id"],
        "parent_prediction": None, "parent_annotation": None, "last_created_by": None,
    }
    return {**annotation, **changes}


def exported_task(task_id: int, annotations: list, data: dict | None = None, **changes) -> dict:
    task = {
        "id": task_id, "annotations": annotations, "file_upload": None, "drafts": [], "predictions": [7],
        "data": data or task_data(), "meta": {}, "created_at": "2025-09-06T09:00:00.000000Z",
        "updated_at": "2025-09-06T11:00:00.000000Z", "inner_id": task_id, "total_annotations": len(annotations),
        "cancelled_annotations": 0, "total_predictions": 1, "comment_count": 0, "unresolved_comment_count": 0,
        "last_comment_updated_at": None, "project": 1, "updated_by": None, "comment_authors": [],
    }
    return {**task, **changes}


def export_bytes(tasks: list) -> bytes:
    return json.dumps(tasks, ensure_ascii=False).encode("utf-8")


def test_export_gives_one_document_per_article_per_annotator():
    doc = full_document()
    results = document_to_results(doc)
    other = document_to_results(doc.model_copy(update={"claims": []}))
    tasks = [exported_task(1, [
        exported_annotation(11, {"id": 1, "email": "ann1@example.com", "first_name": "", "last_name": ""}, results),
        exported_annotation(12, 2, other),
        exported_annotation(13, 3, [], was_cancelled=True),
    ], drafts=[{"id": 5, "result": [], "user": 3}])]
    conversion = parse_export(export_bytes(tasks))
    assert conversion.tasks == 1 and conversion.annotations == 3
    assert conversion.annotators() == ["ann1@example.com", "user-2"]
    assert (conversion.skipped.cancelled, conversion.skipped.drafts, conversion.skipped.predictions) == (1, 1, 1)
    first, second = conversion.documents
    assert dump(first)["claims"] == dump(doc)["claims"] and second.claims == []
    assert first.provenance.model_dump(mode="json") == {
        "annotator": "ann1@example.com", "origin": "label-studio", "task_id": 1, "annotation_id": 11,
        "created_at": "2025-09-06T10:00:00Z", "updated_at": "2025-09-06T10:11:00Z", "lead_time": 42.5,
        "ground_truth": False, "model_version": None}
    for d in conversion.documents:
        for m in d.mentions:
            assert d.article.text[m.span.start:m.span.end] == m.span.text


def test_export_keeps_ground_truth_and_the_latest_annotation_per_annotator():
    results = document_to_results(full_document())
    tasks = [exported_task(1, [exported_annotation(11, 1, results[:4]),
                               exported_annotation(12, 1, results, ground_truth=True)])]
    conversion = parse_export(export_bytes(tasks))
    (doc,) = conversion.documents
    assert doc.provenance.annotation_id == 12 and doc.provenance.ground_truth is True
    assert conversion.skipped.superseded == 1
    assert "annotation 11 (task 1) is superseded by the later annotation 12" in conversion.rejections[0].message


def test_export_rejects_a_task_whose_text_changed():
    tasks = [exported_task(1, [exported_annotation(11, 1, [])], data=task_data(text=TEXT + " Edited.")),
             exported_task(2, [exported_annotation(21, 1, [])])]
    conversion = parse_export(export_bytes(tasks))
    assert [d.provenance.task_id for d in conversion.documents] == [2]
    (rejection,) = conversion.rejections
    assert rejection.task_id == 1
    assert "task 1 (article 'a1'): data.sha256" in rejection.message
    assert "does not match the task text" in rejection.message


def test_export_checks_against_given_articles_and_uses_their_metadata():
    stored = Article.from_text("a1", TEXT, outlet="Stored outlet", story="s")
    conversion = parse_export(export_bytes([exported_task(1, [exported_annotation(11, 1, [])],
                                                          data=task_data(sha256=None))]), {"a1": stored})
    assert conversion.documents[0].article == stored
    changed = Article.from_text("a1", TEXT + "!")
    conversion = parse_export(export_bytes([exported_task(1, [exported_annotation(11, 1, [])])]), {"a1": changed})
    assert conversion.documents == []
    assert "the task text differs from the article given" in conversion.rejections[0].message


def test_export_task_without_sha256_is_rejected_without_articles():
    conversion = parse_export(export_bytes([exported_task(1, [exported_annotation(11, 1, [])],
                                                          data=task_data(sha256=None))]))
    assert conversion.documents == []
    assert "task 1 (article 'a1'): data has no sha256" in conversion.rejections[0].message


def test_export_repairs_and_rejections_carry_task_and_annotation_ids():
    results = quote_results(kind=None) + [box("m", span("He"), "entity", "Vladimir Putin")]
    results = [r for r in results if not (r.get("from_name") == "entity" and r["value"]["text"] == ["Vladimir Putin"])]
    conversion = parse_export(export_bytes([exported_task(4, [exported_annotation(44, 1, results)])]))
    assert {(r.task_id, r.annotation_id) for r in conversion.rejections + conversion.repairs} == {(4, 44)}
    assert any("no quote kind chosen" in r.message for r in conversion.rejections)
    assert any("entity box is empty" in r.reason for r in conversion.repairs)


@pytest.mark.parametrize(("raw", "message"), [
    (b'[{"id": 1, "data": {"text": "x"', r"invalid JSON at line 1 column \d+ \(char \d+\).*truncated download"),
    (b'[{"id": 1,, }]', r"invalid JSON at line 1 column 11 \(char 10\)"),
    (b'{"id": 1}', "top level is a JSON dict, not a list of tasks"),
    (b"\xff\xfe[]", "not UTF-8 at byte 0"),
    (b"", r"invalid JSON at line 1 column 1 \(char 0\)"),
])
def test_broken_export_files_raise_with_the_position(raw, message):
    with pytest.raises(ToolkitError, match=message):
        parse_export(raw)


def test_lone_surrogates_reject_the_task():
    tasks = [exported_task(1, [exported_annotation(11, {"id": 1, "email": "\ud800"}, [])]),
             exported_task(2, [exported_annotation(21, 1, [])])]
    conversion = parse_export(json.dumps(tasks).encode())  # ensure_ascii writes the escape \ud800
    assert [d.provenance.task_id for d in conversion.documents] == [2]
    (rejection,) = conversion.rejections
    assert rejection.task_id == 1
    assert "task #0: annotations[0].completed_by.email holds an unpaired UTF-16 surrogate" in rejection.message


def test_malformed_tasks_and_annotations_are_rejected_one_by_one():
    good = exported_task(2, [exported_annotation(21, 1, [])])
    tasks = [{"id": 1, "data": "text"}, good, exported_task(3, [{"id": "x"}]), exported_task(5, [
        exported_annotation(51, 1, [])], data={"text": TEXT})]
    conversion = parse_export(export_bytes(tasks))
    assert [d.provenance.task_id for d in conversion.documents] == [2]
    messages = [r.message for r in conversion.rejections]
    assert messages[0].startswith("task #0: not a Label Studio task (data: Input should be a valid dictionary")
    assert "task 3 annotation #0: malformed (id: Input should be a valid integer" in messages[1]
    assert "task 5: data needs text and article_id strings (has text)" in messages[2]


# Strings may hold lone surrogates: JSON can escape them ("\ud800"), UTF-8 cannot encode them.
json_strings = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | json_strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_strings, inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_json_gives_a_result_or_a_toolkit_error(value):
    try:
        parse_export(json.dumps(value).encode())
    except ToolkitError:
        pass


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


REALISTIC = [exported_task(1, [exported_annotation(11, {"id": 1, "email": "a@x"}, document_to_results(
    full_document())), exported_annotation(12, 2, [], was_cancelled=True)])]
REALISTIC_PATHS = [p for p in _paths(REALISTIC) if p]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REALISTIC_PATHS), json_values), min_size=1, max_size=3))
def test_a_realistic_export_with_any_part_replaced_gives_a_result_or_a_toolkit_error(replacements):
    tasks = copy.deepcopy(REALISTIC)
    for path, value in replacements:
        target = tasks
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed this path
            continue
    try:
        conversion = parse_export(json.dumps(tasks).encode())  # ASCII-escaped: lone surrogates survive
    except ToolkitError:
        return
    conversion.model_dump_json()  # what a pull writes must serialize
    for doc in conversion.documents:  # whatever survived is a valid, self-consistent document
        AnnotatedDocument.model_validate(doc.model_dump())
        assert doc.article.sha256 == sha256_of(doc.article.text)


@given(st.binary(max_size=64))
def test_any_bytes_give_a_result_or_a_toolkit_error(raw):
    try:
        parse_export(raw)
    except ToolkitError:
        pass
