"""Agreement between annotators on statements: cluster metrics over the renderings both placed.

For each pair of annotators and each story they both linked, the first annotator's statements are the key
and the second's the response of ``exports.cluster_metrics`` (MUC, B-cubed, CEAF-m, CEAF-e,
BLANC, LEA, CoNLL F1), plus Cohen's kappa on the same-statement decision for every pair of renderings of one
speaker (the pairs a person decides when grouping; across speakers "different" is given). Pooled figures treat
each story as a document of ``score_documents``, as the evaluation of a linker does, so that a linker's scores and
the annotators' agreement compare. Intervals are percentile
bootstraps over stories; with a single story, over its (story, speaker) tasks, the unit an annotator links
in one Label Studio task, and the report says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from exports.cluster_metrics import ClusterScores, link_kappa, score_documents
from exports.statements.agreement_report import (
    ClusterFigure,
    PairClusterAgreement,
    StatementAgreementReport,
    StoryClusterAgreement,
)
from exports.statements.clusterings import Cluster, clusterings_by_story
from schemas import ToolkitError
from schemas.statements import StatementDocument

SCORED = ("muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea")


@dataclass(frozen=True)
class Unit:
    """Both sides' clusters of one (story, speaker) task: the statements of one speaker in one story."""

    key: tuple[Cluster, ...]
    response: tuple[Cluster, ...]
    document: str  # its story (renamed per bootstrap draw): the document of score_documents


def statement_agreement(documents: Sequence[StatementDocument], *, resamples: int = 1000, seed: int = 0,
                        confidence: float = 0.95, where: Sequence[str] | None = None) -> StatementAgreementReport:
    """Pairwise agreement of the annotators' statement documents (one per story and annotator)."""
    by_story = clusterings_by_story(documents, where)
    annotators = sorted({a for per in by_story.values() for a in per})
    if len(annotators) < 2:
        raise ToolkitError(f"statement agreement needs two annotators; the files hold {len(annotators)} "
                           f"({', '.join(annotators) or 'none'}); give every annotator's statements")
    rng = np.random.default_rng(seed)
    pairs, stories, unplaced = [], [], {}
    for a, b in combinations(annotators, 2):
        shared_stories = sorted((s for s, per in by_story.items() if a in per and b in per), key=str)
        if not shared_stories:
            continue
        story_units: list[list[Unit]] = []
        left_out: list[str] = []
        for story in shared_stories:
            ka, kb = by_story[story][a], by_story[story][b]
            shared = ka.keys & kb.keys
            left_out += sorted(ka.keys ^ kb.keys)
            units = _task_units(ka.restricted(shared), kb.restricted(shared), ka.speakers, str(story))
            story_units.append(units)
            stories.append(StoryClusterAgreement(story=story, annotators=(a, b), renderings=len(shared),
                                                 figures=_figures(units)))
        by_task = len(shared_stories) == 1
        resampled = [[u] for u in story_units[0]] if by_task else story_units
        everything = [u for units in story_units for u in units]
        figures = _figures(everything, _bootstrap(resampled, rng, resamples), confidence)
        pairs.append(PairClusterAgreement(
            annotators=(a, b), stories=len(shared_stories), renderings=sum(len(c) for u in everything for c in u.key),
            statements=(sum(len(u.key) for u in everything), sum(len(u.response) for u in everything)),
            bootstrap_unit="task" if by_task else "story", bootstrap_units=len(resampled), figures=figures))
        if left_out:
            unplaced[f"{a}|{b}"] = left_out
    if not pairs:
        raise ToolkitError("no story was linked by two annotators; agreement compares annotators on the same story")
    return StatementAgreementReport(annotators=annotators, pairs=pairs, stories=stories, resamples=resamples,
                                    confidence=confidence, unplaced=unplaced)


def _task_units(key: tuple[Cluster, ...], response: tuple[Cluster, ...], speakers: dict[str, str],
                story: str) -> list[Unit]:
    """Split one story's clusters by speaker: a statement has one speaker, so no cluster straddles two units."""
    units = []
    for speaker in sorted({speakers[k] for c in key for k in c}):
        mine = frozenset(k for k in speakers if speakers[k] == speaker)
        ku = tuple(c for c in key if c <= mine)
        ru = tuple(c & mine for c in response if c & mine)
        units.append(Unit(ku, ru, story))
    return units


def _scores(units: Sequence[Unit]) -> tuple[ClusterScores, float | None]:
    """Cluster scores with each story a document (as evaluation scores a linker, so the two compare), and kappa
    on the pairs within each task."""
    documents: dict[str, tuple[list[Cluster], list[Cluster]]] = {}
    for u in units:
        key, response = documents.setdefault(u.document, ([], []))
        key += u.key
        response += u.response
    scores = score_documents(documents.values())
    task_of = {k: n for n, u in enumerate(units) for c in u.key for k in c}
    try:
        kappa = link_kappa([c for u in units for c in u.key], [c for u in units for c in u.response], list(task_of),
                           group_of=task_of.__getitem__)
    except ValueError:  # no pair within a task, or every pair decided alike by both: kappa is undefined
        kappa = None
    return scores, kappa


def _values(units: Sequence[Unit], scored: tuple[ClusterScores, float | None] | None = None
            ) -> dict[str, float | None]:
    scores, kappa = scored or _scores(units)
    values: dict[str, float | None] = {m: getattr(scores, m).f1 for m in SCORED}
    values["conll"] = scores.conll
    values["link_kappa"] = kappa
    return values


def _bootstrap(groups: list[list[Unit]], rng: np.random.Generator, resamples: int) -> dict[str, list[float]]:
    """Each resample draws the groups (stories, or tasks) with replacement; a group drawn twice gets its keys
    renamed, so that its copies stay apart."""
    samples: dict[str, list[float]] = {m: [] for m in (*SCORED, "conll", "link_kappa")}
    if len(groups) < 2:
        return samples
    for _ in range(resamples):
        drawn = [_renamed(u, n) for n, i in enumerate(rng.integers(0, len(groups), len(groups))) for u in groups[i]]
        for metric, value in _values(drawn).items():
            if value is not None:
                samples[metric].append(value)
    return samples


def _renamed(unit: Unit, n: int) -> Unit:
    def rename(clusters: tuple[Cluster, ...]) -> tuple[Cluster, ...]:
        return tuple(frozenset(f"{n}#{k}" for k in c) for c in clusters)

    return Unit(rename(unit.key), rename(unit.response), f"{n}#{unit.document}")


def _figures(units: Sequence[Unit], samples: dict[str, list[float]] | None = None,
             confidence: float = 0.95) -> list[ClusterFigure]:
    scored = _scores(units)
    scores, values = scored[0], _values(units, scored)
    tail = (1 - confidence) / 2 * 100
    figures = []
    for metric, value in values.items():
        prf = getattr(scores, metric) if metric in SCORED else None
        low = high = None
        if samples and samples[metric]:
            low, high = (float(x) for x in np.percentile(samples[metric], [tail, 100 - tail]))
        figures.append(ClusterFigure(metric=metric, precision=prf.precision if prf else None,
                                     recall=prf.recall if prf else None, value=value, ci_low=low, ci_high=high))
    return figures
