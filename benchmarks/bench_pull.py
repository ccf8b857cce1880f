"""`annotate pull` at scale against a real local Label Studio: batched export vs one request.

Starts a fresh server (temporary ANNOTATE_HOME and data dir, free loopback port), creates a
project with ``--tasks`` tasks x 2 annotations, imported in bulk WITH their annotations (the
import payload's ``annotations`` with ``completed_by`` = a user id of the organization): each
task is a seed article (~2,700 characters) under a new article id with the two annotations
recorded for it in seeds/annotations (~140 result items each; ~52 kB of export per task). Then:

1. ``annotate pull --batch-size N`` in a child process: wall time and peak RSS (``os.wait4``).
2. The single request (what ``pull`` did before, and ``--batch-size 0`` does): first the export
   alone (one snapshot of the whole project, streamed to a file in a child process: how long the
   one request takes, against the default request timeout), then ``annotate pull --batch-size 0``
   whole (the export converted as one piece: its peak RSS), under a 12 GiB address-space limit.

    .venv/bin/python benchmarks/bench_pull.py [--tasks 20000] [--batch-size 500] [--no-single]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_preload import free_port, machine

from annotate.labelstudio import server
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.project import init_project
from annotate.labelstudio.pull import RetryPolicy
from schemas.articles import load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

ANNOTATE = Path(sys.executable).parent / "annotate"
SEED_EXPORT = SEEDS_DIR / "annotations" / "seed-annotations.export.json"
IMPORT_BATCH = 500  # tasks per import request (~26 MB; Label Studio accepts up to 250 MB)

# Run in a child: the single-request export, streamed to a file, as the pull's transport does it.
_SINGLE = """
import sys, time
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.snapshots import RetryPolicy, download_export
client = StudioClient.open()
started = time.perf_counter()
with open(sys.argv[2], "w+b") as f:
    download_export(client, int(sys.argv[1]), f, batch_size=0, retry=RetryPolicy(retries=0, timeout=float(sys.argv[3])))
print(time.perf_counter() - started)
"""


def annotated_tasks(seed: list[dict], first: int, count: int, user_ids: list[int]) -> list[dict]:
    # The config's entity pickers read data.entities: a task without that key is refused (an empty list is fine).
    return [{"data": {"entities": [], **seed[n % len(seed)]["data"], "article_id": f"bench-{n:06d}"},
             "annotations": [{"result": a["result"], "completed_by": user, "lead_time": 10.0}
                             for a, user in zip(seed[n % len(seed)]["annotations"], user_ids)]}
            for n in range(first, first + count)]


class ChildFailed(Exception):
    pass


def child(command: list[str], env: dict[str, str], limit: int | None = None) -> tuple[float, float, str]:
    """Run ``command`` (address space capped at ``limit`` bytes); its wall seconds, own peak RSS in MiB, stdout."""
    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                                   preexec_fn=cap)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        raise ChildFailed(f"{command[:3]} failed ({process.returncode}): {text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def run(tasks: int, batch_size: int, single: bool, home: Path) -> dict[str, object]:
    client = StudioClient.open()
    seed = json.loads(SEED_EXPORT.read_bytes())
    config = generate_labeling_config(load_targets(SEED_TARGETS))
    project = init_project(client, config, title="bench pull", maximum_annotations=2).project
    users = [client.create_user(f"bench-{n}-{secrets.token_hex(3)}@example.com", f"bench{n}{secrets.token_hex(3)}")
             for n in range(2)]
    started = time.perf_counter()
    for first in range(0, tasks, IMPORT_BATCH):
        count = min(IMPORT_BATCH, tasks - first)
        assert client.import_tasks(project.id, annotated_tasks(seed, first, count, [u.id for u in users])
                                   ).task_count == count
    import_seconds = time.perf_counter() - started

    env = {**os.environ, "ANNOTATE_HOME": str(home)}
    out = home / "pull-out"
    seconds, rss, text = child([str(ANNOTATE), "pull", "--project", str(project.id), "--batch-size", str(batch_size),
                                "--out", str(out)], env)
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert report["tasks"] == tasks and report["annotations"] == 2 * tasks, report
    assert sorted(report["annotators"]) == sorted(u.email for u in users)  # completed_by became the users
    figures: dict[str, object] = {
        "tasks": tasks, "annotations": report["annotations"], "import_seconds": round(import_seconds, 1),
        "export_mib": round(report["export_bytes"] / 2**20, 1),
        "docs_mib": round(next(out.glob("*.docs.jsonl")).stat().st_size / 2**20, 1),
        "batched": {"batch_size": batch_size, "seconds": round(seconds, 1), "peak_rss_mib": round(rss),
                    "documents": report["documents"], "rejections": len(report["rejections"])},
    }
    if single:
        timeout = 4 * 3600.0  # long enough to see how long it takes
        raw = home / "single.json"
        seconds, rss, text = child([sys.executable, "-c", _SINGLE, str(project.id), str(raw), str(timeout)], env)
        batched_raw = next(out.glob("*.export.json"))
        figures["single_request_export_only"] = {
            "seconds": round(seconds, 1), "export_request_seconds": round(float(text.split()[-1]), 1),
            "peak_rss_mib": round(rss), "default_timeout_seconds": RetryPolicy().timeout,
            "outlasts_default_timeout": float(text.split()[-1]) > RetryPolicy().timeout,
            "same_bytes_as_batched": filecmp.cmp(raw, batched_raw, shallow=False),
        }
        raw.unlink()
        whole = home / "pull-whole"
        try:
            seconds, rss, text = child([str(ANNOTATE), "pull", "--project", str(project.id), "--batch-size", "0",
                                        "--timeout", str(timeout), "--out", str(whole)], env, limit=12 * 2**30)
            figures["single_request_pull"] = {"seconds": round(seconds, 1), "peak_rss_mib": round(rss),
                                              "same_documents": filecmp.cmp(next(whole.glob("*.docs.jsonl")),
                                                                            next(out.glob("*.docs.jsonl")),
                                                                            shallow=False)}
        except ChildFailed as e:
            figures["single_request_pull"] = {"failed": str(e)[-500:]}
    figures["machine"] = {**machine(), "load_average": [round(x, 1) for x in os.getloadavg()]}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--no-single", dest="single", action="store_false",
                        help="Skip the single-request export (it takes minutes at 20,000 tasks).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pull-") as home:
        os.environ["ANNOTATE_HOME"] = home
        os.environ.pop("ANNOTATE_LS_URL", None)
        os.environ.pop("ANNOTATE_LS_TOKEN", None)
        state = server.start(port=free_port(), data_dir=Path(home) / "data", die_with_parent=True)
        try:
            print(json.dumps(run(args.tasks, args.batch_size, args.single, Path(home)), indent=2))
        finally:
            server.stop(state=state)


if __name__ == "__main__":
    main()
