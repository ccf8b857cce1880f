"""``annotate extract --input ARCHIVE``: Parquet in, partitioned Parquet predictions out, N workers, crash-safe."""

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # before `datasets` is imported: loading must stay local
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import random
import signal
import subprocess
import sys
import time as time_module
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.extract.model.train import train_model
from exports.archive import batch as batch_module
from exports.archive import output
from exports.archive.batch import Extractor, ExtractorSpec, extractor_for
from exports.archive.local_run import run_archive
from exports.archive.predictions import read_predictions
from exports.archive.source import HIVE_NULL, ArchiveSource, ColumnMap
from exports.dataset.configs import ANNOTATIONS, ARTICLES
from exports.dataset.rows import annotation_document, annotation_row
from schemas import Article, ToolkitError, sha256_of
from schemas.documents import read_documents
from schemas.paths import REPO_ROOT

CLI = [sys.executable, "-c", "from annotate.cli import main; main()"]
POLNEAR_DEV_TEXT = next((p for p in (Path("/work/shared/corpora/polnear/dev/text"),
                                     REPO_ROOT.parent / "shared/corpora/polnear/dev/text") if p.is_dir()), None)
SYNTHETIC = 300
POLNEAR_TEXTS = 20
BATCH = 40

NAMES = ["Jane Smith", "Omar Haddad", "Li Wei", "Maria Garcia", "Vladimir Putin", "Emmanuel Macron"]
OUTLETS = ["Daily Planet", "The Herald", "News/Now", None, ""]
SENTENCES = [
    '"We will cut taxes for every working family in this state," said {n}.',
    "{n} said that the new plan would create thousands of jobs next year.",
    "The council met on Tuesday to discuss the budget and the new bridge.",
    '"This is a disaster for our schools and for our children," {n} warned.',
    "According to {n}, the vote was delayed because of a procedural dispute.",
    '"We strongly oppose any deployment of foreign troops in Ukraine," said {n} on Friday.',
    "{n} said that Europe supports security guarantees for Ukraine from its Western partners.",
]


def synthetic_rows(n: int, seed: int = 7, prefix: str = "a") -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text = " ".join(rng.choice(SENTENCES).format(n=rng.choice(NAMES)) for _ in range(rng.randint(2, 5)))
        rows.append({"id": f"{prefix}{i:04d}", "title": f"Story {i}", "outlet": rng.choice(OUTLETS),
                     "published": None if i % 7 == 0 else date(2016, 9, 1) + timedelta(days=rng.randint(0, 4)),
                     "story": f"s{i % 11}", "text": text})
    return rows


def polnear_rows() -> list[dict]:
    if POLNEAR_DEV_TEXT is None:
        return []
    files = sorted(POLNEAR_DEV_TEXT.glob("*.txt"))[:POLNEAR_TEXTS]
    return [{"id": f.stem, "title": None, "outlet": f.stem.split("_")[0], "published": None, "story": None,
             "text": f.read_bytes().decode("utf-8")} for f in files]


SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("outlet", pa.string()),
                    ("published", pa.date32()), ("story", pa.string()), ("text", pa.string())])


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema = SCHEMA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})


def run(source: Path, out: Path, **options) -> object:
    options.setdefault("batch_size", BATCH)
    options.setdefault("partition_by", "outlet")
    return run_archive(ArchiveSource.open(source), out, **options)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return synthetic_rows(SYNTHETIC) + polnear_rows()


@pytest.fixture(scope="module")
def archive(tmp_path_factory, rows) -> Path:
    """A directory of three Parquet files (a batch spans two of them) and a file Spark would leave beside them."""
    root = tmp_path_factory.mktemp("archive") / "in"
    write_parquet(root / "part-0.parquet", rows[:170])
    write_parquet(root / "part-1.parquet", rows[170:SYNTHETIC])
    write_parquet(root / "part-2.parquet", rows[SYNTHETIC:])
    (root / "_SUCCESS").write_text("")
    return root


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory, archive) -> Path:
    out = tmp_path_factory.mktemp("one") / "out"
    run(archive, out, workers=1)
    return out


def read(path: Path, columns: list[str] | None = None) -> pa.Table:
    return pq.ParquetFile(path).read(columns=columns)  # read_table would add the partition folder's column


def part_ids(out: Path, config: str, column: str) -> Counter:
    return Counter(i for p in (out / config).rglob("part-*.parquet") for i in read(p, [column])[column].to_pylist())


# -- the run --------------------------------------------------------------------------------------------------


def test_two_workers_write_what_one_writes_byte_for_byte(tmp_path, archive, one_worker, rows):
    result = run(archive, tmp_path / "out", workers=2)
    assert tree(tmp_path / "out") == tree(one_worker)
    assert result.batches == -(-len(rows) // BATCH) and result.resumed == 0
    assert part_ids(one_worker, "articles", "id") == Counter(r["id"] for r in rows)
    assert part_ids(one_worker, "annotations", "article_id") == Counter(r["id"] for r in rows)


def test_each_article_is_in_the_folder_of_its_outlet(one_worker, rows):
    expected = {r["id"]: r["outlet"] or None for r in rows}
    folders = set()
    for path in (one_worker / "articles").rglob("part-*.parquet"):
        folders.add(path.parent.name)
        for article_id, outlet in zip(*read(path, ["id", "outlet"]).to_pydict().values()):
            assert path.parent.name == output.partition_folder("outlet", {"outlet": outlet})
            assert (outlet or None) == expected[article_id]
        sibling = one_worker / "annotations" / path.relative_to(one_worker / "articles")
        assert sorted(read(sibling)["article_id"].to_pylist()) == sorted(read(path)["id"].to_pylist())
    assert {"outlet=Daily%20Planet", "outlet=News%2FNow", f"outlet={HIVE_NULL}"} <= folders  # "" and null together
    assert not any(p.name.startswith(".") for p in (one_worker / "articles").rglob("*"))


def test_partition_by_date_or_not_at_all(tmp_path, archive):
    run(archive, tmp_path / "by-date", workers=1, partition_by="published")
    folders = {p.name for p in (tmp_path / "by-date" / "annotations").iterdir()}
    assert folders == {f"published={date(2016, 9, d).isoformat()}" for d in range(1, 6)} | {f"published={HIVE_NULL}"}
    run(archive, tmp_path / "flat", workers=1, partition_by=None)
    assert all(p.parent.name == "articles" for p in (tmp_path / "flat" / "articles").rglob("*.parquet"))
    manifest = json.loads((tmp_path / "flat" / "manifest.json").read_text())
    assert manifest["configs"]["annotations"] == "annotations/*.parquet" and manifest["partition_by"] is None


def test_the_predictions_read_back_are_those_of_the_jsonl_command(tmp_path, archive, one_worker, rows):
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text("".join(json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()
                                         if v is not None}) + "\n" for r in rows), encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(app, ["extract", str(jsonl), "--out", str(pred)])
    assert result.exit_code == 0, result.output
    expected = {d.article.id: d.model_dump() for d in read_documents([pred])}
    got = {d.article.id: d.model_dump() for d in read_predictions(one_worker)}
    assert got == expected
    assert sum(len(d["quotes"]) for d in got.values()) > len(rows)  # the data exercises every layer
    assert sum(len(d["stances"]) for d in got.values()) and sum(len(d["claims"]) for d in got.values())
    manifest = json.loads((one_worker / "manifest.json").read_text())
    assert manifest["counts"]["quotes"] == sum(len(d["quotes"]) for d in got.values())


def test_datasets_loads_both_configs_offline_with_their_features(tmp_path, one_worker, rows):
    from datasets import load_dataset

    annotations = load_dataset(str(one_worker), "annotations", split="train", cache_dir=str(tmp_path / "cache"))
    assert annotations.features == ANNOTATIONS.features
    assert sorted(annotations["article_id"]) == sorted(r["id"] for r in rows)
    assert set(annotations["origin"]) == {"prediction"} and set(annotations["annotator"]) == {"baseline-0.2.0"}
    articles = load_dataset(str(one_worker), "articles", split="train", cache_dir=str(tmp_path / "cache"))
    assert articles.features == ARTICLES.features
    by_id = {a["id"]: a for a in articles}
    assert all(by_id[r["id"]]["text"] == r["text"] and by_id[r["id"]]["sha256"] == sha256_of(r["text"]) for r in rows)


def test_a_trained_model_runs_in_the_workers(tmp_path, archive, rows):
    model = tmp_path / "seeds.model"
    gold = read_documents([REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"])
    train_model(gold, model, source="seeds", params={"max_iterations": 20})
    spec = ExtractorSpec(model=str(model))
    run(archive, tmp_path / "one", workers=1, spec=spec)
    result = run(archive, tmp_path / "two", workers=2, spec=spec)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    name = extractor_for(spec).name
    assert result.extractor == name != "baseline-0.2.0"
    docs = list(read_predictions(tmp_path / "two"))
    assert {d.provenance.annotator for d in docs} == {name} and len(docs) == len(rows)


# -- crashes and reruns -----------------------------------------------------------------------------------------


def test_a_worker_that_dies_loses_nothing_and_the_rerun_duplicates_nothing(tmp_path, archive, one_worker, rows,
                                                                           monkeypatch):
    parent, real = os.getpid(), extractor_for(ExtractorSpec())
    victim = rows[4 * BATCH + 3]["id"]  # in batch 5

    def dies_in_a_worker(article):
        if article.id == victim and os.getpid() != parent:
            os._exit(1)  # as the kernel's OOM killer would end it: no exception, no cleanup
        return real.quotes(article)

    monkeypatch.setitem(batch_module._LOADED, ExtractorSpec(), Extractor(
        real.quotes.__class__(real.name, dies_in_a_worker), real.targets))
    out = tmp_path / "out"
    total = -(-len(rows) // BATCH)
    with pytest.raises(ToolkitError, match=rf"a worker process died .*; \d+ of {total} batches done; run the same "
                                           "command again to finish"):
        run(archive, out, workers=2)
    done = len(output.finished(out))
    assert 0 < done < total and not (out / "manifest.json").exists()
    monkeypatch.undo()
    result = run(archive, out, workers=2)
    assert result.resumed == done
    assert part_ids(out, "articles", "id") == Counter(r["id"] for r in rows)  # every article exactly once
    assert tree(out) == tree(one_worker)


def test_a_run_killed_between_its_files_and_a_marker_is_finished_cleanly(tmp_path, archive, one_worker):
    out = tmp_path / "out"
    run(archive, out, workers=1)
    # As a run killed mid-batch leaves it: batch 3's parts (one of them stale) but no marker, a temp file,
    # no card or manifest; and batch 6's marker kept while one of its parts went missing.
    (out / output.PROGRESS / "batch-000003.json").unlink()
    stale = next((out / "annotations").rglob("part-000003.parquet"))
    stale.write_bytes(b"half a file")
    (stale.parent / ".part-000004.parquet.x1y2.tmp").write_bytes(b"never renamed")
    stray = out / "articles" / "outlet=Gone" / "part-000003.parquet"  # a part the rerun itself would not replace
    stray.parent.mkdir()
    stray.write_bytes(stale.read_bytes())
    next((out / "articles").rglob("part-000006.parquet")).unlink()
    (out / "manifest.json").unlink()
    (out / "README.md").unlink()
    result = run(archive, out, workers=2)
    assert result.resumed == result.batches - 2
    assert tree(out) == tree(one_worker)


def test_a_run_killed_outright_is_finished_by_the_same_command(tmp_path, archive):
    clean, out = tmp_path / "clean", tmp_path / "out"
    run(archive, clean, workers=1, batch_size=5)
    args = ["extract", "--input", str(archive), "--out", str(out), "--workers", "2", "--batch-size", "5",
            "--partition-by", "outlet"]
    proc = subprocess.Popen([*CLI, *args], cwd=REPO_ROOT, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        while len(output.finished(out)) < 4 and proc.poll() is None:
            time_module.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-run
        proc.wait()
    done = len(output.finished(out))
    assert proc.returncode == -signal.SIGKILL and 4 <= done < -(-SYNTHETIC // 5), done
    assert cli(*args).returncode == 0
    assert tree(out) == tree(clean)


def test_a_finished_run_reruns_as_a_no_op_and_other_options_are_refused(tmp_path, archive, one_worker):
    out = tmp_path / "out"
    run(archive, out, workers=1)
    before = tree(out)
    assert run(archive, out, workers=2).resumed == run(archive, out, workers=2).batches
    assert tree(out) == before
    with pytest.raises(ToolkitError, match=r"holds a run with another --batch-size, --partition-by; give a new --out, "
                                           "or --overwrite"):
        run(archive, out, workers=1, batch_size=BATCH + 1, partition_by="story")
    assert tree(out) == before
    run(archive, out, workers=1, batch_size=BATCH + 1, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["batch_size"] == BATCH + 1
    assert not list((out / "articles").rglob(f"part-{-(-SYNTHETIC // BATCH) + 5:06d}.parquet"))


# -- the input ----------------------------------------------------------------------------------------------------


def test_mapped_columns_integer_ids_hive_folders_and_a_given_sha256(tmp_path):
    rows = synthetic_rows(12)
    mapped = [{"doc": i, "body": r["text"], "source": r["outlet"],
               "day": None if r["published"] is None else datetime.combine(r["published"], time(13, 30)),
               "sha": sha256_of(r["text"]) if i % 2 else None} for i, r in enumerate(rows)]
    schema = pa.schema([("doc", pa.int64()), ("body", pa.large_string()), ("source", pa.string()),
                        ("day", pa.timestamp("s")), ("sha", pa.string())])
    write_parquet(tmp_path / "in" / "language=de" / "x.parquet", mapped, schema)
    columns = ColumnMap.from_options("doc", "body", ["outlet=source", "published=day", "sha256=sha"])
    source = ArchiveSource.open(tmp_path / "in", columns)
    assert source.check() == 12
    [(number, articles)] = list(source.batches(100))
    assert number == 1 and [a.id for a in articles] == [str(i) for i in range(12)]
    assert {a.language for a in articles} == {"de"}  # from the folder name
    assert [a.outlet for a in articles] == [r["outlet"] for r in rows]
    assert [a.published for a in articles] == [r["published"] for r in rows]
    run_archive(source, tmp_path / "out", workers=1, partition_by="language")
    assert {p.name for p in (tmp_path / "out" / "articles").iterdir()} == {"language=de"}


@pytest.mark.parametrize("build, message", [
    (lambda rows: [{**r, "sha256": "0" * 64} for r in rows], r"in\.parquet row 0: .*sha256 000000000000\.\.\. does "
                                                              "not match its text"),
    (lambda rows: [{**r, "id": "bad id"} if i == 3 else r for i, r in enumerate(rows)], r"row 3: id: String should "
                                                                                         "match pattern"),
    (lambda rows: [{**r, "id": None} if i == 2 else r for i, r in enumerate(rows)], r"row 2: the article id is null"),
])
def test_bad_rows_are_found_before_anything_is_written(tmp_path, build, message):
    rows = build(synthetic_rows(5))
    schema = SCHEMA.append(pa.field("sha256", pa.string())) if "sha256" in rows[0] else SCHEMA
    write_parquet(tmp_path / "in.parquet", rows, schema)
    with pytest.raises(ToolkitError, match=message):
        run(tmp_path / "in.parquet", tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("options, message", [
    (["outlet"], r"--column 'outlet': give FIELD=COLUMN"),
    (["author=byline"], r"'author' is not an article field; map one of title, outlet"),
    (["outlet=a", "outlet=b"], r"outlet is mapped twice"),
])
def test_bad_column_options(options, message):
    with pytest.raises(ToolkitError, match=message):
        ColumnMap.from_options(columns=options)


def test_bad_archives_and_options_are_refused(tmp_path, archive):
    (tmp_path / "empty").mkdir()
    (tmp_path / "not.parquet").write_text("id,text\n")
    write_parquet(tmp_path / "int-title.parquet", [{"id": "a", "text": "t", "title": 3}],
                  pa.schema([("id", pa.string()), ("text", pa.string()), ("title", pa.int32())]))
    write_parquet(tmp_path / "no-rows.parquet", [])
    for path, message in [(tmp_path / "missing", "no such file or directory"),
                          (tmp_path / "empty", "no .parquet files in this directory"),
                          (tmp_path / "not.parquet", "not a readable Parquet file"),
                          (tmp_path / "int-title.parquet", r"column 'title' \(the article title\) holds int32")]:
        with pytest.raises(ToolkitError, match=message):
            ArchiveSource.open(path)
    with pytest.raises(ToolkitError, match="no articles"):
        run(tmp_path / "no-rows.parquet", tmp_path / "out", workers=1)
    with pytest.raises(ToolkitError, match="no column 'byline' for the article outlet; its columns are id, title"):
        ArchiveSource.open(archive, ColumnMap.from_options(columns=["outlet=byline"]))
    for options, message in [({"workers": 0}, "--workers 0"), ({"batch_size": 0}, "--batch-size 0"),
                             ({"partition_by": "title"}, "--partition-by title: choose one of outlet, published")]:
        with pytest.raises(ToolkitError, match=message):
            run(archive, tmp_path / "out", **{"workers": 1, **options})
    with pytest.raises(ToolkitError, match="is inside the archive"):
        run(archive, archive / "pred", workers=1)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(ToolkitError, match="not empty and not the output of `annotate extract --input`"):
        run(archive, tmp_path / "foreign", workers=1, overwrite=True)
    assert not (tmp_path / "out").exists() and not (archive / "pred").exists()
    assert [p.name for p in (tmp_path / "foreign").iterdir()] == ["notes.txt"]


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, archive):
    rows = synthetic_rows(6)
    no_text = write_parquet(tmp_path / "no-text.parquet", [{"id": r["id"], "body": r["text"]} for r in rows],
                            pa.schema([("id", pa.string()), ("body", pa.string())]))
    null_text = write_parquet(tmp_path / "null-text.parquet", [{**r, "text": None} if i == 4 else r
                                                               for i, r in enumerate(rows)])
    empty_text = write_parquet(tmp_path / "empty-text.parquet", [{**r, "text": ""} if i == 1 else r
                                                                 for i, r in enumerate(rows)])
    twice = tmp_path / "twice"
    write_parquet(twice / "a.parquet", rows)
    write_parquet(twice / "b.parquet", synthetic_rows(3, seed=9, prefix="b") + [rows[5]])
    out = tmp_path / "out"
    cases = [
        (["--input", str(no_text)], f"{no_text}: no column 'text' for the article text; its columns are id, body; "
                                    "name the text column with --text-column COLUMN"),
        (["--input", str(null_text)], f"{null_text} row 4: article 'a0004' has no text (null or empty)"),
        (["--input", str(empty_text)], f"{empty_text} row 1: article 'a0001' has no text (null or empty)"),
        (["--input", str(twice)], f"article id 'a0005' appears twice: {twice / 'a.parquet'} row 5 and "
                                  f"{twice / 'b.parquet'} row 3; give each article its own id"),
        ([str(REPO_ROOT / "seeds"), "--input", str(archive)], "give either INPUT... (articles to a JSONL) or --input "
                                                             "ARCHIVE"),
        ([], "give the articles: INPUT..."),
        ([str(REPO_ROOT / "seeds"), "--workers", "2"], "--workers: only with --input ARCHIVE"),
    ]
    for args, message in cases:
        result = cli("extract", *args, "--out", str(out))
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert not out.exists()
    assert cli("extract", "--input", str(no_text), "--text-column", "body", "--out", str(out)).returncode == 0
    refused = cli("extract", "--input", str(no_text), "--text-column", "body", "--batch-size", "2", "--out", str(out))
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        f"error: --out {out} holds a run with another --batch-size; give a new --out, or --overwrite to replace that "
        "run"]


# -- the decoder ----------------------------------------------------------------------------------------------------


def test_an_annotation_row_decodes_to_its_document_and_a_moved_span_is_refused():
    gold = read_documents([REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"])
    for doc in gold:
        # The row stores a quote's speaker entity also when only its mention names it: so it comes back.
        expected = doc.model_copy(update={"quotes": [q.model_copy(update={"speaker_entity_id": doc.speaker_of(q)})
                                                     for q in doc.quotes]})
        assert annotation_document(annotation_row(doc, "gold"), doc.article, "here") == expected
    doc = next(d for d in gold if d.quotes)
    row = annotation_row(doc, "gold")
    fragment = row["quotes"][0]["content"][0]
    fragment["start"], fragment["end"] = fragment["start"] + 1, fragment["end"] + 1
    with pytest.raises(ToolkitError, match=r"^x\.parquet row 7: annotation '.*/gold': quote 'q1' content fragment 0: "
                                           r"span \[\d+, \d+\) says .* but the article has"):
        annotation_document(row, doc.article, "x.parquet row 7")
    other = Article.from_text("other", "Some other text.")
    with pytest.raises(ToolkitError, match="is of article"):
        annotation_document(annotation_row(doc, "gold"), other, "here")
