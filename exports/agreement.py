"""Inter-annotator agreement of annotated documents: for the corpus, each article and each annotator pair.

- Span layers (``exports.compare.Layer``): pairwise F1 with exact and with overlapping spans
  (one-to-one alignment), over all labels and per label.
- Token roles (``schemas.Role``): Krippendorff's alpha over ``TOKEN_PATTERN`` tokens, each token
  taking the role of the spans that touch it (``ROLE_PRIORITY`` decides when several do), as
  PolNeAR reports it; per role, alpha of that role against all others.
- Attributes of aligned units (quote kind, stance target and polarity, speaker, check-worthiness,
  entity link): Krippendorff's alpha (nominal) over groups of units aligned across annotators,
  Cohen's kappa per annotator pair, Fleiss' kappa over groups that all of an article's three or
  more annotators marked.
- Attribution agreement: the share of aligned quotes whose speaker entities agree (entity ids are
  slugs of canonical names, so they compare across annotators; "no speaker" is a value).

Corpus figures get percentile bootstrap intervals over articles. Every figure is computed from
additive statistics per article or per document pair (``exports.metrics``), so the corpus, each
article, each annotator pair and each bootstrap resample are sums of the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, spmatrix
from scipy.sparse.csgraph import connected_components

from exports.agreement_report import (
    AgreementReport,
    ArticleAgreement,
    BootstrapSettings,
    ExcludedDocument,
    Figure,
    PairAgreement,
)
from exports.compare import (
    EXACT,
    LAYER_ATTRIBUTES,
    OVERLAP,
    STRICT,
    TOKEN_PATTERN,
    TYPE,
    Alignment,
    Boundary,
    Layer,
    Scheme,
    Tokens,
    Units,
    align,
    concat_ranges,
    extract_layers,
    overlapping,
    tally,
)
from exports.corpus import Corpus
from exports.metrics import (
    bootstrap_ci,
    cohen_kappa,
    cohen_kappa_from_stats,
    cohen_stats,
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
from schemas import AnnotatedDocument, Role

__all__ = ["AgreementReport", "TokenRoles", "cohen_kappa", "compute_agreement", "fleiss_kappa", "krippendorff_alpha",
           "token_roles"]

ROLES = tuple(Role)  # role codes are positions in this tuple
ROLE_PRIORITY = (Role.CONTENT, Role.CUE, Role.SOURCE)  # a token in several roles takes the last
ROLE_LAYERS = {Role.CONTENT: Layer.QUOTE, Role.CUE: Layer.CUE, Role.SOURCE: Layer.SPEAKER}

Stats = np.ndarray | spmatrix


@dataclass(frozen=True)
class _Source:
    """One figure at every level: additive statistics per article and per annotator pair."""

    metric: str
    layer: str
    value: Callable[[np.ndarray], np.ndarray]  # (R, K) summed statistics -> (R,) figures
    support: Callable[[np.ndarray], np.ndarray]  # (R, K) -> (R,) what the figure rests on
    by_article: Stats | None  # (A, K)
    by_pair: Stats | None  # (annotator pairs, K)
    label: str | None = None
    attribute: str | None = None
    per_article: bool = True  # per-label figures are kept to the corpus and the pairs


def _sum_rows(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(N, K) rows summed per group -> (n_groups, K)."""
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, group, values)
    return out


def _f1(stats: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * stats[:, 0] / (stats[:, 1] + stats[:, 2])


def _ratio(stats: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return stats[:, 0] / stats[:, 1]


def _alpha_support(stats: np.ndarray) -> np.ndarray:
    return stats[:, stats.shape[1] // 2 :].sum(axis=1)


def _dense(rows: Stats) -> np.ndarray:
    return rows.toarray() if isinstance(rows, spmatrix) else np.asarray(rows)


def _evaluate(fn: Callable[[np.ndarray], np.ndarray], stats: Stats, chunk: int = 1024) -> np.ndarray:
    """``fn`` row by row over (R, K) statistics, densifying at most ``chunk`` sparse rows at once."""
    return np.concatenate([fn(_dense(stats[i : i + chunk])) for i in range(0, stats.shape[0], chunk)] or [[]])


def _span_sources(corpus: Corpus, units: Units, alignments: dict[Scheme, Alignment]) -> list[_Source]:
    """Pairwise F1, exact and overlap, over all labels and (typed) per label."""
    n_articles, n_names = len(corpus.article_ids), len(corpus.pair_names)
    sources = []
    for scheme, alignment in alignments.items():
        metric = "f1_exact" if scheme.boundary is Boundary.EXACT else "f1_overlap"
        t = tally(units, corpus.pairs, alignment, scheme)
        for col, label in enumerate(t.labels):
            per_pair = np.column_stack([t.credit[:, col], t.n_left[:, col], t.n_right[:, col]])
            sources.append(_Source(
                metric, units.layer.value, _f1, lambda s: s[:, 1] + s[:, 2],
                _sum_rows(per_pair, corpus.pair_article, n_articles), _sum_rows(per_pair, corpus.pair_name, n_names),
                label=label if scheme.typed else None, per_article=not scheme.typed,
            ))
    return sources


def _clusters(units: Units, alignment: Alignment) -> np.ndarray:
    """(U,) group of each unit: units joined by pairwise alignments, across all annotators."""
    n = len(units)
    graph = coo_matrix((np.ones(len(alignment.left)), (alignment.left, alignment.right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _attribute_sources(corpus: Corpus, units: Units, alignment: Alignment) -> list[_Source]:
    """Alpha, Cohen's and Fleiss' kappa of each attribute of aligned units; attribution agreement."""
    n_articles, n_names = len(corpus.article_ids), len(corpus.pair_names)
    layer = units.layer.value
    cluster = _clusters(units, alignment)
    # A cluster where one annotator has two units is ambiguous for that annotator: leave them out.
    slot = cluster * units.n_docs + units.doc
    _, slot_of, slot_count = np.unique(slot, return_inverse=True, return_counts=True)
    unique_in_cluster = slot_count[slot_of] == 1
    cluster_article = np.zeros(len(units), dtype=np.int64)
    cluster_article[cluster] = corpus.doc_article[units.doc]
    article_docs = np.bincount(corpus.doc_article, minlength=n_articles)
    pair_name = corpus.pair_name[alignment.pair]

    sources = []
    for name in LAYER_ATTRIBUTES[units.layer]:
        values = units.attributes[name]
        domain = {v: i for i, v in enumerate(sorted({v for v in values if v is not None}))}
        n_values = max(len(domain), 1)
        code = np.array([domain.get(v, -1) for v in values], dtype=np.int64)  # -1: no value

        ok = (code >= 0) & unique_in_cluster
        by_article = nominal_stats(cluster[ok], code[ok], cluster_article[cluster[ok]], n_articles, n_values)
        left, right = code[alignment.left], code[alignment.right]
        both = (left >= 0) & (right >= 0)
        edge = np.flatnonzero(both)
        by_pair = nominal_stats(np.concatenate([edge, edge]), np.concatenate([left[both], right[both]]),
                                np.concatenate([pair_name[both], pair_name[both]]), n_names, n_values)
        sources.append(_Source("alpha", layer, nominal_alpha, _alpha_support, by_article, by_pair, attribute=name))
        sources.append(_Source("cohen_kappa", layer, cohen_kappa_from_stats, lambda s: s[:, 0], None,
                               cohen_stats(left[both], right[both], pair_name[both], n_names, n_values),
                               attribute=name))
        # Fleiss: clusters that every annotator of an article with three or more marked, with a value.
        observed = np.bincount(cluster[ok], minlength=len(units))
        complete = (observed == article_docs[cluster_article]) & (article_docs[cluster_article] >= 3)
        chosen = ok & complete[cluster]
        if complete.any():
            sources.append(_Source(
                "fleiss_kappa", layer, fleiss_kappa_from_stats, lambda s: s[:, 0],
                fleiss_stats(cluster[chosen], code[chosen], cluster_article, n_articles, n_values),
                None, attribute=name,
            ))
        if name == "speaker":  # never None: "no speaker" is a value, and two of them agree
            per_pair = np.column_stack([left == right, np.ones(len(left))]).astype(np.float64)
            sources.append(_Source(
                "attribution_agreement", layer, _ratio, lambda s: s[:, 1],
                _sum_rows(per_pair, corpus.pair_article[alignment.pair], n_articles),
                _sum_rows(per_pair, pair_name, n_names),
            ))
    return sources


@dataclass(frozen=True)
class TokenRoles:
    """The role code (position in ``ROLES``) of every token of every document, documents one after another."""

    roles: np.ndarray  # (sum of the documents' token counts,)
    doc_offsets: np.ndarray  # (D + 1,) document d's tokens are roles[doc_offsets[d]:doc_offsets[d + 1]]
    tokens: Tokens

    def of_document(self, d: int) -> np.ndarray:
        return self.roles[self.doc_offsets[d] : self.doc_offsets[d + 1]]


def token_roles(docs: Sequence[AnnotatedDocument], units: dict[Layer, Units] | None = None) -> TokenRoles:
    """Token roles of each document: a token takes the role of the spans that touch it, by ``ROLE_PRIORITY``."""
    units = units or extract_layers(docs, ROLE_LAYERS.values())
    tokens = Tokens.of(docs)
    first_token = tokens.token_offsets[tokens.doc_article]
    counts = tokens.token_offsets[tokens.doc_article + 1] - first_token
    doc_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    roles = np.zeros(int(doc_offsets[-1]), dtype=np.int64)
    for role in ROLE_PRIORITY:
        in_tokens = units[ROLE_LAYERS[role]].in_tokens(tokens)
        doc = in_tokens.doc[in_tokens.seg_unit]
        shift = doc_offsets[doc] - first_token[doc]
        # +1 at each segment's first token, -1 after its last: a running sum > 0 marks covered tokens.
        edges = (np.bincount(in_tokens.seg_start + shift, minlength=len(roles) + 1)
                 - np.bincount(in_tokens.seg_end + shift, minlength=len(roles) + 1))
        roles[np.cumsum(edges)[:-1] > 0] = ROLES.index(role)
    return TokenRoles(roles, doc_offsets, tokens)


def _token_sources(corpus: Corpus, units: dict[Layer, Units]) -> list[_Source]:
    """Token-role alpha (PolNeAR's measure), over all roles and each role against the rest."""
    n_articles, n_names, n_roles = len(corpus.article_ids), len(corpus.pair_names), len(ROLES)
    roles = token_roles(corpus.docs, units)
    counts = np.diff(roles.doc_offsets)
    unit = concat_ranges(roles.tokens.token_offsets[roles.tokens.doc_article], counts)
    by_article = nominal_stats(unit, roles.roles, np.repeat(corpus.doc_article, counts), n_articles, n_roles)
    left, right = corpus.pairs[:, 0], corpus.pairs[:, 1]
    length = counts[left]
    pair_of = np.repeat(corpus.pair_name, length)
    cell = (roles.roles[concat_ranges(roles.doc_offsets[left], length)] * n_roles
            + roles.roles[concat_ranges(roles.doc_offsets[right], length)])
    confusion = np.bincount(pair_of * n_roles**2 + cell, minlength=n_names * n_roles**2).reshape(-1, n_roles, n_roles)
    by_pair = nominal_stats_from_confusion(confusion)
    sources = [_Source("token_alpha", "token", nominal_alpha, _alpha_support, by_article, by_pair)]
    for code, role in enumerate(ROLES):
        sources.append(_Source(
            "token_alpha", "token", lambda s, code=code: nominal_alpha(one_vs_rest(s, code)), _alpha_support,
            by_article, by_pair, label=role.value, per_article=False,
        ))
    return sources


def _figure(source: _Source, value: float, support: float, ci: tuple[float, float] | None = None) -> Figure:
    return Figure(metric=source.metric, layer=source.layer, label=source.label, attribute=source.attribute,
                  value=None if not np.isfinite(value) else float(value), n=int(support + 0.5),
                  ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None)


def compute_agreement(docs: Sequence[AnnotatedDocument], *, resamples: int = 1000, seed: int = 0,
                      confidence: float = 0.95) -> AgreementReport:
    """Agreement among the annotators of ``docs`` (any order; several annotators per article)."""
    corpus = Corpus.of(docs)  # gold and predictions are not annotators: comparing them would mix in evaluation
    units = extract_layers(corpus.docs)
    span_sources: list[_Source] = []
    attribute_sources: list[_Source] = []
    for layer, layer_units in units.items():
        candidates = overlapping(layer_units, corpus.pairs)
        schemes = [EXACT, OVERLAP] + ([STRICT, TYPE] if len(layer_units.labels) > 1 else [])
        alignments = {s: align(layer_units, corpus.pairs, boundary=s.boundary, typed=s.typed, candidates=candidates)
                      for s in schemes}
        span_sources += _span_sources(corpus, layer_units, alignments)
        if LAYER_ATTRIBUTES[layer]:
            attribute_sources += _attribute_sources(corpus, layer_units, alignments[OVERLAP])
    sources = span_sources + _token_sources(corpus, units) + attribute_sources

    compared = corpus.compared
    weights = resample_weights(len(compared), resamples, seed) if len(compared) else None
    corpus_figures = []
    article_figures: list[list[Figure]] = [[] for _ in compared]
    pair_figures: list[list[Figure]] = [[] for _ in corpus.pair_names]
    for source in sources:
        if source.by_article is not None:
            rows = source.by_article[compared]
            total = np.asarray(rows.sum(axis=0)).reshape(1, -1)
            ci = bootstrap_ci(rows, source.value, weights=weights, confidence=confidence) if len(compared) else None
            corpus_figures.append(_figure(source, source.value(total)[0], source.support(total)[0], ci))
            if source.per_article:
                values, supports = _evaluate(source.value, rows), _evaluate(source.support, rows)
                for figures, value, support in zip(article_figures, values, supports):
                    if support > 0:
                        figures.append(_figure(source, value, support))
        if source.by_pair is not None:
            values, supports = _evaluate(source.value, source.by_pair), _evaluate(source.support, source.by_pair)
            for figures, value, support in zip(pair_figures, values, supports):
                if support > 0:
                    figures.append(_figure(source, value, support))

    pair_articles = Counter(corpus.pair_name.tolist())
    return AgreementReport(
        tokeniser=TOKEN_PATTERN.pattern,
        role_priority=[r.value for r in ROLE_PRIORITY],
        bootstrap=BootstrapSettings(resamples=resamples, seed=seed, confidence=confidence),
        documents=len(corpus.docs),
        annotators=sorted({d.provenance.annotator for d in corpus.docs}),
        articles_compared=len(compared),
        single_annotator_articles=corpus.single,
        excluded=[ExcludedDocument(article_id=e.article_id, annotator=e.annotator, reason=e.reason)
                  for e in corpus.excluded],
        corpus=corpus_figures,
        articles=[ArticleAgreement(article_id=corpus.article_ids[a], annotators=corpus.annotators(a), figures=f)
                  for a, f in zip(compared.tolist(), article_figures)],
        pairs=[PairAgreement(annotators=names, articles=pair_articles[i], figures=f)
               for i, (names, f) in enumerate(zip(corpus.pair_names, pair_figures))],
    )
