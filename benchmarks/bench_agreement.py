"""Agreement benchmark: the vectorised comparison core against a naive per-pair Python loop, and
token-role alpha against the ``krippendorff`` package on the same matrix.

Synthetic corpus: ``--articles`` articles of 450 words, each annotated by ``--annotators``
annotators with about 30 spans each (7 quotes with cue and speaker mention, 7 further mentions,
4 claims), every annotator dropping, stretching or relabelling some of a shared set of units.

Measured, on the same validated ``AnnotatedDocument``s:
1. pairwise span F1, exact and overlap, for every layer, every article and every annotator pair:
   ``exports.compare`` (extract units, align, tally) against a naive pure-Python loop (per pair,
   per layer: read both documents' units, nested loops for the overlaps, one
   ``linear_sum_assignment`` per pair and mode); both must give the same counts;
2. token-role alpha of the (annotators x tokens) role matrix: the ``krippendorff`` package,
   ``exports.metrics.krippendorff_alpha`` (validation + the package), and the additive statistics
   that ``compute_agreement`` uses (which make the bootstrap a matrix product);
3. the whole ``compute_agreement`` (every figure, per article and pair, 1,000 bootstrap resamples).

    .venv/bin/python benchmarks/bench_agreement.py [--articles 10000] [--annotators 3] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import string
import sys
import time
from itertools import combinations
from pathlib import Path

import krippendorff
import numpy as np
from scipy.optimize import linear_sum_assignment

from exports.agreement import compute_agreement, token_roles
from exports.compare import EXACT, OVERLAP, Layer, align, extract_layers, overlapping, tally
from exports.metrics import krippendorff_alpha, nominal_alpha, nominal_stats
from schemas import AnnotatedDocument, Article, Claim, Entity, Mention, Provenance, Quote, Span, Stance

ENTITIES = [f"person-{i}" for i in range(40)]
TARGETS = ["foreign-troops-in-ukraine", "security-guarantees-for-ukraine", "ukraine-in-nato"]
KINDS = ["direct", "indirect", "mixed"]


# --- synthetic corpus ----------------------------------------------------------------------------------------


def _article(n: int, rng: random.Random, words: int = 450) -> tuple[Article, list[tuple[int, int]]]:
    tokens, spans, position = [], [], 0
    for i in range(words):
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
        if i % 13 == 12:
            word += rng.choice([".", ",", ":"])
        tokens.append(word)
        spans.append((position, position + len(word)))
        position += len(word) + 1
    return Article.from_text(f"synthetic-{n:05d}", " ".join(tokens)), spans


def _shared_units(rng: random.Random) -> list[tuple]:
    """The units every annotator starts from, in word positions: 18 slots of 25 words."""
    slots = rng.sample(range(18), 18)
    units = []
    for slot in slots[:7]:  # quote: speaker (2 words), cue (1), content (6-18)
        base = slot * 25
        units.append(("quote", base, base + 2, base + 2, base + 3 + rng.randint(6, 18), rng.choice(KINDS),
                      rng.choice(ENTITIES), rng.choice([None, *TARGETS]), rng.choice(["favor", "against", "neutral"])))
    for slot in slots[7:14]:
        base = slot * 25 + rng.randint(0, 20)
        units.append(("mention", base, base + rng.randint(1, 3), rng.choice(ENTITIES)))
    for slot in slots[14:]:
        base = slot * 25 + rng.randint(0, 3)
        units.append(("claim", base, base + rng.randint(5, 20), rng.choice(["yes", "no"])))
    return units


def _annotate(article: Article, words: list[tuple[int, int]], shared: list[tuple], annotator: str,
              rng: random.Random) -> AnnotatedDocument:
    text = article.text

    def span(first: int, last: int) -> Span:  # words first..last-1, maybe one word longer or shorter
        if rng.random() < 0.1:
            first = max(0, first + rng.choice([-1, 1]))
        if rng.random() < 0.25:
            last += rng.choice([-1, 1])
        last = max(first + 1, last)
        return Span.of(text, words[first][0], words[min(last, len(words)) - 1][1])

    def vary(value, choices, p=0.15):
        return rng.choice(choices) if rng.random() < p else value

    mentions, quotes, stances, claims = [], [], [], []
    for n, unit in enumerate(shared):
        if rng.random() < 0.1:  # missed
            continue
        if unit[0] == "quote":
            _, s0, s1, c0, c1, kind, speaker, target, polarity = unit
            entity = vary(speaker, ENTITIES, 0.05)
            mentions.append(Mention(id=f"m{n}", span=span(s0, s1), entity_id=entity))
            quotes.append(Quote(id=f"q{n}", kind=vary(kind, KINDS), content=[span(c0 + 1, c1)],
                                cue=Span.of(text, words[c0][0], words[c0][1]), speaker_mention_id=f"m{n}"))
            target = vary(target, [None, *TARGETS])
            if target:
                stances.append(Stance(id=f"s{n}", holder_entity_id=entity, target_id=target,
                                      polarity=vary(polarity, ["favor", "against", "neutral"]), evidence=[f"q{n}"]))
        elif unit[0] == "mention":
            _, m0, m1, entity = unit
            mentions.append(Mention(id=f"m{n}", span=span(m0, m1), entity_id=vary(entity, ENTITIES, 0.05)))
        else:
            _, c0, c1, worthy = unit
            claims.append(Claim(id=f"c{n}", span=span(c0, c1), check_worthy=vary(worthy, ["yes", "no"])))
    if rng.random() < 0.3:  # a spurious claim
        start = rng.randrange(0, len(words) - 8)
        claims.append(Claim(id="c-extra", span=Span.of(text, words[start][0], words[start + 7][1]), check_worthy="no"))
    used = {m.entity_id for m in mentions} | {s.holder_entity_id for s in stances}
    return AnnotatedDocument(article=article, provenance=Provenance(annotator=annotator),
                             entities=[Entity(id=e, name=e.replace("-", " ").title()) for e in sorted(used)],
                             mentions=mentions, quotes=quotes, stances=stances, claims=claims)


def synthetic_corpus(articles: int, annotators: int, seed: int = 0) -> list[AnnotatedDocument]:
    rng = random.Random(seed)
    docs = []
    for n in range(articles):
        article, words = _article(n, rng)
        shared = _shared_units(rng)
        docs += [_annotate(article, words, shared, f"annotator-{a + 1}", rng) for a in range(annotators)]
    return docs


# --- the naive way -------------------------------------------------------------------------------------------


def _naive_units(doc: AnnotatedDocument, layer: Layer) -> list[tuple[list[tuple[int, int]], int, int]]:
    """(fragments, first start, last end) of each unit, straight from the document."""
    if layer is Layer.QUOTE:
        spans = [q.content for q in doc.quotes]
    elif layer is Layer.CUE:
        spans = [[q.cue] for q in doc.quotes if q.cue]
    elif layer is Layer.SPEAKER:
        speakers = {q.speaker_mention_id for q in doc.quotes}
        spans = [[m.span] for m in doc.mentions if m.id in speakers]
    elif layer is Layer.MENTION:
        spans = [[m.span] for m in doc.mentions]
    else:
        spans = [[c.span] for c in doc.claims]
    return [([(s.start, s.end) for s in fragments], fragments[0].start, fragments[-1].end) for fragments in spans]


def naive_span_counts(docs: list[AnnotatedDocument]) -> dict[tuple[str, str], tuple[int, int]]:
    """{(layer, exact|overlap): (matches, units on both sides)} over all pairs, one pair at a time."""
    by_article: dict[str, list[AnnotatedDocument]] = {}
    for doc in docs:
        by_article.setdefault(doc.article.id, []).append(doc)
    totals = {(layer.value, mode): [0, 0] for layer in Layer for mode in ("exact", "overlap")}
    for article_docs in by_article.values():
        article_docs.sort(key=lambda d: d.provenance.annotator)
        for a, b in combinations(article_docs, 2):
            for layer in Layer:
                left, right = _naive_units(a, layer), _naive_units(b, layer)
                sizes_l = [sum(e - s for s, e in f) for f, _, _ in left]
                sizes_r = [sum(e - s for s, e in f) for f, _, _ in right]
                candidates = {}
                for i, (fl, sl, el) in enumerate(left):
                    for j, (fr, sr, er) in enumerate(right):
                        overlap = sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in fl for s2, e2 in fr)
                        if overlap:
                            exact = overlap == sizes_l[i] == sizes_r[j]
                            candidates[i, j] = (overlap, exact, abs(sl - sr) + abs(el - er))
                for mode in ("exact", "overlap"):
                    chosen = {k: v for k, v in candidates.items() if mode == "overlap" or v[1]}
                    matches = 0
                    if chosen:
                        m = min(len(left), len(right))
                        far = max(d for _, _, d in chosen.values())
                        per_match = m * far + 1
                        weight = np.zeros((len(left), len(right)))
                        for (i, j), (overlap, _, distance) in chosen.items():
                            weight[i, j] = overlap * per_match * (m + 1) + per_match + far - distance
                        rows, cols = linear_sum_assignment(weight, maximize=True)
                        matches = sum(weight[i, j] > 0 for i, j in zip(rows, cols))
                    totals[layer.value, mode][0] += int(matches)
                    totals[layer.value, mode][1] += len(left) + len(right)
    return {k: (v[0], v[1]) for k, v in totals.items()}


def core_span_counts(docs: list[AnnotatedDocument]) -> dict[tuple[str, str], tuple[int, int]]:
    """The same counts through exports.compare, all pairs at once."""
    ordered = sorted(docs, key=lambda d: (d.article.id, d.provenance.annotator))
    ids = [d.article.id for d in ordered]
    starts = np.array([i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]], dtype=np.int64)
    ends = np.r_[starts[1:], len(ordered)]
    pairs = np.array([(i, j) for s, e in zip(starts, ends) for i, j in combinations(range(s, e), 2)])
    totals = {}
    for layer, units in extract_layers(ordered, attributes=False).items():
        candidates = overlapping(units, pairs)
        for scheme, mode in ((EXACT, "exact"), (OVERLAP, "overlap")):
            alignment = align(units, pairs, boundary=scheme.boundary, typed=False, candidates=candidates)
            score = tally(units, pairs, alignment, scheme).score()
            totals[layer.value, mode] = (int(score.credit), score.n_left + score.n_right)
    return totals


# --- measurement ---------------------------------------------------------------------------------------------


def timed(fn, *args, repeat: int = 1, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of the best of ``repeat`` runs, each after a full garbage
    collection (so none pays for the previous one's). On a shared machine wall time also counts the
    other processes' turns; this process's CPU time does not."""
    best, result = (float("inf"), float("inf")), None
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best[0], best[1], result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return (f"{len(os.sched_getaffinity(0))} cores (nproc), {kib / 2**20:.0f} GiB RAM, {cpu}; "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def run(articles: int, annotators: int, naive_articles: int) -> str:
    command = " ".join(["benchmarks/bench_agreement.py", *sys.argv[1:]])
    lines = [f"Command: `.venv/bin/python {command}`", f"Machine: {machine()}", ""]

    load_before = os.getloadavg()[0]
    build_s, _, docs = timed(synthetic_corpus, articles, annotators)
    spans = sum(len(d.mentions) + len(d.claims) + sum(len(q.content) + (q.cue is not None) for q in d.quotes)
                for d in docs)
    lines.append(f"Corpus: {articles:,} articles x {annotators} annotators = {len(docs):,} validated documents, "
                 f"{spans / len(docs):.1f} spans per document (building them: {build_s:.1f} s).")
    lines.append("")

    core_s, core_cpu, core = timed(core_span_counts, docs, repeat=3)
    naive_docs = docs if naive_articles >= articles else docs[: naive_articles * annotators]
    naive_s, naive_cpu, naive = timed(naive_span_counts, naive_docs, repeat=3)
    if naive_docs is docs:
        assert naive == core, "the naive loop and the core disagree"
        naive_note = ""
    else:
        assert naive == core_span_counts(naive_docs), "the naive loop and the core disagree"
        naive_s, naive_cpu = naive_s * len(docs) / len(naive_docs), naive_cpu * len(docs) / len(naive_docs)
        naive_note = f" (measured on {naive_articles:,} articles, scaled linearly)"
    lines.append("Times are the best of 3 runs. Load average (1 min) before: "
                 f"{load_before:.1f}, after: {os.getloadavg()[0]:.1f} (the machine is shared).")
    lines.append("")
    lines.append("| pairwise span F1, exact + overlap, 5 layers | wall | share | CPU | share |")
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    lines.append(f"| naive per-pair Python loop{naive_note} | {naive_s:.1f} s | 100% | {naive_cpu:.1f} s | 100% |")
    lines.append(f"| `exports.compare` (extract, align, tally) | {core_s:.1f} s | {core_s / naive_s:.0%} "
                 f"| {core_cpu:.1f} s | {core_cpu / naive_cpu:.0%} |")
    lines.append("")
    f1 = {k: 2 * m / n for k, (m, n) in core.items()}
    lines.append("The naive loop is the same one-to-one alignment written pair by pair (nested loops for the "
                 "overlaps, one `linear_sum_assignment` per pair, layer and mode); it gave the same counts. "
                 "F1 exact / overlap: " + ", ".join(
        f"{layer.value} {f1[layer.value, 'exact']:.3f} / {f1[layer.value, 'overlap']:.3f}" for layer in Layer) + ".")
    lines.append("")

    ordered = sorted(docs, key=lambda d: (d.provenance.annotator, d.article.id))
    roles = token_roles(ordered)
    matrix = roles.roles.reshape(annotators, -1).astype(np.float64)  # every annotator has every article
    package_s, _, expected = timed(krippendorff.alpha, reliability_data=matrix, level_of_measurement="nominal",
                                   repeat=3)
    wrapper_s, _, wrapped = timed(krippendorff_alpha, matrix, repeat=3)

    def additive(matrix: np.ndarray) -> float:
        coder, unit = np.nonzero(~np.isnan(matrix))
        stats = nominal_stats(unit, matrix[coder, unit].astype(np.int64), np.zeros(len(unit), dtype=np.int64), 1, 4)
        return float(nominal_alpha(stats.toarray())[0])

    additive_s, _, ours = timed(additive, matrix, repeat=3)
    assert abs(wrapped - expected) < 1e-9 and abs(ours - expected) < 1e-9, (expected, wrapped, ours)
    lines.append(f"| token-role alpha, {annotators} x {matrix.shape[1]:,} tokens (alpha {expected:.4f}) | time "
                 "| vs package |")
    lines.append("| --- | ---: | ---: |")
    lines.append(f"| `krippendorff.alpha` (package) | {package_s:.2f} s | 1.00x |")
    lines.append(f"| `exports.metrics.krippendorff_alpha` (validation + package) | {wrapper_s:.2f} s | "
                 f"{wrapper_s / package_s:.2f}x |")
    lines.append(f"| additive statistics (`nominal_stats` + `nominal_alpha`, as in the report) | {additive_s:.2f} s | "
                 f"{additive_s / package_s:.2f}x |")
    lines.append("")

    report_s, _, report = timed(compute_agreement, docs)
    figures = len(report.corpus) + sum(len(a.figures) for a in report.articles) + sum(len(p.figures)
                                                                                    for p in report.pairs)
    lines.append(f"Whole `compute_agreement` (every figure for the corpus, {len(report.articles):,} articles and "
                 f"{len(report.pairs)} annotator pairs = {figures:,} figures, 1,000 bootstrap resamples): "
                 f"{report_s:.1f} s.")
    return "\n".join(lines) + "\n"


def update_section(path: Path, title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of a Markdown file, leaving the others alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    head = f"## {title}\n"
    if head in lines:
        start = lines.index(head)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = [head, "\n", body, "\n"]
    else:
        lines += ["\n" if lines and lines[-1].strip() else "", head, "\n", body]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--naive-articles", type=int, default=10_000,
                        help="Run the naive loop on this many articles only and scale its time.")
    parser.add_argument("--update", type=Path, help="Write the figures into this file's '## Agreement' section.")
    args = parser.parse_args()
    body = run(args.articles, args.annotators, args.naive_articles)
    print(body)
    if args.update:
        update_section(args.update, "Agreement", body)


if __name__ == "__main__":
    main()
