"""Agreement coefficients: Krippendorff's alpha, Cohen's kappa, Fleiss' kappa; bootstrap intervals.

Public functions check their input first and raise ``ValueError`` saying what was expected.
Docstrings carry published worked examples.

Besides the one-call functions, nominal alpha and Fleiss' kappa are also offered as *additive
statistics* (``nominal_stats``, ``fleiss_stats``): sums over units, so per-document statistics add
up to the corpus's, and a bootstrap over documents is one matrix product (``bootstrap_ci``)
instead of thousands of recomputations. They are sparse in the values, because entity links
have as many categories as there are entities. Tests check them against ``krippendorff.alpha``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, spmatrix

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def krippendorff_alpha(data: Sequence[Sequence[float]] | np.ndarray, level: str = "nominal") -> float:
    """Krippendorff's alpha of ``data``, shape (coders, units), NaN where a coder gave no value.

    Wraps the ``krippendorff`` package. Krippendorff (2011), "Computing Krippendorff's
    Alpha-Reliability", reliability data with missing values (4 coders x 12 units):

    >>> nan = float("nan")
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> [round(krippendorff_alpha(data, level), 3) for level in LEVELS]
    [0.743, 0.815, 0.849, 0.797]
    """
    import krippendorff

    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    try:
        matrix = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("data must hold numbers, with NaN for a missing value; map labels to numeric codes") from None
    if matrix.ndim != 2:
        raise ValueError(f"data must be 2-D, (coders, units); got shape {matrix.shape}")
    if matrix.shape[0] < 2:
        raise ValueError(f"data must have at least two coders (rows); got {matrix.shape[0]}")
    if np.isinf(matrix).any():
        raise ValueError("data must be finite; use NaN, not infinity, for a missing value")
    if level == "ratio" and (matrix < 0).any():
        raise ValueError("ratio data must be non-negative")
    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    if pairable.size == 0:
        raise ValueError("no unit has values from two coders; alpha needs at least one such unit")
    if len(np.unique(pairable[~np.isnan(pairable)])) < 2:
        raise ValueError("every paired value is the same; alpha is undefined when only one value occurs")
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


def _unit_value_counts(unit: np.ndarray, value: np.ndarray, n_values: int) -> tuple[np.ndarray, ...]:
    """Distinct (unit, value) of the observations and how often each occurs."""
    key = np.asarray(unit, dtype=np.int64) * n_values + np.asarray(value, dtype=np.int64)
    if len(key) and key.max() < 4 * len(key) + 1024:  # dense enough for a counting pass instead of a sort
        counts = np.bincount(key)
        key = np.flatnonzero(counts)
        counts = counts[key]
    else:
        key, counts = np.unique(key, return_counts=True)
    return key // n_values, key % n_values, counts


def nominal_stats(unit: np.ndarray, value: np.ndarray, group: np.ndarray, n_groups: int, n_values: int) -> csr_matrix:
    """Additive statistics of nominal alpha per group of units, shape (n_groups, 2 * n_values).

    Observations are one value each: ``unit``, ``value`` (codes below ``n_values``) and ``group``
    (N,); a unit lies in one group. Columns are the diagonal of the coincidence matrix, ``o_vv``,
    then its marginals ``n_v``, over pairable units (two or more values): all nominal alpha needs.
    """
    unit = np.asarray(unit, dtype=np.int64)
    group_of_unit = np.zeros(int(unit.max(initial=-1)) + 1, dtype=np.int64)
    group_of_unit[unit] = group
    u, v, c = _unit_value_counts(unit, value, n_values)
    m = np.bincount(unit)[u]
    keep = m >= 2
    u, v, c, m = u[keep], v[keep], c[keep], m[keep]
    rows = np.concatenate([group_of_unit[u], group_of_unit[u]])
    cols = np.concatenate([v, v + n_values])
    data = np.concatenate([c * (c - 1) / (m - 1), c.astype(np.float64)])
    return csr_matrix((data, (rows, cols)), shape=(n_groups, 2 * n_values))


def nominal_stats_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """``nominal_stats`` of two coders from their confusion matrices (G, V, V) -> (G, 2V)."""
    diagonal = 2 * np.diagonal(confusion, axis1=-2, axis2=-1)
    return np.concatenate([diagonal, confusion.sum(axis=-1) + confusion.sum(axis=-2)], axis=-1).astype(np.float64)


def nominal_alpha(stats: np.ndarray) -> np.ndarray:
    """Nominal alpha from summed ``nominal_stats`` rows (R, 2V) -> (R,); NaN where undefined.

    alpha = 1 - (n - 1) (n - sum o_vv) / (n^2 - sum n_v^2), Krippendorff (2011) eq. for nominal data.
    """
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    half = stats.shape[-1] // 2
    agree, n_v = stats[:, :half].sum(axis=1), stats[:, half:]
    n = n_v.sum(axis=1)
    spread = n**2 - (n_v**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, 1 - (n - 1) * (n - agree) / spread, np.nan)


def one_vs_rest(stats: np.ndarray, value: int) -> np.ndarray:
    """``nominal_stats`` rows (R, 2V) collapsed to two values: ``value`` and all others (R, 4).

    The coincidence matrix is a sum over value pairs, so merging values merges its cells: the
    rest-rest diagonal cell is n - 2 n_value + o_value,value.
    """
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    half = stats.shape[-1] // 2
    o, n_v = stats[:, value], stats[:, half + value]
    n = stats[:, half:].sum(axis=1)
    return np.column_stack([o, n - 2 * n_v + o, n_v, n - n_v])


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two coders' labels for the same items.

    Wikipedia's example: 50 grant proposals, both say yes to 20 and no to 15, A alone yes to 5,
    B alone yes to 10.

    >>> a = ["yes"] * 20 + ["no"] * 15 + ["yes"] * 5 + ["no"] * 10
    >>> b = ["yes"] * 20 + ["no"] * 15 + ["no"] * 5 + ["yes"] * 10
    >>> round(cohen_kappa(a, b), 3)
    0.4
    """
    if len(a) != len(b):
        raise ValueError(f"both coders must label the same items; got {len(a)} and {len(b)} labels")
    if not len(a):
        raise ValueError("no items to compare; give each coder's label of at least one item")
    if any(x is None for x in (*a, *b)):
        raise ValueError("a label is None; drop the items a coder did not label")
    categories = {c: i for i, c in enumerate(dict.fromkeys((*a, *b)))}
    stats = cohen_stats(np.array([categories[x] for x in a]), np.array([categories[x] for x in b]),
                        np.zeros(len(a), dtype=np.int64), 1, len(categories))
    kappa = float(cohen_kappa_from_stats(stats.toarray())[0])
    if np.isnan(kappa):
        raise ValueError("kappa is undefined: both coders used one and the same label for every item")
    return kappa


def cohen_stats(a: np.ndarray, b: np.ndarray, group: np.ndarray, n_groups: int, n_values: int) -> csr_matrix:
    """Additive statistics of Cohen's kappa per group, shape (n_groups, 2 + 2 * n_values).

    ``a``, ``b`` (N,) are the two coders' value codes for each item, ``group`` (N,) the item's group.
    Columns: items, agreements, then coder a's and coder b's value totals.
    """
    group = np.asarray(group, dtype=np.int64)
    ones = np.ones(len(group))
    rows = np.concatenate([group, group, group, group])
    cols = np.concatenate([np.zeros(len(group), dtype=np.int64), np.ones(len(group), dtype=np.int64),
                           2 + np.asarray(a, dtype=np.int64), 2 + n_values + np.asarray(b, dtype=np.int64)])
    data = np.concatenate([ones, (np.asarray(a) == np.asarray(b)).astype(np.float64), ones, ones])
    return csr_matrix((data, (rows, cols)), shape=(n_groups, 2 + 2 * n_values))


def cohen_kappa_from_stats(stats: np.ndarray) -> np.ndarray:
    """Cohen's kappa from summed ``cohen_stats`` rows (R, 2 + 2V) -> (R,); NaN where undefined."""
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    half = (stats.shape[1] - 2) // 2
    n, agree, a, b = stats[:, 0], stats[:, 1], stats[:, 2 : 2 + half], stats[:, 2 + half :]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (a * b).sum(axis=1) / n**2
        return np.where((n > 0) & (expected < 1), (agree / n - expected) / (1 - expected), np.nan)


def fleiss_kappa(counts: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Fleiss' kappa of ``counts``, shape (units, categories): raters who chose each category.

    Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories.

    >>> table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    ...          [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> round(fleiss_kappa(table), 3)
    0.21
    """
    matrix = np.asarray(counts)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"counts must be 2-D, (units, categories), with at least one unit; got shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.integer) or (matrix < 0).any():
        raise ValueError("counts must be non-negative integers: how many raters chose each category")
    raters = matrix.sum(axis=1)
    if (raters != raters[0]).any() or raters[0] < 2:
        raise ValueError(
            f"every unit must have the same number of raters, at least two; got {sorted(set(raters.tolist()))}"
        )
    unit, value = np.nonzero(matrix)
    stats = fleiss_stats(np.repeat(unit, matrix[unit, value]), np.repeat(value, matrix[unit, value]),
                         np.zeros(len(matrix), dtype=np.int64), 1, matrix.shape[1])
    kappa = float(fleiss_kappa_from_stats(stats.toarray())[0])
    if np.isnan(kappa):
        raise ValueError("kappa is undefined: every rater chose the same category for every unit")
    return kappa


def fleiss_stats(unit: np.ndarray, value: np.ndarray, unit_group: np.ndarray, n_groups: int,
                 n_values: int) -> csr_matrix:
    """Additive statistics of Fleiss' kappa per group, shape (n_groups, 2 + n_values).

    Observations as in ``nominal_stats``; ``unit_group`` (units,) gives each unit's group. Columns:
    units, the sum of per-unit agreement P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)), then the
    category totals. With a constant number of raters this is exactly Fleiss (1971); units with
    different rater counts are combined by averaging P_i.
    """
    u, v, c = _unit_value_counts(unit, value, n_values)
    n_units = len(unit_group)
    raters = np.bincount(u, weights=c, minlength=n_units)
    squares = np.bincount(u, weights=c.astype(np.float64) ** 2, minlength=n_units)
    rated = raters >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        p_i = np.where(rated, (squares - raters) / (raters * (raters - 1)), 0.0)
    unit_group = np.asarray(unit_group, dtype=np.int64)
    per_unit = csr_matrix((np.concatenate([rated.astype(np.float64), p_i]),
                           (np.concatenate([unit_group, unit_group]), np.repeat([0, 1], n_units))),
                          shape=(n_groups, 2 + n_values))
    keep = rated[u]
    totals = csr_matrix((c[keep].astype(np.float64), (unit_group[u[keep]], 2 + v[keep])),
                        shape=(n_groups, 2 + n_values))
    return (per_unit + totals).tocsr()


def fleiss_kappa_from_stats(stats: np.ndarray) -> np.ndarray:
    """Fleiss' kappa from summed ``fleiss_stats`` rows (R, 2 + V) -> (R,); NaN where undefined."""
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    units, agreement, totals = stats[:, 0], stats[:, 1], stats[:, 2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_j = totals / totals.sum(axis=1, keepdims=True)
        expected = (p_j**2).sum(axis=1)
        observed = agreement / units
        return np.where((units > 0) & (expected < 1), (observed - expected) / (1 - expected), np.nan)


# --- bootstrap ---------------------------------------------------------------------------------------------


def resample_weights(n_docs: int, resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """How often each of ``n_docs`` documents is drawn in each resample, shape (resamples, n_docs)."""
    if n_docs < 1:
        raise ValueError("the bootstrap needs at least one document")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1; got {resamples}")
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_docs, np.full(n_docs, 1 / n_docs), size=resamples).astype(np.float64)


def bootstrap_ci(per_doc: np.ndarray | spmatrix, statistic: Callable[[np.ndarray], np.ndarray], *,
                 resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
                 weights: np.ndarray | None = None) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic`` over documents.

    ``per_doc`` (D, K) holds additive statistics per document (a corpus's figure is ``statistic``
    of their sum); ``statistic`` maps (R, K) sums to (R,) values. Resampling documents is then a
    weighted sum. ``weights`` (from ``resample_weights``) reuses one set of resamples across
    figures. None when no resample gives a defined value.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1; got {confidence}")
    if weights is None:
        weights = resample_weights(per_doc.shape[0], resamples, seed)
    if weights.shape[1] != per_doc.shape[0]:
        raise ValueError(f"weights cover {weights.shape[1]} documents but per_doc has {per_doc.shape[0]}")
    sums = (per_doc.T @ weights.T).T if isinstance(per_doc, spmatrix) else weights @ per_doc
    return percentile_interval(np.asarray(statistic(np.asarray(sums)), dtype=np.float64), confidence)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of the defined (finite) ``samples``; None when none is."""
    samples = samples[np.isfinite(samples)]
    if len(samples) == 0:
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)
