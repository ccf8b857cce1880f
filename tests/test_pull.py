"""Pulls: the raw export kept byte for byte, documents and report beside it, never overwritten."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import LocalServer, free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from annotate.cli import pull as pull_cli
from annotate.labelstudio import pull as pull_module
from annotate.labelstudio import server, snapshots
from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.connection import Connection
from annotate.labelstudio.credentials import read_private_json, write_private_json
from annotate.labelstudio.decode import results_to_document
from annotate.labelstudio.encode import document_to_results
from annotate.labelstudio.export import parse_export
from annotate.labelstudio.ids import stance_id_for
from annotate.labelstudio.pull import (
    DEFAULT_BATCH_SIZE,
    RetryPolicy,
    latest_pull_docs,
    pull_from_file,
    pull_from_server,
)
from schemas import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Polarity,
    Provenance,
    Quote,
    Span,
    Stance,
    ToolkitError,
    entity_id_for,
)
from schemas.articles import load_manifest_dir, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

ANNOTATE = Path(sys.executable).parent / "annotate"
SEED = load_manifest_dir(SEEDS_DIR)[1]
# Astral characters and CRLF: the cases Label Studio's offsets are known to get wrong.
ODD = Article.from_text("odd-1", "Putin said:\r\n“No troops 🙂, none.”\r\nMacron 🇫🇷 disagreed.")
PUTIN = entity_id_for("Vladimir Putin")


def span(article: Article, fragment: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = article.text.index(fragment, start + 1)
    return Span.of(article.text, start, start + len(fragment))


def seed_document(annotator: str, with_claim: bool) -> AnnotatedDocument:
    a = SEED
    quote = "If some troops appear there, especially now, during military operations, we proceed from the fact that " \
            "these will be legitimate targets for destruction."
    return AnnotatedDocument(
        article=a, provenance=Provenance(annotator=annotator),
        entities=[Entity(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747")],
        mentions=[Mention(id="m1", span=span(a, "Russian President Vladimir Putin"), entity_id=PUTIN),
                  Mention(id="m2", span=span(a, "Putin", 4), entity_id=PUTIN)],
        quotes=[Quote(id="q1", kind="direct", content=[span(a, quote)], cue=span(a, "said", 1),
                      speaker_mention_id="m2")],
        stances=[Stance(id=stance_id_for(PUTIN, "foreign-troops-in-ukraine", Polarity.AGAINST),
                        holder_entity_id=PUTIN, target_id="foreign-troops-in-ukraine", polarity="against",
                        evidence=["q1"])],
        claims=[Claim(id="c1", span=span(a, "26 countries had pledged to provide postwar security guarantees"),
                      check_worthy="yes")] if with_claim else [],
    )


def odd_document(annotator: str) -> AnnotatedDocument:
    a = ODD
    return AnnotatedDocument(
        article=a, provenance=Provenance(annotator=annotator),
        entities=[Entity(id=PUTIN, name="Vladimir Putin", type="person")],
        mentions=[Mention(id="m1", span=span(a, "Putin"), entity_id=PUTIN)],
        quotes=[Quote(id="q1", kind="direct", content=[span(a, "No troops 🙂,"), span(a, "none.")],
                      cue=span(a, "said"), speaker_mention_id="m1")],
    )


def task_data(article: Article) -> dict:
    return {"text": article.text, "article_id": article.id, "sha256": article.sha256, "title": "", "outlet": "",
            "published": "", "url": "", "language": article.language}


def annotation(annotation_id: int, user, doc: AnnotatedDocument | None, **changes) -> dict:
    # The key set of Label Studio 1.23.2's JSON export (captured from a real export).
    result = document_to_results(doc) if doc else []
    return {"id": annotation_id, "completed_by": user, "result": result, "was_cancelled": False,
            "ground_truth": False, "created_at": "2025-09-06T10:00:00.000000Z",
            "updated_at": "2025-09-06T10:00:00.000000Z", "draft_created_at": None, "lead_time": 30.0,
            "prediction": {}, "result_count": 0, "unique_id": f"u{annotation_id}", "import_id": None,
            "last_action": None, "bulk_created": False, "task": 1, "project": 3, "updated_by": None,
            "parent_prediction": None, "parent_annotation": None, "last_created_by": None, **changes}


def task(task_id: int, article: Article, annotations: list, **changes) -> dict:
    return {"id": task_id, "annotations": annotations, "drafts": [], "predictions": [], "data": task_data(article),
            "meta": {}, "created_at": "2025-09-06T09:00:00.000000Z", "updated_at": "2025-09-06T09:00:00.000000Z",
            "inner_id": task_id, "total_annotations": len(annotations), "cancelled_annotations": 0,
            "total_predictions": 0, "comment_count": 0, "unresolved_comment_count": 0,
            "last_comment_updated_at": None, "project": 3, "updated_by": None, "comment_authors": [],
            "allow_skip": True, **changes}


def ui_export() -> bytes:
    tasks = [
        task(1, SEED, [annotation(11, 1, seed_document("x", True)), annotation(12, 2, seed_document("x", False))],
             drafts=[{"id": 1, "user": 2, "result": []}]),
        task(2, ODD, [annotation(21, 2, odd_document("x")), annotation(22, 1, None, was_cancelled=True)]),
    ]
    return json.dumps(tasks, ensure_ascii=False, indent=2).encode("utf-8")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def export_file(tmp_path) -> Path:
    path = tmp_path / "project-3-at-2025-09-06.json"
    path.write_bytes(ui_export())
    return path


def read_docs(path: Path) -> list[AnnotatedDocument]:
    return [AnnotatedDocument.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- offline


def test_pull_from_file_keeps_the_bytes_and_writes_documents_and_report(home, export_file):
    result = pull_from_file(export_file)
    assert result.export_path.parent == home / "pulls"
    assert result.export_path.name.endswith("-project3.export.json")
    assert result.export_path.read_bytes() == export_file.read_bytes()
    stem = result.export_path.name.removesuffix(".export.json")
    assert result.docs_path.name == f"{stem}.docs.jsonl" and result.report_path.name == f"{stem}.report.json"
    docs = read_docs(result.docs_path)
    expected = parse_export(export_file.read_bytes()).documents
    assert [d.model_dump() for d in docs] == [d.model_dump() for d in expected]
    assert sorted((d.article.id, d.provenance.annotator) for d in docs) == [
        ("001_2d7e49398b561f7e", "user-1"), ("001_2d7e49398b561f7e", "user-2"), ("odd-1", "user-2")]
    report = json.loads(result.report_path.read_text())
    assert report["skipped"] == {"cancelled": 1, "drafts": 1, "predictions": 0, "superseded": 0,
                                 "tasks_without_annotations": 0}
    assert (report["tasks"], report["annotations"], report["documents"]) == (2, 4, 3)
    assert report["export_bytes"] == len(export_file.read_bytes())
    assert report["repairs"] == [] and report["rejections"] == []


def test_a_second_pull_in_the_same_second_gets_its_own_files(home, export_file, monkeypatch):
    monkeypatch.setattr(pull_module, "_timestamp", lambda moment: "20250906T100000Z")
    first = pull_from_file(export_file)
    first_docs = first.docs_path.read_bytes()
    export_file.write_bytes(ui_export().replace(b'"lead_time": 30.0', b'"lead_time": 31.0'))
    second = pull_from_file(export_file)
    assert second.export_path.name == "20250906T100000Z-project3-2.export.json"
    assert first.docs_path.read_bytes() == first_docs
    assert b"31.0" in second.docs_path.read_bytes() and b"31.0" not in first_docs
    assert latest_pull_docs() == second.docs_path


def test_out_as_jsonl_path_puts_the_files_beside_it_and_never_overwrites(tmp_path, export_file):
    out = tmp_path / "results" / "round1.docs.jsonl"
    result = pull_from_file(export_file, out=out)
    assert (result.docs_path, result.report_path, result.export_path) == (
        out, out.with_name("round1.report.json"), out.with_name("round1.export.json"))
    before = out.read_bytes()
    with pytest.raises(ToolkitError, match=r"round1\.export\.json already exists and pulls are never overwritten"):
        pull_from_file(export_file, out=out)
    assert out.read_bytes() == before


def test_out_as_directory(tmp_path, export_file):
    result = pull_from_file(export_file, out=tmp_path / "d")
    assert result.docs_path.parent == tmp_path / "d" and len(list((tmp_path / "d").iterdir())) == 3


def test_broken_export_file_is_reported_with_its_position_and_nothing_is_written(home, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_bytes(ui_export()[:500])
    with pytest.raises(ToolkitError, match=r"broken\.json: invalid JSON at line \d+ column \d+ .*truncated"):
        pull_from_file(broken)
    assert not (home / "pulls").exists() or not list((home / "pulls").iterdir())


def test_missing_export_file(home, tmp_path):
    with pytest.raises(ToolkitError, match=r"nope\.json: no such file; give the JSON export"):
        pull_from_file(tmp_path / "nope.json")


def test_latest_pull_docs_without_a_pull(home):
    with pytest.raises(ToolkitError, match=r"no pull in .*pulls yet; run `annotate pull` first"):
        latest_pull_docs()


def test_latest_pull_docs_ignores_an_incomplete_pull(home, export_file, monkeypatch):
    done = pull_from_file(export_file)
    unfinished = home / "pulls" / "29990101T000000Z-project3"
    Path(f"{unfinished}.docs.jsonl").write_text("")
    Path(f"{unfinished}.report.json").write_text("")  # claimed, not yet written
    assert latest_pull_docs() == done.docs_path


def test_server_pull_keeps_the_raw_export_when_it_cannot_be_converted(home, monkeypatch):
    # Fault injection: a real server does not send broken JSON on demand.
    def broken_download(client, project_id, dest, **options):
        dest.write(b'[{"id": 1, "data"')  # None: the whole file is one piece

    monkeypatch.setattr(pull_module, "download_export", broken_download)

    class Client:
        url = "http://127.0.0.1:1"

    with pytest.raises(ToolkitError, match=r"invalid JSON at line 1 .* \(the raw export is kept in .*project7"):
        pull_from_server(7, client=Client())
    (kept,) = (home / "pulls").iterdir()
    assert kept.read_bytes() == b'[{"id": 1, "data"' and kept.name.endswith("-project7.export.json")


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(ANNOTATE), *args], capture_output=True, text=True, env={**os.environ, **env},
                          timeout=300)


def test_cli_pull_from_file(tmp_path, export_file):
    home = tmp_path / "cli-home"
    done = run_cli("pull", "--from", str(export_file), "--articles", str(SEEDS_DIR), env={"ANNOTATE_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    assert "2 tasks, 4 annotations -> 3 documents by 2 annotators (user-1, user-2)" in done.stdout
    assert "skipped: 1 cancelled, 1 drafts" in done.stdout
    assert str(latest_pull_docs(home / "pulls")) in done.stdout


def test_cli_errors_are_one_line_and_exit_2(tmp_path, export_file):
    env = {"ANNOTATE_HOME": str(tmp_path / "cli-home")}
    done = run_cli("pull", "--from", str(export_file), "--project", "3", env=env)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "--project and --from exclude each other" in done.stderr
    bad = tmp_path / "list.json"
    bad.write_text('{"tasks": []}')
    done = run_cli("pull", "--from", str(bad), env=env)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "list.json: top level is a JSON dict, not a list of tasks" in done.stderr


def test_cli_defaults_are_the_library_defaults():
    # pull_cli repeats them so `annotate --help` need not import the pull machinery.
    policy = RetryPolicy()
    assert (pull_cli._BATCH, pull_cli._RETRIES, pull_cli._FIRST_WAIT, pull_cli._RETRY_FOR, pull_cli._TIMEOUT) == (
        DEFAULT_BATCH_SIZE, policy.retries, policy.first_wait, policy.retry_for, policy.timeout)


# ---------------------------------------------------------------- an export in pieces


def tasks_with_duplicates() -> list[dict]:
    """ui_export()'s tasks, the same articles once more in other tasks (later and earlier annotations by the
    same annotators: superseding across pieces), a lead time the converter drops (a repair), a broken task."""
    tasks = json.loads(ui_export())
    later = annotation(31, 1, seed_document("x", False), updated_at="2025-09-07T10:00:00.000000Z", lead_time=-1.0)
    earlier = annotation(41, 2, odd_document("x"), updated_at="2025-09-01T10:00:00.000000Z", lead_time=-1.0)
    return [*tasks, task(3, SEED, [later]), task(4, ODD, [earlier]), {"id": 5, "data": "not a dict"}]


def merged(pieces: list[list[dict]]) -> tuple[pull_module.ExportConversion, bytes]:
    docs = io.BytesIO()
    with tempfile.TemporaryFile() as spool:
        merge = pull_module._Merge(spool)
        for piece in pieces:
            merge.add(parse_export(json.dumps(piece, ensure_ascii=False).encode("utf-8"),
                                   first_position=merge.total.tasks))
        merge.write_documents(docs)
    return merge.total, docs.getvalue()


def as_lines(conversion: pull_module.ExportConversion) -> bytes:
    return "".join(d.model_dump_json() + "\n" for d in conversion.documents).encode("utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(5)), cuts=st.lists(st.integers(0, 5), max_size=4))
def test_converting_in_pieces_equals_converting_the_whole_export(order, cuts):
    tasks = [tasks_with_duplicates()[i] for i in order]
    whole = parse_export(json.dumps(tasks).encode("utf-8"))
    bounds = [0, *sorted(cuts), len(tasks)]
    total, docs = merged([tasks[a:b] for a, b in itertools.pairwise(bounds)])
    assert docs == as_lines(whole)
    assert (total.tasks, total.annotations, total.skipped, total.projects) == (
        whole.tasks, whole.annotations, whole.skipped, whole.projects)
    assert sorted(r.model_dump_json() for r in total.repairs) == sorted(r.model_dump_json() for r in whole.repairs)
    assert sorted(r.model_dump_json() for r in total.rejections) == sorted(
        r.model_dump_json() for r in whole.rejections)


def test_the_duplicates_really_exercise_superseding_and_repairs():
    # Guards the property test above against a fixture that no longer tests anything.
    whole = parse_export(json.dumps(tasks_with_duplicates()).encode("utf-8"))
    assert whole.skipped.superseded == 2 and len(whole.documents) == 3
    assert [r.annotation_id for r in whole.repairs] == [31]  # the winner's; the loser's (41) is dropped
    assert {r.annotation_id for r in whole.rejections if "superseded" in r.message} == {11, 41}
    total, _ = merged([tasks_with_duplicates()[:3], tasks_with_duplicates()[3:]])
    assert total.skipped.superseded == 2 and [r.annotation_id for r in total.repairs] == [31]


def encoded_like_label_studio(tasks: list) -> bytes:
    # data_export/mixins.py export_to_file: JSONEncoder(ensure_ascii=False).iterencode over the task list.
    return "".join(json.JSONEncoder(ensure_ascii=False).iterencode(tasks)).encode("utf-8")


@given(tasks=st.lists(st.dictionaries(st.sampled_from(["id", "data", "ü"]), st.integers() | st.text()), max_size=5),
       cuts=st.lists(st.integers(0, 400), max_size=6))
def test_a_streamed_piece_loses_only_its_brackets(tasks, cuts):
    raw = encoded_like_label_studio(tasks)
    bounds = [0, *sorted(c for c in cuts if c < len(raw)), len(raw)]
    dest = io.BytesIO(b"kept")
    dest.seek(0, io.SEEK_END)
    snapshots._copy_list_inside((raw[a:b] for a, b in itertools.pairwise(bounds)), dest)
    assert dest.getvalue() == b"kept" + raw[1:-1]


def test_a_piece_cut_short_or_not_a_list_is_refused():
    with pytest.raises(snapshots._Incomplete, match=r"cut short \(17 bytes, no closing bracket\)"):
        snapshots._copy_list_inside([b'[{"id": 1}, ', b'{"id"'], io.BytesIO())
    with pytest.raises(snapshots._Incomplete, match="empty export"):
        snapshots._copy_list_inside([b""], io.BytesIO())
    with pytest.raises(ToolkitError, match=r"starts with b'\{\"tasks\": \[\]\}', not a JSON list"):
        snapshots._copy_list_inside([b'{"tasks": []}'], io.BytesIO())


# ---------------------------------------------------------------- retries, without any server


def nobody_listening() -> StudioClient:
    from label_studio_sdk import LabelStudio

    token = "t" * 40
    return StudioClient(LabelStudio(base_url=f"http://127.0.0.1:{free_port()}", api_key=token), token)


def test_retries_are_bounded_by_count_with_doubling_waits(tmp_path):
    lines: list[str] = []
    policy = RetryPolicy(retries=3, first_wait=0.05, retry_for=60, timeout=5)
    with pytest.raises(ToolkitError, match=r"^cannot reach Label Studio at http://127\.0\.0\.1:\d+ while reading "
                                           r"project 7 .*gave up after 4 attempts in 0 s.*nothing was "
                                           r"written\)$"):
        pull_from_server(7, client=nobody_listening(), out=tmp_path / "out", retry=policy, say=lines.append)
    assert [re.search(r"retry (\d)/3 in ([\d.]+) s$", line).groups() for line in lines] == [
        ("1", "0.1"), ("2", "0.1"), ("3", "0.2")]  # 0.05, 0.1, 0.2 rounded to one decimal
    assert all("ConnectError" in line and "\n" not in line for line in lines)
    assert list((tmp_path / "out").iterdir()) == []


def test_retries_are_bounded_by_time(tmp_path):
    # Waits 0.2 and 0.4 fit in 1 s; the next (0.8) would end after it: three attempts.
    lines: list[str] = []
    policy = RetryPolicy(retries=100, first_wait=0.2, retry_for=1.0, timeout=5)
    with pytest.raises(ToolkitError, match=r"gave up after 3 attempts"):
        pull_from_server(7, client=nobody_listening(), out=tmp_path, retry=policy, say=lines.append)
    assert len(lines) == 2 and list(tmp_path.iterdir()) == []


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        RetryPolicy(retries=-1)
    with pytest.raises(ValueError, match="greater than 0"):
        RetryPolicy(timeout=0)


# ---------------------------------------------------------------- against a real Label Studio


@pytest.mark.server
def test_pull_from_a_real_server(ls_server, ls_client, ls_project, tmp_path):
    from annotate.labelstudio.preload import task_data as preload_task_data

    imported = ls_client.import_tasks(ls_project.id, [{"data": preload_task_data(a)} for a in (SEED, ODD)])
    seed_task, odd_task = imported.task_ids
    admin = ls_client.whoami()
    other = ls_client.create_user(f"pull-{secrets.token_hex(4)}@example.com", f"pull-{secrets.token_hex(4)}")
    ls_client.create_annotation(seed_task, document_to_results(seed_document("x", True)), completed_by=admin.id)
    ls_client.create_annotation(seed_task, document_to_results(seed_document("x", False)), completed_by=other.id)
    ls_client.create_annotation(odd_task, document_to_results(odd_document("x")), completed_by=other.id)
    ls_client.sdk.annotations.create(id=odd_task, result=[], was_cancelled=True, completed_by=admin.id)

    known = {SEED.id: SEED, ODD.id: ODD}
    result = pull_from_server(ls_project.id, client=ls_client, out=tmp_path, articles_by_id=known)

    report = result.report
    assert report.project_id == ls_project.id and report.tasks == 2 and report.annotations == 4
    assert report.skipped.cancelled == 1 and report.repairs == [] and report.rejections == []
    assert report.annotators == sorted([admin.email, other.email])
    raw = json.loads(result.export_path.read_bytes())
    assert {t["id"] for t in raw} == {seed_task, odd_task}
    docs = {(d.article.id, d.provenance.annotator): d for d in read_docs(result.docs_path)}
    assert sorted(docs) == sorted([(SEED.id, admin.email), (SEED.id, other.email), (ODD.id, other.email)])
    expected = {(SEED.id, admin.email): seed_document("x", True), (SEED.id, other.email): seed_document("x", False),
                (ODD.id, other.email): odd_document("x")}
    for key, doc in docs.items():
        assert doc.provenance.task_id in (seed_task, odd_task) and doc.provenance.created_at is not None
        assert doc.model_dump(exclude={"provenance"}) == expected[key].model_dump(exclude={"provenance"})
        for m in doc.mentions:
            assert doc.article.text[m.span.start:m.span.end] == m.span.text
        for q in doc.quotes:
            for fragment in q.content:
                assert doc.article.text[fragment.start:fragment.end] == fragment.text
    assert docs[(ODD.id, other.email)].article.text == ODD.text  # CRLF and emoji survived the round trip

    # The same through the CLI, finding the server and project from ANNOTATE_HOME; then "latest pull".
    done = run_cli("pull", "--project", str(ls_project.id), env={"ANNOTATE_HOME": str(ls_server.home)})
    assert done.returncode == 0, done.stderr
    assert "2 tasks, 4 annotations -> 3 documents by 2 annotators" in done.stdout
    latest = latest_pull_docs(ls_server.home / "pulls")
    assert str(latest) in done.stdout
    # Without --articles the article comes from the task data alone, which carries every field (story too).
    assert [d.model_dump(exclude={"provenance"}) for d in read_docs(latest)] == [
        d.model_dump(exclude={"provenance"}) for d in read_docs(result.docs_path)]


def test_canonical_documents_used_here_round_trip():
    # The server test compares against these documents directly: they must be in canonical form.
    for doc in (seed_document("x", True), odd_document("x")):
        back = results_to_document(doc.article, document_to_results(doc), doc.provenance).document
        assert back.model_dump() == doc.model_dump()


@pytest.mark.server
def test_a_refusal_is_not_retried(ls_client, tmp_path):
    lines: list[str] = []
    with pytest.raises(ToolkitError, match=r"not found at .* while reading project 999999 \(404\)"):
        pull_from_server(999_999, client=ls_client, out=tmp_path, say=lines.append)
    assert lines == [] and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- a server of our own, to stop, freeze and kill

SEED_EXPORT = json.loads((SEEDS_DIR / "annotations" / "seed-annotations.export.json").read_bytes())


def annotated_tasks(count: int, user_ids: list[int], first: int = 0) -> list[dict]:
    """Tasks to import with their annotations: the seed articles' texts under new article ids, each with the
    two annotations recorded for the seeds (~52 kB a task), as ``user_ids``."""
    tasks = []
    for n in range(first, first + count):
        seed = SEED_EXPORT[n % len(SEED_EXPORT)]
        annotations = [{"result": a["result"], "completed_by": user, "lead_time": 10.0}
                       for a, user in zip(seed["annotations"], user_ids)]
        # The recording predates the tasks' entity list, which the labeling config now needs (empty here).
        data = {**seed["data"], "article_id": f"pulled-{n:06d}", "entities": []}
        tasks.append({"data": data, "annotations": annotations})
    return tasks


@contextmanager
def annotate_home(home: Path) -> Iterator[None]:
    # server.start/stop record the server in ANNOTATE_HOME: ours, not the session's.
    before = os.environ["ANNOTATE_HOME"]
    os.environ["ANNOTATE_HOME"] = str(home)
    try:
        yield
    finally:
        os.environ["ANNOTATE_HOME"] = before


@dataclass(frozen=True)
class Pulled:
    export: bytes
    docs: bytes


@dataclass
class OwnServer:
    home: Path
    data: Path
    port: int
    state: server.ServerState | None = None
    client: StudioClient | None = None
    small: int = 0  # project ids
    large: int = 0
    reference: dict[int, Pulled] = field(default_factory=dict)  # undisturbed pulls, to compare with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with annotate_home(self.home):
            self.state = server.start(port=self.port, data_dir=self.data, die_with_parent=True)

    def stop(self) -> None:
        if self.state is not None:
            with annotate_home(self.home):
                server.stop(state=self.state, grace=10)

    def kill(self) -> None:
        """SIGKILL, at once: no chance to finish sending a response."""
        os.killpg(self.state.pid, signal.SIGKILL)
        while server.is_label_studio(self.state.pid):
            time.sleep(0.05)
        # The listening socket can outlive the process by a moment (seen under load): wait for it, so
        # that a restart does not find the port taken.
        deadline = time.monotonic() + 30
        while server.port_in_use("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop()  # forgets it (server.json)

    def running(self) -> bool:
        return self.state is not None and server.is_label_studio(self.state.pid)


@pytest.fixture(scope="module")
def own(ls_server: LocalServer, tmp_path_factory) -> Iterator[OwnServer]:
    """A second Label Studio on a copy of the session's database (no migrations, same admin), with a small
    project (40 tasks) and a large one (400 tasks, 21 MB of export: more than loopback buffers hold)."""
    base = tmp_path_factory.mktemp("pull-own-server")
    (base / "home").mkdir()
    write_private_json(base / "home" / "credentials.json", read_private_json(ls_server.home / "credentials.json"))
    (base / "data").mkdir()
    source = sqlite3.connect(ls_server.state.data_dir / "label_studio.sqlite3")
    with sqlite3.connect(base / "data" / "label_studio.sqlite3") as target:
        source.backup(target)
    source.close()
    own = OwnServer(home=base / "home", data=base / "data", port=free_port())
    own.start()
    try:
        own.client = StudioClient.open(Connection(url=own.url, token=SecretStr(ls_server.token), source="test"))
        users = [own.client.create_user(f"pull-{secrets.token_hex(4)}@example.com", f"pull{secrets.token_hex(4)}")
                 for _ in range(2)]
        config = generate_labeling_config(load_targets(SEED_TARGETS))
        for name, count in (("small", 40), ("large", 400)):
            project = own.client.create_project(f"pull faults {name} {secrets.token_hex(3)}", config, 2)
            own.client.import_tasks(project.id, annotated_tasks(count, [u.id for u in users]))
            setattr(own, name, project.id)
            result = pull_from_server(project.id, client=own.client, out=base / "reference" / name, batch_size=100)
            assert result.report.tasks == count and result.report.rejections == []
            own.reference[project.id] = Pulled(result.export_path.read_bytes(), result.docs_path.read_bytes())
        yield own
    finally:
        if own.state is not None:
            with suppress(ProcessLookupError):  # never leave a frozen server behind
                os.killpg(own.state.pid, signal.SIGCONT)
        own.stop()


@pytest.fixture
def running(own: OwnServer) -> OwnServer:
    """``own``, started again if an earlier test left it stopped."""
    if not own.running():
        own.start()
    return own


def left_on_server(own: OwnServer, project_id: int) -> list[str]:
    """Views and export snapshots a pull made and did not delete."""
    sdk = own.client.sdk
    return ([f"export {e.id}" for e in sdk.projects.exports.list(project_id) if (e.title or "").startswith(
        "annotate pull")] + [f"view {v.id}" for v in sdk.views.list(project=project_id)
                             if isinstance(v.data, dict) and str(v.data.get("title", "")).startswith("annotate pull")])


@pytest.mark.server
def test_the_sweep_deletes_what_a_failed_attempt_left_on_the_server(running):
    # Also shows that left_on_server, used by the tests below, sees such leftovers.
    own, tag = running, f"annotate pull {secrets.token_hex(6)}"
    own.client.sdk.views.create(project=own.small, data={"title": tag})
    own.client.sdk.projects.exports.create(own.small, title=tag)
    assert len(left_on_server(own, own.small)) == 2
    snapshots._sweep(own.client, own.small, tag, timeout=60)
    assert left_on_server(own, own.small) == []


def assert_same_pull(result, expected: Pulled, out: Path) -> None:
    assert result.export_path.read_bytes() == expected.export
    assert result.docs_path.read_bytes() == expected.docs
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (result.export_path, result.docs_path, result.report_path))  # no temporary file left


@pytest.mark.server
@pytest.mark.slow
def test_server_stopped_retries_then_one_clear_error_and_no_files(running, tmp_path):
    own = running
    own.stop()
    lines: list[str] = []
    policy = RetryPolicy(retries=2, first_wait=0.2, retry_for=30, timeout=10)
    with pytest.raises(ToolkitError, match=rf"^cannot reach Label Studio at {own.url} while reading project "
                                           r"\d+ .*annotate server start.*gave up after 3 attempts"):
        pull_from_server(own.small, client=own.client, out=tmp_path / "out", retry=policy, say=lines.append)
    assert [line.rsplit("; ", 1)[1] for line in lines] == ["retry 1/2 in 0.2 s", "retry 2/2 in 0.4 s"]
    assert list((tmp_path / "out").iterdir()) == []

    # The CLI, finding the server in the environment: the connection is retried too; one line per retry.
    env = {"ANNOTATE_HOME": str(tmp_path / "cli"), "ANNOTATE_LS_URL": own.url,
           "ANNOTATE_LS_TOKEN": own.client._token}
    done = run_cli("pull", "--project", str(own.small), "--retries", "1", "--retry-wait", "0.1", env=env)
    assert done.returncode == 2, done.stdout
    retry, error = done.stderr.strip().split("\n")
    assert retry.startswith(f"pull: Label Studio at {own.url} failed while connecting") and retry.endswith(
        "retry 1/1 in 0.1 s")
    assert error.startswith(f"error: cannot reach Label Studio at {own.url}") and "gave up after 2 attempts" in error
    assert not (tmp_path / "cli" / "pulls").exists() or list((tmp_path / "cli" / "pulls").iterdir()) == []


@pytest.mark.server
@pytest.mark.slow
def test_server_restarted_during_the_retries_and_the_pull_succeeds(running, tmp_path):
    own = running
    own.stop()
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            own.start()  # comes back while the pull waits to retry

    policy = RetryPolicy(retries=3, first_wait=0.5, retry_for=600, timeout=60)
    result = pull_from_server(own.small, client=own.client, out=tmp_path, batch_size=15, retry=policy, say=say)
    # Refused, or reset on a connection kept alive from before the stop: both mean "down".
    assert len(lines) == 1 and re.search(r"\((ConnectError|ReadError|RemoteProtocolError): ", lines[0]), lines
    assert_same_pull(result, own.reference[own.small], tmp_path)
    assert left_on_server(own, own.small) == []


@pytest.mark.server
@pytest.mark.slow
def test_a_frozen_server_times_out_and_is_retried_until_it_answers(running, tmp_path):
    # SIGSTOP is a real slow server: connections are accepted by the kernel, nothing answers.
    own = running
    pid = own.state.pid
    os.killpg(pid, signal.SIGSTOP)
    thaw = threading.Timer(6.0, os.killpg, (pid, signal.SIGCONT))
    thaw.start()
    lines: list[str] = []
    try:
        policy = RetryPolicy(retries=6, first_wait=0.5, retry_for=120, timeout=4)
        result = pull_from_server(own.small, client=own.client, out=tmp_path, batch_size=15, retry=policy,
                                  say=lines.append)
    finally:
        thaw.cancel()
        os.killpg(pid, signal.SIGCONT)
    assert lines and "ReadTimeout" in lines[0] and "while reading project" in lines[0]
    assert_same_pull(result, own.reference[own.small], tmp_path)


# How a download that dies shows. The snapshot download has no Content-Length (seen: the body just ends when
# the server dies), so httpx often reports nothing and only the missing closing bracket tells.
CUT_SHORT = r"\((RemoteProtocolError: .*|ReadError: .*|sent an export cut short \(\d+ bytes, no closing bracket\))"


def kill_after_the_first_chunk(own: OwnServer, monkeypatch) -> list[bool]:
    """The download's first chunk arrives, then the server dies (a real death; the patch only times it)."""
    copy, killed = snapshots._copy_list_inside, []

    def dying(chunks, dest):
        def first_then_death():
            iterator = iter(chunks)
            yield next(iterator)
            if not killed:
                killed.append(True)
                own.kill()
            yield from iterator

        return copy(first_then_death(), dest)

    monkeypatch.setattr(snapshots, "_copy_list_inside", dying)
    return killed


@pytest.mark.server
@pytest.mark.slow
def test_a_download_that_dies_mid_stream_is_retried_from_a_clean_start(running, monkeypatch, tmp_path):
    own = running
    killed = kill_after_the_first_chunk(own, monkeypatch)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            own.start()

    policy = RetryPolicy(retries=3, first_wait=0.5, retry_for=600, timeout=120)
    result = pull_from_server(own.large, client=own.client, out=tmp_path, batch_size=0, retry=policy, say=say)
    assert killed and len(lines) == 1
    assert re.search(CUT_SHORT + r"\); retry 1/3", lines[0]), lines[0]
    assert_same_pull(result, own.reference[own.large], tmp_path)  # nothing of the broken attempt remains
    assert left_on_server(own, own.large) == []


@pytest.mark.server
@pytest.mark.slow
def test_a_download_that_dies_for_good_leaves_no_files(running, monkeypatch, tmp_path):
    own = running
    kill_after_the_first_chunk(own, monkeypatch)
    lines: list[str] = []
    policy = RetryPolicy(retries=1, first_wait=0.1, retry_for=60, timeout=60)
    with pytest.raises(ToolkitError, match=rf"cannot reach Label Studio at {own.url} while exporting project "
                                           r"\d+ .*gave up after 2 attempts.*nothing was written"):
        pull_from_server(own.large, client=own.client, out=tmp_path / "out", batch_size=0, retry=policy,
                         say=lines.append)
    assert len(lines) == 1 and re.search(CUT_SHORT, lines[0]), lines
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.server
@pytest.mark.slow
def test_a_download_cut_right_after_an_inner_bracket_is_caught_by_the_md5(running, monkeypatch, tmp_path):
    # Fault injection: no real server can be made to die exactly after an inner "]"; such a cut passes the
    # closing-bracket check, so only the MD5 Label Studio records for the snapshot can tell.
    own, copy, cut = running, snapshots._copy_list_inside, []

    def cut_after_an_inner_bracket(chunks, dest):
        raw = b"".join(chunks)
        if not cut:
            cut.append(True)
            raw = raw[:raw.rindex(b"]", 0, len(raw) - 1) + 1]
        return copy([raw], dest)

    monkeypatch.setattr(snapshots, "_copy_list_inside", cut_after_an_inner_bracket)
    lines: list[str] = []
    result = pull_from_server(own.small, client=own.client, out=tmp_path, batch_size=15,
                              retry=RetryPolicy(retries=1, first_wait=0.1), say=lines.append)
    assert len(lines) == 1 and re.search(r"batch 1/3: .*sent an export whose MD5 \w+\.\.\. is not the snapshot's "
                                         r"\w+\.\.\. \(\d+ bytes: cut short\?\)\); retry 1/1", lines[0]), lines
    assert_same_pull(result, own.reference[own.small], tmp_path)
