"""Statement candidates and the baseline linker: on the seed gold, on hand-made quotes, and as properties."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.extract.statements import (
    DEFAULT_THRESHOLD,
    LINKER_NAME,
    LINKER_VERSION,
    CandidateSettings,
    block_candidates,
    candidate_pairs,
    link_documents,
    link_mentions,
)
from annotate.extract.statements.rare_words import RareWords, rare_word_pairs
from schemas.documents import read_documents
from schemas.errors import ToolkitError
from schemas.labels import QuoteKind
from schemas.models import AnnotatedDocument
from schemas.paths import REPO_ROOT, SEEDS_DIR
from schemas.quote_mentions import GLOSS_LENGTH as GLOSS_CHARACTERS
from schemas.quote_mentions import QuoteMention, quote_mentions, words_of
from schemas.statements import StatementDocument, check_against_quotes

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # the benchmark's generator, smoke-tested below
from bench_statement_candidates import main as bench_main  # noqa: E402
from bench_statement_candidates import synthetic_archive  # noqa: E402

SEED_GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
METHOD = pytest.mark.parametrize("method", ["lsh", "exhaustive"])


@pytest.fixture(scope="module")
def gold() -> list[AnnotatedDocument]:
    return read_documents([SEED_GOLD])


@pytest.fixture(scope="module")
def mentions(gold: list[AnnotatedDocument]) -> list[QuoteMention]:
    return list(quote_mentions(gold))


def mention(key: str, text: str, speaker: str | None = "putin", story: str | None = "s1",
            kind: QuoteKind = QuoteKind.DIRECT, start: int = 0) -> QuoteMention:
    article_id, quote_id = key.split("/")
    return QuoteMention(article_id=article_id, quote_id=quote_id, story=story, outlet=None, speaker=speaker,
                        kind=kind, text=text, start=start, end=start + len(text))


def statement_of(linked, key):
    return next(s for s in linked if key in s.keys)


# --- the seed gold ---------------------------------------------------------------------------------------------


@METHOD
def test_the_direct_renderings_of_legitimate_targets_are_one_statement(mentions, method):
    direct = {m.key for m in mentions if m.speaker == "vladimir-putin" and m.is_direct
              and {"legitimate", "targets"} <= set(m.words)}
    assert len(direct) == 4  # 000 q2, 001 q3, 002 q2, 003 q3: one per article
    linked = link_mentions(mentions, method=method)
    holding = [s for s in linked if direct & set(s.keys)]
    assert len(holding) == 1 and direct <= set(holding[0].keys)
    assert holding[0].speaker == "vladimir-putin"
    assert holding[0].story == "eef-2025-09-05-foreign-troops"
    # each link names its reason and passes the threshold
    assert holding[0].links and all(p.passes(DEFAULT_THRESHOLD) for p in holding[0].links)
    assert {p.left for p in holding[0].links} | {p.right for p in holding[0].links} <= set(holding[0].keys)


@METHOD
def test_every_quote_with_a_speaker_is_in_exactly_one_statement(mentions, method):
    linked = link_mentions(mentions, method=method)
    placed = Counter(k for s in linked for k in s.keys)
    assert set(placed) == {m.key for m in mentions if m.speaker is not None}
    assert set(placed.values()) == {1}
    speaker_of = {m.key: m.speaker for m in mentions}
    for s in linked:
        assert {speaker_of[k] for k in s.keys} == {s.speaker}


def test_lsh_and_exhaustive_agree_on_the_seeds(mentions):
    by = {method: link_mentions(mentions, method=method) for method in ("lsh", "exhaustive")}
    assert [s.keys for s in by["lsh"]] == [s.keys for s in by["exhaustive"]]
    links = {method: {(p.left, p.right, p.score) for s in linked for p in s.links} for method, linked in by.items()}
    assert links["lsh"] == links["exhaustive"]
    assert any(len(s.keys) > 1 for s in by["lsh"])  # not agreeing on nothing


def test_candidates_never_pair_different_speakers_or_quotes_without_one(mentions):
    speaker_of = {m.key: m.speaker for m in mentions}
    pairs = list(candidate_pairs(mentions, method="exhaustive"))
    assert pairs
    for p in pairs:
        assert speaker_of[p.left] is not None and speaker_of[p.left] == speaker_of[p.right]
    same_words = "we proceed from the premise that they will be legitimate targets"
    quotes = [mention("a/q1", same_words, speaker="putin"), mention("b/q1", same_words, speaker="peskov"),
              mention("c/q1", same_words, speaker=None)]
    linked = link_mentions(quotes, method="exhaustive")
    assert sorted(s.keys for s in linked) == [("a/q1",), ("b/q1",)]


def test_link_documents_validates_against_the_quotes(gold):
    for use_stories in (True, False):
        for method in ("lsh", "exhaustive"):
            docs = link_documents(gold, use_stories=use_stories, method=method)
            assert len(docs) == 1
            for d in docs:
                check_against_quotes(d, gold)
                assert StatementDocument.model_validate_json(d.model_dump_json()) == d
                assert d.provenance.annotator == LINKER_NAME
                assert d.provenance.origin == "prediction"
                assert d.provenance.model_version == LINKER_VERSION


def test_statements_are_ordered_and_glossed(gold, mentions):
    (doc,) = link_documents(gold)
    position = {m.key: (m.article_id, m.start) for m in mentions}
    firsts = [position[s.renderings[0].key] for s in doc.statements]
    assert firsts == sorted(firsts)
    for s in doc.statements:
        keys = [position[r.key] for r in s.renderings]
        assert keys == sorted(keys)
        first = s.renderings[0]
        assert s.id == f"s-{first.article_id}-{first.quote_id}"
        assert all(r.fidelity is None for r in s.renderings)
        assert len(s.gloss) <= GLOSS_CHARACTERS + 1
    by_key = {m.key: m for m in mentions}
    peace = next(s for s in doc.statements if "003_e83bb071d895df33/q6" in s.keys())
    longest_direct = max((by_key[k] for k in peace.keys() if by_key[k].is_direct), key=lambda m: len(m.text))
    shown = " ".join(longest_direct.text.split())
    assert peace.gloss.removesuffix("…") == shown[:len(peace.gloss.removesuffix("…"))]


def test_link_mentions_does_not_depend_on_the_order_of_its_input(mentions):
    linked = link_mentions(mentions)
    assert link_mentions(list(reversed(mentions))) == linked
    assert link_mentions(mentions[1::2] + mentions[::2], method="exhaustive") == link_mentions(
        mentions, method="exhaustive")


def test_ids_are_stable_and_the_input_order_does_not_matter(gold):
    once = link_documents(gold)
    assert link_documents(gold) == once
    shuffled = [d.model_copy(update={"quotes": list(reversed(d.quotes))}) for d in reversed(gold)]
    assert link_documents(shuffled) == once
    assert link_documents(shuffled, method="exhaustive") == link_documents(gold, method="exhaustive")


def _copy_into_story(doc: AnnotatedDocument, prefix: str, story: str) -> AnnotatedDocument:
    article = doc.article.model_copy(update={"id": f"{prefix}{doc.article.id}", "story": story})
    return doc.model_copy(update={"article": article})


def test_without_story_labels_a_collection_is_linked_at_once(gold):
    collection = ([_copy_into_story(d, "a", "story-a") for d in gold]
                  + [_copy_into_story(d, "b", "story-b") for d in gold])
    per_story = link_documents(collection)
    assert [d.story for d in per_story] == ["story-a", "story-b"]
    assert [len(d.statements) for d in per_story] == [len(link_documents(gold)[0].statements)] * 2
    (whole,) = link_documents(collection, use_stories=False)
    assert whole.story is None
    check_against_quotes(whole, collection)
    for d in per_story:
        check_against_quotes(d, collection)
    # the same remark in both stories is now one statement, numbered after its first rendering
    remark = next(s for s in whole.statements if "a003_e83bb071d895df33/q6" in s.keys())
    assert "b003_e83bb071d895df33/q6" in remark.keys()
    assert all(s.story is None for s in whole.statements)


def test_nothing_to_link_gives_no_documents():
    assert link_documents([]) == [] == link_documents([], use_stories=False)
    assert link_mentions([]) == []


def test_articles_without_a_story_go_to_a_document_without_one(gold):
    loose = [d.model_copy(update={"article": d.article.model_copy(update={"story": None})}) for d in gold[:2]]
    docs = link_documents(loose + gold[2:])
    assert [d.story for d in docs] == ["eef-2025-09-05-foreign-troops", None]
    for d in docs:
        check_against_quotes(d, loose + gold[2:])


# --- hand-made quotes --------------------------------------------------------------------------------------------


@METHOD
def test_a_two_word_excerpt_pairs_with_its_source(method):
    quotes = [mention("a/q1", "we proceed from the premise that they will be legitimate targets", start=10),
              mention("b/q1", "“Legitimate targets,”", kind=QuoteKind.MIXED),
              mention("c/q1", "the weather in Vladivostok was fine, the forum was busy and nobody minded")]
    linked = link_mentions(quotes, method=method)
    s = statement_of(linked, "a/q1")
    assert s.keys == ("a/q1", "b/q1")
    (link,) = s.links
    assert (link.left, link.right, link.rule, link.score) == ("a/q1", "b/q1", "excerpt", 1.0)
    assert link.found_by == ("rare-word" if method == "lsh" else "exhaustive")
    assert link.token_set is None  # a short quote: the token-set score does not apply
    assert statement_of(linked, "c/q1").keys == ("c/q1",)


def test_one_word_quotes_are_never_paired():
    quotes = [mention("a/q1", "Nazi"), mention("b/q1", "“Nazi”"), mention("c/q1", "a Nazi regime in Kyiv")]
    assert list(candidate_pairs(quotes, method="exhaustive")) == []
    assert len(link_mentions(quotes)) == 3


def test_a_link_needs_a_word_rare_among_the_speakers_quotes():
    text = "we will answer any aggression with all the means at our disposal"
    quotes = [mention(f"a{i}/q1", text) for i in range(3)]
    rare_enough = link_mentions(quotes, settings=CandidateSettings(max_df=3))
    assert [s.keys for s in rare_enough] == [("a0/q1", "a1/q1", "a2/q1")]
    assert {p.rule for p in rare_enough[0].links} == {"same-words"}
    too_common = link_mentions(quotes, method="exhaustive", settings=CandidateSettings(max_df=2))
    assert [s.keys for s in too_common] == [("a0/q1",), ("a1/q1",), ("a2/q1",)]
    pairs = list(candidate_pairs(quotes, method="exhaustive", settings=CandidateSettings(max_df=2)))
    assert pairs and all(p.score == 1.0 and p.shared_rare_words == 0 and not p.passes(0.5) for p in pairs)


def test_stories_block_linking_unless_told_otherwise():
    text = "if some troops appear there, especially now, they will be legitimate targets"
    quotes = [mention("a/q1", text, story="s1"), mention("b/q1", text, story="s2")]
    assert len(link_mentions(quotes)) == 2
    (both,) = link_mentions(quotes, use_stories=False)
    assert both.keys == ("a/q1", "b/q1") and both.story is None


def test_bad_input_is_refused_with_one_line(gold):
    with pytest.raises(ToolkitError, match=r"link threshold 1\.5: use a similarity in \(0, 1\]"):
        link_mentions([], threshold=1.5)
    with pytest.raises(ToolkitError, match=r"candidate method 'all': use one of lsh, exhaustive"):
        link_mentions([mention("a/q1", "two words")], method="all")  # type: ignore[arg-type]
    with pytest.raises(ToolkitError, match=r"article '000_77ccc7b56971afc5' comes in two documents"):
        link_documents([gold[0], gold[0]])
    with pytest.raises(ToolkitError, match=r"quote 'a/q1' appears twice"):
        link_mentions([mention("a/q1", "two words"), mention("a/q1", "two words")])
    with pytest.raises(ToolkitError, match=r"32 bands x 4 rows need at least 128 permutations, not num_perm=64"):
        CandidateSettings(rows=4)
    with pytest.raises(ToolkitError, match=r"max_df=0 must be at least 1"):
        CandidateSettings(max_df=0)


# --- properties --------------------------------------------------------------------------------------------------

VOCABULARY = [f"w{i}" for i in range(14)]
SMALL = CandidateSettings(short_words=4, max_df=3)  # both passes and the rare-word bound, on a few quotes
quote_words = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=9).map(tuple)
blocks = st.lists(quote_words, min_size=2, max_size=18)


def _pairs(found) -> dict[tuple[int, int], tuple[float, int, str]]:
    return {(int(a), int(b)): (float(s), int(r), str(f)) for a, b, s, r, f in
            zip(found.left, found.right, found.scores.score, found.shared_rare, found.found_by, strict=True)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_lsh_candidates_are_exhaustive_pairs_and_miss_none_they_guarantee(words):
    lsh = _pairs(block_candidates(words, method="lsh", settings=SMALL))
    full = _pairs(block_candidates(words, method="exhaustive", settings=SMALL))
    eligible = [i for i, w in enumerate(words) if len(w) >= SMALL.min_words]
    assert set(full) == {(a, b) for a in eligible for b in eligible if a < b}
    for pair, (score, shared, _) in lsh.items():  # a subset, with the same scores
        assert full[pair][:2] == (score, shared)
    distinct = [len(set(w)) for w in words]
    df = Counter(x for i in eligible for x in set(words[i]))
    rare = [frozenset(x for x in w if df[x] <= SMALL.max_df) for w in words]
    for (a, b), (_, shared, _) in full.items():
        assert shared == len(rare[a] & rare[b])
        if shared and min(distinct[a], distinct[b]) <= SMALL.short_words:
            assert (a, b) in lsh  # the rare-word index is exact
        if rare[a] and rare[a] == rare[b] and min(distinct[a], distinct[b]) > SMALL.short_words:
            assert (a, b) in lsh  # equal sets have equal MinHashes: they collide in every band


@settings(max_examples=60, deadline=None)
@given(blocks, st.integers(1, 6))
def test_the_rare_word_join_does_not_depend_on_its_chunks(words, budget):
    rare = RareWords.of(words, SMALL.max_df)
    short = np.array([len(set(w)) <= SMALL.short_words for w in words])
    whole = [x.tolist() for x in rare_word_pairs(rare, short)]
    chunked = [x.tolist() for x in rare_word_pairs(rare, short, budget=budget)]
    assert sorted(zip(*chunked, strict=True)) == sorted(zip(*whole, strict=True))
    assert len(set(zip(whole[0], whole[1], strict=True))) == len(whole[0])  # no pair twice


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks, st.sampled_from([0.5, 0.75, 0.9]))
def test_links_are_the_passing_exhaustive_pairs_and_clusters_partition(words, threshold):
    quotes = [mention(f"a{i:02d}/q1", " ".join(w), start=i) for i, w in enumerate(words)]
    full = link_mentions(quotes, method="exhaustive", threshold=threshold, settings=SMALL)
    lsh = link_mentions(quotes, method="lsh", threshold=threshold, settings=SMALL)
    for linked in (full, lsh):
        assert sorted(k for s in linked for k in s.keys) == [q.key for q in quotes]
        for s in linked:
            assert all(p.passes(threshold) for p in s.links)
            assert {p.left for p in s.links} | {p.right for p in s.links} <= set(s.keys)
            assert len(s.links) >= len(s.keys) - 1  # connected: at least a spanning tree
    # LSH links are exhaustive links, so its statements refine the exhaustive ones
    full_links = {(p.left, p.right) for s in full for p in s.links}
    assert {(p.left, p.right) for s in lsh for p in s.links} <= full_links
    home = {k: i for i, s in enumerate(full) for k in s.keys}
    for s in lsh:
        assert len({home[k] for k in s.keys}) == 1


def test_words_of_is_what_the_scores_see():
    quotes = [mention("a/q1", "“Legitimate targets,” he said"), mention("b/q1", "legitimate TARGETS he said")]
    (pair,) = candidate_pairs(quotes, method="exhaustive")
    assert pair.rule == "same-words" and words_of(quotes[0].text) == words_of(quotes[1].text)


# --- the benchmark's generator -----------------------------------------------------------------------------------


def test_the_synthetic_archive_is_deterministic_and_has_its_groups():
    archive = synthetic_archive(2_000)
    assert len(archive.mentions) == 2_000 == len(archive.group) == len(archive.kind)
    assert [m.text for m in synthetic_archive(2_000).mentions] == [m.text for m in archive.mentions]
    sizes = Counter(m.speaker for m in archive.mentions).most_common()
    assert sizes[0][1] > 10 * sizes[-1][1]  # Zipf-like: one large speaker, many small ones
    assert set(archive.kind) == {"verbatim", "excerpt", "variant"}
    for m, kind in zip(archive.mentions, archive.kind, strict=True):
        n = len(m.words)
        assert 2 <= n <= 10 if kind == "excerpt" else 2 <= n <= 40
    # a group is one speaker's, and its excerpts are contiguous parts of its first rendering
    first: dict[int, QuoteMention] = {}
    for m, g, kind in zip(archive.mentions, archive.group.tolist(), archive.kind, strict=True):
        source = first.setdefault(g, m)
        assert source.speaker == m.speaker
        if kind == "excerpt":
            assert f" {' '.join(m.words)} " in f" {' '.join(source.words)} "
    assert np.all(np.diff(archive.group) >= 0)


def test_the_benchmark_runs_small(capsys):
    assert bench_main(["--quotes", "2000", "--sample", "600", "--sample-largest", "200"]) == 0
    out = capsys.readouterr().out
    assert "| LSH + rare words, whole archive | 2,000 |" in out
    assert "| exhaustive, sample |" in out and "extrapolated" in out
