"""Cluster metrics against published worked examples, their invariants, and the scorch package.

"Reference suite" below is the test suite of the CoNLL-2012 reference scorer v8.01 (Pradhan et al. 2014),
repository conll/reference-coreference-scorers: expected values from test/CorefMetricTestConfig.pm (given
there to 5 decimals or as fractions) and, for LEA, test/TestCases.README (as fractions). Its mentions are
token spans; here they are letters, with a capital for a second mention over the same tokens (B) and
x, y, z for mentions only the response has.
"""

from __future__ import annotations

import doctest
from fractions import Fraction as Q

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scorch import scores as scorch

import exports.cluster_metrics as cluster_metrics
from exports.cluster_metrics import ClusterScores, link_kappa, pairwise_links, score_clusters
from exports.metrics import cohen_kappa

METRICS = ("muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea")
EXAMPLES = settings(max_examples=200, deadline=None)


def rpf(scores: ClusterScores, metric: str) -> tuple[float, float, float]:
    prf = getattr(scores, metric)
    return prf.recall, prf.precision, prf.f1


def f1(recall, precision):
    return 2 * recall * precision / (recall + precision) if recall + precision else 0


def clusters(text: str) -> list[set[str]]:
    """'{a} {bc} {def}' -> [{'a'}, {'b', 'c'}, {'d', 'e', 'f'}], the notation of the reference suite."""
    return [set(group.strip("{}")) for group in text.split()]


def assert_rpf(scores: ClusterScores, metric: str, recall, precision, f=None, tolerance=1e-12):
    expected = (float(recall), float(precision), float(f1(recall, precision) if f is None else f))
    assert rpf(scores, metric) == pytest.approx(expected, abs=tolerance), metric


def test_docstring_examples():
    assert doctest.testmod(cluster_metrics).failed == 0


# --- published worked examples ----------------------------------------------------------------------------

TC_A_KEY = "{a} {bc} {def}"
# Reference suite, key TC-A: (recall, precision, F1) per metric; None where the suite gives no figure.
# LEA is (recall, precision) from TestCases.README; its F1 is their harmonic mean.
TC_A = {
    "A1 perfect": ("{a} {bc} {def}", {m: (1, 1, 1) for m in METRICS[:5]}, (1, 1)),
    "A2 missing mentions": ("{a} {de}", {
        "muc": (Q(1, 3), 1, 0.5), "b_cubed": (Q(7, 3) / 6, 1, Q(14, 25)), "ceaf_m": (0.5, 1, 0.66667),
        "ceaf_e": (0.6, 0.9, 0.72), "blanc": (0.21591, 1, 0.35385)}, (Q(1, 3), 1)),
    "A3 false alarms": ("{a} {bcx} {defy} {z}", {
        "muc": (1, Q(3, 5), 0.75), "b_cubed": (1, (4 + Q(7, 12)) / 9, Q(110, 163)), "ceaf_m": (1, 0.66667, 0.8),
        "ceaf_e": (0.88571, 0.66429, 0.75918), "blanc": (1, 0.42593, 0.59717)}, (1, Q(4, 9))),
    "A4 missing and false alarms": ("{a} {bcx} {dy} {z}", {
        "muc": (Q(1, 3), Q(1, 3), Q(1, 3)), "b_cubed": ((3 + Q(1, 3)) / 6, (1 + Q(4, 3) + Q(1, 2)) / 7, None),
        "ceaf_m": (0.66667, 0.57143, 0.61538), "ceaf_e": (0.73333, 0.55, 0.62857),
        "blanc": (0.35227, 0.27206, 0.30357)}, (Q(1, 2), Q(2, 7))),
    "A5 second mention B in the aligned cluster": ("{a} {bBcx} {dy} {z}", {
        "muc": (Q(1, 3), Q(1, 4), Q(2, 7)), "b_cubed": ((3 + Q(1, 3)) / 6, Q(5, 2) / 8, None),
        "ceaf_m": (0.66667, 0.5, 0.57143), "ceaf_e": (0.68889, 0.51667, 0.59048),
        "blanc": (0.35227, 0.19048, 0.24716)}, (Q(1, 2), (1 + Q(4, 6)) / 8)),
    "A6 second mention B elsewhere": ("{a} {bcx} {dy} {Bz}", {
        "muc": (Q(1, 3), Q(1, 4), Q(2, 7)), "b_cubed": (Q(10, 3) / 6, (1 + Q(4, 3) + Q(1, 2)) / 8, None),
        "ceaf_m": (0.66667, 0.5, 0.57143), "ceaf_e": (0.73333, 0.55, 0.62857),
        "blanc": (0.35227, 0.20870, 0.25817)}, (Q(1, 2), Q(1, 4))),
    "A10 only singletons": ("{a} {b} {c} {d} {e} {f}", {
        "muc": (0, 0, 0), "b_cubed": (Q(3, 6), 1, Q(2, 3)), "blanc": (0.5, 0.36667, 0.42308)}, (Q(1, 6), Q(1, 6))),
    "A11 one cluster": ("{abcdef}", {
        "muc": (1, Q(3, 5), Q(6, 8)), "b_cubed": (1, (Q(1, 6) + Q(4, 6) + Q(9, 6)) / 6, Q(14, 25)),
        "blanc": (0.5, 0.13333, 0.21053)}, (Q(5, 6), Q(4, 15))),
    "A12 system mentions, only singletons": ("{a} {x} {y} {c} {d} {e} {z}", {
        "muc": (0, 0, 0), "b_cubed": ((1 + Q(1, 2) + Q(2, 3)) / 6, Q(4, 7), None),
        "blanc": (0.22727, 0.11905, 0.15625)}, (Q(1, 6), Q(1, 7))),
    "A13 system mentions, one cluster": ("{axycdez}", {
        "muc": (Q(1, 3), Q(1, 6), Q(2, 9)), "b_cubed": ((1 + Q(1, 2) + 2 * Q(2, 3)) / 6, Q(6, 49), None),
        "blanc": (0.125, 0.02381, 0.04)}, (Q(1, 6), Q(1, 21))),
}


@pytest.mark.parametrize("case", TC_A)
def test_reference_suite_case_a(case):
    response, expected, lea = TC_A[case]
    scores = score_clusters(clusters(TC_A_KEY), clusters(response))
    for metric, (recall, precision, f) in expected.items():
        # Fractions are exact; decimals are given to 5 places.
        exact = all(isinstance(x, int | Q) for x in (recall, precision, f) if x is not None)
        assert_rpf(scores, metric, recall, precision, f, tolerance=1e-12 if exact else 5e-6)
    assert_rpf(scores, "lea", *lea)


@pytest.mark.parametrize(("key", "response", "blanc", "lea"), [
    # B-1: a spurious (x) and a missed (a) mention; C-1 adds an entity predicted right. BLANC as fractions.
    ("{ab} {cde}", "{bcx} {de}", Q(1, 2) * (Q(1, 4) + Q(1, 3)), (Q(1, 5), Q(2, 5))),
    ("{ab} {cde} {fg}", "{bcx} {de} {fg}", Q(1, 2) * (Q(2, 5) + Q(10, 16)), (Q(3, 7), Q(4, 7))),
])
def test_reference_suite_cases_b_and_c(key, response, blanc, lea):
    scores = score_clusters(clusters(key), clusters(response))
    assert scores.blanc.f1 == pytest.approx(float(blanc))
    assert_rpf(scores, "lea", *lea)


# The reference suite's examples from the MUC paper (Vilain et al. 1995, TC-F to TC-L) and the B-cubed paper
# (Bagga & Baldwin 1998, TC-D and TC-E): (key, response, MUC, B-cubed or None, LEA), each (recall, precision).
PAPER_EXAMPLES = {
    "D1 merging a small cluster into a big one": ("{12345} {67} {89ABC}", "{12345} {6789ABC}", (1, Q(9, 10)),
                                                  (1, Q(16, 21)), (1, (5 + 7 * Q(11, 21)) / 12)),
    "E1 merging two big clusters": ("{12345} {67} {89ABC}", "{1234589ABC} {67}", (1, Q(9, 10)), (1, Q(7, 12)),
                                    (1, (10 * Q(20, 45) + 2) / 12)),
    "F1 Vilain: a split": ("{ABCD}", "{AB} {CD}", (Q(2, 3), 1), None, (Q(1, 3), 1)),
    "G1 Vilain: a merge": ("{AB} {CD}", "{ABCD}", (1, Q(2, 3)), None, (1, Q(1, 3))),
    "H1 Vilain: same cluster, other links": ("{ABCD}", "{ABCD}", (1, 1), (1, 1), (1, 1)),
    "J1 Vilain: a missed mention": ("{ABC}", "{AC}", (Q(1, 2), 1), None, (Q(1, 3), 1)),
    "K1 Vilain: three pieces of one": ("{BCDEGHJ}", "{ABC} {DEF} {GHI}", (Q(3, 6), Q(3, 6)), None,
                                       (Q(1, 7), Q(1, 3))),
    "L1 Vilain": ("{ABC} {DEFG}", "{AB} {CD} {FGH}", (Q(2, 5), Q(2, 4)), None, (Q(5, 21), Q(3, 7))),
}


@pytest.mark.parametrize("case", PAPER_EXAMPLES)
def test_muc_and_b_cubed_paper_examples(case):
    key, response, muc, b_cubed, lea = PAPER_EXAMPLES[case]
    scores = score_clusters(clusters(key), clusters(response))
    assert_rpf(scores, "muc", *muc)
    if b_cubed:
        assert_rpf(scores, "b_cubed", *b_cubed)
    assert_rpf(scores, "lea", *lea)


def test_the_example_of_pradhan_2014_and_moosavi_strube_2016():
    # Key {a,b,c} {d,e,f,g}, response {a,b} {c,d} {f,g,h,i}: e is missed, h and i are spurious. The figures
    # are hand computations, step by step, not copied from the papers.
    scores = score_clusters([set("abc"), set("defg")], [set("ab"), set("cd"), set("fghi")])
    # MUC. Recall: {a,b,c} falls into {a,b} {c}: 3 - 2 = 1 of 2 links; {d,e,f,g} into {d} {e} {f,g}: 4 - 3 = 1
    # of 3; 2/5. Precision: {a,b}: 1 of 1; {c,d} into {c} {d}: 0 of 1; {f,g,h,i} into {f,g} {h} {i}: 1 of 3; 2/5.
    assert_rpf(scores, "muc", Q(2, 5), Q(2, 5))
    # B-cubed. Recall over 7 key mentions: a, b 2/3; c 1/3; d 1/4; e 0 (twinless); f, g 2/4: (35/12)/7 = 5/12.
    # Precision over 8: a, b 2/2; c, d 1/2; f, g 2/4; h, i 0: 4/8.
    assert_rpf(scores, "b_cubed", Q(5, 12), Q(1, 2))
    # CEAF-m. Best alignment {a,b,c}-{a,b} (2 shared), {d,e,f,g}-{f,g,h,i} (2): 4/7 and 4/8.
    assert_rpf(scores, "ceaf_m", Q(4, 7), Q(1, 2))
    # CEAF-e. Dice {a,b,c}-{a,b} 4/5, {a,b,c}-{c,d} 2/5, {d,e,f,g}-{c,d} 2/6, {d,e,f,g}-{f,g,h,i} 4/8; best
    # 4/5 + 4/8 = 13/10, over 2 key and 3 response clusters.
    assert_rpf(scores, "ceaf_e", Q(13, 20), Q(13, 30))
    # BLANC. Coreference links: key 3 + 6 = 9, response 1 + 1 + 6 = 8, common ab, fg: R 2/9, P 2/8, F 4/17.
    # Non-coreference links: key 3 x 4 = 12, response 2x2 + 2x4 + 2x4 = 20; common (e is twinless, cd is
    # linked in the response): a-d, a-f, a-g, b-d, b-f, b-g, c-f, c-g = 8: R 8/12, P 8/20, F 1/2.
    blanc = scores.blanc
    assert (blanc.recall, blanc.precision, blanc.f1) == pytest.approx(
        (float((Q(2, 9) + Q(2, 3)) / 2), float((Q(1, 4) + Q(2, 5)) / 2), float((Q(4, 17) + Q(1, 2)) / 2)))
    # LEA. Recall: {a,b,c} has 3 links, 1 resolved (ab); {d,e,f,g} 6, 1 (fg): (3 x 1/3 + 4 x 1/6) / 7 = 5/21.
    # Precision: {a,b} 1 of 1; {c,d} 0 of 1; {f,g,h,i} 1 of 6: (2 x 1 + 2 x 0 + 4 x 1/6) / 8 = 1/3.
    assert_rpf(scores, "lea", Q(5, 21), Q(1, 3))
    assert scores.conll == pytest.approx(float((Q(2, 5) + Q(5, 11) + Q(13, 25)) / 3))
    assert (scores.key_mentions, scores.response_mentions, scores.shared_mentions) == (7, 8, 6)
    assert (scores.key_clusters, scores.response_clusters) == (2, 3)


# Reference suite TC-M (key: one cluster) and TC-N (key: only singletons), the boundary cases of BLANC.
# Where the key alone lacks a kind of link, the reference scorer scores BLANC on the other kind only; we
# decide from both sides (module docstring), so these four differ and are hand computations:
#   M3: Fc = 2 x 4 / (15 + 4) = 8/19, Fn = 0 (the response has 11 non-links, none in the key): mean 4/19
#       (the reference: 0.42105 = 8/19). M6: Fc = 2 x 1 / (15 + 4) = 2/19, Fn = 0: 1/19 (the reference 2/19).
#   N3: Fc = 0 (4 response links, none in the key), Fn = 2 x 11 / (15 + 11) = 11/13: 11/26 (the reference:
#       0.84615 = 11/13, and 11/26 with key and response swapped). N6: Fn = 2 x 2 / (15 + 11) = 2/13: 1/13.
# MUC: the reference gives 0 to N1 and N4 (no link on either side); we give 1 (module docstring).
BOUNDARY = {
    "M1": ("{abcdef}", "{abcdef}", 1, (1, 1), 1),
    "M2": ("{abcdef}", "{a} {b} {c} {d} {e} {f}", 0, (0, 0), 0),
    "M3": ("{abcdef}", "{ab} {cde} {f}", Q(4, 19), (Q(4, 15), Q(5, 6)), None),
    "M4": ("{abcdef}", "{abcxyz}", 0.2, (0.2, 0.2), None),
    "M5": ("{abcdef}", "{a} {b} {c} {x} {y} {z}", 0, (0, 0), 0),
    "M6": ("{abcdef}", "{ab} {cxy} {z}", Q(1, 19), (Q(1, 15), Q(1, 3)), None),
    "N1": ("{a} {b} {c} {d} {e} {f}", "{a} {b} {c} {d} {e} {f}", 1, (1, 1), 1),
    "N2": ("{a} {b} {c} {d} {e} {f}", "{abcdef}", 0, (0, 0), None),
    "N3": ("{a} {b} {c} {d} {e} {f}", "{ab} {cde} {f}", Q(11, 26), (Q(1, 6), Q(1, 6)), None),
    "N4": ("{a} {b} {c} {d} {e} {f}", "{a} {b} {c} {x} {y} {z}", 0.2, (0.5, 0.5), 1),
    "N5": ("{a} {b} {c} {d} {e} {f}", "{abcxyz}", 0, (0, 0), None),
    "N6": ("{a} {b} {c} {d} {e} {f}", "{ab} {cxy} {z}", Q(1, 13), (0, 0), None),
}


@pytest.mark.parametrize("case", BOUNDARY)
def test_reference_suite_boundary_cases(case):
    key, response, blanc, lea, muc = BOUNDARY[case]
    scores = score_clusters(clusters(key), clusters(response))
    assert scores.blanc.f1 == pytest.approx(float(blanc))
    assert_rpf(scores, "lea", *lea)
    if muc is not None:
        assert scores.muc.f1 == muc


def test_all_singletons_on_both_sides_score_one_for_muc_even_with_other_mentions():
    # MUC sees links only: {a} {b} against {a} {c} has none to disagree on (the reference scorer: 0/0 = 0).
    assert rpf(score_clusters([{"a"}, {"b"}], [{"a"}, {"c"}]), "muc") == (1.0, 1.0, 1.0)
    assert rpf(score_clusters([{"a"}], [{"a"}]), "muc") == (1.0, 1.0, 1.0)


def test_one_mention_a_side_scores_blanc_on_the_mention_itself():
    assert score_clusters([{"a"}], [{"a"}]).blanc.f1 == 1.0
    assert score_clusters([{"a"}], [{"b"}]).blanc.f1 == 0.0
    assert score_clusters([{"a"}], []).blanc.f1 == 0.0


def test_an_empty_side_scores_zero():
    scores = score_clusters([{"a", "b"}, {"c"}], [])
    assert all(rpf(scores, metric) == (0.0, 0.0, 0.0) for metric in METRICS)
    assert scores.conll == 0.0
    assert (scores.response_mentions, scores.response_clusters) == (0, 0)


def test_empty_clusters_are_ignored_and_not_counted():
    scores = score_clusters([set(), {"a", "b"}, []], [(), ["a", "b"]])
    assert (scores.key_clusters, scores.response_clusters) == (1, 1)
    assert all(rpf(scores, metric) == (1.0, 1.0, 1.0) for metric in METRICS)


# --- properties ---------------------------------------------------------------------------------------------


def from_labels(labels: list[int | None]) -> list[set[int]]:
    """Mention i goes to cluster labels[i]; None leaves it out of this side (a twinless mention)."""
    groups: dict[int, set[int]] = {}
    for mention, label in enumerate(labels):
        if label is not None:
            groups.setdefault(label, set()).add(mention)
    return list(groups.values())


@st.composite
def clusterings(draw, max_mentions: int = 10) -> list[set[int]]:
    n = draw(st.integers(1, max_mentions))
    labels = draw(st.lists(st.one_of(st.none(), st.integers(0, n - 1)), min_size=n, max_size=n))
    return from_labels(labels)


@st.composite
def key_and_response(draw) -> tuple[list[set[int]], list[set[int]]]:
    key, response = draw(clusterings()), draw(clusterings())
    assume(key or response)
    return key, response


@EXAMPLES
@given(clusterings())
def test_a_clustering_scores_one_against_itself(clusters_):
    assume(clusters_)
    scores = score_clusters(clusters_, clusters_)
    assert all(rpf(scores, metric) == (1.0, 1.0, 1.0) for metric in METRICS)
    assert scores.conll == 1.0


@EXAMPLES
@given(key_and_response())
def test_swapping_key_and_response_swaps_recall_and_precision(pair):
    key, response = pair
    forward, backward = score_clusters(key, response), score_clusters(response, key)
    for metric in METRICS:  # BLANC included: its special cases are decided by both sides
        recall, precision, f = rpf(forward, metric)
        assert rpf(backward, metric) == pytest.approx((precision, recall, f), abs=1e-12), metric
    assert backward.conll == pytest.approx(forward.conll, abs=1e-12)


@EXAMPLES
@given(key_and_response(), st.randoms(use_true_random=False))
def test_renaming_mentions_changes_nothing(pair, random):
    key, response = pair
    ids = list({m for cluster in key + response for m in cluster})
    renamed = dict(zip(ids, random.sample([f"m{i}" for i in range(100)], len(ids))))
    scores = score_clusters(key, response)
    again = score_clusters([{renamed[m] for m in c} for c in key], [{renamed[m] for m in c} for c in response])
    for metric in METRICS:
        assert rpf(again, metric) == pytest.approx(rpf(scores, metric), abs=1e-12)


@EXAMPLES
@given(key_and_response())
def test_scores_lie_between_zero_and_one(pair):
    scores = score_clusters(*pair)
    values = [x for metric in METRICS for x in rpf(scores, metric)] + [scores.conll]
    assert all(0 <= x <= 1 for x in values)


# --- against scorch -----------------------------------------------------------------------------------------


def shares_a_mention(key: list[set[int]], response: list[set[int]]) -> bool:
    return bool(set().union(*key) & set().union(*response))


@EXAMPLES
@given(key_and_response())
def test_muc_b_cubed_and_ceaf_agree_with_scorch(pair):
    key, response = pair
    scores = score_clusters(key, response)
    if all(len(c) == 1 for c in key) and all(len(c) == 1 for c in response):
        # No link on either side: scorch (like the reference scorer) gives MUC 0/0 = 0, we give 1.
        assert rpf(scores, "muc") == (1.0, 1.0, 1.0)
    else:
        assert rpf(scores, "muc") == pytest.approx(scorch.muc(key, response), abs=1e-9)
    assert rpf(scores, "b_cubed") == pytest.approx(scorch.b_cubed(key, response), abs=1e-9)
    if not shares_a_mention(key, response):
        # scorch's CEAF takes the harmonic mean of numpy zeros, which statistics.harmonic_mean rejects; with
        # no mention in common nothing can be aligned, and CEAF is 0 by its definition.
        assert rpf(scores, "ceaf_m") == rpf(scores, "ceaf_e") == (0.0, 0.0, 0.0)
        return
    for metric, theirs in (("ceaf_m", scorch.ceaf_m), ("ceaf_e", scorch.ceaf_e)):
        assert rpf(scores, metric) == pytest.approx(tuple(map(float, theirs(key, response))), abs=1e-9), metric


@st.composite
def same_kinds_of_links(draw) -> tuple[list[set[int]], list[set[int]]]:
    """Key and response that both have, or both lack, each kind of link; one mention each in the last kind.

    scorch, like the reference scorer, decides BLANC's special cases from the key alone, we from both sides
    (module docstring): the two agree on these, and differ when only one side lacks a kind of link, and
    for a key of one mention against a response without pairs (scorch: 1). The boundary cases above pin
    our figures there.
    """
    kind = draw(st.sampled_from(["both kinds", "only singletons", "one cluster", "one mention"]))

    def side() -> list[set[int]]:
        if kind == "one mention":
            return [{draw(st.integers(0, 2))}]
        mentions = sorted(draw(st.sets(st.integers(0, 9), min_size=3 if kind == "both kinds" else 2, max_size=8)))
        if kind == "only singletons":
            return [{m} for m in mentions]
        if kind == "one cluster":
            return [set(mentions)]
        # The first two mentions linked, the last apart from them: both kinds of link, whatever the rest.
        labels = [0, 0] + draw(st.lists(st.integers(0, 2), min_size=len(mentions) - 3, max_size=len(mentions) - 3))
        groups: dict[int, set[int]] = {}
        for mention, label in zip(mentions, labels + [3]):
            groups.setdefault(label, set()).add(mention)
        return list(groups.values())

    return side(), side()


@EXAMPLES
@given(same_kinds_of_links())
def test_blanc_agrees_with_scorch_where_the_conventions_agree(pair):
    key, response = pair
    assert rpf(score_clusters(key, response), "blanc") == pytest.approx(scorch.blanc(key, response), abs=1e-9)


@EXAMPLES
@given(key_and_response())
def test_conll_agrees_with_scorch(pair):
    key, response = pair
    # As above: scorch's MUC differs when no side has a link, and its CEAF fails when no mention is shared.
    assume(any(len(c) > 1 for c in key + response) and shares_a_mention(key, response))
    assert score_clusters(key, response).conll == pytest.approx(scorch.conll2012(key, response), abs=1e-9)


def test_pooled_documents_score_as_the_sums_over_documents():
    # Two documents' clusters at once, ids qualified by document: B-cubed recall is the mean over all key
    # mentions, so (2/3 + 2/3 + 1/3 + 1 + 1) / 5.
    scores = score_clusters([{(1, "a"), (1, "b"), (1, "c")}, {(2, "a"), (2, "b")}],
                            [{(1, "a"), (1, "b")}, {(1, "c")}, {(2, "a"), (2, "b")}])
    assert scores.b_cubed.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert scores.ceaf_e.recall == pytest.approx((4 / 5 + 1) / 2)


# --- pairs and kappa ----------------------------------------------------------------------------------------


def test_pairwise_links_keep_only_the_given_mentions_in_their_order():
    links = pairwise_links([{"a", "b", "z"}, {"c"}], ["c", "b", "a"])
    assert links == {("c", "b"): False, ("c", "a"): False, ("b", "a"): True}


def test_pairwise_links_within_groups_only():
    speaker = {"a": "Ann", "b": "Bob", "c": "Ann", "d": "Bob"}.get
    assert pairwise_links([{"a", "b", "c", "d"}], ["a", "b", "c", "d"], speaker) == {("a", "c"): True,
                                                                                  ("b", "d"): True}


@EXAMPLES
@given(clusterings(), clusterings(), st.lists(st.integers(0, 2), min_size=10, max_size=10), st.booleans())
def test_link_kappa_is_cohen_kappa_of_the_pairwise_decisions(a, b, speakers, grouped):
    mentions = list(range(10))
    group_of = speakers.__getitem__ if grouped else None
    a_links, b_links = pairwise_links(a, mentions, group_of), pairwise_links(b, mentions, group_of)
    decisions = list(a_links.values()) + list(b_links.values())
    if len(set(decisions)) == 1:
        with pytest.raises(ValueError, match="same decision"):
            link_kappa(a, b, mentions, group_of)
    else:
        expected = cohen_kappa(list(a_links.values()), [b_links[p] for p in a_links])
        assert link_kappa(a, b, mentions, group_of) == pytest.approx(expected, abs=1e-12)


def test_link_kappa_of_one_clustering_with_itself_is_one():
    assert link_kappa([{"a", "b"}, {"c"}], [{"a", "b"}, {"c"}], ["a", "b", "c"]) == 1.0


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "response", "message"), [
    ([{"a", "b"}, {"b", "c"}], [{"a"}], "mention 'b' is in two key clusters"),
    ([{"a"}], [{"a"}, {"x"}, ["x", "y"]], "mention 'x' is in two response clusters"),
    ([["a", "a"]], [{"a"}], "mention 'a' is listed twice in one key cluster"),
    (["ab"], [{"a"}], "collection .* of mention ids; got 'ab'"),
    ("ab", [{"a"}], "key clusters must be a list of clusters"),
    ([[["a"]]], [{"a"}], "mention ids must be hashable"),
    ([], [set()], "no mentions"),
])
def test_bad_clusters_are_rejected(key, response, message):
    with pytest.raises(ValueError, match=message):
        score_clusters(key, response)


def test_bad_pair_input_is_rejected():
    with pytest.raises(ValueError, match="mention 'a' is listed twice"):
        pairwise_links([{"a"}], ["a", "b", "a"])
    with pytest.raises(ValueError, match="mention ids must be hashable"):
        pairwise_links([{"a"}], ["a", ["b"]])
    with pytest.raises(ValueError, match="group_of must map"):
        pairwise_links([{"a"}], ["a", "b"], group_of="speaker")
    with pytest.raises(ValueError, match="mention 'a' is in two given clusters"):
        pairwise_links([{"a"}, {"a"}], ["a", "b"])
    with pytest.raises(ValueError, match="no pair of mentions"):
        link_kappa([{"a", "b"}], [{"a", "b"}], ["a", "b"], group_of={"a": 1, "b": 2}.get)
    with pytest.raises(ValueError, match="same decision"):
        link_kappa([{"a"}, {"b"}], [{"a"}, {"b"}], ["a", "b"])
