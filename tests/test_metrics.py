"""Agreement coefficients against published worked examples and the krippendorff package."""

from __future__ import annotations

import doctest

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import exports.metrics as metrics
from exports.metrics import (
    bootstrap_ci,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_stats,
    fleiss_stats,
    krippendorff_alpha,
    nominal_alpha,
    nominal_stats,
    nominal_stats_from_confusion,
    one_vs_rest,
    resample_weights,
)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section E: 4 coders x 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]
# Fleiss (1971) example as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories.
FLEISS_1971 = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                                  ("ratio", 0.797)])
def test_krippendorff_2011_example(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == published


def test_fleiss_1971_example():
    assert round(fleiss_kappa(FLEISS_1971), 3) == 0.210


def test_cohen_wikipedia_50_proposals():
    # Both yes 20, both no 15, A yes / B no 5, A no / B yes 10: p_o = 0.7, p_e = 0.5.
    a = ["yes"] * 20 + ["no"] * 15 + ["yes"] * 5 + ["no"] * 10
    b = ["yes"] * 20 + ["no"] * 15 + ["no"] * 5 + ["yes"] * 10
    assert round(cohen_kappa(a, b), 3) == 0.4


def test_docstring_examples():
    assert doctest.testmod(metrics).failed == 0


def long_format(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coder, unit = np.nonzero(~np.isnan(matrix))
    return unit, matrix[coder, unit].astype(np.int64)


def test_additive_nominal_stats_reproduce_the_published_nominal_alpha():
    unit, value = long_format(np.array(KRIPPENDORFF_2011))
    stats = nominal_stats(unit, value, np.zeros(len(unit), dtype=np.int64), 1, 6)
    assert round(float(nominal_alpha(stats.toarray())[0]), 3) == 0.743


def test_fleiss_stats_of_the_published_table_sum_to_the_published_kappa():
    table = np.array(FLEISS_1971)
    unit, value = np.nonzero(table)
    counts = table[unit, value]
    # Two groups of five subjects: their statistics add up to the whole table's.
    stats = fleiss_stats(np.repeat(unit, counts), np.repeat(value, counts), np.arange(10) // 5, 2, 5)
    assert round(float(fleiss_kappa_from_stats(stats.toarray().sum(axis=0))[0]), 3) == 0.210


coded = arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(1, 30)),
               elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, nan]))


def defined(matrix: np.ndarray) -> bool:
    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    return len(np.unique(pairable[~np.isnan(pairable)])) >= 2


@settings(max_examples=200, deadline=None)
@given(coded)
def test_alpha_and_additive_stats_agree_with_the_krippendorff_package(matrix):
    if not defined(matrix):
        with pytest.raises(ValueError, match="alpha"):
            krippendorff_alpha(matrix)
        return
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha(matrix) == pytest.approx(expected)
    unit, value = long_format(matrix)
    # Split the units into two groups: the statistics must add up.
    group = unit % 2
    stats = nominal_stats(unit, value, group, 2, 4).toarray()
    assert nominal_alpha(stats.sum(axis=0))[0] == pytest.approx(expected)


@settings(max_examples=100, deadline=None)
@given(coded, st.integers(0, 3))
def test_one_vs_rest_equals_alpha_of_the_binarised_data(matrix, value):
    binary = np.where(np.isnan(matrix), nan, (matrix == value).astype(np.float64))
    unit, codes = long_format(matrix)
    stats = nominal_stats(unit, codes, np.zeros(len(unit), dtype=np.int64), 1, 4).toarray()
    ours = nominal_alpha(one_vs_rest(stats, value))[0]
    if defined(binary):
        assert ours == pytest.approx(krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal"))
    else:
        assert np.isnan(ours)


@settings(max_examples=100, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 40), st.just(2)), elements=st.integers(0, 3)))
def test_two_coder_stats_from_a_confusion_matrix_equal_the_long_format(pairs):
    confusion = np.zeros((1, 4, 4), dtype=np.int64)
    np.add.at(confusion, (0, pairs[:, 0], pairs[:, 1]), 1)
    unit = np.repeat(np.arange(len(pairs)), 2)
    long = nominal_stats(unit, pairs.reshape(-1), np.zeros(len(unit), dtype=np.int64), 1, 4).toarray()
    assert nominal_stats_from_confusion(confusion) == pytest.approx(long)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1, max_size=40))
def test_cohen_kappa_is_symmetric_and_one_for_identical_labels(items):
    a, b = [x for x, _ in items], [y for _, y in items]
    try:
        forward = cohen_kappa(a, b)
    except ValueError as e:
        assert "undefined" in str(e) and len(set(a) | set(b)) == 1
        return
    assert forward == pytest.approx(cohen_kappa(b, a))
    assert forward <= 1
    if len(set(a)) > 1:
        assert cohen_kappa(a, a) == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 20), st.just(2)), elements=st.integers(0, 3)))
def test_fleiss_kappa_with_two_raters_matches_scotts_pi_via_alpha(raw):
    """With two raters per unit Fleiss' kappa is Scott's pi, which alpha approaches as n grows:
    alpha = 1 - (1 - pi) * (n - 1) / n for n pairable values (Krippendorff 2011)."""
    counts = np.zeros((len(raw), 4), dtype=np.int64)
    np.add.at(counts, (np.arange(len(raw)), raw[:, 0]), 1)
    np.add.at(counts, (np.arange(len(raw)), raw[:, 1]), 1)
    data = raw.T.astype(np.float64)
    if not defined(data):
        with pytest.raises(ValueError, match="undefined"):
            fleiss_kappa(counts)
        return
    pi = fleiss_kappa(counts)
    n = 2 * len(raw)
    assert krippendorff_alpha(data) == pytest.approx(1 - (1 - pi) * (n - 1) / n)


def test_bootstrap_is_seeded_contains_the_estimate_and_narrows_with_more_documents():
    rng = np.random.default_rng(1)
    def mean(sums):
        return sums[:, 0] / sums[:, 1]
    small = np.column_stack([rng.normal(size=25), np.ones(25)])
    large = np.column_stack([rng.normal(size=400), np.ones(400)])
    low, high = bootstrap_ci(small, mean, resamples=2000, seed=3)
    assert low < small[:, 0].mean() < high
    assert bootstrap_ci(small, mean, resamples=2000, seed=3) == (low, high)
    assert bootstrap_ci(small, mean, resamples=2000, seed=4) != (low, high)
    large_low, large_high = bootstrap_ci(large, mean, resamples=2000, seed=3)
    assert large_high - large_low < (high - low) / 2


def test_a_bootstrap_resample_of_additive_stats_is_alpha_of_the_resampled_documents():
    rng = np.random.default_rng(7)
    docs = [rng.integers(0, 3, size=(3, int(rng.integers(2, 8)))).astype(np.float64) for _ in range(12)]
    for d in docs:
        d[rng.random(d.shape) < 0.2] = nan
    per_doc = []
    for d in docs:
        unit, value = long_format(d)
        per_doc.append(nominal_stats(unit, value, np.zeros(len(unit), dtype=np.int64), 1, 3).toarray()[0])
    weights = resample_weights(len(docs), resamples=5, seed=2)
    for w in weights:
        resampled = np.concatenate([docs[i] for i, k in enumerate(w.astype(int)) for _ in range(k)], axis=1)
        if defined(resampled):
            expected = krippendorff.alpha(reliability_data=resampled, level_of_measurement="nominal")
            assert nominal_alpha(w @ np.array(per_doc))[0] == pytest.approx(expected)


@pytest.mark.parametrize(("data", "level", "message"), [
    (KRIPPENDORFF_2011, "cardinal", "level must be one of nominal, ordinal, interval, ratio; got 'cardinal'"),
    ([["a", "b"], ["a", "b"]], "nominal", "data must hold numbers, with NaN for a missing value"),
    ([1, 2, 3], "nominal", r"data must be 2-D, \(coders, units\); got shape \(3,\)"),
    ([[1, 2, 3]], "nominal", "at least two coders"),
    ([[1, np.inf], [1, 2]], "nominal", "data must be finite"),
    ([[1, -2], [1, 2]], "ratio", "ratio data must be non-negative"),
    ([[1, nan], [nan, 2]], "nominal", "no unit has values from two coders"),
    ([[1, 1, 2], [1, 1, nan]], "nominal", "every paired value is the same"),
])
def test_krippendorff_alpha_rejects_bad_input(data, level, message):
    with pytest.raises(ValueError, match=message):
        krippendorff_alpha(data, level)


@pytest.mark.parametrize(("a", "b", "message"), [
    (["x"], ["x", "y"], "both coders must label the same items; got 1 and 2 labels"),
    ([], [], "no items to compare"),
    (["x", None], ["x", "y"], "a label is None"),
    (["x", "x"], ["x", "x"], "kappa is undefined: both coders used one and the same label"),
])
def test_cohen_kappa_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        cohen_kappa(a, b)


@pytest.mark.parametrize(("counts", "message"), [
    ([1, 2], r"counts must be 2-D, \(units, categories\)"),
    (np.zeros((0, 3), dtype=int), "with at least one unit"),
    ([[1.5, 0.5]], "counts must be non-negative integers"),
    ([[-1, 3]], "counts must be non-negative integers"),
    ([[2, 1], [1, 1]], r"every unit must have the same number of raters, at least two; got \[2, 3\]"),
    ([[1, 0]], "at least two"),
    ([[3, 0], [3, 0]], "kappa is undefined: every rater chose the same category"),
])
def test_fleiss_kappa_rejects_bad_input(counts, message):
    with pytest.raises(ValueError, match=message):
        fleiss_kappa(counts)


def test_bootstrap_rejects_bad_settings():
    stats = np.ones((3, 2))
    with pytest.raises(ValueError, match="resamples must be at least 1; got 0"):
        bootstrap_ci(stats, lambda s: s[:, 0], resamples=0)
    with pytest.raises(ValueError, match="confidence must lie between 0 and 1; got 1.5"):
        bootstrap_ci(stats, lambda s: s[:, 0], confidence=1.5)
    with pytest.raises(ValueError, match="weights cover 2 documents but per_doc has 3"):
        bootstrap_ci(stats, lambda s: s[:, 0], weights=np.ones((4, 2)))
    with pytest.raises(ValueError, match="the bootstrap needs at least one document"):
        resample_weights(0)
