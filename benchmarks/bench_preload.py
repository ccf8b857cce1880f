"""Preload throughput against a real local Label Studio: bulk batches vs one task per request.

Starts a fresh server (temporary ANNOTATE_HOME and data dir, free loopback port), preloads
``--count`` synthetic articles (~3,000 characters, made of shuffled seed paragraphs so the
baseline extractor finds quotes) with predictions into a fresh project, then imports
``--naive-count`` of them one task per request into another project, and scales that up.
A second preload of the same articles measures the idempotent re-run (export + skip).
Everything is measured twice: with predictions (the default) and without.

    .venv/bin/python benchmarks/bench_preload.py [--count 10000] [--naive-count 200] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import tempfile
import time
from pathlib import Path

from annotate.labelstudio import server
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.preload import baseline_prediction, preload, task_data
from annotate.labelstudio.project import init_project
from schemas import Article
from schemas.articles import load_articles, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR


def synthetic_articles(count: int, chars: int = 3000, seed: int = 0) -> list[Article]:
    paragraphs = [p for a in load_articles([SEEDS_DIR]) for p in a.text.split("\n") if len(p) > 40]
    rng = random.Random(seed)
    articles = []
    for n in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < chars:
            parts.append(rng.choice(paragraphs))
        articles.append(Article.from_text(f"synthetic-{n:06d}", "\n".join(parts)[:chars]))
    return articles


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 2**20, 1), "cpu": cpu,
            "python": platform.python_version(), "label_studio": server.LABEL_STUDIO_VERSION}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def naive(client: StudioClient, project_id: int, articles: list[Article], predictions: bool) -> float:
    """Seconds to import ``articles`` one task per request (the way to avoid)."""
    started = time.perf_counter()
    for article in articles:
        task = {"data": task_data(article)}
        if predictions:
            task["predictions"] = [baseline_prediction(article)]
        client.import_tasks(project_id, [task])
    return time.perf_counter() - started


def run(count: int, naive_count: int, batch_size: int) -> dict[str, object]:
    articles = synthetic_articles(count)
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    client = StudioClient.open()
    baseline_prediction(articles[0])  # import the extractor outside the timings

    started = time.perf_counter()
    regions = sum(len(baseline_prediction(a).result) for a in articles[:naive_count])
    predict_ms = (time.perf_counter() - started) / naive_count * 1e3

    figures: dict[str, object] = {
        "articles": count, "mean_chars": round(sum(len(a.text) for a in articles) / count),
        "batch_size": batch_size, "naive_articles": naive_count,
        "prediction_ms_per_article_client": round(predict_ms, 2),
        "prediction_regions_per_article": round(regions / naive_count, 1),
    }
    for predictions in (True, False):
        key = "with_predictions" if predictions else "without_predictions"
        bulk_project = init_project(client, config, title=f"bench bulk {key}").project
        bulk = preload(client, bulk_project, articles, batch_size=batch_size, predictions=predictions)
        rerun = preload(client, bulk_project, articles, batch_size=batch_size, predictions=predictions)
        assert bulk.imported == count and rerun.unchanged == count and rerun.imported == 0
        naive_project = init_project(client, config, title=f"bench naive {key}").project
        naive_seconds = naive(client, naive_project.id, articles[:naive_count], predictions)
        bulk_rate, naive_rate = bulk.imported / bulk.seconds, naive_count / naive_seconds
        figures[key] = {
            "bulk_seconds": round(bulk.seconds, 1), "bulk_articles_per_s": round(bulk_rate, 1),
            "predictions": bulk.predictions, "rerun_all_skipped_seconds": round(rerun.seconds, 1),
            "naive_seconds": round(naive_seconds, 1), "naive_articles_per_s": round(naive_rate, 1),
            "naive_estimate_seconds_for_all": round(count / naive_rate), "speedup": round(bulk_rate / naive_rate, 1),
        }
    figures["machine"] = machine()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--naive-count", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preload-") as home:
        os.environ["ANNOTATE_HOME"] = home
        os.environ.pop("ANNOTATE_LS_URL", None)
        os.environ.pop("ANNOTATE_LS_TOKEN", None)
        state = server.start(port=free_port(), data_dir=Path(home) / "data", die_with_parent=True)
        try:
            print(json.dumps(run(args.count, args.naive_count, args.batch_size), indent=2))
        finally:
            server.stop(state=state)


if __name__ == "__main__":
    main()
