"""The label models: validation of articles, cross-references and unknown labels."""

import pytest
from pydantic import ValidationError

from schemas import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Provenance,
    Quote,
    Span,
    Stance,
    Target,
    TargetInventory,
    sha256_of,
)

TEXT = "Putin said that foreign troops would be “legitimate targets”. He added: “No point.”"
ARTICLE = Article.from_text("a1", TEXT, outlet="Test")


def span(fragment: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(fragment, start + 1)
    return Span.of(TEXT, start, start + len(fragment))


def good_document(**overrides) -> dict:
    doc = dict(
        article=ARTICLE,
        provenance=Provenance(annotator="ann1"),
        entities=[Entity(id="vladimir-putin", name="Vladimir Putin", type="person", wikidata="Q7747")],
        mentions=[
            Mention(id="m1", span=span("Putin"), entity_id="vladimir-putin"),
            Mention(id="m2", span=span("He"), entity_id="vladimir-putin"),
        ],
        quotes=[
            Quote(id="q1", kind="mixed", content=[span("foreign troops would be “legitimate targets”")],
                  cue=span("said"), speaker_mention_id="m1"),
            Quote(id="q2", kind="direct", content=[span("No point.")], cue=span("added"), speaker_mention_id="m2",
                  speaker_entity_id="vladimir-putin"),
        ],
        stances=[Stance(id="s1", holder_entity_id="vladimir-putin", target_id="troops", polarity="against",
                        evidence=["q1", "q2"])],
        claims=[Claim(id="c1", span=span("foreign troops would be"), check_worthy="no")],
    )
    doc.update(overrides)
    return doc


INVENTORY = TargetInventory(version="1.0.0", event="e", targets=[Target(id="troops", description="Troops")])


def test_good_document_validates_and_resolves_speakers():
    doc = AnnotatedDocument(**good_document())
    assert [doc.speaker_of(q) for q in doc.quotes] == ["vladimir-putin", "vladimir-putin"]
    again = AnnotatedDocument.model_validate_json(doc.model_dump_json(), context={"targets": INVENTORY})
    assert again == doc


def test_article_hash_must_match_text():
    with pytest.raises(ValidationError, match="article 'a1': sha256 .* does not match its text"):
        Article(id="a1", text=TEXT, sha256=sha256_of(TEXT + " "))


def test_article_id_must_be_an_identifier():
    with pytest.raises(ValidationError, match="id\n  String should match pattern"):
        Article.from_text("bad id with spaces", TEXT)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mentions": [Mention(id="m1", span=span("Putin"), entity_id="nobody")]},
         "mention 'm1': entity 'nobody' does not exist"),
        ({"quotes": [Quote(id="q1", kind="direct", content=[span("No point.")], speaker_mention_id="m9")]},
         "quote 'q1': speaker mention 'm9' does not exist"),
        ({"quotes": [Quote(id="q1", kind="direct", content=[span("No point.")], speaker_entity_id="ghost")]},
         "quote 'q1': speaker entity 'ghost' does not exist"),
        ({"stances": [Stance(id="s1", holder_entity_id="vladimir-putin", target_id="troops", polarity="favor",
                             evidence=["q7"])]},
         "stance 's1': evidence quote 'q7' does not exist"),
        ({"stances": [Stance(id="s1", holder_entity_id="emmanuel-macron", target_id="troops", polarity="favor")]},
         "stance 's1': holder entity 'emmanuel-macron' does not exist"),
        ({"claims": [Claim(id="c1", span=span("No point."), claimant_entity_id="ghost", check_worthy="yes")]},
         "claim 'c1': claimant entity 'ghost' does not exist"),
        ({"mentions": [Mention(id="m1", span=span("Putin"), entity_id="vladimir-putin")] * 2},
         "mention id 'm1' is used more than once"),
        ({"claims": [Claim(id="c1", span=Span(start=0, end=5, text="Pudin"), check_worthy="yes")]},
         r"claim 'c1': span \[0, 5\) says 'Pudin' but the article has 'Putin'"),
        ({"quotes": [Quote(id="q1", kind="direct", content=[Span(start=0, end=5, text="Putin")],
                           cue=Span(start=100, end=104, text="said"))]},
         "quote 'q1' cue: span \\[100, 104\\) ends past the article's"),
    ],
)
def test_dangling_references_and_bad_spans_name_the_item(overrides, message):
    with pytest.raises(ValidationError, match=message):
        AnnotatedDocument(**good_document(**overrides))


def test_speaker_entity_must_agree_with_the_mention():
    entities = [Entity(id="vladimir-putin", name="Vladimir Putin"), Entity(id="x", name="X")]
    quote = Quote(id="q1", kind="direct", content=[span("No point.")], speaker_mention_id="m1", speaker_entity_id="x")
    with pytest.raises(ValidationError, match="quote 'q1': speaker entity 'x' differs from its speaker mention's"):
        AnnotatedDocument(**good_document(entities=entities, quotes=[quote], stances=[]))


def test_stance_target_checked_against_the_inventory():
    doc = good_document(stances=[Stance(id="s1", holder_entity_id="vladimir-putin", target_id="nato",
                                        polarity="against")])
    AnnotatedDocument(**doc)  # no inventory given: targets unchecked
    with pytest.raises(ValidationError, match="stance 's1': target 'nato' is not in the target inventory"):
        AnnotatedDocument.model_validate(doc, context={"targets": INVENTORY})


@pytest.mark.parametrize(
    ("model", "payload", "message"),
    [
        (Quote, {"id": "q", "kind": "paraphrase", "content": [{"start": 0, "end": 5, "text": "Putin"}]},
         "kind\n  Input should be 'direct', 'indirect' or 'mixed'"),
        (Stance, {"id": "s", "holder_entity_id": "p", "target_id": "t", "polarity": "pro"},
         "polarity\n  Input should be 'favor', 'against' or 'neutral'"),
        (Claim, {"id": "c", "span": {"start": 0, "end": 5, "text": "Putin"}, "check_worthy": "maybe"},
         "check_worthy\n  Input should be 'yes' or 'no'"),
        (Entity, {"id": "e", "name": "E", "type": "animal"}, "type\n  Input should be 'person'"),
        (Entity, {"id": "e", "name": "E", "wikidata": "7747"}, "wikidata\n  String should match pattern"),
        (Quote, {"id": "q", "kind": "direct", "content": []}, "content\n  List should have at least 1 item"),
        (Quote, {"id": "q", "kind": "direct", "content": [{"start": 0, "end": 5, "text": "Putin"}], "colour": "red"},
         "colour\n  Extra inputs are not permitted"),
    ],
)
def test_unknown_labels_and_fields_are_rejected(model, payload, message):
    with pytest.raises(ValidationError, match=message):
        model.model_validate(payload)


def test_quote_fragments_must_be_ordered_and_disjoint():
    a, b = span("Putin"), span("said")
    Quote(id="q", kind="direct", content=[a, b])
    with pytest.raises(ValidationError, match=r"content fragments \[6, 10\) and \[0, 5\) overlap or are out of order"):
        Quote(id="q", kind="direct", content=[b, a])


def test_target_inventory_rejects_duplicate_ids():
    with pytest.raises(ValidationError, match="target id 't' appears more than once"):
        TargetInventory(version="1.0.0", event="e", targets=[Target(id="t", description="a"),
                                                             Target(id="t", description="b")])
