"""Pulls: the raw export kept byte for byte, documents and report beside it, never overwritten."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.articles import load_manifest_dir
from annotate.paths import SEEDS_DIR
from exports import pull as pull_module
from exports.labelstudio import document_to_results, entity_id_for, parse_export, results_to_document, stance_id_for
from exports.pull import latest_pull_docs, pull_from_file, pull_from_server
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
)

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
    # Fault injection: a real server does not send truncated JSON on demand.
    monkeypatch.setattr(pull_module, "fetch_export", lambda client, project_id: b'[{"id": 1, "data"')

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


# ---------------------------------------------------------------- against a real Label Studio


@pytest.mark.server
def test_pull_from_a_real_server(ls_server, ls_client, ls_project, tmp_path):
    from annotate.preload import task_data as preload_task_data

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
