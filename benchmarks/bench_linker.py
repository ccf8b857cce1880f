"""The baseline statement linker against gold statements: the seed gold and the PolNeAR dev clusters.

1. Seeds: `annotate.extract.statements.link_documents` over the seed gold quotes, scored against the adjudicated
   seed statements (`seeds/annotations/gold-statements.jsonl`) by `exports.statements.evaluate.evaluate_statements`
   (on gold quotes), beside the two statement passes' agreement (the human ceiling on these articles).
2. PolNeAR dev (`benchmarks/polnear_statements/`): the linker over all 84 dev articles at once (no story labels:
   PolNeAR has none), its clusters cut to the 390 quotes the dev set covers, scored with
   `exports.cluster_metrics.score_clusters`; plus precision and recall of cross-article links only (pairs of
   renderings in two articles), the links the layer is about.
3. A threshold sweep on both (model selection belongs on dev; the figures at the chosen threshold are then
   optimistic for dev itself).

    .venv/bin/python -m benchmarks.bench_linker [--polnear ../shared/corpora/polnear]
"""

from __future__ import annotations

import argparse
import platform
import time
from itertools import combinations
from pathlib import Path

from annotate.extract.statements import DEFAULT_THRESHOLD, link_documents
from benchmarks.polnear_statements.load import load_dev_clusters
from exports.cluster_metrics import ClusterScores, score_clusters
from exports.statements.agreement_report import read_statement_agreement
from exports.statements.evaluate import evaluate_statements
from schemas.documents import read_documents, read_statement_documents
from schemas.paths import REPO_ROOT, SEEDS_DIR

METRICS = ("muc", "b_cubed", "ceaf_m", "ceaf_e", "blanc", "lea")
THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def cross_article_links(key: list[frozenset[str]], response: list[frozenset[str]]) -> tuple[float, float, int, int]:
    """Precision and recall of the linked pairs whose renderings are in two articles; and both pair counts."""
    def pairs(clusters: list[frozenset[str]]) -> set[tuple[str, str]]:
        return {(a, b) for c in clusters for a, b in combinations(sorted(c), 2) if a.split("/")[0] != b.split("/")[0]}

    k, r = pairs(key), pairs(response)
    return (len(k & r) / len(r) if r else 0.0, len(k & r) / len(k) if k else 0.0, len(k), len(r))


def row(name: str, scores: ClusterScores, extra: str = "") -> str:
    cells = " | ".join(f"{getattr(scores, m).precision:.3f} / {getattr(scores, m).recall:.3f} / "
                       f"{getattr(scores, m).f1:.3f}" for m in METRICS)
    return f"| {name} | {cells} | {scores.conll:.3f} |{extra}"


def header(extra: str = "") -> str:
    names = " | ".join(f"{m} P / R / F1" for m in METRICS)
    return f"| | {names} | CoNLL |{extra}\n|---|{'---|' * (len(METRICS) + 1)}{'---|' if extra else ''}"


def seeds(threshold: float) -> ClusterScores:
    gold = read_documents([SEEDS_DIR / "annotations" / "gold.jsonl"])
    gold_statements = read_statement_documents([SEEDS_DIR / "annotations" / "gold-statements.jsonl"])
    predicted = link_documents(gold, threshold=threshold)
    return evaluate_statements(gold_statements, predicted, gold_documents=gold).scores


def polnear(documents, clusters: list[list[str]], threshold: float) -> tuple[ClusterScores, tuple]:
    covered = {k for c in clusters for k in c}
    predicted = link_documents(documents, use_stories=False, threshold=threshold)
    response = [frozenset(s.keys()) & covered for d in predicted for s in d.statements]
    response = [c for c in response if c]
    key = [frozenset(c) for c in clusters]
    return score_clusters(key, response), cross_article_links(key, response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--polnear", type=Path, default=REPO_ROOT.parent / "shared" / "corpora" / "polnear")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"default threshold {DEFAULT_THRESHOLD}\n")

    ceiling = read_statement_agreement(SEEDS_DIR / "annotations" / "statement-agreement.json")
    started = time.perf_counter()
    print("### Seeds: 4 articles, 50 gold quotes, 30 gold statements (on gold quotes)\n")
    print(header())
    print(row(f"baseline linker (threshold {DEFAULT_THRESHOLD})", seeds(DEFAULT_THRESHOLD)))
    conll = ceiling.figure("conll").value
    print(f"\nHuman ceiling on these articles (the two statement passes): CoNLL F1 {conll:.3f} "
          f"({time.perf_counter() - started:.1f} s)\n")

    started = time.perf_counter()
    documents, clusters = load_dev_clusters(args.polnear)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    scores, (p, r, nk, nr) = polnear(documents, clusters, DEFAULT_THRESHOLD)
    linked = time.perf_counter() - started
    extra = " cross-article links P / R (gold, predicted pairs) |"
    print(f"### PolNeAR dev: 84 articles, {sum(map(len, clusters))} covered quotes, {len(clusters)} gold clusters "
          f"(no story labels)\n")
    print(header(extra))
    print(row(f"baseline linker (threshold {DEFAULT_THRESHOLD})", scores, f" {p:.3f} / {r:.3f} ({nk}, {nr}) |"))
    print(f"\nload {loaded:.1f} s, link and score {linked:.1f} s\n")

    print("### Threshold sweep (CoNLL F1; cross-article link P / R on PolNeAR dev)\n")
    print("| threshold | seeds CoNLL | PolNeAR dev CoNLL | PolNeAR cross-article P / R |\n|---|---|---|---|")
    for t in THRESHOLDS:
        dev, (p, r, _, _) = polnear(documents, clusters, t)
        print(f"| {t} | {seeds(t).conll:.3f} | {dev.conll:.3f} | {p:.3f} / {r:.3f} |")


if __name__ == "__main__":
    main()
