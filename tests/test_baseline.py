"""The rule-based baseline extractor: quotes, cues and speakers on the seeds, span invariants,
quotation-mark pairing, and its quality on PolNeAR (when the corpus is beside the repository)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.extract import BASELINE_VERSION, extract
from annotate.extract.quotemarks import find_quotations
from schemas import AnnotatedDocument, Article, QuoteKind
from schemas.articles import load_articles
from schemas.paths import REPO_ROOT, SEEDS_DIR

POLNEAR = next((p for p in (Path("/work/shared/corpora/polnear"), REPO_ROOT.parent / "shared/corpora/polnear")
                if (p / "dev").is_dir()), None)


@pytest.fixture(scope="module")
def seeds() -> dict[str, AnnotatedDocument]:
    return {a.id[:3]: extract(a) for a in load_articles([SEEDS_DIR])}


def _quote_with(doc: AnnotatedDocument, content_start: str):
    matches = [q for q in doc.quotes if q.content[0].text.startswith(content_start)]
    assert len(matches) == 1, [q.content[0].text[:40] for q in doc.quotes]
    return matches[0]


def _speaker(doc: AnnotatedDocument, quote) -> tuple[str | None, str | None]:
    """(mention text, entity name) of a quote's speaker."""
    mention = next((m for m in doc.mentions if m.id == quote.speaker_mention_id), None)
    entity_id = doc.speaker_of(quote)
    entity = next((e for e in doc.entities if e.id == entity_id), None)
    return (mention.span.text if mention else None), (entity.name if entity else None)


def _doc(text: str) -> AnnotatedDocument:
    return extract(Article.from_text("t", text))


# --- the seeds ------------------------------------------------------------------------------------

def test_direct_quote_with_cue_and_surname_speaker(seeds):
    doc = seeds["000"]
    quote = _quote_with(doc, "If some troops appear there")
    assert quote.kind is QuoteKind.DIRECT
    assert quote.cue is not None and quote.cue.text == "said"
    assert _speaker(doc, quote) == ("Putin", "Vladimir Putin")
    # The outer marks stay out (here a straight opening and a curly closing mark), inner text stays in.
    text = doc.article.text
    assert text[quote.content[0].start - 1] == '"'
    assert text[quote.content[-1].end] == "”"
    assert quote.content[-1].text.endswith("legitimate targets,")


def test_indirect_quote_said_that(seeds):
    doc = seeds["001"]
    quote = _quote_with(doc, "any Western forces deployed to Ukraine")
    assert quote.kind is QuoteKind.INDIRECT
    assert quote.cue.text == "said"
    assert _speaker(doc, quote) == ("Russian President Vladimir Putin", "Vladimir Putin")
    assert doc.article.text[quote.content[0].start - 5 : quote.content[0].start] == "that "  # "that" stays out
    assert not quote.content[-1].text.endswith(".")


def test_scare_quotes_make_the_paraphrase_mixed(seeds):
    doc = seeds["000"]
    quote = _quote_with(doc, "any Western military forces")
    assert quote.kind is QuoteKind.MIXED
    assert "“legitimate targets”" in quote.content[0].text
    assert not any(q.content[0].text == "legitimate targets" for q in doc.quotes)  # no quote of its own


def test_description_and_pronoun_resolve_to_the_last_person(seeds):
    doc = seeds["000"]
    assert _speaker(doc, _quote_with(doc, "If decisions are reached")) == ("the Russian leader", "Vladimir Putin")
    zelenskyy = seeds["001"]
    quote = _quote_with(zelenskyy, "We are ready for any kind of meetings")
    assert _speaker(zelenskyy, quote) == ("he", "Volodymyr Zelenskyy")


def test_quote_over_two_paragraphs_is_one_quote_in_two_fragments(seeds):
    doc = seeds["003"]
    quote = _quote_with(doc, "As for the possible deployment")
    assert quote.kind is QuoteKind.DIRECT
    assert [f.text[:20] for f in quote.content] == ["As for the possible ", "Therefore, if any tr"]
    assert quote.cue.text == "said"
    assert _speaker(doc, quote) == ("He", "Vladimir Putin")


def test_multi_sentence_quote_is_one_fragment(seeds):
    quote = _quote_with(seeds["002"], "I do not see much point.")
    assert len(quote.content) == 1
    assert "Why? Because" in quote.content[0].text


def test_bare_quote_continues_the_previous_speaker(seeds):
    doc = seeds["002"]
    quote = _quote_with(doc, "Peace guarantees must be")
    assert quote.cue is None and quote.speaker_mention_id is None
    assert _speaker(doc, quote) == (None, "Vladimir Putin")


def test_participle_clause_is_a_quote_of_its_own(seeds):
    doc = seeds["000"]
    said = _quote_with(doc, "there is “no doubt")
    adding = _quote_with(doc, "the US role will be finalized")
    assert said.cue.text == "said" and adding.cue.text == "adding"
    assert said.content[-1].end < adding.content[0].start
    assert doc.speaker_of(said) == doc.speaker_of(adding) == "emmanuel-macron"


def test_provenance_and_quote_layers_only(seeds):
    """``extract`` gives quotes, cues and speakers; the claim and stance rules add the other layers
    (``annotate.extract.layers``, tested in tests/test_claims_stances.py), as `annotate extract` and preload do."""
    for doc in seeds.values():
        assert doc.provenance.origin == "prediction"
        assert doc.provenance.annotator == f"baseline-{BASELINE_VERSION}"
        assert doc.provenance.model_version == BASELINE_VERSION
        assert doc.stances == [] and doc.claims == []
        assert doc.quotes, doc.article.id


# --- small texts --------------------------------------------------------------------------------

def test_nested_quote_stays_inside_the_outer_one():
    doc = _doc("“He told me ‘no way’ on Monday,” Smith said.")
    [quote] = doc.quotes
    assert quote.kind is QuoteKind.DIRECT
    assert quote.content[0].text == "He told me ‘no way’ on Monday,"
    assert _speaker(doc, quote) == ("Smith", "Smith")


def test_quote_split_by_its_cue_is_one_quote():
    doc = _doc("“We will win,” Jane Doe said, “and we will win big.”")
    [quote] = doc.quotes
    assert [f.text for f in quote.content] == ["We will win,", "and we will win big."]
    assert _speaker(doc, quote) == ("Jane Doe", "Jane Doe")


def test_content_first_and_according_to():
    doc = _doc("The economy is growing faster than expected, the minister said.\n"
               "According to Reuters, the talks will resume on Monday.")
    first, second = doc.quotes
    assert (first.content[0].text, first.cue.text) == ("The economy is growing faster than expected", "said")
    assert _speaker(doc, first)[0] == "the minister"
    assert (second.content[0].text, second.cue.text) == ("the talks will resume on Monday", "According to")
    assert _speaker(doc, second) == ("Reuters", "Reuters")


def test_apostrophes_and_possessives_are_not_quotation_marks():
    text = "Russia’s leader said the voters’ concerns don't matter and the ’90s were different."
    assert find_quotations(text) == []
    [quote] = _doc(text).quotes
    assert quote.kind is QuoteKind.INDIRECT


def test_double_apostrophes_are_quotation_marks():
    doc = _doc("''We should throw monkey wrenches into the works,'' Mr. Castaneda said.")
    [quote] = doc.quotes
    assert quote.kind is QuoteKind.DIRECT
    assert quote.content[0].text == "We should throw monkey wrenches into the works,"


def test_text_without_reports_gives_no_quotes():
    assert _doc("The sun rose over the hills. Birds sang in the so-called “garden of Eden”.").quotes == []


# --- invariants -----------------------------------------------------------------------------------

_WORDS = ["said", "says", "told", "added", "according to", "that", "Putin", "He", "the Russian leader", "warned",
          "troops", "would", "be", "targets", "Mr.", "Smith", ",", ".", ":", "—", "\n", "\n\n", "“", "”", '"', "‘",
          "’", "'", "''", "s", "Russia’s", "(R-Wis.)", "adding", "claiming that", "?", "\r\n", "é", "🙂"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_WORDS) | st.text(max_size=3), min_size=1, max_size=40),
       st.lists(st.sampled_from([" ", "", "  "]), min_size=40, max_size=40))
def test_random_texts_never_crash_and_give_valid_spans(words, gaps):
    text = "".join(w + g for w, g in zip(words, gaps))
    if not text.strip():
        text += "x"
    doc = extract(Article.from_text("h", text))
    AnnotatedDocument.model_validate(doc.model_dump())  # round trip: every span checked again
    spans = [s for q in doc.quotes for s in q.content]
    for span in spans + [q.cue for q in doc.quotes if q.cue] + [m.span for m in doc.mentions]:
        assert text[span.start : span.end] == span.text
    spans.sort(key=lambda s: s.start)
    for before, after in zip(spans, spans[1:]):
        assert before.end <= after.start, "two quotes' contents overlap"
    for quote in doc.quotes:
        if quote.kind is QuoteKind.DIRECT and quote.cue is not None:
            assert quote.content[0].text[0] not in "“\"‘", "a direct quote's outer mark is inside its content"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .,\n“”\"‘’'`")), max_size=60))
def test_quotations_lie_inside_the_text_and_do_not_overlap(text):
    quotations = find_quotations(text)
    previous_end = 0
    for q in quotations:
        assert previous_end <= q.start
        for (start, end), (f_start, f_end) in zip(q.extents, q.fragments):
            assert 0 <= start <= f_start <= f_end <= end <= len(text)
        previous_end = q.end


# --- the command ----------------------------------------------------------------------------------

def _annotate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=REPO_ROOT)


def test_extract_command_writes_one_document_per_article(tmp_path):
    out = tmp_path / "pred.jsonl"
    proc = _annotate("extract", str(SEEDS_DIR), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    docs = [AnnotatedDocument.model_validate_json(line) for line in lines]
    assert sorted(d.article.id for d in docs) == sorted(a.id for a in load_articles([SEEDS_DIR]))
    assert [p.name for p in tmp_path.iterdir()] == ["pred.jsonl"]  # no temp file left behind


def test_extract_command_reads_jsonl_articles(tmp_path):
    source = tmp_path / "articles.jsonl"
    source.write_text(json.dumps({"id": "a1", "text": "“It works,” Ann Lee said."}) + "\n", encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    assert _annotate("extract", str(source), "--out", str(out)).returncode == 0
    [doc] = [AnnotatedDocument.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q.content[0].text for q in doc.quotes] == ["It works,"]


def test_extract_command_user_errors_are_one_line(tmp_path):
    proc = _annotate("extract", str(tmp_path / "missing"), "--out", str(tmp_path / "p.jsonl"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "no such file or directory" in proc.stderr
    proc = _annotate("extract", str(SEEDS_DIR), "--out", str(tmp_path / "nodir" / "p.jsonl"))
    assert proc.returncode == 2 and "no such directory" in proc.stderr
    assert not (tmp_path / "p.jsonl").exists()


# --- quality on PolNeAR -----------------------------------------------------------------------------

def _token_flags(text: str, spans) -> list[bool]:
    mask = [False] * len(text)
    for s in spans:
        mask[s.start : s.end] = [True] * (s.end - s.start)
    return [any(mask[m.start() : m.end()]) for m in re.finditer(r"\S+", text)]


@pytest.mark.slow
@pytest.mark.skipif(POLNEAR is None, reason="PolNeAR not found at /work/shared/corpora/polnear or ../shared")
def test_content_token_scores_on_polnear_dev():
    """The targets: content token-overlap F1 >= 0.70 with precision >= 0.85; direct-quote precision >= 0.90."""
    from annotate.formats.brat import import_brat

    gold = import_brat(POLNEAR / "dev").documents
    predicted = {d.article.id: extract(d.article) for d in gold}
    tp = fp = fn = direct_tp = direct_fp = 0
    for g in gold:
        p, text = predicted[g.article.id], g.article.text
        gold_flags = _token_flags(text, [s for q in g.quotes for s in q.content])
        pred_flags = _token_flags(text, [s for q in p.quotes for s in q.content])
        direct_flags = _token_flags(text, [s for q in p.quotes if q.kind is QuoteKind.DIRECT for s in q.content])
        for gf, pf, df in zip(gold_flags, pred_flags, direct_flags):
            tp, fp, fn = tp + (gf and pf), fp + (pf and not gf), fn + (gf and not pf)
            direct_tp, direct_fp = direct_tp + (df and gf), direct_fp + (df and not gf)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    assert precision >= 0.85 and f1 >= 0.70, (precision, recall, f1)
    assert direct_tp / (direct_tp + direct_fp) >= 0.90
