"""Preload throughput against a real local Label Studio: bulk batches vs one task per request.

Starts a fresh server (temporary ANNOTATE_HOME and data dir, free loopback port), imports
``--naive-count`` synthetic articles (~3,000 characters, made of shuffled seed paragraphs so the
baseline extractor finds quotes) one task per request into a project, then preloads all
``--count`` of them into fresh projects: as ``preload`` does by default (tasks built in worker
processes, predictions with their tasks), built in this one process, and with the predictions
imported separately. A second preload of the same articles measures the idempotent re-run.
Everything with predictions, then without. Each figure comes with the CPU time per article of
this process (its workers included) and of the server process, which say where the time goes.

    .venv/bin/python benchmarks/bench_preload.py [--count 10000] [--naive-count 200] [--batch-size 500]

The server inherits this environment: with
``fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short=true`` set, it skips
validating predictions imported separately (the case that path is for).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import socket
import tempfile
import time
from pathlib import Path

from annotate.labelstudio import server
from annotate.labelstudio.bulk import default_workers
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


class CpuMeter:
    """CPU seconds spent by this process (with its reaped worker processes) and by the server process."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def read(self) -> tuple[float, float]:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        server_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, server_cpu

    def measure(self, count: int, action, *args, **kwargs) -> tuple[object, dict[str, float]]:
        """``action(*args, **kwargs)`` for ``count`` articles: its result, and the figures."""
        (client0, server0), started = self.read(), time.perf_counter()
        result = action(*args, **kwargs)
        seconds = time.perf_counter() - started
        client1, server1 = self.read()
        return result, {"seconds": round(seconds, 1), "articles_per_s": round(count / seconds, 1),
                        "client_cpu_ms_per_article": round((client1 - client0) / count * 1e3, 2),
                        "server_cpu_ms_per_article": round((server1 - server0) / count * 1e3, 2),
                        "load_average_1min_after": round(os.getloadavg()[0], 1)}


def run(count: int, naive_count: int, batch_size: int, server_pid: int) -> dict[str, object]:
    articles = synthetic_articles(count)
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    client = StudioClient.open()
    meter = CpuMeter(server_pid)
    baseline_prediction(articles[0])  # import the extractor outside the timings

    started = time.perf_counter()
    regions = sum(len(baseline_prediction(a).result) for a in articles[:naive_count])
    predict_ms = (time.perf_counter() - started) / naive_count * 1e3

    figures: dict[str, object] = {
        "articles": count, "mean_chars": round(sum(len(a.text) for a in articles) / count),
        "batch_size": batch_size, "naive_articles": naive_count, "workers": default_workers(count),
        "prediction_ms_per_article_client": round(predict_ms, 2),
        "prediction_regions_per_article": round(regions / naive_count, 1),
        "load_average_1min_before": round(os.getloadavg()[0], 1),
    }
    for predictions in (True, False):
        key = "with_predictions" if predictions else "without_predictions"
        naive_project = init_project(client, config, title=f"bench naive {key}").project
        _, naive_figures = meter.measure(
            naive_count, naive, client, naive_project.id, articles[:naive_count], predictions)
        naive_rate = naive_figures["articles_per_s"]
        variants = {"bulk": {}}
        if predictions:  # what the defaults give, against building in this one process and the other import path
            variants.update({"bulk_built_in_one_process": {"workers": 1},
                             "bulk_predictions_separately": {"separate_predictions": True}})
        figures[key] = {"one_task_per_request": naive_figures}
        for name, options in variants.items():
            project = init_project(client, config, title=f"bench {name} {key}"[:50]).project
            report, measured = meter.measure(
                count, preload, client, project, articles, batch_size=batch_size, predictions=predictions, **options)
            assert report.imported == count and report.predictions == (count if predictions else 0)
            figures[key][name] = {**measured, "speedup": round(measured["articles_per_s"] / naive_rate, 1)}
            if name == "bulk":
                rerun = preload(client, project, articles, batch_size=batch_size, predictions=predictions)
                assert rerun.unchanged == count and rerun.imported == 0 and rerun.repaired == 0
                figures[key][name]["rerun_all_skipped_seconds"] = round(rerun.seconds, 1)
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
            print(json.dumps(run(args.count, args.naive_count, args.batch_size, state.pid), indent=2))
        finally:
            server.stop(state=state)


if __name__ == "__main__":
    main()
