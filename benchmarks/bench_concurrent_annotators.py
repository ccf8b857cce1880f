"""Concurrent annotators against a real local Label Studio: SQLite vs PostgreSQL, lost writes and throughput.

For each database: a fresh server (temporary ANNOTATE_HOME and data dir, free loopback port; for
PostgreSQL a throwaway cluster from Debian's binaries, fsync on like a real server), ``--tasks``
pre-imported tasks, and ``--annotators`` annotator accounts made by ``annotate.labelstudio.annotators``. Each
annotator is a separate OS process that logs in through the login form with its own password,
fetches its own API token, waits at a barrier, then submits one annotation to each task (its own
shuffled order, so writers meet on the same tasks). The payload of a task is the baseline
extractor's regions for it (what an annotator submits after accepting the pre-annotations): the
same for both databases. ``--payload empty`` submits empty results instead: cheaper requests, so
more writes per second meet in the database (a stress variant, not what annotators send).

A request is retried (at most ``--attempts`` tries in all) on a connection error, a timeout, 429
or 5xx. Afterwards the project's JSON export is compared with what each process believes it wrote:
lost = acknowledged (2xx) but absent or changed in the export; failed = no 2xx after the retries;
extra = in the export but never acknowledged (a retry after a lost response duplicates a write).

    .venv/bin/python benchmarks/bench_concurrent_annotators.py [--databases sqlite postgresql] \
        [--annotators 4] [--tasks 500] [--attempts 3] [--payload baseline|empty]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from annotate.labelstudio import server
from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.database import DATABASES, Database
from annotate.labelstudio.preload import baseline_prediction, task_data
from annotate.labelstudio.project import init_project
from annotate.labelstudio.wire import to_json
from schemas.articles import load_targets
from schemas.paths import REPO_ROOT, SEED_TARGETS

sys.path.insert(0, str(Path(__file__).parent))
from bench_preload import free_port, machine, synthetic_articles  # noqa: E402 (a sibling script)

REQUEST_TIMEOUT = 60.0
BARRIER_TIMEOUT = 300.0
RETRYABLE = {429, 500, 502, 503, 504}


class Written(BaseModel):
    task_id: int
    annotation_id: int
    attempts: int


class WorkerReport(BaseModel):
    """What one annotator process believes happened."""

    email: str
    user_id: int
    written: list[Written]
    failed_tasks: list[int]  # no 2xx after all attempts
    raw_errors: dict[str, int]  # every failed attempt, by status code or exception type
    latencies_ms: list[float]  # of the acknowledged requests, last attempt only
    started: float  # time.time() after the barrier
    finished: float


def annotate_tasks(url: str, email: str, password: str, task_ids: list[int], payload_file: str, out_file: str,
                   barrier: Any, attempts: int, seed: int) -> None:
    """One annotator process: log in, fetch the token, wait for the others, annotate every task once."""
    import httpx

    payloads: dict[str, list] = json.loads(Path(payload_file).read_text(encoding="utf-8"))
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as browser:  # the login form, as a person would
        browser.get("/user/login/")
        browser.post("/user/login/", data={"email": email, "password": password,
                                           "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                     headers={"Referer": f"{url}/user/login/"})
        me = browser.get("/api/current-user/whoami")
        me.raise_for_status()
        token = browser.get("/api/current-user/token").json()["token"]
    order = list(task_ids)
    random.Random(seed).shuffle(order)
    written: list[Written] = []
    failed: list[int] = []
    raw_errors: Counter[str] = Counter()
    latencies: list[float] = []
    # A fresh client with the token only: no session cookie, so no CSRF check on POST.
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT, headers={"Authorization": f"Token {token}"}) as api:
        barrier.wait(BARRIER_TIMEOUT)
        started = time.time()
        for task_id in order:
            body = {"result": payloads[str(task_id)], "lead_time": 12.5}
            for attempt in range(1, attempts + 1):  # bounded: at most ``attempts`` tries per task
                t0 = time.perf_counter()
                try:
                    r = api.post(f"/api/tasks/{task_id}/annotations/", json=body)
                except httpx.HTTPError as e:
                    raw_errors[type(e).__name__] += 1
                else:
                    if r.status_code in (200, 201):
                        latencies.append((time.perf_counter() - t0) * 1e3)
                        written.append(Written(task_id=task_id, annotation_id=r.json()["id"], attempts=attempt))
                        break
                    raw_errors[str(r.status_code)] += 1
                    if r.status_code not in RETRYABLE:
                        failed.append(task_id)
                        break
                if attempt == attempts:
                    failed.append(task_id)
                else:
                    time.sleep(0.5 * attempt)
        finished = time.time()
    report = WorkerReport(email=email, user_id=me.json()["id"], written=written, failed_tasks=failed,
                          raw_errors=dict(raw_errors), latencies_ms=latencies, started=started, finished=finished)
    Path(out_file).write_text(report.model_dump_json(), encoding="utf-8")


def run_database(database: Database, annotators: int, tasks: int, attempts: int,
                 payload: str) -> dict[str, Any]:
    """Fresh home, server (and cluster), project, tasks, accounts; then the concurrent run and the check."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))  # the throwaway cluster is test infrastructure
    import postgres_cluster as postgres

    with tempfile.TemporaryDirectory(prefix=f"bench-concurrent-{database}-") as home:
        os.environ["ANNOTATE_HOME"] = home
        cluster = postgres.start_cluster(fsync=True) if database == "postgresql" else None
        state = None
        try:
            state = server.start(port=free_port(), data_dir=Path(home) / "data", die_with_parent=True,
                                 database=database, postgres=cluster.settings if cluster else None)
            load_before = os.getloadavg()[0]
            watched = {"label_studio": state.pid, "postgres": cluster.process.pid if cluster else None}
            figures = measure(Path(home), state, annotators, tasks, attempts, payload, watched)
            return {**figures, "load_avg_1min_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
        finally:
            if state is not None:
                server.stop(state=state)
            if cluster is not None:
                postgres.stop_cluster(cluster)


def cpu_seconds(root: int | None) -> float:
    """CPU seconds (user + system, with reaped children: Django opens a PostgreSQL backend per request)
    of ``root`` and its live descendants (Linux /proc); 0 for None."""
    if root is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended while we looked
                continue
            # ppid; utime, stime, cutime, cstime
            stats[int(proc.name)] = (int(fields[1]), sum(map(int, fields[11:15])) / tick)
    family, total = {root}, 0.0
    for _ in range(10):  # bounded: a few levels of children are all a server has
        family |= {pid for pid, (ppid, _) in stats.items() if ppid in family}
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def measure(home: Path, state: server.ServerState, annotators: int, tasks: int, attempts: int,
            payload: str, watched: dict[str, int | None]) -> dict[str, Any]:
    client = StudioClient.open()
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    project = init_project(client, config, title="bench concurrent annotators",
                           maximum_annotations=annotators).project
    articles = synthetic_articles(tasks, seed=1)
    imported = client.import_tasks(project.id, [{"data": task_data(a)} for a in articles])
    payloads = {str(t): to_json(baseline_prediction(a).result) if payload == "baseline" else []
                for t, a in zip(imported.task_ids, articles)}
    payload_file = home / "payloads.json"
    payload_file.write_text(json.dumps(payloads), encoding="utf-8")
    accounts = []
    for n in range(annotators):
        email, password = f"annotator{n + 1}@example.org", f"bench-password-{n + 1}-{os.getpid()}"
        add_annotator(client, email, state.data_dir, password=password)
        accounts.append((email, password))

    cpu_before = {name: cpu_seconds(pid) for name, pid in watched.items()}
    ctx = multiprocessing.get_context("spawn")  # clean processes: no forked sockets or threads
    barrier = ctx.Barrier(annotators)
    processes = []
    for n, (email, password) in enumerate(accounts):
        out = home / f"worker-{n}.json"
        p = ctx.Process(target=annotate_tasks, args=(state.url, email, password, imported.task_ids,
                                                      str(payload_file), str(out), barrier, attempts, n))
        p.start()
        processes.append((p, out))
    deadline = time.monotonic() + 3600
    for p, _ in processes:
        p.join(max(1.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            raise RuntimeError(f"annotator process {p.pid} did not finish within an hour")
        if p.exitcode != 0:
            raise RuntimeError(f"annotator process {p.pid} exited with {p.exitcode}")
    # Includes the annotators' logins (a few requests) besides the 2,000 writes.
    cpu = {f"cpu_s_{name}": round(cpu_seconds(pid) - cpu_before[name], 1) for name, pid in watched.items() if pid}
    reports = [WorkerReport.model_validate_json(out.read_text()) for _, out in processes]
    return {**compare(client, project.id, reports, payloads, state), **cpu}


def compare(client: StudioClient, project_id: int, reports: list[WorkerReport], payloads: dict[str, list],
            state: server.ServerState) -> dict[str, Any]:
    exported = {a.id: (t.id, a) for t in client.export_tasks(project_id) for a in t.annotations}
    believed = {w.annotation_id: (r.user_id, w.task_id) for r in reports for w in r.written}
    lost = changed = 0
    for annotation_id, (user_id, task_id) in believed.items():
        found = exported.get(annotation_id)
        if found is None:
            lost += 1
        elif found[0] != task_id or found[1].completed_by != user_id or found[1].result != payloads[str(task_id)]:
            changed += 1
    extra = len(set(exported) - set(believed))
    started, finished = min(r.started for r in reports), max(r.finished for r in reports)
    latencies = sorted(x for r in reports for x in r.latencies_ms)
    raw: Counter[str] = Counter()
    for r in reports:
        raw.update(r.raw_errors)
    acknowledged = len(believed)
    return {
        "database": state.database,
        "annotations_submitted": sum(len(r.written) + len(r.failed_tasks) for r in reports),
        "acknowledged": acknowledged,
        "in_export": len(exported),
        "lost_after_ack": lost,
        "changed_after_ack": changed,
        "failed_after_retries": sum(len(r.failed_tasks) for r in reports),
        "extra_in_export": extra,
        "raw_errors": dict(raw),
        "requests_retried_ok": sum(1 for r in reports for w in r.written if w.attempts > 1),
        "seconds": round(finished - started, 1),
        "annotations_per_s": round(acknowledged / (finished - started), 1),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        "per_annotator": {r.email: len(r.written) for r in reports},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--annotators", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=500, help="Tasks; every annotator annotates each once.")
    parser.add_argument("--attempts", type=int, default=3, help="Tries per annotation (1 = no retries).")
    parser.add_argument("--payload", choices=("baseline", "empty"), default="baseline",
                        help="What each annotation holds: the baseline's regions (~85) or nothing.")
    args = parser.parse_args()
    os.environ.pop("ANNOTATE_LS_URL", None)
    os.environ.pop("ANNOTATE_LS_TOKEN", None)
    results = {"annotators": args.annotators, "tasks": args.tasks, "attempts": args.attempts,
               "payload": args.payload, "runs": []}
    for database in args.databases:
        results["runs"].append(run_database(database, args.annotators, args.tasks, args.attempts, args.payload))
        print(json.dumps(results["runs"][-1], indent=2), file=sys.stderr, flush=True)
    results["machine"] = machine()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
