"""Statement linking on Spark local mode beside the one-machine linker, on the same synthetic quotes.

The quotes and their known variant groups are those of ``bench_statement_candidates`` (same generator and seed),
linked without story labels (one block per speaker). Both engines run in this process on the same cores: the
one-machine ``link_mentions`` (method lsh) and ``spark_link_mentions`` in ``local[N]``. Reported: wall time,
peak memory (this process's maxrss; for Spark also the JVM's peak resident set, VmHWM, read before it stops;
the Python workers Spark starts are not counted), pairwise recall and precision of true pairs over the
statements, and whether the two engines gave the same statements.

    .venv/bin/python benchmarks/bench_statement_linking_spark.py --quotes 20000 [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_agreement import update_section  # noqa: E402
from bench_statement_candidates import maxrss_mib, synthetic_archive  # noqa: E402

from annotate.extract.statements import link_mentions  # noqa: E402
from exports.archive.spark_linking import spark_link_mentions  # noqa: E402
from exports.archive.spark_session import spark_session  # noqa: E402

SECTION = "Statement linking on Spark local mode"


def pair_scores(statements, index_of: dict[str, int], group: np.ndarray) -> tuple[float, float]:
    """Pairwise precision and recall of true pairs (same group) over the statements."""
    label = np.full(len(group), -1, dtype=np.int64)
    for k, s in enumerate(statements):
        label[[index_of[key] for key in s.keys]] = k
    keep = label >= 0

    def pairs(counts: np.ndarray) -> int:
        return int((counts * (counts - 1) // 2).sum())

    tp = pairs(np.unique(label[keep] * (int(group.max()) + 1) + group[keep], return_counts=True)[1])
    return tp / max(pairs(np.unique(label[keep], return_counts=True)[1]), 1), \
        tp / max(pairs(np.unique(group[keep], return_counts=True)[1]), 1)


def jvm_peak_mib(spark) -> float | None:
    proc = getattr(spark.sparkContext._gateway, "proc", None)  # the JVM pyspark launched (local mode)
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except (AttributeError, OSError):
        return None
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, nargs="+", default=[20_000])
    parser.add_argument("--workers", type=int, default=2, help="Spark local[N] cores")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--exhaustive-up-to", type=int, default=20_000,
                        help="also link all pairs exhaustively (one machine) at sizes up to this")
    parser.add_argument("--driver-memory", default="8g",
                        help="the Spark driver's heap (local mode: the executors' too), set before its JVM starts")
    parser.add_argument("--update", type=Path, help=f"Write the figures into this file's '## {SECTION}' section.")
    args = parser.parse_args(argv)

    # the driver's heap can only be set before pyspark launches its JVM; local mode runs the executors in it
    os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    t0 = time.perf_counter()
    spark = spark_session(f"local[{args.workers}]", "bench statement linking")
    started = time.perf_counter() - t0
    spark_link_mentions(synthetic_archive(200, seed=args.seed).mentions, use_stories=False, spark=spark)  # warm-up
    rows = []
    for n in args.quotes:
        archive = synthetic_archive(n, seed=args.seed)
        index_of = {m.key: i for i, m in enumerate(archive.mentions)}
        t0 = time.perf_counter()
        one = link_mentions(archive.mentions, use_stories=False)
        one_s = time.perf_counter() - t0
        rss_one = maxrss_mib()
        t0 = time.perf_counter()
        found = spark_link_mentions(archive.mentions, use_stories=False, spark=spark)
        spark_s = time.perf_counter() - t0
        same = [s.keys for s in one] == [s.keys for s in found]
        exhaustive = "not run"
        if n <= args.exhaustive_up_to:  # every passing pair found: what both engines approach
            full = [s.keys for s in link_mentions(archive.mentions, use_stories=False, method="exhaustive")]
            exhaustive = f"one machine {'yes' if full == [s.keys for s in one] else 'NO'}, Spark " \
                         f"{'yes' if full == [s.keys for s in found] else 'NO'}"
        for name, statements, seconds, memory in (
                ("one machine (1 core)", one, one_s, f"{rss_one:,.0f} MiB"),
                (f"Spark local[{args.workers}]", found, spark_s,
                 f"driver {maxrss_mib():,.0f} MiB + JVM {jvm_peak_mib(spark) or float('nan'):,.0f} MiB")):
            p, r = pair_scores(statements, index_of, archive.group)
            rows.append(f"| {name} | {n:,} | {seconds:,.1f} s | {n / seconds:,.0f} | {memory} | {r:.3f} | {p:.3f} | "
                        f"{len(statements):,} | {'yes' if same else 'NO'} | {exhaustive} |")
        print(rows[-2], rows[-1], sep="\n", flush=True)
    body = "\n".join([
        f"`{' '.join(['.venv/bin/python', 'benchmarks/bench_statement_linking_spark.py', *(argv or sys.argv[1:])])}`",
        "",
        "The quotes of \"Statement candidates at archive scale\" (same generator, seed "
        f"{args.seed}), linked without story labels by `link_mentions` (one process) and `spark_link_mentions` (Spark "
        f"local mode, {args.workers} cores, driver heap {args.driver_memory}, session started once in {started:.1f} s, "
        "not counted). Memory: peak RSS "
        "(maxrss, cumulative over the run); Spark's Python workers not counted. Recall and precision: pairwise, of "
        "true pairs (renderings of one synthetic statement) over the statements.",
        "",
        "| engine | quotes | wall time | quotes/s | peak memory | true-pair recall | pair precision | statements | "
        "same statements as one machine | same as exhaustive comparison |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Python {platform.python_version()}, {os.cpu_count()} cores, pyspark {spark.version}.",
    ]) + "\n"
    print(body)
    if args.update:
        update_section(args.update, SECTION, body)
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
