"""Faults caused for real: a Label Studio killed mid-preload, a publish killed mid-write, an annotation edited
after a release. See docs/RELIABILITY.md for the table of guarantees and their tests.

The injected-fault publish tests (``OSError``/``KeyboardInterrupt`` mid-write, a failing swap, a crash between
the two renames) live in tests/test_publish.py; the SIGKILL one here complements them with a real kill.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import LocalServer, free_port
from test_server import copy_database

from annotate.labelstudio import server
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import CHECK_WORTHY
from annotate.labelstudio.credentials import read_private_json, write_private_json
from annotate.labelstudio.project import init_project
from exports.dataset.release import ReleaseHistory, read_diff
from schemas import AnnotatedDocument, Article, Entity, Mention, Provenance, Quote, Span, sha256_of
from schemas.paths import REPO_ROOT

SEED_EXPORT = REPO_ROOT / "seeds" / "annotations" / "seed-annotations.export.json"


def run_cli(*args: object, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, as a user runs it."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, env=full_env, timeout=timeout)


def start_cli(*args: object, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from annotate.cli import main; main()", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


# -- Label Studio killed (SIGKILL) in the middle of a preload --------------------------------------------------

ARTICLES = 2000
BATCH = 25  # small batches: many requests, so the kill lands between (or inside) them
KILL_AFTER = 250  # tasks in the project before the server is killed


def small_articles(path: Path, n: int) -> list[Article]:
    articles = [Article.from_text(f"fault-{i:05d}", f"Minister {i} said on Monday that plan {i} would go ahead.")
                for i in range(n)]
    path.write_text("".join(a.model_dump_json() + "\n" for a in articles), encoding="utf-8")
    return articles


def wait_for_tasks(client: StudioClient, project_id: int, at_least: int, preload: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        count = client.get_project(project_id).task_number or 0
        if count >= at_least:
            return count
        assert preload.poll() is None, f"preload ended before the kill: {preload.communicate()}"
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} tasks after 120 s")


@pytest.mark.server
@pytest.mark.slow
def test_server_killed_mid_preload_then_rerun_gives_every_article_exactly_once(
    ls_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    if ls_server.state.database != "sqlite":
        pytest.skip("copies the session's SQLite database to start a server it may kill")
    home = tmp_path / "home"
    monkeypatch.setenv("ANNOTATE_HOME", str(home))
    # A copy of the session's database starts without migrations; it knows the session's admin.
    write_private_json(home / "credentials.json", read_private_json(ls_server.home / "credentials.json"))
    data = copy_database(ls_server, tmp_path / "data")
    port = free_port()
    state = server.start(port=port, data_dir=data, die_with_parent=True)
    try:
        client = StudioClient.open()
        project = init_project(client, ls_server_config(), title="fault: killed mid-preload").project
        articles = small_articles(tmp_path / "articles.jsonl", ARTICLES)
        env = {"ANNOTATE_HOME": str(home)}
        args = ("preload", tmp_path / "articles.jsonl", "--no-predictions", "--batch-size", BATCH)

        preload = start_cli(*args, env=env)
        try:
            seen = wait_for_tasks(client, project.id, KILL_AFTER, preload)
            os.killpg(state.pid, signal.SIGKILL)  # the whole server, no chance to clean up
            out, err = preload.communicate(timeout=120)
        finally:
            if preload.poll() is None:
                preload.kill()
        assert preload.returncode == 2, (out, err)
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert "rerun the same command to continue" in err
        assert not server.is_label_studio(state.pid)

        state = server.start(port=port, data_dir=data, die_with_parent=True)  # same data dir, same URL
        client = StudioClient.open()
        survived = client.get_project(project.id).task_number or 0
        assert seen <= survived < ARTICLES  # what was committed before the kill is still there, not all of it

        done = run_cli(*args, env=env)
        assert done.returncode == 0, done.stderr
        assert f"imported {ARTICLES - survived} article(s)" in done.stdout
        assert f"{survived} already there" in done.stdout

        tasks = client.export_tasks(project.id)
        ids = Counter(t.data["article_id"] for t in tasks)
        assert sorted(ids) == sorted(a.id for a in articles)  # none missing
        assert max(ids.values()) == 1  # none twice
        by_id = {a.id: a for a in articles}
        for t in tasks:
            article = by_id[t.data["article_id"]]
            assert t.data["sha256"] == article.sha256 and t.data["text"] == article.text
    finally:
        server.stop(state=state)


def ls_server_config() -> str:
    from annotate.labelstudio.config import generate_labeling_config
    from schemas.articles import load_targets
    from schemas.paths import SEED_TARGETS

    return generate_labeling_config(load_targets(SEED_TARGETS))


# -- a publish killed (SIGKILL) half-way -----------------------------------------------------------------------


def gold_documents(path: Path, n: int, kind: str = "indirect") -> None:
    """``n`` small valid gold documents. The number is zero-padded so every text has the same offsets: one
    validated document is the template, the others differ in id, text and hash only (fast for 20,000)."""
    text = "Minister 00000 said the plan would work. Critics disagreed."
    start, end = text.index("the plan"), text.index(". Critics")
    template = AnnotatedDocument(
        article=Article.from_text("pub-00000", text, story="story-00000"),
        provenance=Provenance(annotator="gold", origin="gold"),
        entities=[Entity(id="minister", name="Minister", type="person")],
        mentions=[Mention(id="m1", span=Span.of(text, 0, 14), entity_id="minister")],
        quotes=[Quote(id="q1", kind=kind, content=[Span.of(text, start, end)], speaker_mention_id="m1")],
    ).model_dump(mode="json")
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            doc = copy.deepcopy(template)
            doc["article"].update(id=f"pub-{i:05d}", story=f"story-{i:05d}", text=text.replace("00000", f"{i:05d}"),
                                  sha256=sha256_of(text.replace("00000", f"{i:05d}")))
            doc["mentions"][0]["span"]["text"] = f"Minister {i:05d}"
            f.write(json.dumps(doc) + "\n")
    AnnotatedDocument.model_validate_json(path.read_text(encoding="utf-8").splitlines()[-1])  # the template holds


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_publish_killed_mid_write_leaves_the_previous_release_and_no_half_release(tmp_path: Path):
    out = tmp_path / "dataset"
    gold_documents(tmp_path / "v1.jsonl", 50)
    assert run_cli("publish", tmp_path / "v1.jsonl", "--version", "1.0.0", "--out", out).returncode == 0
    before = tree(out)
    gold_documents(tmp_path / "v2.jsonl", 20_000, kind="direct")

    publish = start_cli("publish", tmp_path / "v2.jsonl", "--version", "1.1.0", "--out", out,
                        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    deadline = time.monotonic() + 120
    try:
        # Killed once Parquet files of the new version exist in its temp tree: half a release on disk.
        while not list(tmp_path.glob(".dataset.publish-*/.releases/1.1.0/data/*/*.parquet")):
            assert publish.poll() is None, f"publish ended before the kill: {publish.communicate()}"
            assert time.monotonic() < deadline, "no Parquet file appeared in the temp tree"
            time.sleep(0.01)
    finally:
        publish.send_signal(signal.SIGKILL)
        publish.communicate(timeout=60)
    assert publish.returncode == -signal.SIGKILL

    assert tree(out) == before  # the previous release, byte for byte
    assert [r.version for r in ReleaseHistory.read(out).releases] == ["1.0.0"]
    assert not (out / ".releases" / "1.1.0").exists()
    assert list(tmp_path.glob(".dataset.publish-*"))  # the killed run's leftovers, outside the dataset

    gold_documents(tmp_path / "v2.jsonl", 60, kind="direct")
    again = run_cli("publish", tmp_path / "v2.jsonl", "--version", "1.1.0", "--out", out)
    assert again.returncode == 0, again.stderr
    assert [r.version for r in ReleaseHistory.read(out).releases] == ["1.0.0", "1.1.0"]
    assert not list(tmp_path.glob(".dataset.publish-*"))  # cleared by the next publish


# -- an annotation edited in Label Studio after a release ------------------------------------------------------


def recorded_annotation(article_id: str) -> tuple[dict, list[dict]]:
    """Task data and one annotator's result list from the seed export recorded through a real Label Studio."""
    task = next(t for t in json.loads(SEED_EXPORT.read_text(encoding="utf-8"))
                if t["data"]["article_id"] == article_id)
    return task["data"], task["annotations"][0]["result"]


def pulled_documents(pull_dir: Path) -> tuple[Path, list[AnnotatedDocument]]:
    [docs] = pull_dir.glob("*.docs.jsonl")
    return docs, [AnnotatedDocument.model_validate_json(line) for line in docs.read_text().splitlines()]


@pytest.mark.server
def test_annotation_edited_after_a_release_shows_in_the_next_pull_and_release_diff(
    ls_server: LocalServer, ls_client: StudioClient, ls_project: ProjectInfo, tmp_path: Path
):
    article_id = "002_b85bb421de1e3324"
    data, result = recorded_annotation(article_id)
    # The recording predates the tasks' entity list, which the labeling config now needs (empty here).
    [task_id] = ls_client.import_tasks(ls_project.id, [{"data": {**data, "entities": []}}]).task_ids
    annotation_id = ls_client.create_annotation(task_id, result, completed_by=ls_client.whoami().id)
    env = {"ANNOTATE_HOME": str(tmp_path / "home"), "ANNOTATE_LS_URL": ls_server.url,
           "ANNOTATE_LS_TOKEN": ls_server.token}
    out = tmp_path / "dataset"

    def release(version: str) -> tuple[Path, list[AnnotatedDocument]]:
        pulled = run_cli("pull", "--project", ls_project.id, "--out", tmp_path / f"pull-{version}", env=env)
        assert pulled.returncode == 0, pulled.stderr
        docs_path, docs = pulled_documents(tmp_path / f"pull-{version}")
        gold = tmp_path / f"gold-{version}.jsonl"
        adjudicated = run_cli("adjudicate", docs_path, "--out", gold, env=env)
        assert adjudicated.returncode == 0, adjudicated.stderr
        published = run_cli("publish", gold, "--version", version, "--out", out, "--annotations", docs_path, env=env)
        assert published.returncode == 0, published.stderr
        return docs_path, docs

    _, [before] = release("1.0.0")
    claim = next(c for c in before.claims if c.check_worthy.value == "yes")

    # The annotator changes their mind in Label Studio: that claim is not check-worthy after all.
    edited = copy.deepcopy(result)
    [box] = [r for r in edited if r.get("from_name") == CHECK_WORTHY and r["id"] == claim.id]
    box["value"]["choices"] = ["no"]
    ls_client.sdk.annotations.update(id=annotation_id, result=edited)

    _, [after] = release("1.1.0")
    # The pull shows the change: same annotation, later updated_at, exactly that claim differs.
    assert after.provenance.annotation_id == before.provenance.annotation_id == annotation_id
    assert after.provenance.updated_at > before.provenance.updated_at
    changed = [(b.id, b.check_worthy.value, a.check_worthy.value)
               for b, a in zip(before.claims, after.claims, strict=True) if b != a]
    assert changed == [(claim.id, "yes", "no")]
    assert after.model_dump(exclude={"claims", "provenance"}) == before.model_dump(exclude={"claims", "provenance"})

    # The release diff lists it as changed, and nothing else moved.
    diff = read_diff(out, "1.1.0")
    assert diff.previous == "1.0.0"
    assert diff.configs["annotations"].changed == [f"{article_id}/{before.provenance.annotator}"]
    gold_claims = diff.configs["claims"]
    assert len(gold_claims.changed) == 1 and gold_claims.changed[0].startswith(f"{article_id}/")
    assert (gold_claims.added, gold_claims.removed) == ([], [])
    others = {name: items for name, items in diff.configs.items() if name not in ("annotations", "claims")}
    assert all(items.added == items.removed == items.changed == [] for items in others.values()), others
    assert ReleaseHistory.read(out).get("1.1.0").changes["claims"].changed == 1
