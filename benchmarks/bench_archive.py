"""Archive extraction speed: `annotate extract --input ARCHIVE` on one core, on all cores, and as a Spark job.

One run measures, on the same archive (synthetic articles plus the PolNeAR dev texts when the corpus is there),
the rules and a small model (`annotate train` on the seed gold, in a temp dir) with ``--workers 1``,
``--workers 2`` and ``--engine spark`` in local mode on the same 2 cores. Each is the whole command in a process
of its own, timed from start to exit (imports, the pre-pass, model load, a JVM's start included), with the peak
resident memory of its process tree sampled every 0.1 s. The arithmetic for 100 million articles uses the
measured one-core rates::

    .venv/bin/python benchmarks/bench_archive.py [--synthetic 3000] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_agreement import update_section  # noqa: E402

SECTION = "Archive extraction"
POLNEAR_DEV = REPO.parent / "shared/corpora/polnear/dev/text"  # ../shared beside the repository
CLI = [sys.executable, "-c", "from annotate.cli import main; main()"]
NAMES = ["Jane Smith", "Omar Haddad", "Li Wei", "Maria Garcia", "Vladimir Putin", "Emmanuel Macron"]
OUTLETS = ["Daily Planet", "The Herald", "News/Now", "Wire"]
SENTENCES = [
    '"We will cut taxes for every working family in this state," said {n}.',
    "{n} said that the new plan would create thousands of jobs next year.",
    "The council met on Tuesday to discuss the budget and the new bridge.",
    '"This is a disaster for our schools and for our children," {n} warned.',
    "According to {n}, the vote was delayed because of a procedural dispute.",
    '"We strongly oppose any deployment of foreign troops in Ukraine," said {n} on Friday.',
    "{n} said that Europe supports security guarantees for Ukraine from its Western partners.",
]


def write_archive(path: Path, synthetic: int, polnear_texts: bool = True) -> tuple[int, int]:
    rng = random.Random(11)
    rows = []
    for i in range(synthetic):
        text = " ".join(rng.choice(SENTENCES).format(n=rng.choice(NAMES)) for _ in range(rng.randint(4, 12)))
        rows.append({"id": f"syn{i:07d}", "outlet": rng.choice(OUTLETS),
                     "published": date(2016, 9, 1) + timedelta(days=rng.randint(0, 30)), "text": text})
    polnear = sorted(POLNEAR_DEV.glob("*.txt")) if POLNEAR_DEV.is_dir() and polnear_texts else []
    for f in polnear:
        rows.append({"id": f"polnear-{f.stem}", "outlet": f.stem.split("_")[0], "published": None,
                     "text": f.read_bytes().decode("utf-8")})
    schema = pa.schema([("id", pa.string()), ("outlet", pa.string()), ("published", pa.date32()),
                        ("text", pa.string())])
    path.mkdir(parents=True)
    half = max(1, len(rows) // 2)
    pq.write_table(pa.Table.from_pylist(rows[:half], schema=schema), path / "part-0.parquet")
    if rows[half:]:
        pq.write_table(pa.Table.from_pylist(rows[half:], schema=schema), path / "part-1.parquet")
    return synthetic, len(polnear)


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = next((int(line.split()[1]) * 1024 for line in status.splitlines()
                                if line.startswith("VmRSS:")), 0)
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def timed(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak tree RSS and stdout of one command."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {err.strip()[-500:]}")
    return wall, peak, out.strip()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {java}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=3000, help="Synthetic articles besides PolNeAR's dev texts.")
    parser.add_argument("--cluster-cores", type=int, default=400, help="Cores of the cluster in the arithmetic.")
    parser.add_argument("--update", type=Path, help=f"Write the figures into this file's '## {SECTION}' section.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        synthetic, polnear = write_archive(root / "in", options.synthetic)
        write_archive(root / "one", 1, polnear_texts=False)  # the same command on one article: its start-up
        articles = synthetic + polnear
        model = root / "seeds.model"
        timed(["train", "--gold", str(REPO / "seeds/annotations/gold.jsonl"), "--out", str(model)])
        runs = []
        for extractor, extra in [("rules", []), ("model", ["--model", str(model)])]:
            for label, engine in [("1 core (--workers 1)", ["--workers", "1"]),
                                  ("2 cores (--workers 2)", ["--workers", "2"]),
                                  ("Spark local[2] (--engine spark --workers 2)", ["--engine", "spark",
                                                                                   "--workers", "2"])]:
                command = ["--partition-by", "outlet", *engine, *extra]
                start_up = timed(["extract", "--input", str(root / "one"), "--out", str(root / f"one-{len(runs)}"),
                                  *command])[0]
                out = root / f"out-{len(runs)}"
                wall, peak, _ = timed(["extract", "--input", str(root / "in"), "--out", str(out), *command])
                runs.append((extractor, label, wall, peak, start_up))
                print(f"{extractor:6} {label:45} {wall:7.1f} s (start-up {start_up:.1f} s) "
                      f"{articles / wall:8.1f} articles/s {peak / 2**20:7.0f} MiB", flush=True)
    lines = [f"`benchmarks/bench_archive.py --synthetic {options.synthetic}`: {articles:,} articles ({synthetic:,} "
             f"synthetic of 4-12 sentences, {polnear} PolNeAR dev texts), partitioned by outlet, batches of 500; "
             "the model is `annotate train` on the seed gold (150 iterations). Each figure is the whole command "
             "timed to its exit (start-up, the pre-pass over the archive, model load and, for Spark, the JVM "
             "included), peak RSS summed over the command's process tree (Spark: the driver, the JVM and its "
             f"Python workers). Machine: {machine()}; its 2 cores are shared with other jobs, so the "
             "2-core figures understate what two free cores give.", "",
             "Start-up is the same command on a one-article archive; the steady rate is (articles - 1) / (wall - "
             "start-up), the rate once everything has started.", "",
             "| extractor | run | wall s | articles/s (wall) | start-up s | articles/s (steady) | peak RSS MiB |",
             "|---|---|---:|---:|---:|---:|---:|"]

    def steady(wall: float, start_up: float) -> float:
        return (articles - 1) / max(wall - start_up, 1e-9)

    for extractor, label, wall, peak, start_up in runs:
        lines.append(f"| {extractor} | {label} | {wall:.1f} | {articles / wall:.1f} | {start_up:.1f} | "
                     f"{steady(wall, start_up):.1f} | {peak / 2**20:.0f} |")
    lines.append("")
    target = 100_000_000
    for extractor in ("rules", "model"):
        one = next(steady(w, s) for e, label, w, _, s in runs if e == extractor and label.startswith("1 core"))
        spark = next(steady(w, s) for e, label, w, _, s in runs if e == extractor and label.startswith("Spark"))
        per_core, spark_per_core = one, spark / 2
        hours = target / (per_core * options.cluster_cores) / 3600
        spark_hours = target / (spark_per_core * options.cluster_cores) / 3600
        lines.append(f"- {extractor}: {per_core:.1f} articles/s per core on one machine (steady, one core), "
                     f"{spark_per_core:.1f} per core in Spark local mode (its steady rate on 2 cores / 2); "
                     "100 million articles on "
                     f"{options.cluster_cores} cores: 1e8 / ({per_core:.1f} x {options.cluster_cores}) = "
                     f"{hours:.1f} h at the one-machine rate, 1e8 / ({spark_per_core:.1f} x {options.cluster_cores})"
                     f" = {spark_hours:.1f} h at the Spark local-mode rate.")
    lines.append("")
    lines.append("The fixed start-up (imports, a JVM, a Python worker per core, the pre-pass on the driver) is a "
                 "large share of runs this small; over 100 million articles the per-core rate sets the time. The "
                 "arithmetic assumes the steady per-core rate holds on every core of the cluster and leaves out "
                 "the driver's pre-pass (one pass over the archive on one machine) and network reads and writes.")
    body = "\n".join(lines) + "\n"
    print(body)
    if options.update:
        update_section(options.update, SECTION, body)


if __name__ == "__main__":
    main()
