"""The statement layer's model: validation inside a document, cross-references to the gold quotes,
one speaker and one entity id per name across a story, and the fidelity classes on the seed renderings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import Entity, ToolkitError
from schemas.documents import read_documents, read_statement_documents, write_statement_documents
from schemas.fidelity import fidelity_classes, with_fidelity
from schemas.paths import REPO_ROOT
from schemas.quote_mentions import quote_mentions, words_of
from schemas.statements import (
    Fidelity,
    Rendering,
    Statement,
    StatementDocument,
    check_against_quotes,
)

GOLD = read_documents([REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"])
STORY = "eef-2025-09-05-foreign-troops"
MENTIONS = {m.key: m for m in quote_mentions(GOLD)}
A, B, C, D = "000_77ccc7b56971afc5", "001_2d7e49398b561f7e", "002_b85bb421de1e3324", "003_e83bb071d895df33"


def statement(id: str, *keys: str, speaker: str = "vladimir-putin", story: str | None = STORY) -> Statement:
    renderings = [Rendering(article_id=k.split("/")[0], quote_id=k.split("/")[1]) for k in keys]
    return Statement(id=id, story=story, speaker_entity_id=speaker, gloss="g", renderings=renderings)


def document(*statements: Statement, story: str | None = STORY) -> StatementDocument:
    return StatementDocument(story=story, provenance={"annotator": "a"}, statements=list(statements))


def test_words_ignore_case_and_punctuation() -> None:
    assert words_of("“Legitimate targets,” he said — don’t") == ("legitimate", "targets", "he", "said", "don't")
    assert words_of("long-term peace, 100 per cent") == ("long-term", "peace", "100", "per", "cent")


def test_fidelity_of_the_seed_renderings() -> None:
    targets = [f"{A}/q1", f"{A}/q2", f"{B}/q1", f"{B}/q2", f"{B}/q3", f"{C}/q1", f"{C}/q2", f"{D}/q3"]
    classes = fidelity_classes([MENTIONS[k] for k in targets])
    assert {k: v for k, v in classes.items() if k.endswith(("q1", "q2")) and not k.startswith(D)} == {
        f"{A}/q1": Fidelity.PARAPHRASE, f"{A}/q2": Fidelity.VARIANT, f"{B}/q1": Fidelity.PARAPHRASE,
        f"{B}/q2": Fidelity.PARAPHRASE, f"{C}/q1": Fidelity.PARAPHRASE, f"{C}/q2": Fidelity.VARIANT}
    assert classes[f"{B}/q3"] is Fidelity.VARIANT and classes[f"{D}/q3"] is Fidelity.VARIANT
    # "no point in the presence of foreign troops": 000 and 003 print the same translation word for word,
    # 001 another one.
    no_point = fidelity_classes([MENTIONS[f"{A}/q3"], MENTIONS[f"{B}/q9"], MENTIONS[f"{D}/q6"]])
    assert no_point == {f"{A}/q3": Fidelity.VERBATIM, f"{B}/q9": Fidelity.VARIANT, f"{D}/q6": Fidelity.VERBATIM}
    # 002's "practically impossible." is no run of 003's "almost impossible to agree ..." sentence: a variant;
    # a run of 002's own fuller quote would be an excerpt.
    impossible = fidelity_classes([MENTIONS[f"{C}/q4"], MENTIONS[f"{D}/q14"]])
    assert impossible[f"{C}/q4"] is Fidelity.VARIANT


def test_an_excerpt_is_a_contiguous_run_of_a_fuller_direct_rendering() -> None:
    full = MENTIONS[f"{C}/q2"]  # "... they will be legitimate targets for destruction,"
    excerpt = MENTIONS[f"{A}/q2"].__class__(**{**full.__dict__, "quote_id": "x", "text": "legitimate targets for"})
    scattered = excerpt.__class__(**{**full.__dict__, "quote_id": "y", "text": "troops targets"})
    classes = fidelity_classes([full, excerpt, scattered])
    assert classes == {full.key: Fidelity.VARIANT, excerpt.key: Fidelity.EXCERPT, scattered.key: Fidelity.VARIANT}


def test_with_fidelity_fills_every_rendering() -> None:
    doc = with_fidelity(document(statement("s1", f"{A}/q3", f"{D}/q6")), MENTIONS)
    assert [r.fidelity for r in doc.statements[0].renderings] == [Fidelity.VERBATIM, Fidelity.VERBATIM]


def test_seed_statements_check_against_the_gold() -> None:
    check_against_quotes(document(statement("s1", f"{A}/q2", f"{B}/q3", f"{C}/q2", f"{D}/q3")), GOLD)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: document(statement("s1", f"{A}/q2"), statement("s1", f"{B}/q3")), "statement id 's1' is used by two"),
    (lambda: document(statement("s1", f"{A}/q2", f"{A}/q2")), f"rendering '{A}/q2' is placed twice"),
    (lambda: document(statement("s1", f"{A}/q2"), statement("s2", f"{A}/q2")), "in statement 's1' too"),
    (lambda: document(statement("s1", f"{A}/q2", story="other")), "story 'other' differs"),
])
def test_bad_statement_documents_are_refused(build, message) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


@pytest.mark.parametrize(("doc", "message"), [
    (document(statement("s1", f"{A}/q99")), f"rendering '{A}/q99' points at quote 'q99', which article"),
    (document(statement("s1", "999_missing/q1")), "points at article '999_missing', which is not among"),
    (document(statement("s1", f"{A}/q2", f"{A}/q5")), "is spoken by 'ursula-von-der-leyen', not by"),
])
def test_cross_references_are_checked(doc, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_against_quotes(doc, GOLD)


def test_one_entity_id_for_two_names_in_a_story_is_refused() -> None:
    changed = [d.model_copy(deep=True) for d in GOLD]
    changed[2].entities = [e if e.id != "vladimir-putin" else Entity(id=e.id, name="Vladimir Potanin", type=e.type)
                           for e in changed[2].entities]
    with pytest.raises(ValueError, match="entity id 'vladimir-putin' names 'Vladimir Putin' in article .* but "
                                         "'Vladimir Potanin'"):
        check_against_quotes(document(statement("s1", f"{A}/q2")), changed)


def test_statement_files_round_trip_and_bad_lines_name_the_line(tmp_path: Path) -> None:
    doc = document(statement("s1", f"{A}/q2", f"{C}/q2"))
    path = tmp_path / "statements.jsonl"
    assert write_statement_documents(path, [doc]) == 1
    assert read_statement_documents([path]) == [doc]
    path.write_text(doc.model_dump_json() + "\n" + '{"story": 1}\n', encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"statements.jsonl:2: "):
        read_statement_documents([path])
