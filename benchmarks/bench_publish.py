"""Benchmark `annotate publish`: time and peak memory for a large synthetic gold set (default 100,000 articles).

Each article is ~3,000 characters with a few quotes (content + cue + speaker mention), one stance and one claim;
five articles per story. The documents are written as JSONL first (streamed, not held), then `annotate publish`
runs in a child process so its peak RSS (``RUSAGE_CHILDREN``) is its own. The bound is 1.5 GB.

    .venv/bin/python benchmarks/bench_publish.py [--articles 100000] [--republish] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from schemas import sha256_of

TARGET = "foreign-troops-in-ukraine"
WORDS = ("the minister government forces border talks agreement ceasefire troops security region officials "
         "report week capital statement analysts pressure support military peace partners plan meeting").split()
LIMIT_BYTES = 1.5 * 1024**3


def _filler(rng: random.Random, n_chars: int) -> str:
    words, size = [], 0
    while size < n_chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words).capitalize() + ". "


def synthetic_document(i: int, rng: random.Random) -> dict:
    """One valid gold AnnotatedDocument as JSON: offsets computed while the text is assembled."""
    parts: list[str] = []
    mentions, quotes = [], []
    length = 0

    def add(piece: str) -> tuple[int, int]:
        nonlocal length
        start = length
        parts.append(piece)
        length += len(piece)
        return start, length

    add(_filler(rng, 300))
    for q in range(rng.randint(2, 5)):
        m_start, m_end = add("Putin")
        add(" ")
        c_start, c_end = add("said")
        add(" “")
        content = _filler(rng, rng.randint(60, 200)).strip()
        q_start, q_end = add(content)
        add("”. ")
        add(_filler(rng, rng.randint(300, 600)))
        mentions.append({"id": f"m{q}", "span": {"start": m_start, "end": m_end, "text": "Putin"},
                         "entity_id": "vladimir-putin", "supported_by": ["ann1", "ann2"]})
        quotes.append({"id": f"q{q}", "kind": rng.choice(["direct", "indirect", "mixed"]),
                       "content": [{"start": q_start, "end": q_end, "text": content}],
                       "cue": {"start": c_start, "end": c_end, "text": "said"},
                       "speaker_mention_id": f"m{q}", "supported_by": ["ann1"]})
    while length < 3_000:
        add(_filler(rng, 200))
    text = "".join(parts)
    claim_end = text.index(".")
    article = {"id": f"bench-{i:06d}", "text": text, "sha256": sha256_of(text), "story": f"story-{i // 5}",
               "outlet": f"Outlet {i % 40}", "language": "en"}
    return {
        "article": article,
        "provenance": {"annotator": "gold", "origin": "gold"},
        "entities": [{"id": "vladimir-putin", "name": "Vladimir Putin", "type": "person", "wikidata": "Q7747"}],
        "mentions": mentions,
        "quotes": quotes,
        "stances": [{"id": "s1", "holder_entity_id": "vladimir-putin", "target_id": TARGET,
                     "polarity": rng.choice(["favor", "against", "neutral"]), "evidence": ["q0"]}],
        "claims": [{"id": "c1", "span": {"start": 0, "end": claim_end, "text": text[:claim_end]},
                    "claimant_entity_id": "vladimir-putin", "check_worthy": rng.choice(["yes", "no"])}],
    }


def write_gold(path: Path, n: int) -> None:
    rng = random.Random(20250905)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(synthetic_document(i, rng), ensure_ascii=False) + "\n")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    import pyarrow

    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024**2:.1f} GiB RAM, Python {platform.python_version()}, "
            f"pyarrow {pyarrow.__version__}, {platform.system()} {platform.release()}")


def run_publish(gold: Path, out: Path, version: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", "publish",
                           "--version", version, "--out", str(out), str(gold)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"publish failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--republish", action="store_true", help="Also time publishing the same version again.")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temp dir, removed).")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_publish_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        gold, out = work / "gold.jsonl", work / "dataset"
        start = time.perf_counter()
        write_gold(gold, args.articles)
        print(f"generated {args.articles:,} documents ({gold.stat().st_size / 1024**2:,.0f} MiB JSONL) "
              f"in {time.perf_counter() - start:.1f} s")
        elapsed, stdout = run_publish(gold, out, "1.0.0")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
        size = sum(p.stat().st_size for p in (out / "data").rglob("*.parquet"))
        print(stdout)
        print(f"publish: {elapsed:.1f} s, peak RSS {peak / 1024**2:,.0f} MiB, "
              f"Parquet {size / 1024**2:,.0f} MiB ({'within' if peak < LIMIT_BYTES else 'OVER'} the 1.5 GB bound)")
        if args.republish:
            again, stdout = run_publish(gold, out, "1.0.0")
            print(f"republish of the same version (fingerprint check, no-op): {again:.1f} s; {stdout}")
        print(f"machine: {machine()}")
        if peak >= LIMIT_BYTES:
            raise SystemExit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
