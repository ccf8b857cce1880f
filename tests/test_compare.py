"""The comparison core: unit extraction, one-to-one alignment, scores and schemes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nervaluate.entities import Entity as NerEntity
from nervaluate.strategies import EntityTypeEvaluation, ExactEvaluation, PartialEvaluation, StrictEvaluation
from scipy.optimize import linear_sum_assignment

from exports.compare import (
    EXACT,
    OVERLAP,
    PARTIAL,
    STRICT,
    TOKEN_PATTERN,
    TYPE,
    Boundary,
    Layer,
    Score,
    Tokens,
    align,
    compare,
    concat_ranges,
    extract_layers,
    extract_units,
    token_spans,
)
from schemas import AnnotatedDocument, Article, Claim, Entity, Mention, Provenance, Quote, Span, ToolkitError

TEXT = " ".join(f"w{i}" for i in range(40))  # "w0 w1 w2 ...": tokens are the words
ARTICLE = Article.from_text("a", TEXT)
KINDS = ("direct", "indirect", "mixed")


def make_doc(annotator: str, quotes=(), mentions=(), claims=(), speakers=None, article=ARTICLE) -> AnnotatedDocument:
    """quotes: (kind, [(start, end), ...]); mentions: (start, end); claims: (start, end, check_worthy)."""
    text = article.text
    speakers = speakers or {}
    return AnnotatedDocument(
        article=article,
        provenance=Provenance(annotator=annotator),
        entities=[Entity(id="e", name="E")],
        mentions=[Mention(id=f"m{i}", span=Span.of(text, s, e), entity_id="e") for i, (s, e) in enumerate(mentions)],
        quotes=[Quote(id=f"q{i}", kind=kind, content=[Span.of(text, s, e) for s, e in frags],
                      speaker_mention_id=speakers.get(i)) for i, (kind, frags) in enumerate(quotes)],
        claims=[Claim(id=f"c{i}", span=Span.of(text, s, e), check_worthy=cw) for i, (s, e, cw) in enumerate(claims)],
    )


def quote_pair(left, right, scheme, **kw):
    docs = [make_doc("a", quotes=left), make_doc("b", quotes=right)]
    return compare(docs, [(0, 1)], Layer.QUOTE, scheme, **kw).score()


def test_quote_units_are_their_fragments_labelled_by_kind():
    doc = make_doc("a", quotes=[("mixed", [(0, 5), (9, 14)]), ("direct", [(20, 30)])])
    units = extract_units([doc], Layer.QUOTE)
    assert [units.labels[c] for c in units.label] == ["mixed", "direct"]
    assert units.seg_unit.tolist() == [0, 0, 1]
    assert units.ref == ("q0", "q1")
    fragments = [f for q in doc.quotes for f in q.content]
    assert [TEXT[s:e] for s, e in zip(units.seg_start, units.seg_end)] == [f.text for f in fragments]
    assert units.sizes().tolist() == [10, 10]


def test_speaker_layer_has_each_speaker_mention_once_and_no_other_mention():
    doc = make_doc("a", quotes=[("direct", [(10, 20)]), ("direct", [(25, 30)])], mentions=[(0, 2), (3, 5)],
                   speakers={0: "m1", 1: "m1"})
    speakers = extract_units([doc], Layer.SPEAKER)
    assert speakers.ref == ("m1",)
    assert len(extract_units([doc], Layer.MENTION)) == 2


def test_all_layers_at_once_equal_one_layer_at_a_time():
    docs = [make_doc("a", quotes=[("mixed", [(0, 5), (9, 14)])], mentions=[(20, 22), (30, 33)],
                     claims=[(40, 50, "no")], speakers={0: "m1"}),
            make_doc("b", mentions=[(3, 5)], claims=[(1, 9, "yes"), (60, 70, "no")])]
    together = extract_layers(docs)
    for layer in Layer:
        alone = extract_units(docs, layer)
        for field in ("doc", "label", "seg_unit", "seg_start", "seg_end"):
            assert getattr(together[layer], field).tolist() == getattr(alone, field).tolist(), (layer, field)
        assert together[layer].ref == alone.ref and together[layer].attributes == alone.attributes
    assert together[Layer.CLAIM].attributes == {"check_worthy": ("no", "yes", "no")}
    assert together[Layer.MENTION].doc.tolist() == [0, 0, 1]
    positions_only = extract_layers(docs, [Layer.QUOTE], attributes=False)[Layer.QUOTE]
    assert positions_only.attributes == {} and positions_only.seg_start.tolist() == [0, 9]


def test_exact_and_overlap_f1_counted_by_hand():
    left = [("direct", [(0, 10)]), ("direct", [(20, 30)]), ("direct", [(40, 50)])]
    right = [("direct", [(0, 10)]), ("direct", [(22, 30)]), ("direct", [(60, 70)])]
    exact, overlap = quote_pair(left, right, EXACT), quote_pair(left, right, OVERLAP)
    assert (exact.tp, exact.fp, exact.fn) == (1, 2, 2)
    assert exact.f1 == pytest.approx(2 / 6)
    assert (overlap.tp, overlap.fp, overlap.fn) == (2, 1, 1)
    assert overlap.precision == overlap.recall == pytest.approx(2 / 3)


def test_one_to_one_takes_the_larger_overlap():
    docs = [make_doc("a", quotes=[("direct", [(0, 10)])]),
            make_doc("b", quotes=[("direct", [(0, 3)]), ("direct", [(2, 10)])])]
    units = extract_units(docs, Layer.QUOTE)
    alignment = align(units, np.array([[0, 1]]), boundary=Boundary.OVERLAP, typed=False)
    assert units.ref[alignment.right[0]] == "q1" and len(alignment.left) == 1
    assert alignment.overlap.tolist() == [8]


def test_assignment_maximises_total_overlap_where_greedy_would_not():
    # Greedy gives A the larger overlap X (5) and leaves B alone; the assignment gives A->Y, B->X (4 + 4).
    left = [("direct", [(0, 10)]), ("direct", [(8, 20)])]
    right = [("direct", [(5, 12)]), ("direct", [(0, 4)])]
    assert quote_pair(left, right, OVERLAP).tp == 2


def test_fragments_of_a_quote_add_up():
    two_fragments = [("mixed", [(0, 5), (10, 15)])]
    assert quote_pair(two_fragments, two_fragments, EXACT).tp == 1
    one_span = [("mixed", [(0, 15)])]
    assert quote_pair(two_fragments, one_span, EXACT).tp == 0
    docs = [make_doc("a", quotes=two_fragments), make_doc("b", quotes=one_span)]
    alignment = align(extract_units(docs, Layer.QUOTE), np.array([[0, 1]]), boundary=Boundary.OVERLAP, typed=False)
    assert alignment.overlap.tolist() == [10] and not alignment.exact.any()


def test_typed_schemes_need_equal_labels():
    left, right = [("direct", [(0, 10)])], [("indirect", [(0, 10)])]
    assert quote_pair(left, right, OVERLAP).tp == 1
    assert quote_pair(left, right, EXACT).tp == 1
    assert quote_pair(left, right, TYPE).tp == 0
    assert quote_pair(left, right, STRICT).tp == 0


def test_partial_scheme_gives_half_credit_to_a_boundary_mismatch():
    left = [("direct", [(0, 10)]), ("direct", [(20, 30)])]
    right = [("direct", [(0, 10)]), ("direct", [(21, 30)])]
    assert quote_pair(left, right, PARTIAL).tp == 1.5


def test_per_label_counts_add_up_to_the_typed_total():
    left = [("direct", [(0, 10)]), ("indirect", [(20, 30)]), ("mixed", [(40, 50)])]
    right = [("direct", [(0, 10)]), ("direct", [(20, 30)]), ("mixed", [(41, 50)])]
    docs = [make_doc("a", quotes=left), make_doc("b", quotes=right)]
    t = compare(docs, [(0, 1)], Layer.QUOTE, TYPE)
    by_label = t.by_label()
    assert (by_label["direct"].n_left, by_label["direct"].n_right, by_label["direct"].tp) == (1, 2, 1)
    assert by_label["indirect"].tp == 0 and by_label["mixed"].tp == 1
    total = t.score()
    assert total.tp == sum(s.tp for s in by_label.values()) and total.n_right == 3


def test_token_measure_ignores_differences_inside_a_token():
    # "w1 w2" vs "1 w2 " (starts inside w1, ends on a space): different code points, same tokens.
    start = TEXT.index("w1")
    left, right = [("direct", [(start, start + 5)])], [("direct", [(start + 1, start + 6)])]
    assert quote_pair(left, right, EXACT).tp == 0
    assert quote_pair(left, right, EXACT, tokens=True).tp == 1


def test_tokens_are_the_pattern_tokens_of_each_article():
    other = Article.from_text("b", "Putin's troops, he said.")
    docs = [make_doc("a"), make_doc("a", article=other)]
    tokens = Tokens.of(docs)
    t = tokens.token_offsets
    assert t[1] - t[0] == 40
    bases = tokens.char_base[1]
    words = [other.text[s - bases : e - bases] for s, e in zip(tokens.start[t[1] : t[2]], tokens.end[t[1] : t[2]])]
    assert words == ["Putin", "'", "s", "troops", ",", "he", "said", "."]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters() | st.characters(categories=["Cs"]), max_size=60))  # lone surrogates too
def test_token_spans_are_the_token_pattern_matches(text):
    starts, ends = token_spans(text)
    assert list(zip(starts.tolist(), ends.tolist())) == [m.span() for m in TOKEN_PATTERN.finditer(text)]


def test_compare_rejects_documents_of_different_articles():
    other = Article.from_text("b", "another text")
    with pytest.raises(ToolkitError, match="annotate different texts; compare only documents of the same article"):
        compare([make_doc("a"), make_doc("b", article=other)], [(0, 1)], Layer.QUOTE, OVERLAP)


def test_scores_are_undefined_only_without_units():
    assert Score(0, 0, 0).f1 is None and Score(0, 0, 0).precision is None
    nothing_found = Score(n_left=3, n_right=0, credit=0)
    assert nothing_found.f1 == 0 and nothing_found.recall == 0 and nothing_found.precision is None


# --- properties ------------------------------------------------------------------------------------------

spans = st.tuples(st.integers(0, len(TEXT) - 1), st.integers(1, 25)).map(lambda t: (t[0], min(t[0] + t[1], len(TEXT))))
quotes = st.lists(st.tuples(st.sampled_from(KINDS), spans.map(lambda s: [s])), max_size=8)


def brute_force(left, right, boundary, typed):
    """(total overlap, matches, total boundary distance) of the best one-to-one assignment, from position sets."""
    sets = [[(frozenset(range(s, e)), s, e, kind) for kind, [(s, e)] in side] for side in (left, right)]
    if not sets[0] or not sets[1]:
        return 0, 0, 0
    m = min(len(left), len(right))
    candidates = {}
    for i, (a, sa, ea, la) in enumerate(sets[0]):
        for j, (b, sb, eb, lb) in enumerate(sets[1]):
            overlap = len(a & b)
            if overlap and (boundary is Boundary.OVERLAP or a == b) and (la == lb or not typed):
                candidates[i, j] = (overlap, abs(sa - sb) + abs(ea - eb))
    if not candidates:
        return 0, 0, 0
    far = max(d for _, d in candidates.values())
    # Lexicographic (overlap, matches, closeness) as one number; closeness is far - distance.
    per_match = m * far + 1
    weight = np.zeros((len(left), len(right)))
    for (i, j), (overlap, distance) in candidates.items():
        weight[i, j] = overlap * per_match * (m + 1) + per_match + far - distance
    rows, cols = linear_sum_assignment(weight, maximize=True)
    picked = [candidates[i, j] for i, j in zip(rows, cols) if (i, j) in candidates]
    return sum(o for o, _ in picked), len(picked), sum(d for _, d in picked)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(quotes, quotes), min_size=1, max_size=4), st.sampled_from(list(Boundary)), st.booleans())
def test_vectorised_alignment_matches_a_per_pair_brute_force(pairs, boundary, typed):
    docs = [make_doc(f"{n}{side}", quotes=q) for n, pair in enumerate(pairs) for side, q in zip("ab", pair)]
    units = extract_units(docs, Layer.QUOTE)
    index = np.array([(2 * n, 2 * n + 1) for n in range(len(pairs))])
    alignment = align(units, index, boundary=boundary, typed=typed)
    start = {u: units.seg_start[units.seg_unit == u].min() for u in range(len(units))}
    end = {u: units.seg_end[units.seg_unit == u].max() for u in range(len(units))}
    for n, (left, right) in enumerate(pairs):
        mine = alignment.pair == n
        distance = sum(abs(start[a] - start[b]) + abs(end[a] - end[b])
                       for a, b in zip(alignment.left[mine], alignment.right[mine]))
        assert (int(alignment.overlap[mine].sum()), int(mine.sum()), distance) == \
            brute_force(left, right, boundary, typed)
        # One-to-one: no unit is used twice.
        assert len(set(alignment.left[mine])) == len(set(alignment.right[mine])) == int(mine.sum())


@settings(max_examples=100, deadline=None)
@given(quotes, quotes, st.sampled_from([STRICT, EXACT, PARTIAL, TYPE, OVERLAP]), st.booleans())
def test_f1_is_symmetric_and_identity_scores_one(left, right, scheme, tokens):
    docs = [make_doc("a", quotes=left), make_doc("b", quotes=right)]
    forward, backward = (compare(docs, p, Layer.QUOTE, scheme, tokens=tokens).score() for p in ([(0, 1)], [(1, 0)]))
    assert forward.f1 == backward.f1
    assert forward.precision == backward.recall
    same = compare([docs[0], docs[0]], [(0, 1)], Layer.QUOTE, scheme, tokens=tokens).score()
    # In tokens, a whitespace-only quote has nothing to compare and drops out.
    comparable = [q for q in left if not tokens or TOKEN_PATTERN.search(TEXT[q[1][0][0] : q[1][0][1]])]
    assert same.f1 == (1.0 if comparable else None)


def _separate(draw_spans):
    """Spans with no overlap among themselves: at most one per 5-code-point cell."""
    return sorted({s // 5: (s - s % 5, s - s % 5 + w) for s, w in draw_spans}.values())


cells = st.lists(st.tuples(st.integers(0, len(TEXT) - 6), st.integers(1, 4)), max_size=10).map(_separate)


@settings(max_examples=150, deadline=None)
@given(cells, st.lists(st.tuples(st.integers(-1, 1), st.integers(-1, 1), st.sampled_from(KINDS), st.booleans())),
       st.lists(st.sampled_from(KINDS), min_size=10, max_size=10), cells)
def test_semeval_schemes_agree_with_nervaluate_when_no_unit_overlaps_two(gold_spans, edits, gold_kinds, extra):
    """Without competing overlaps every matching is the same, so nervaluate's loops must agree with ours."""
    gold = [(gold_kinds[i], [span]) for i, span in enumerate(gold_spans)]
    pred = []
    for (_, [(s, e)]), (ds, de, new_kind, keep) in zip(gold, edits):
        if keep:  # a nudged copy stays inside its 5-wide cell, so it overlaps only its gold span
            start = max(s + ds, s)
            pred.append((new_kind, [(start, max(min(e + de, s + 5), start + 1))]))
    taken = {s // 5 for s, _ in gold_spans}
    pred += [("direct", [span]) for span in extra if span[0] // 5 not in taken]
    as_ner = [[NerEntity(kind, s, e - 1) for kind, [(s, e)] in side] for side in (gold, pred)]
    for strategy, scheme in ((StrictEvaluation(), STRICT), (ExactEvaluation(), EXACT),
                             (PartialEvaluation(), PARTIAL), (EntityTypeEvaluation(), TYPE)):
        expected, _ = strategy.evaluate(as_ner[0], as_ner[1], list(KINDS))
        ours = quote_pair(gold, pred, scheme)
        assert (ours.precision or 0) == pytest.approx(expected.precision), scheme.name
        assert (ours.recall or 0) == pytest.approx(expected.recall), scheme.name


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 5)), max_size=20))
def test_concat_ranges_is_a_concatenation_of_aranges(ranges):
    starts, counts = (np.array(c, dtype=np.int64) for c in zip(*ranges)) if ranges else (np.zeros(0),) * 2
    expected = [x for s, c in ranges for x in range(s, s + c)]
    assert concat_ranges(starts, counts).tolist() == expected
