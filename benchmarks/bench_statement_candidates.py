"""Statement candidates at archive scale: MinHash LSH (plus the rare-word pass) over every quote at once,
against exhaustive pairwise comparison on a sample.

Synthetic archive (fixed seed): a Zipf-distributed vocabulary; speakers whose sizes follow a Zipf law (the
largest holds ~10 % of the quotes: ~95,000 of 1,000,000); per speaker, statements of 8-40 words (a quarter of
the words from the speaker's own topic words, so one speaker's quotes resemble each other) rendered 1-25
times: the first rendering verbatim, the others verbatim copies, contiguous excerpts of 2-10 words, or
variants with words substituted (15 %) and dropped (10 %). The renderings of one statement form a group;
true pairs are pairs of one group.

    .venv/bin/python benchmarks/bench_statement_candidates.py                  # 1,000,000 quotes
    .venv/bin/python benchmarks/bench_statement_candidates.py --quotes 20000   # a quick run
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from annotate.extract.statements import (
    DEFAULT_SETTINGS,
    DEFAULT_THRESHOLD,
    Block,
    BlockCandidates,
    block_candidates,
    blocks_of,
)
from annotate.extract.statements.candidates import FoundBy, given_pairs
from schemas.labels import QuoteKind
from schemas.quote_mentions import QuoteMention

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@dataclass(frozen=True)
class SyntheticArchive:
    mentions: list[QuoteMention]
    group: np.ndarray  # group id per mention: the renderings of one statement share one
    kind: list[str]  # "verbatim" | "excerpt" | "variant", per mention


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        lengths = rng.integers(3, 11, size=size)
        letters = _LETTERS[rng.integers(0, 26, size=int(lengths.sum()))]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        joined = "".join(letters.tolist())
        words.update(joined[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    return rng.permutation(sorted(words)[:size]).tolist()  # frequency rank apart from spelling


def _speaker_sizes(quotes: int, speakers: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, speakers + 1)
    sizes = np.maximum(1, np.floor(quotes * weights / weights.sum())).astype(np.int64)
    sizes[0] += quotes - sizes.sum()  # the remainder to the largest speaker
    return sizes


def synthetic_archive(quotes: int, *, seed: int = 11, vocabulary: int = 50_000,
                      quotes_per_speaker: int = 50) -> SyntheticArchive:
    """``quotes`` synthetic quotes of ``quotes // quotes_per_speaker`` speakers, with their true groups."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, vocabulary)
    zipf = 1.0 / np.arange(1, vocabulary + 1) ** 1.05
    zipf_cdf = np.cumsum(zipf / zipf.sum())
    sizes = _speaker_sizes(quotes, max(1, quotes // quotes_per_speaker))
    mentions: list[QuoteMention] = []
    group: list[int] = []
    kinds: list[str] = []
    g = 0

    def zipf_words(k: int) -> np.ndarray:
        return np.minimum(np.searchsorted(zipf_cdf, rng.random(k)), vocabulary - 1)

    for s, size in enumerate(sizes.tolist()):
        speaker = f"speaker-{s}"
        topic = zipf_words(40) + 100  # mid-frequency words this speaker keeps using
        topic = np.minimum(topic, vocabulary - 1)
        left = size
        while left > 0:
            renderings = min(left, int(rng.geometric(0.3)), 25)
            length = int(rng.integers(8, 41))
            own = rng.random(length) < 0.25
            statement = np.where(own, topic[rng.integers(0, len(topic), length)], zipf_words(length))
            for r in range(renderings):
                kind = "verbatim" if r == 0 else str(rng.choice(["verbatim", "excerpt", "variant"], p=[.3, .4, .3]))
                if kind == "excerpt":
                    k = int(rng.integers(2, min(10, length - 1) + 1))
                    start = int(rng.integers(0, length - k + 1))
                    ids = statement[start:start + k]
                elif kind == "variant":
                    ids = np.where(rng.random(length) < 0.15, zipf_words(length), statement)
                    ids = ids[rng.random(length) >= 0.10]
                    if len(ids) < 2:
                        ids = statement
                else:
                    ids = statement
                text = " ".join(vocab[i] for i in ids.tolist()) + "."
                n = len(mentions)
                mentions.append(QuoteMention(
                    article_id=f"a{n // 5:07d}", quote_id=f"q{n % 5 + 1}", story=None, outlet=None, speaker=speaker,
                    kind=QuoteKind.DIRECT, text=text, start=0, end=len(text)))
                group.append(g)
                kinds.append(kind)
            left -= renderings
            g += 1
    return SyntheticArchive(mentions=mentions, group=np.asarray(group, dtype=np.int64), kind=kinds)


# --- measuring -------------------------------------------------------------------------------------------------


def maxrss_mib() -> float:
    """Peak resident set size of this process so far (``getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Tally:
    """What one method found over a set of blocks."""

    seconds: float = 0.0
    quotes: int = 0
    all_pairs: int = 0  # pairs inside the blocks: what exhaustive comparison scores
    candidates: int = 0
    by_pass: dict[str, int] = field(default_factory=dict)
    true_candidates: int = 0
    links: int = 0  # candidates that pass (score >= threshold, a shared rare word)
    true_links: int = 0
    true_pairs: int = 0  # pairs of one group
    linkable_true_pairs: int = 0  # true pairs that would pass if they were candidates
    edges: list[np.ndarray] = field(default_factory=list)  # passing pairs, global indices, shape (k, 2)
    sweep: dict[float, list[np.ndarray]] = field(default_factory=dict)  # the same at other thresholds

    def add(self, other: Tally) -> None:
        for name in ("seconds", "quotes", "all_pairs", "candidates", "true_candidates", "links", "true_links",
                     "true_pairs", "linkable_true_pairs"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.by_pass.items():
            self.by_pass[k] = self.by_pass.get(k, 0) + v
        self.edges.extend(other.edges)
        for k, v in other.sweep.items():
            self.sweep.setdefault(k, []).extend(v)


def _true_pairs(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(groups.tolist()):
        by_group.setdefault(g, []).append(i)
    pairs = [p for members in by_group.values() for p in combinations(members, 2)]
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


SWEEP = (0.65, 0.7, 0.8, 0.85)


def tally_block(block: Block, index: np.ndarray, group: np.ndarray, method: str, threshold: float) -> Tally:
    """Candidates of one block by ``method``, timed, against the block's true groups."""
    start = time.perf_counter()
    words = [m.words for m in block.mentions]
    # Exhaustive: every pair is a candidate; those below the threshold are dropped as they are scored, to
    # bound memory (the scoring is the same).
    exhaustive = method == "exhaustive"
    found = block_candidates(words, method=method, settings=DEFAULT_SETTINGS,  # type: ignore[arg-type]
                             min_score=threshold if exhaustive else 0.0)
    passing = found.passing(threshold)
    seconds = time.perf_counter() - start
    g = group[index]
    tl, tr = _true_pairs(g)
    linkable = given_pairs(words, tl, tr, settings=DEFAULT_SETTINGS).passing(threshold)
    n = len(block.mentions)
    all_pairs = n * (n - 1) // 2
    return Tally(
        seconds=seconds, quotes=n, all_pairs=all_pairs, candidates=all_pairs if exhaustive else len(found),
        by_pass={FoundBy(k).label: int(v) for k, v in zip(*np.unique(found.found_by, return_counts=True), strict=True)},
        true_candidates=len(tl) if exhaustive else int((g[found.left] == g[found.right]).sum()), links=len(passing),
        true_links=int((g[passing.left] == g[passing.right]).sum()), true_pairs=len(tl),
        linkable_true_pairs=len(linkable), edges=[np.stack([index[passing.left], index[passing.right]], axis=1)],
        sweep={} if exhaustive else {t: [_edges(found.passing(t), index)] for t in SWEEP})


def _edges(found: BlockCandidates, index: np.ndarray) -> np.ndarray:
    return np.stack([index[found.left], index[found.right]], axis=1)


def cluster_scores(parts: list[np.ndarray], quotes: np.ndarray, group: np.ndarray) -> tuple[float, float, int]:
    """Pairwise precision and recall of the connected components of the passing pairs over ``quotes``."""
    edges = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    local = np.full(len(group), -1, dtype=np.int64)
    local[quotes] = np.arange(len(quotes))
    n = len(quotes)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (local[edges[:, 0]], local[edges[:, 1]])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)

    def pairs(counts: np.ndarray) -> int:
        return int((counts * (counts - 1) // 2).sum())

    both = np.unique(labels * (int(group.max()) + 1) + group[quotes], return_counts=True)[1]
    same_cluster = pairs(np.unique(labels, return_counts=True)[1])
    same_group = pairs(np.unique(group[quotes], return_counts=True)[1])
    tp = pairs(both)
    return tp / max(same_cluster, 1), tp / max(same_group, 1), int(np.bincount(labels).max())


def _sample(blocks: list[Block], quotes: int, largest: int, seed: int) -> list[Block]:
    """The largest block of at most ``largest`` quotes, then blocks in random order while within ``quotes``."""
    fitting = [b for b in blocks if len(b.mentions) <= largest]
    if not fitting:
        return []
    first = max(fitting, key=lambda b: len(b.mentions))
    chosen, total = [first], len(first.mentions)
    rng = np.random.default_rng(seed)
    for k in rng.permutation(len(fitting)).tolist():
        b = fitting[k]
        if b is not first and total + len(b.mentions) <= quotes:
            chosen.append(b)
            total += len(b.mentions)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=1_000_000, help="quotes in the synthetic archive")
    parser.add_argument("--sample", type=int, default=20_000, help="quotes compared exhaustively")
    parser.add_argument("--sample-largest", type=int, default=5_000, help="largest speaker in the sample")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    archive = synthetic_archive(args.quotes, seed=args.seed)
    generated = time.perf_counter() - t0
    rss_generated = maxrss_mib()
    index_of = {m.key: i for i, m in enumerate(archive.mentions)}
    t0 = time.perf_counter()
    blocks = blocks_of(archive.mentions, use_stories=False)
    indices = [np.array([index_of[m.key] for m in b.mentions], dtype=np.int64) for b in blocks]
    blocking = time.perf_counter() - t0
    sizes = sorted((len(b.mentions) for b in blocks), reverse=True)
    print(f"{len(archive.mentions):,} quotes, {len(blocks):,} speakers (largest {sizes[0]:,}, median "
          f"{sizes[len(sizes) // 2]:,}), {int(np.unique(archive.group).size):,} statements; generated in "
          f"{generated:.0f} s, blocked in {blocking:.1f} s; maxrss {rss_generated:,.0f} MiB")

    per_block: dict[str, Tally] = {}
    lsh = Tally()
    for block, index in zip(blocks, indices, strict=True):
        per_block[block.speaker] = t = tally_block(block, index, archive.group, "lsh", args.threshold)
        lsh.add(t)
    rss_lsh = maxrss_mib()
    t0 = time.perf_counter()
    everyone = np.arange(len(archive.mentions))
    lsh_p, lsh_r, lsh_big = cluster_scores(lsh.edges, everyone, archive.group)
    components = time.perf_counter() - t0

    sample = _sample(blocks, args.sample, args.sample_largest, args.seed)
    sample_quotes = np.concatenate([indices[blocks.index(b)] for b in sample])
    lsh_sample = Tally()
    exhaustive = Tally()
    for block in sample:
        lsh_sample.add(per_block[block.speaker])
        exhaustive.add(tally_block(block, indices[blocks.index(block)], archive.group, "exhaustive", args.threshold))
    ls_p, ls_r, _ = cluster_scores(lsh_sample.edges, sample_quotes, archive.group)
    ex_p, ex_r, _ = cluster_scores(exhaustive.edges, sample_quotes, archive.group)
    per_pair = exhaustive.seconds / max(exhaustive.all_pairs, 1)
    extrapolated = per_pair * lsh.all_pairs

    def row(name: str, t: Tally, p: float, r: float) -> str:
        return (f"| {name} | {t.quotes:,} | {t.seconds:,.1f} s | {t.candidates:,} | "
                f"{t.true_candidates / max(t.candidates, 1):.3f} | {t.true_candidates / max(t.true_pairs, 1):.3f} | "
                f"{t.true_links / max(t.linkable_true_pairs, 1):.3f} | {t.true_links / max(t.links, 1):.3f} | "
                f"{p:.3f} | {r:.3f} |")

    print(f"\nthreshold {args.threshold}; settings {DEFAULT_SETTINGS}")
    print("\n| run | quotes | wall time | candidates | candidate precision | candidate recall (true pairs) | "
          "link recall (of linkable true pairs) | link precision | cluster pair precision | cluster pair recall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(row("LSH + rare words, whole archive", lsh, lsh_p, lsh_r))
    print(row("LSH + rare words, sample", lsh_sample, ls_p, ls_r))
    print(row("exhaustive, sample", exhaustive, ex_p, ex_r))
    print(f"\ncandidates by pass, whole archive: {lsh.by_pass}; true pairs {lsh.true_pairs:,}, of which linkable "
          f"{lsh.linkable_true_pairs:,}; largest component {lsh_big:,} quotes; components in {components:.1f} s")
    sweep = {t: cluster_scores(e, everyone, archive.group)[:2] for t, e in sorted(lsh.sweep.items())}
    sweep[args.threshold] = (lsh_p, lsh_r)
    print("cluster pair precision / recall by threshold, whole archive: " + ", ".join(
        f"{t:.2f}: {p:.3f} / {r:.3f}" for t, (p, r) in sorted(sweep.items())))
    print(f"pairs inside blocks: whole archive {lsh.all_pairs:,}, sample {exhaustive.all_pairs:,} "
          f"({len(sample)} speakers, largest {max(len(b.mentions) for b in sample):,})")
    print(f"exhaustive: {per_pair * 1e6:.2f} us per pair on the sample -> {extrapolated:,.0f} s "
          f"({extrapolated / 3600:,.1f} h) extrapolated to the whole archive (x sum of n(n-1)/2 over speakers)")
    print(f"ratios in this run: sample exhaustive/LSH time {exhaustive.seconds / max(lsh_sample.seconds, 1e-9):,.1f}x, "
          f"whole archive extrapolated exhaustive/LSH {extrapolated / max(lsh.seconds, 1e-9):,.0f}x; "
          f"candidates/all pairs {lsh.candidates / max(lsh.all_pairs, 1):.2e}")
    print(f"peak memory (maxrss): {rss_generated:,.0f} MiB after generating, {rss_lsh:,.0f} MiB after LSH over "
          f"the archive, {maxrss_mib():,.0f} MiB at the end; Python {platform.python_version()}, "
          f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
