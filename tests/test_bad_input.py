"""Bad input, end to end through the real CLI: one line on stderr saying what, where and how to fix it, exit 2,
no traceback, never a secret. One table, one parametrized test; docs/RELIABILITY.md lists the cases.

Most cases are also tested at function level in the module's own test file; here the whole path is exercised
(argument parsing, the ``ToolkitError`` -> exit 2 wrapper, the message as a user sees it). Which layer decides
is recorded per case: some problems in a Label Studio export are per item (a region, an annotation, a task) and
are *reported* in the pull report while the rest converts; those cases assert on the report and exit 0.
The Hypothesis fuzz test feeding arbitrary JSON to the export parser is in tests/test_labelstudio.py
(``test_any_json_gives_a_result_or_a_toolkit_error`` and its two siblings).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port

from schemas.paths import REPO_ROOT, SEEDS_DIR

SEED_EXPORT = REPO_ROOT / "seeds" / "annotations" / "seed-annotations.export.json"
SEED_GOLD = REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"
TOKEN = "s3cret-t0ken-never-shown-0123456789abcdef"  # a token no message may contain


@dataclass
class Ctx:
    """What a case's setup gets: a scratch directory, and the session's Label Studio on demand."""

    tmp: Path
    request: pytest.FixtureRequest
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    @property
    def server(self):
        server = self.request.getfixturevalue("ls_server")
        self.secrets += [server.token, server.admin_password]
        return server

    def use_server(self, token: str | None = None) -> None:
        """Point the CLI at the session server through the environment (state stays in our own home)."""
        self.env.update(ANNOTATE_LS_URL=self.server.url, ANNOTATE_LS_TOKEN=token or self.server.token)

    def record_project(self) -> None:
        project = self.request.getfixturevalue("ls_project")
        self.file("home/project.json", json.dumps(
            {"server_url": self.server.url, "project_id": project.id, "title": project.title}))


@dataclass(frozen=True)
class Case:
    setup: Callable[[Ctx], list[Any]]  # returns the CLI arguments
    expect: str  # regex: the error line (fatal), or a rejection/repair message in the pull report
    layer: str  # which layer decides, for the reader
    reported: str | None = None  # "rejections" or "repairs": per item, in the report; the pull succeeds
    server: bool = False  # needs the session's Label Studio
    writes: str | None = None  # a file (relative to the scratch dir) the command must not have written


# -- building inputs -------------------------------------------------------------------------------------------

SEED_STATEMENTS = REPO_ROOT / "seeds" / "annotations" / "statements" / "annotator-1.jsonl"


def statements_case(change: Callable[[dict], None], gold: Callable[[list[dict]], None] | None = None
                    ) -> Callable[[Ctx], list[Any]]:
    """`annotate statements adjudicate` on annotator-1's seed statements changed by ``change`` (and the seed gold
    changed by ``gold``): the statement layer's bad input, checked against the gold quotes."""
    def setup(ctx: Ctx) -> list[Any]:
        doc = json.loads(SEED_STATEMENTS.read_text(encoding="utf-8"))
        change(doc)
        statements = ctx.file("a.jsonl", json.dumps(doc) + "\n")
        gold_path = SEED_GOLD
        if gold is not None:
            docs = [json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines() if line]
            gold(docs)
            gold_path = ctx.file("gold.jsonl", "".join(json.dumps(d) + "\n" for d in docs))
        return ["statements", "adjudicate", statements, "--gold", gold_path, "--out", ctx.tmp / "gold-statements.jsonl"]
    return setup


def _missing_quote(doc: dict) -> None:
    doc["statements"][0]["renderings"][0]["quote_id"] = "q404"


def _duplicate_statement_id(doc: dict) -> None:
    doc["statements"][1]["id"] = doc["statements"][0]["id"]


def _two_speakers(doc: dict) -> None:
    putin = next(s for s in doc["statements"] if s["speaker_entity_id"] == "vladimir-putin")
    other = next(s for s in doc["statements"] if s["speaker_entity_id"] == "emmanuel-macron")
    putin["renderings"].append(other["renderings"].pop())
    doc["statements"] = [s for s in doc["statements"] if s["renderings"]]


def _renamed_entity(docs: list[dict]) -> None:
    for e in docs[2]["entities"]:
        if e["id"] == "vladimir-putin":
            e["name"] = "Vladimir Potanin"


def seed_task() -> dict:
    """The first task of the recorded seed export (a real Label Studio export), with one annotation."""
    task = json.loads(SEED_EXPORT.read_text(encoding="utf-8"))[0]
    task["annotations"] = task["annotations"][:1]
    return task


def export_with(change: Callable[[dict], None]) -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        task = seed_task()
        change(task)
        path = ctx.file("export.json", json.dumps([task]))
        return ["pull", "--from", path, "--out", ctx.tmp / "pull"]
    return setup


def results(task: dict) -> list[dict]:
    return task["annotations"][0]["result"]


def region(task: dict, region_id: str = "m1") -> dict:
    return next(r for r in results(task) if r["type"] == "labels" and r["id"] == region_id)


def relabel(task: dict) -> None:
    region(task)["value"]["labels"] = ["Speaker"]


def dangle_relation(task: dict) -> None:
    next(r for r in results(task) if r["type"] == "relation")["to_id"] = "ghost"


def move_out_of_range(text: str | None) -> Callable[[dict], None]:
    def change(task: dict) -> None:
        value = region(task)["value"]
        value.update(start=10**6, end=10**6 + 5)
        if text is not None:
            value["text"] = text
    return change


def edit_text(task: dict) -> None:
    task["data"]["text"] += " (edited in Label Studio)"


def start_as_string(task: dict) -> None:
    region(task)["value"]["start"] = "34"


def result_as_string(task: dict) -> None:
    task["annotations"][0]["result"] = "none"


def duplicate_region_id(task: dict) -> None:
    labels = [r for r in results(task) if r["type"] == "labels"]
    labels[1]["id"] = labels[0]["id"]


def foreign_control(task: dict) -> None:
    region(task)["from_name"] = "nosuch"


def consistent_other_text(task: dict) -> None:
    from schemas import sha256_of

    task["data"]["text"] = task["data"]["text"].replace("Friday", "Monday")
    task["data"]["sha256"] = sha256_of(task["data"]["text"])


def pull_against_seeds(change: Callable[[dict], None]) -> Callable[[Ctx], list[Any]]:
    base = export_with(change)
    return lambda ctx: [*base(ctx), "--articles", SEEDS_DIR]


def gold_lines() -> list[str]:
    return SEED_GOLD.read_text(encoding="utf-8").splitlines()


def broken_span_document() -> str:
    doc = json.loads(gold_lines()[0])
    doc["mentions"][0]["span"]["text"] = "XXX"
    return json.dumps(doc)


def as_annotator(line: str, annotator: str) -> str:
    doc = json.loads(line)
    doc["provenance"] = {"annotator": annotator, "origin": "label-studio"}
    return json.dumps(doc)


def pulled_seed_docs(ctx: Ctx) -> Path:
    from annotate.labelstudio.export import parse_export

    docs = parse_export(SEED_EXPORT.read_bytes()).documents
    return ctx.file("pulled.jsonl", "".join(d.model_dump_json() + "\n" for d in docs))


def published(ctx: Ctx) -> Path:
    from exports.dataset.publish import PublishRequest, publish

    out = ctx.tmp / "dataset"
    publish(PublishRequest(version="1.0.0", out=out, gold=[SEED_GOLD]))
    return out


def one_gold(ctx: Ctx) -> Path:
    return ctx.file("one-gold.jsonl", gold_lines()[0] + "\n")


def targets(payload: object) -> Callable[[Ctx], list[Any]]:
    return lambda ctx: ["schema", "--check", "--targets", ctx.file("targets.json", json.dumps(payload))]


def adjudicate_with_decisions(name: str, content: str) -> Callable[[Ctx], list[Any]]:
    return lambda ctx: ["adjudicate", pulled_seed_docs(ctx), "--out", ctx.tmp / "gold.jsonl",
                        "--decisions", ctx.file(name, content)]


def brat(ann: str, ann_name: str = "art_ann1.ann") -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        ctx.file("brat/art.txt", "Bob said hi.")
        ctx.file(f"brat/{ann_name}", ann)
        return ["import", "brat", ctx.tmp / "brat", "--out", ctx.tmp / "b.jsonl"]
    return setup


def citron(payload: object | str, name: str = "doc.json") -> Callable[[Ctx], list[Any]]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return lambda ctx: ["import", "citron", ctx.file(name, text), "--out", ctx.tmp / "c.jsonl"]


def citron_doc(**quote_changes: Any) -> dict:
    quote = {"cue": {"start": 4, "end": 8, "text": "said"}, "sources": [{"start": 0, "end": 3, "text": "Bob"}],
             "contents": [{"start": 9, "end": 12, "text": "hi."}], **quote_changes}
    return {"text": "Bob said hi.", "quotes": [quote]}


def articles(content: str | bytes, command: str = "extract") -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        path = ctx.file("articles.jsonl", content)
        return [command, path, "--out", ctx.tmp / "out.jsonl"]
    return setup


def manifest(content: str) -> Callable[[Ctx], list[Any]]:
    return lambda ctx: ["extract", ctx.file("corpus/manifest.json", content).parent, "--out", ctx.tmp / "o.jsonl"]


def env_only(**variables: str) -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        ctx.env.update(variables)
        return ["status"]
    return setup


def in_home(name: str, content: str, args: list[str], file_mode: int = 0o600) -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        os.chmod(ctx.file(f"home/{name}", content), file_mode)
        return args
    return setup


def wrong_token(ctx: Ctx) -> list[Any]:
    ctx.use_server(token=TOKEN)
    return ["status"]


def taken_port(ctx: Ctx) -> list[Any]:
    return ["server", "start", "--port", ctx.server.state.port]


def with_project(args: list[Any]) -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        ctx.use_server()
        ctx.record_project()
        return args
    return setup


def local_server(args: list[Any]) -> Callable[[Ctx], list[Any]]:
    def setup(ctx: Ctx) -> list[Any]:
        ctx.env["ANNOTATE_HOME"] = str(ctx.server.home)  # the local server's home: `annotators add` needs it
        return args
    return setup


def unreachable(ctx: Ctx) -> list[Any]:
    ctx.env.update(ANNOTATE_LS_URL=f"http://127.0.0.1:{free_port()}", ANNOTATE_LS_TOKEN=TOKEN)
    return ["status"]


# -- the table -------------------------------------------------------------------------------------------------

EXPORT, REPORT = "Label Studio export (annotate.labelstudio.export.load_export)", "per item, in the pull report"
GOLD_1 = json.dumps({"version": "1.0.0", "event": "e", "targets": [{"id": "a", "description": "x"}]})
LS = "Label Studio server (real)"

CASES: dict[str, Case] = {
    # Label Studio export: fatal when the file is not a task list at all
    "export-truncated-json": Case(
        lambda ctx: ["pull", "--from", ctx.file("export.json", SEED_EXPORT.read_text(encoding="utf-8")[:5000])],
        r"export\.json: invalid JSON at line \d+ column \d+ .*\(the file ends early: truncated download\?\); "
        r"download the export again", EXPORT),
    "export-not-a-task-list": Case(
        lambda ctx: ["pull", "--from", ctx.file("export.json", '{"tasks": []}')],
        r"export\.json: top level is a JSON dict, not a list of tasks; give a Label Studio JSON export", EXPORT),
    "export-not-utf8": Case(
        lambda ctx: ["pull", "--from", ctx.file("export.json", b"[\xff]")],
        r"export\.json: not UTF-8 at byte 1; give the JSON export file as Label Studio wrote it", EXPORT),
    "export-missing-file": Case(
        lambda ctx: ["pull", "--from", ctx.tmp / "nope.json"],
        r"nope\.json: no such file; give the JSON export downloaded from Label Studio", "pull CLI"),
    "pull-project-and-from": Case(
        lambda ctx: ["pull", "--from", ctx.tmp / "x.json", "--project", "3"],
        r"--project and --from exclude each other: pull from the server or convert a file", "pull CLI"),
    # Label Studio export: per item, reported, the rest converts
    "export-unknown-label": Case(
        export_with(relabel), r"region 'm1' .*has Speaker; a region needs exactly one of Content, Cue, Mention, Claim",
        REPORT, reported="rejections"),
    "export-relation-to-missing-region": Case(
        export_with(dangle_relation), r"relation \w+ '[^']+' -> 'ghost': region 'ghost' does not exist; "
                                      r"relation ignored", REPORT, reported="rejections"),
    "export-offsets-out-of-range-ambiguous": Case(
        export_with(move_out_of_range("Putin")),
        r"region 'm1': offsets \[1000000, 1000005\) cover '' but the region says 'Putin', which occurs \d+ times "
        r".*redraw the region in Label Studio", REPORT, reported="rejections"),
    "export-offsets-out-of-range-repaired": Case(
        export_with(move_out_of_range(None)), r"its text occurs exactly once in the article", REPORT,
        reported="repairs"),
    "export-text-hash-mismatch": Case(
        export_with(edit_text), r"task 1 \(article '000_77ccc7b56971afc5'\): data\.sha256 \w+\.\.\. does not match "
                                r"the task text .*re-import the task", REPORT, reported="rejections"),
    "export-wrong-type-offset": Case(
        export_with(start_as_string), r"result #0 \(region 'm1'\): labels result is malformed: value\.start: "
                                      r"Input should be a valid integer", REPORT, reported="rejections"),
    "export-wrong-type-result": Case(
        export_with(result_as_string), r"task 1 annotation #0: malformed \(result: Input should be a valid list\); "
                                       r"annotation left out", REPORT, reported="rejections"),
    "export-duplicate-region-ids": Case(
        export_with(duplicate_region_id), r"region id 'm1' is used by 2 regions; all are left out: delete the "
                                          r"duplicates in Label Studio", REPORT, reported="rejections"),
    "export-other-labeling-config": Case(
        export_with(foreign_control), r"labels from 'nosuch', expected 'span'; was the export made with another "
                                      r"labeling config\?", REPORT, reported="rejections"),
    "export-task-differs-from-given-articles": Case(
        pull_against_seeds(consistent_other_text),
        r"the task text differs from the article given .*the article changed since import: re-import it", REPORT,
        reported="rejections"),
    # Articles: JSONL, .txt folders, manifests (preload, extract)
    "articles-invalid-json-line-2": Case(
        articles('{"id": "a", "text": "x"}\n{bad\n'),
        r"articles\.jsonl:2: invalid JSON \(.*\); one article object per line", "schemas.articles"),
    "articles-line-not-an-object": Case(
        articles('{"id": "a", "text": "x"}\n[1]\n'), r"articles\.jsonl:2: expected a JSON object with id and text",
        "schemas.articles"),
    "articles-bad-id": Case(
        articles('{"id": "a b", "text": "x"}\n'),
        r"articles\.jsonl:1: id: String should match pattern .*; fix the line \(one article per line: id, text\)",
        "schemas.articles + schemas.Article"),
    "articles-hash-mismatch": Case(
        articles('{"id": "a", "text": "x", "sha256": "' + "0" * 64 + '"}\n'),
        r"articles\.jsonl:1: article 'a': sha256 0+\.\.\. does not match its text", "schemas.Article"),
    "articles-same-id-two-texts": Case(
        articles('{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n'),
        r"article id 'a' appears twice with different texts \(in .*articles\.jsonl and .*articles\.jsonl\); give "
        r"each article its own id", "schemas.articles"),
    "articles-not-utf8": Case(
        articles(b'{"id": "a", "text": "\xff"}\n'), r"articles\.jsonl: not UTF-8 at byte 21; convert the file to UTF-8",
        "schemas.articles"),
    "articles-manifest-entry-incomplete": Case(
        manifest('{"articles": [{"id": "a"}]}'),
        r"manifest\.json entry 0: file, sha256 missing or not a string; every entry needs id, file and sha256",
        "schemas.articles"),
    "articles-manifest-not-an-object": Case(
        manifest("[1, 2]"), r'manifest\.json: expected \{"articles": \[\.\.\.\]\}; see seeds/manifest\.json',
        "schemas.articles"),
    "preload-missing-path": Case(
        lambda ctx: ["preload", ctx.tmp / "nope"], r"nope: no such file or directory", "schemas.articles"),
    # Documents and predictions (JSONL of AnnotatedDocument)
    "docs-invalid-json-line-3": Case(
        lambda ctx: ["agreement", ctx.file("docs.jsonl", gold_lines()[0] + "\n\n{oops\n")],
        r"docs\.jsonl:3: invalid JSON \(.*\); one annotated document per line", "annotate.cli.agreement"),
    "docs-span-text-mismatch-line-2": Case(
        lambda ctx: ["agreement", ctx.file("docs.jsonl", gold_lines()[0] + "\n" + broken_span_document() + "\n")],
        r"docs\.jsonl:2: mentions\.0\.span: span \[\d+, \d+\) covers \d+ code points but its text has 3: offsets "
        r"must be Unicode code points; fix the document or pull again", "schemas.Span"),
    "docs-empty-file": Case(
        lambda ctx: ["adjudicate", ctx.file("docs.jsonl", "\n"), "--out", ctx.tmp / "gold.jsonl"],
        r"no annotated documents in .*docs\.jsonl; pass the JSONL of a pull", "exports.adjudication.run"),
    "docs-same-annotator-twice": Case(
        lambda ctx: ["adjudicate", ctx.file("docs.jsonl", "\n".join([as_annotator(gold_lines()[0], "ann")] * 2)),
                     "--out", ctx.tmp / "gold.jsonl"],
        r"docs\.jsonl:2: annotator 'ann' already has a document of article '000_77ccc7b56971afc5' at "
        r".*docs\.jsonl:1; keep one per annotator and article", "exports.corpus"),
    "predictions-bad-line-2": Case(
        lambda ctx: ["evaluate", "--gold", SEED_GOLD, "--pred", ctx.file("pred.jsonl", gold_lines()[0] + "\n{x\n")],
        r"pred\.jsonl:2: invalid JSON \(.*\); one annotated document per line",
        "exports.evaluation_inputs"),
    "predictions-missing-file": Case(
        lambda ctx: ["evaluate", "--gold", SEED_GOLD, "--pred", ctx.tmp / "pred.jsonl"],
        r"--pred .*pred\.jsonl: no such file; give a JSONL file of AnnotatedDocument", "exports.evaluation_inputs"),
    "gold-that-is-not-gold": Case(
        lambda ctx: ["publish", pulled_seed_docs(ctx), "--version", "1.0.0", "--out", ctx.tmp / "ds"],
        r"pulled\.jsonl:1: provenance says annotator 'annotator-1@example\.org', origin 'label-studio', not gold; "
        r"pass raw per-annotator documents with --annotations", "exports.dataset.publish"),
    # BRAT
    "brat-not-a-directory": Case(
        lambda ctx: ["import", "brat", ctx.tmp / "nope", "--out", ctx.tmp / "b.jsonl"],
        r"nope: not a directory; give a BRAT folder", "annotate.formats.brat"),
    "brat-span-text-mismatch": Case(
        brat("T1\tSource 0 3\tBob\nT2\tContent 9 12\tHEY\n"),
        r"art_ann1\.ann:2: T2 says 'HEY' but the article has 'hi\.' at 9 12; the \.ann does not belong to this text",
        "annotate.formats.brat"),
    "brat-offsets-past-the-end": Case(
        brat("T1\tSource 0 30\tBob\n"),
        r"art_ann1\.ann:1: T1 offsets 0 30 are empty or past the article's 12 code points; fix the offsets",
        "annotate.formats.brat"),
    "brat-undefined-reference": Case(
        brat("T1\tSource 0 3\tBob\nE1\tAttribution:T9 Content:T1\n"),
        r"art_ann1\.ann:2: T9 is not defined in this file; add its T line or fix the reference",
        "annotate.formats.brat"),
    "brat-malformed-event": Case(
        brat("T1\tSource 0 3\tBob\nE1\tgarbage\n"),
        r"art_ann1\.ann:2: malformed event line; expected 'E<n><TAB><Type>:<T-id> <Role>:<T-id> \.\.\.'",
        "annotate.formats.brat"),
    "brat-duplicate-id": Case(
        brat("T1\tSource 0 3\tBob\nT1\tSource 0 3\tBob\n"),
        r"art_ann1\.ann:2: id T1 is used twice; give each annotation its own id", "annotate.formats.brat"),
    "brat-file-without-annotator": Case(
        brat("T1\tSource 0 3\tBob\n", ann_name="art.ann"),
        r"art\.ann: name has no annotator; rename it to <article>_<annotator>\.ann", "annotate.formats.brat"),
    # Citron
    "citron-invalid-json": Case(
        citron("{"), r"doc\.json: invalid JSON \(.*, column 2\); fix the file", "annotate.formats.citron"),
    "citron-not-an-object": Case(
        citron([1]), r'doc\.json: document 0: expected a JSON object with "text" and "quotes", got int',
        "annotate.formats.citron"),
    "citron-span-text-mismatch": Case(
        citron(citron_doc(contents=[{"start": 9, "end": 12, "text": "hey"}])),
        r"doc\.json: quotes\[0\]\.contents\[0\]: says 'hey' but the text has 'hi\.' at \[9, 12\).*; fix the span or "
        r"the text", "annotate.formats.citron"),
    "citron-offsets-out-of-range": Case(
        citron(citron_doc(contents=[{"start": 9, "end": 40, "text": "hi."}])),
        r"doc\.json: quotes\[0\]\.contents\[0\]: offsets \[9, 40\) are empty, reversed or outside the text's 12 "
        r"code points", "annotate.formats.citron"),
    "citron-wrong-type": Case(
        citron({"text": "Bob said hi.", "quotes": "none"}),
        r"doc\.json: quotes: input should be a valid list, got 'none'; fix the value", "annotate.formats.citron"),
    "citron-jsonl-bad-line-2": Case(
        citron(json.dumps(citron_doc()) + "\n{\n", name="docs.jsonl"),
        r"docs\.jsonl:2: invalid JSON \(.*\); fix the file", "annotate.formats.citron"),
    # Target inventory
    "targets-invalid-json": Case(
        lambda ctx: ["schema", "--check", "--targets", ctx.file("targets.json", "{")],
        r"targets\.json: Invalid JSON: .*; fix the target inventory \(format: seeds/targets\.json\)",
        "schemas.articles.load_targets"),
    "targets-duplicate-id": Case(
        targets({"version": "1.0.0", "event": "e",
                 "targets": [{"id": "a", "description": "x"}, {"id": "a", "description": "y"}]}),
        r"targets\.json: targets: target id 'a' appears more than once; fix the target inventory",
        "schemas.TargetInventory"),
    "targets-empty": Case(
        targets({"version": "1.0.0", "event": "e", "targets": []}),
        r"targets\.json: targets: List should have at least 1 item", "schemas.TargetInventory"),
    "targets-bad-version": Case(
        targets({"version": "one", "event": "e", "targets": [{"id": "a", "description": "x"}]}),
        r"targets\.json: version: String should match pattern", "schemas.TargetInventory"),
    # Decisions file
    "decisions-invalid-json": Case(
        adjudicate_with_decisions("decisions.json", "{"),
        r"decisions\.json:1: invalid JSON \(.*\); write \{\"<conflict id>\": ", "exports.adjudication.decisions"),
    "decisions-invalid-yaml": Case(
        adjudicate_with_decisions("decisions.yaml", "a: [\n"),
        r"decisions\.yaml:2: invalid YAML \(.*\); write `conflict id: ", "exports.adjudication.decisions"),
    "decisions-not-a-mapping": Case(
        adjudicate_with_decisions("decisions.json", "[]"),
        r"decisions\.json: expected a mapping of conflict id to decision, found list",
        "exports.adjudication.decisions"),
    "decisions-two-actions": Case(
        adjudicate_with_decisions("decisions.json", '{"x": {"accept": "a", "reject": true, "reason": "r"}}'),
        r"decisions\.json: conflict 'x': give exactly one of accept, reject, value \(got accept, reject\); a "
        r"decision is accept: <annotator>", "exports.adjudication.decisions.Decision"),
    "decisions-no-reason": Case(
        adjudicate_with_decisions("decisions.json", '{"x": {"accept": "a"}}'),
        r"decisions\.json: conflict 'x': reason: Field required", "exports.adjudication.decisions.Decision"),
    "decisions-unknown-annotator": Case(
        adjudicate_with_decisions("decisions.json", json.dumps(
            {"000_77ccc7b56971afc5/claim/772-840": {"accept": "nobody@example.org", "reason": "r"}})),
        r"decisions\.json: conflict '000_77ccc7b56971afc5/claim/772-840': accept 'nobody@example\.org' is not one "
        r"of its versions \(annotator-1@example\.org\); accept one of those", "exports.adjudication.rules"),
    # CLI arguments
    "publish-bad-version": Case(
        lambda ctx: ["publish", SEED_GOLD, "--version", "1.0", "--out", ctx.tmp / "ds"],
        r"--version '1\.0': not a semantic version; give MAJOR\.MINOR\.PATCH such as 1\.0\.0",
        "exports.dataset.release"),
    "publish-existing-version-other-content": Case(
        lambda ctx: ["publish", one_gold(ctx), "--version", "1.0.0", "--out", published(ctx)],
        r"--version 1\.0\.0: already published in .*dataset with different content \(fingerprint \w+\.\.\., now "
        r"\w+\.\.\.\); a published version is immutable: publish the new content under a higher version",
        "exports.dataset.release"),
    "publish-version-below-latest": Case(
        lambda ctx: ["publish", one_gold(ctx), "--version", "0.9.0", "--out", published(ctx)],
        r"--version 0\.9\.0: below the latest release 1\.0\.0 in .*releases\.json; versions only go up: publish "
        r"1\.0\.1 or higher",
        "exports.dataset.release"),
    "publish-missing-gold": Case(
        lambda ctx: ["publish", ctx.tmp / "gold.jsonl", "--version", "1.0.0", "--out", ctx.tmp / "ds"],
        r"GOLD .*gold\.jsonl: no such file; give a JSONL file of AnnotatedDocument", "exports.dataset.publish"),
    "publish-out-not-a-dataset": Case(
        lambda ctx: ["publish", SEED_GOLD, "--version", "1.0.0", "--out", ctx.file("other/x.txt", "x").parent],
        r"other: exists but holds no releases\.json, so it is not a dataset published by `annotate publish`; "
        r"choose a new or empty folder for --out",
        "exports.dataset.release"),
    "majority-zero": Case(
        lambda ctx: ["adjudicate", SEED_GOLD, "--out", ctx.tmp / "g.jsonl", "--majority", "0"],
        r"--majority '0': a count must be 1 or more; give a count of annotators \(e\.g\. 2\)",
        "exports.adjudication.decisions"),
    "majority-fraction-above-one": Case(
        lambda ctx: ["adjudicate", SEED_GOLD, "--out", ctx.tmp / "g.jsonl", "--majority", "1.5"],
        r"--majority '1\.5': a fraction must be above 0 and at most 1", "exports.adjudication.decisions"),
    "majority-not-a-number": Case(
        lambda ctx: ["adjudicate", SEED_GOLD, "--out", ctx.tmp / "g.jsonl", "--majority", "most"],
        r"--majority 'most': not a number; give a count of annotators", "exports.adjudication.decisions"),
    "adjudicate-out-is-an-input": Case(
        lambda ctx: ["adjudicate", (docs := ctx.file("d.jsonl", gold_lines()[0] + "\n")), "--out", docs],
        r"--out .*d\.jsonl is one of the inputs; write the gold to another file", "exports.adjudication.run"),
    "evaluate-split-of-a-jsonl": Case(
        lambda ctx: ["evaluate", "--gold", SEED_GOLD, "--pred", SEED_GOLD, "--split", "test"],
        r"--split test: only a release folder has splits, and --gold .*gold\.jsonl is not a folder; drop --split",
        "exports.evaluation_inputs"),
    "agreement-missing-file": Case(
        lambda ctx: ["agreement", ctx.tmp / "docs.jsonl"], r"docs\.jsonl: no such file; check the path",
        "schemas.files.iter_lines"),
    # Configuration
    "config-url-not-http": Case(
        env_only(ANNOTATE_LS_URL="localhost:8080", ANNOTATE_LS_TOKEN=TOKEN),
        r"Label Studio URL 'localhost:8080' \(from environment\) is not an http\(s\) URL; e\.g\. "
        r"http://127\.0\.0\.1:8080", "annotate.labelstudio.connection"),
    "config-url-unparseable": Case(
        env_only(ANNOTATE_LS_URL="http://[::1", ANNOTATE_LS_TOKEN=TOKEN),
        r"Label Studio URL 'http://\[::1' \(from environment\) cannot be parsed \(Invalid IPv6 URL\); e\.g\. "
        r"http://127\.0\.0\.1:8080", "annotate.labelstudio.connection"),
    "config-url-without-token": Case(
        env_only(ANNOTATE_LS_URL="http://127.0.0.1:8080"),
        r"ANNOTATE_LS_TOKEN is not set while ANNOTATE_LS_URL is; set both or neither",
        "annotate.labelstudio.connection"),
    "config-server-unreachable": Case(
        unreachable, r"cannot reach Label Studio at http://127\.0\.0\.1:\d+ while connecting \(token from "
                     r"environment\) .*; start it with `annotate server start` or check ANNOTATE_LS_URL",
        "annotate.labelstudio.sdk_errors"),
    "config-no-server-at-all": Case(
        lambda ctx: ["status"], r"no Label Studio server: run `annotate server start`, or set ANNOTATE_LS_URL and "
                                r"ANNOTATE_LS_TOKEN", "annotate.labelstudio.connection"),
    "config-remote-file-readable-by-others": Case(
        in_home("label-studio.json", json.dumps({"url": "http://127.0.0.1:9", "token": TOKEN}), ["status"], 0o644),
        r"label-studio\.json: mode 644 lets other users read secrets; run `chmod 600 .*label-studio\.json`",
        "annotate.labelstudio.credentials"),
    "config-credentials-invalid-json": Case(
        in_home("credentials.json", "{", ["server", "start", "--port", free_port()]),
        r"credentials\.json:1: invalid JSON \(.*\); fix it or delete it to start over",
        "annotate.labelstudio.credentials"),
    "config-server-state-corrupt": Case(
        in_home("server.json", "{bad", ["server", "status"]),
        r"server\.json: Invalid JSON: .*; delete it if no server is running", "annotate.labelstudio.server"),
    "config-wrong-token": Case(
        wrong_token, r"Label Studio at http://127\.0\.0\.1:\d+ refused the API token \(401\) while connecting \(token "
                     r"from environment\); check ANNOTATE_LS_TOKEN", LS, server=True),
    "config-port-taken": Case(
        taken_port, r"port \d+ on 127\.0\.0\.1 is already in use; stop whatever listens there or pass --port",
        "annotate.labelstudio.server", server=True),
    "preload-batch-size-zero": Case(
        with_project(["preload", SEEDS_DIR, "--batch-size", "0", "--no-predictions"]),
        r"--batch-size 0: give 1 or more tasks per request", "annotate.labelstudio.preload", server=True),
    "init-maximum-annotations-zero": Case(
        with_project(["init", "--maximum-annotations", "0"]),
        r"--maximum-annotations 0: give 1 or more annotations per article",
        "annotate.labelstudio.project", server=True),
    "statements-rendering-of-missing-quote": Case(
        statements_case(_missing_quote),
        r"a\.jsonl:1: statement 's-000_77ccc7b56971afc5-q1': rendering '000_77ccc7b56971afc5/q404' points at quote "
        r"'q404', which article '000_77ccc7b56971afc5' does not have; link only the quotes of the gold documents "
        r"given with them",
        "schemas.statements.GoldQuotes.check", writes="gold-statements.jsonl"),
    "statements-two-with-one-id": Case(
        statements_case(_duplicate_statement_id),
        r"a\.jsonl:1: statement id 's-000_77ccc7b56971afc5-q1' is used by two statements; give each its own id; "
        r"fix the statements file", "schemas.statements.StatementDocument", writes="gold-statements.jsonl"),
    "statements-renderings-of-two-speakers": Case(
        statements_case(_two_speakers),
        r"a\.jsonl:1: statement 's-000_77ccc7b56971afc5-q1': rendering '\w+/q\d+' is spoken by 'emmanuel-macron', "
        r"not by the statement's speaker 'vladimir-putin'; a statement has one speaker",
        "schemas.statements.GoldQuotes.check", writes="gold-statements.jsonl"),
    "statements-entity-id-for-two-names": Case(
        statements_case(lambda doc: None, _renamed_entity),
        r"a\.jsonl:1: entity id 'vladimir-putin' names 'Vladimir Putin' in article '000_77ccc7b56971afc5' but "
        r"'Vladimir Potanin' in article '002_b85bb421de1e3324'; one entity id must name one entity across a story",
        "schemas.statements.check_entities_across_articles", writes="gold-statements.jsonl"),
    "annotators-add-bad-email": Case(
        local_server(["annotators", "add", "not-an-email"]),
        r"'not-an-email' is not an email address; annotators log in with their email",
        "annotate.labelstudio.annotators",
        server=True),
}


@pytest.mark.parametrize("case", [pytest.param(case, id=name, marks=[pytest.mark.server] if case.server else [])
                                  for name, case in CASES.items()])
def test_bad_input_gives_one_clear_line_and_exit_2(case: Case, tmp_path: Path, request: pytest.FixtureRequest):
    ctx = Ctx(tmp=tmp_path, request=request, env={
        "ANNOTATE_HOME": str(tmp_path / "home"), "ANNOTATE_LS_URL": "", "ANNOTATE_LS_TOKEN": "",
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    args = case.setup(ctx)
    done = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **ctx.env})
    assert "Traceback" not in done.stderr, done.stderr
    shown = done.stdout + done.stderr
    for secret in (TOKEN, *ctx.secrets):  # never the token, not even the part a redaction would hide
        assert secret[:12] not in shown
    if case.reported:
        # Decided per item: the pull succeeds, and the report says what was left out (or repaired) and why.
        assert done.returncode == 0 and done.stderr == "", done.stderr
        [report_path] = (tmp_path / "pull").glob("*.report.json")
        messages = [item.get("message") or item.get("reason") for item in json.loads(report_path.read_text())[
            case.reported]]
        assert any(re.search(case.expect, m) for m in messages), messages
        return
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert re.search(case.expect, done.stderr), done.stderr
    if case.writes is not None:
        assert not (tmp_path / case.writes).exists() and not list(tmp_path.glob("*.conflicts.json"))


def test_reliability_table_lists_every_case_and_only_tests_that_exist():
    doc = (REPO_ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    assert [name for name in CASES if f"| `{name}` |" not in doc] == []
    named = re.findall(r"tests/(test_\w+\.py)::(test_\w+)", doc)
    assert len(named) > 10
    missing = [f"{file}::{test}" for file, test in named
               if f"def {test}(" not in (REPO_ROOT / "tests" / file).read_text(encoding="utf-8")]
    assert missing == []
