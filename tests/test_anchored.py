"""Quotes given as strings, anchored to their articles: found, missing, ambiguous (with and without a hint),
normalised, fragments, cue and speaker near the content, kind, the seed gold and PolNeAR dev round trips,
and the CLI's one-line errors with nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.formats.anchored import AnchoredLine, AnchoredQuote, anchor_line, import_anchored, to_anchored
from exports.evaluate import compute_evaluation
from schemas import AnnotatedDocument, Article, EntityType, QuoteKind, ToolkitError
from schemas.documents import read_documents
from schemas.paths import REPO_ROOT

SEEDS = REPO_ROOT / "seeds"
GOLD = SEEDS / "annotations" / "gold.jsonl"
POLNEAR = next((p for p in (Path("/work/shared/corpora/polnear"), REPO_ROOT.parent / "shared/corpora/polnear")
                if (p / "dev").is_dir()), None)

TEXT = (
    "Officials said the talks went well. “We will not back down,” Jane Doe said on Monday.\n"
    "The minister said the plan “will work” in the end, and Doe said it was over.\n"
    "“It is over — for now,” she said, “and   we move on.”\n"
    "Bob Roe, the party chief, was blunt.\n"
    "“The plan will work.”\n"
    "They said the plan will work. Others said the plan will work."
)
ARTICLE = Article.from_text("art-1", TEXT)


def anchor(*quotes: dict, fuzzy: float | None = None, text_article: Article = ARTICLE):
    line = AnchoredLine(article_id=text_article.id, model="llm-1", quotes=[AnchoredQuote(**q) for q in quotes])
    return anchor_line(line, text_article, fuzzy=fuzzy)


def at(s: str, nth: int = 1, text: str = TEXT) -> tuple[int, int]:
    """``[start, end)`` of the nth occurrence of ``s`` in ``text``, found independently of the matcher."""
    start = -1
    for _ in range(nth):
        start = text.index(s, start + 1)
    return start, start + len(s)


def item(items, quote: int, field: str):
    return next(i for i in items if i.quote == quote and i.field == field)


def spans(i) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in i.spans]


def test_a_string_that_occurs_once_is_placed_where_it_is():
    doc, items = anchor({"content": "We will not back down,", "cue": "said", "speaker": "Jane Doe"})
    content = item(items, 1, "content")
    assert (content.status, content.match, spans(content)) == ("placed", "exact", [at("We will not back down,")])
    quote = doc.quotes[0]
    assert quote.content[0].text == "We will not back down,"
    # "said" occurs seven times in the article and "Doe" twice; near the content each is one place
    assert (quote.cue.start, quote.cue.end) == at("said", 2)
    mention = next(m for m in doc.mentions if m.id == quote.speaker_mention_id)
    assert (mention.span.start, mention.span.end) == at("Jane Doe")
    assert doc.provenance.origin == "prediction" and doc.provenance.model_version == "llm-1"
    assert doc.provenance.annotator == "llm-1"


def test_a_missing_string_is_reported_with_the_nearest_text_and_never_placed():
    doc, items = anchor({"content": "We will never back down", "cue": "said"})
    content = item(items, 1, "content")
    assert content.status == "not_found" and content.spans == [] and doc.quotes == []
    assert content.nearest is not None and "back down" in content.nearest.text and content.nearest_score < 100
    assert item(items, 1, "cue").status == "not_found"  # not searched without a content


def test_an_ambiguous_string_is_reported_and_a_hint_decides():
    _, items = anchor({"content": "the plan will work"})
    content = item(items, 1, "content")
    assert (content.status, content.occurrences) == ("ambiguous", 2)  # "The plan will work." is not it: case
    assert "occurs 2 times" in content.reason

    _, items = anchor({"content": "the plan will work", "occurrence": 2})
    assert spans(item(items, 1, "content")) == [at("the plan will work", 2)]
    _, items = anchor({"content": "the plan will work", "context": "Others said the plan will work"})
    assert spans(item(items, 1, "content")) == [at("the plan will work", 2)]

    _, items = anchor({"content": "the plan will work", "occurrence": 3})
    assert item(items, 1, "content").status == "not_found" and "occurs 2 time(s)" in item(items, 1, "content").reason
    _, items = anchor({"content": "the plan will work", "context": "Nobody said the plan will work"})
    assert item(items, 1, "content").status == "not_found" and "context" in item(items, 1, "content").reason


def test_occurrences_start_and_end_on_word_edges():
    # "he" is inside "the", "They" and "chief" around the content, never a word of its own there
    _, items = anchor({"content": "The plan will work.", "speaker": "he"})
    assert item(items, 1, "speaker").status == "not_found"
    _, items = anchor({"content": "e talks went wel"})
    assert item(items, 1, "content").status == "not_found"


@pytest.mark.parametrize(("given", "expected"), [
    ('"We will not back down,"', "“We will not back down,”"),  # straight marks for curly ones
    ("It is over - for now,", "It is over — for now,"),  # a hyphen for a dash
    ("and we move on.", "and   we move on."),  # one space for a run
    ("We will not back down.", "We will not back down"),  # a final period the article does not have there
    ("“the talks went well”", "the talks went well"),  # marks the model added
])
def test_normalised_matches_map_back_to_the_article_text(given, expected):
    _, items = anchor({"content": given})
    content = item(items, 1, "content")
    assert (content.status, content.match) == ("placed", "normalised")
    assert spans(content) == [at(expected)] and content.spans[0].text == expected


def test_fragments_are_placed_in_order_and_a_later_fragment_can_decide_the_first():
    doc, items = anchor({"content": ["It is over — for now,", "and   we move on."], "cue": "said", "speaker": "she"})
    assert spans(item(items, 1, "content")) == [at("It is over — for now,"), at("and   we move on.")]
    assert doc.quotes[0].kind is QuoteKind.DIRECT
    assert (doc.quotes[0].cue.start, doc.quotes[0].cue.end) == at("said", 5)

    # "the plan" occurs twice; only the minister's is followed by "in the end" (in its paragraph or the next)
    _, items = anchor({"content": ["the plan", "in the end"]})
    assert spans(item(items, 1, "content")) == [at("the plan"), at("in the end")]

    _, items = anchor({"content": ["We will not back down,", "nowhere to be found"]})
    content = item(items, 1, "content")
    assert content.status == "not_found" and "fragment 2" in content.reason


def test_cue_and_speaker_are_searched_near_the_content_only():
    # the speaker of the fifth paragraph's quote is in the paragraph before it
    doc, items = anchor({"content": "The plan will work.", "speaker": "Bob Roe", "speaker_name": "Bob Roe"})
    assert spans(item(items, 1, "speaker")) == [at("Bob Roe")]
    # "Doe" occurs in the first two paragraphs, once in each: placed in the content's own sentence
    # but "said" occurs twice in that sentence (the minister's and Doe's): ambiguous, the quote kept without a cue
    doc, items = anchor({"content": "it was over", "cue": "said", "speaker": "Doe"})
    assert spans(item(items, 1, "speaker")) == [at("Doe", 2)]
    assert (item(items, 1, "cue").status, item(items, 1, "cue").occurrences) == ("ambiguous", 2)
    assert doc.quotes[0].cue is None and len(doc.quotes) == 1
    # the second fragment of her quote: "said" once in its sentence, outside the content
    doc, items = anchor({"content": "and   we move on.", "cue": "said"})
    assert (doc.quotes[0].cue.start, doc.quotes[0].cue.end) == at("said", 5)
    doc, items = anchor({"content": "the talks went well", "cue": "said", "speaker": "Officials"})
    assert spans(item(items, 1, "cue")) == [at("said")]
    # a speaker far from the content is not found, however unique in the article
    doc, items = anchor({"content": "Others said the plan will work", "speaker": "Jane Doe"})
    assert item(items, 1, "speaker").status == "not_found" and doc.mentions == []


def test_a_cue_repeated_in_the_contents_sentence_is_ambiguous():
    text = "Ann said that Bob said it rains."
    article = Article.from_text("a2", text)
    doc, items = anchor({"content": "it rains", "cue": "said"}, text_article=article)
    assert (item(items, 1, "cue").status, item(items, 1, "cue").occurrences) == ("ambiguous", 2)
    assert doc.quotes[0].cue is None


def test_kind_is_given_or_read_off_the_quotation_marks():
    doc, _ = anchor({"content": "We will not back down,"}, {"content": "the plan “will work” in the end"},
                    {"content": "the talks went well"}, {"content": "the talks went well", "kind": "mixed"})
    assert [q.kind for q in doc.quotes] == [QuoteKind.DIRECT, QuoteKind.MIXED, QuoteKind.INDIRECT, QuoteKind.MIXED]


def test_the_speaker_is_a_mention_of_the_entity_its_name_gives():
    doc, _ = anchor({"content": "It is over — for now,", "speaker": "she", "speaker_name": "Jane Doe"},
                    {"content": "We will not back down,", "speaker": "Jane Doe"},
                    {"content": "the talks went well", "speaker": "Officials"})
    assert [e.id for e in doc.entities] == ["jane-doe", "officials"]
    assert doc.entities[1].type is EntityType.GROUP
    assert [doc.speaker_of(q) for q in doc.quotes] == ["jane-doe", "jane-doe", "officials"]
    assert [next(m.span.text for m in doc.mentions if m.id == q.speaker_mention_id) for q in doc.quotes] == [
        "she", "Jane Doe", "Officials"]


def test_fuzzy_is_off_by_default_and_reported_as_fuzzy_when_asked():
    given = {"content": "the minister said the plan will work in the end"}
    _, items = anchor(given)
    assert item(items, 1, "content").status == "not_found"
    doc, items = anchor(given, fuzzy=85)
    content = item(items, 1, "content")
    assert content.status == "fuzzy" and content.match == "fuzzy" and 85 <= content.score < 100
    placed = doc.quotes[0].content[0]
    assert placed.text.endswith("minister said the plan “will work” in the end")
    assert TEXT[placed.start:placed.end] == placed.text and placed.start >= TEXT.index("The minister")
    # when another place scores as high, nothing is placed
    text = "He said the cat sat on the mat. She said the cat sat on the mat."
    _, items = anchor({"content": "the cat sat on teh mat"}, fuzzy=80, text_article=Article.from_text("a3", text))
    assert item(items, 1, "content").status == "not_found"


def test_a_fuzzy_place_takes_in_the_words_the_string_left_out():
    article = next(d.article for d in _gold() if d.article.id == "000_77ccc7b56971afc5")
    given = "If some troops appear there, especially now during the fighting, we proceed from the premise"
    expected = given.replace("there,", "there [in Ukraine],")
    _, items = anchor({"content": given}, text_article=article)
    assert item(items, 1, "content").nearest.text == expected  # named in the report, not placed
    doc, items = anchor({"content": given}, fuzzy=90, text_article=article)
    assert item(items, 1, "content").status == "fuzzy" and doc.quotes[0].content[0].text == expected


@pytest.mark.parametrize("bad", [
    {"content": []}, {"content": "—"}, {"content": "x", "occurrence": 0},
    {"content": "x", "occurrence": 1, "context": "a x b"}, {"content": "x", "speaker": "..."},
    {"content": "x", "confidence": 0.9},
])
def test_bad_quotes_are_refused(bad):
    with pytest.raises(ValueError):
        AnchoredQuote(**bad)


def _gold() -> list[AnnotatedDocument]:
    return read_documents([GOLD])


def test_the_seed_gold_as_strings_anchors_back_to_the_same_spans(tmp_path):
    gold = _gold()
    file = tmp_path / "anchored.jsonl"
    file.write_text("".join(to_anchored(d).model_dump_json() + "\n" for d in gold), encoding="utf-8")
    result = import_anchored(file, [d.article for d in gold])
    assert result.report.written == result.report.quotes == sum(len(d.quotes) for d in gold) > 40
    for g, p in zip(gold, result.documents):
        assert [[(c.start, c.end) for c in q.content] for q in p.quotes] == \
               [[(c.start, c.end) for c in q.content] for q in g.quotes]
        assert [q.kind for q in p.quotes] == [q.kind for q in g.quotes]
        placed_cues = [(gq.cue, pq.cue) for gq, pq in zip(g.quotes, p.quotes) if pq.cue is not None]
        assert all(a == b for a, b in placed_cues) and len(placed_cues) == sum(q.cue is not None for q in g.quotes)
    report = compute_evaluation(gold, result.documents, resamples=10)
    assert report.figure("span", "quote", "exact", None).f1.value == pytest.approx(1.0)
    assert report.figure("span", "cue", "exact", None).f1.value == pytest.approx(1.0)
    assert report.figure("attribution_entity", "quote", None, None).f1.value == pytest.approx(1.0)


def test_the_seed_gold_with_straight_marks_and_no_kinds_anchors_back_too():
    for g in _gold():
        line = to_anchored(g)
        changed = [q.model_copy(update={"kind": None, "occurrence": q.occurrence,
                                        "content": [c.translate(str.maketrans("“”’‘", "\"\"''")) for c in q.content]})
                   for q in line.quotes]
        doc, _ = anchor_line(line.model_copy(update={"quotes": changed}), g.article)
        assert [(q.content, q.kind) for q in doc.quotes] == [(q.content, q.kind) for q in g.quotes]


@pytest.mark.skipif(POLNEAR is None, reason="PolNeAR not found at /work/shared/corpora/polnear")
def test_polnear_dev_as_strings_anchors_back_and_nothing_is_misplaced():
    from annotate.formats.brat import import_brat

    docs = list({d.article.id: d for d in import_brat(POLNEAR / "dev").documents}.values())
    total = same = wrong = 0
    for d in docs:
        line = to_anchored(d)
        hintless = line.model_copy(update={"quotes": [q.model_copy(update={"occurrence": None}) for q in line.quotes]})
        for given in (line, hintless):
            out, _ = anchor_line(given, d.article)
            placed = {q.id: q.content for q in out.quotes}
            for n, q in enumerate(d.quotes, start=1):
                total += given is line
                if f"q{n}" in placed:
                    same += placed[f"q{n}"] == q.content and given is line
                    wrong += placed[f"q{n}"] != q.content
    assert total > 2000 and same / total > 0.99 and wrong == 0


# --- the CLI ---------------------------------------------------------------------------------------------------

def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", "import", "anchored",
                           *map(str, args)], capture_output=True, text=True, timeout=120)


GOOD = {"article_id": "000_77ccc7b56971afc5", "model": "llm-1",
        "quotes": [{"content": 'there is “no doubt" that Washington will play a pivotal role', "cue": "said",
                    "speaker": "Macron"}]}


def _file(tmp_path: Path, *lines: dict | str) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def test_cli_writes_documents_and_the_report(tmp_path):
    missing = {"article_id": "001_2d7e49398b561f7e", "quotes": [{"content": "nothing like this is in the text"}]}
    out, report = tmp_path / "pred.jsonl", tmp_path / "report.json"
    result = run_cli(_file(tmp_path, GOOD, missing), "--articles", SEEDS, "--out", out, "--report", report,
                     "--skip-unplaced")
    assert result.returncode == 0, result.stderr
    assert "placed 1 of 2 quotes in 2 articles" in result.stdout and "1 left out (1 not found" in result.stdout
    docs = read_documents([out])
    assert [len(d.quotes) for d in docs] == [1, 0]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [(i["quote"], i["field"], i["status"]) for i in data["items"]] == [
        (1, "content", "placed"), (1, "cue", "placed"), (1, "speaker", "placed"), (1, "content", "not_found")]


@pytest.mark.parametrize(("lines", "message"), [
    ([{**GOOD, "article_id": "no-such-article"}],
     r"in\.jsonl:1: article 'no-such-article' is not among the 4 articles"),
    ([GOOD, {**GOOD, "article_id": "001_2d7e49398b561f7e", "quotes": [{"content": "Putin wore a red hat"}]}],
     r"in\.jsonl:2 quote 1: content 'Putin wore a red hat' does not occur in article 001_2d7e49398b561f7e; "
     r"fix the string.*or pass --skip-unplaced"),
    ([{**GOOD, "quotes": [{"content": "said"}]}], r"in\.jsonl:1 quote 1: content 'said' occurs \d+ times in article "
                                                   r"000_77ccc7b56971afc5; add an \"occurrence\" or \"context\" hint"),
    ([GOOD, '{"article_id": "x", "quotes": [}'], r"in\.jsonl:2: invalid JSON"),
    ([{**GOOD, "quotes": [{"content": "x", "kind": "quoted"}]}], r"in\.jsonl:1: quote 1 kind: Input should be"),
    ([GOOD, GOOD], r"in\.jsonl:2: article '000_77ccc7b56971afc5' is already on line 1"),
])
def test_cli_errors_are_one_line_and_nothing_is_written(tmp_path, lines, message):
    out, report = tmp_path / "pred.jsonl", tmp_path / "report.json"
    result = run_cli(_file(tmp_path, *lines), "--articles", SEEDS, "--out", out, "--report", report)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert not out.exists() and not report.exists()


def test_the_library_refuses_an_unplaced_content_unless_told_to_skip(tmp_path):
    path = _file(tmp_path, {**GOOD, "quotes": [{"content": "Putin wore a red hat"}, {"content": "a blue hat"}]})
    articles = [d.article for d in _gold()]
    with pytest.raises(ToolkitError, match=r"quote 1: .* \(1 more quotes not placed\)"):
        import_anchored(path, articles)
    assert import_anchored(path, articles, skip_unplaced=True).report.counts["content"].not_found == 2
