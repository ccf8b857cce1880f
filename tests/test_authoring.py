"""Authoring format: spans located by text resolve to exact offsets, ambiguity is refused."""

import pytest

from annotate.formats.authoring import compile_document, locate
from schemas import Article, ToolkitError

TEXT = "Putin said no. Later Putin said yes, Putin added."
ARTICLE = Article.from_text("a", TEXT)


def test_locate_unique_text():
    span = locate(TEXT, {"text": "Later"}, "here")
    assert (span.start, span.end) == (15, 20) and TEXT[15:20] == "Later"


def test_locate_inside_a_snippet_and_by_occurrence():
    assert locate(TEXT, {"text": "said", "in": "Putin said yes"}, "w").start == TEXT.index("said yes")
    assert locate(TEXT, {"text": "Putin", "nth": 3}, "w").start == TEXT.rindex("Putin")


@pytest.mark.parametrize(
    ("locator", "message"),
    [
        ({"text": "Putin"}, "'Putin' occurs 3 times; add a longer 'in' snippet or 'nth'"),
        ({"text": "Medvedev"}, "'Medvedev' does not occur in the article"),
        ({"text": "Putin", "nth": 4}, "nth=4 but 'Putin' occurs 3 times"),
        ({"text": "no", "in": "Putin said yes"}, "'no' must occur exactly once inside 'Putin said yes'"),
        ({"text": ""}, "a span needs a non-empty 'text'"),
    ],
)
def test_bad_locators_are_refused(locator, message):
    with pytest.raises(ToolkitError, match=f"w: {message}"):
        locate(TEXT, locator, "w")


def test_compiled_document_validates_and_links_entities():
    entry = {
        "entities": [{"name": "Vladimir Putin", "type": "person"}],
        "mentions": [{"id": "m1", "span": {"text": "Putin", "nth": 1}, "entity": "Vladimir Putin"}],
        "quotes": [{"id": "q1", "kind": "indirect", "content": [{"text": "no"}],
                    "cue": {"text": "said", "in": "said no"}, "speaker_mention": "m1"}],
        "stances": [{"id": "s1", "holder": "Vladimir Putin", "target": "t", "polarity": "against",
                     "evidence": ["q1"]}],
    }
    doc = compile_document(ARTICLE, entry, "annotator-1")
    assert doc.entities[0].id == "vladimir-putin"
    assert doc.speaker_of(doc.quotes[0]) == "vladimir-putin"
    assert TEXT[doc.quotes[0].content[0].start:doc.quotes[0].content[0].end] == "no"


def test_unknown_entity_name_is_refused():
    entry = {"mentions": [{"id": "m1", "span": {"text": "Later"}, "entity": "Nobody"}]}
    with pytest.raises(ToolkitError, match="a mention m1: entity 'Nobody' is not in this document's entities"):
        compile_document(ARTICLE, entry, "x")
