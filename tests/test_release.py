"""Releases: semantic versions, immutability, the content fingerprint, the diff, the history, older versions."""

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_publish import SEEDS, document, load, request, snapshot, write_jsonl

from exports.dataset.publish import publish
from exports.dataset.release import (
    DIFF_FILE,
    MANIFEST_DIR,
    ManifestWriter,
    ReleaseHistory,
    fingerprint,
    parse_version,
    read_diff,
    row_digest,
    version_dir,
)
from exports.dataset.splits import assign_splits, story_key
from schemas import Article, Claim, QuoteKind, Span, ToolkitError


@pytest.fixture()
def offline(monkeypatch):
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)


# -- versions ------------------------------------------------------------------------------------------------


@given(st.tuples(*[st.integers(min_value=0, max_value=10**6)] * 3))
def test_semantic_versions_parse(parts):
    assert parse_version(".".join(map(str, parts))) == parts


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "1.0.0-rc1", "01.0.0", "1.0.0 ", "1..0", "", "1.0.0.0"])
def test_anything_else_is_not_a_version(bad):
    with pytest.raises(ToolkitError, match=r"--version .*: not a semantic version; give MAJOR\.MINOR\.PATCH"):
        parse_version(bad)


# -- immutability --------------------------------------------------------------------------------------------


def test_same_version_same_content_is_a_no_op_even_in_another_order(tmp_path):
    docs = [document(a) for a in SEEDS]
    first = publish(request(tmp_path, gold=[write_jsonl(tmp_path / "a.jsonl", docs)]))
    before = snapshot(first.out)
    inode = (first.out / "README.md").stat().st_ino
    shuffled = docs[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != docs
    again = publish(request(tmp_path, gold=[write_jsonl(tmp_path / "b.jsonl", shuffled)]))
    assert again.unchanged
    assert again.release == first.release
    assert snapshot(first.out) == before
    assert (first.out / "README.md").stat().st_ino == inode  # not even rewritten


def test_same_version_different_content_is_refused(tmp_path):
    first = publish(request(tmp_path))
    before = snapshot(first.out)
    changed = [document(a, max_quotes=1) for a in SEEDS]
    with pytest.raises(ToolkitError, match=r"--version 1\.0\.0: already published in .* with different content "
                                           r"\(fingerprint [0-9a-f]{12}\.\.\., now [0-9a-f]{12}\.\.\.\); .* immutable"):
        publish(request(tmp_path, gold=[write_jsonl(tmp_path / "changed.jsonl", changed)]))
    assert snapshot(first.out) == before


def test_versions_only_go_up(tmp_path):
    publish(request(tmp_path, version="1.2.0"))
    with pytest.raises(ToolkitError, match=r"--version 1\.1\.9: below the latest release 1\.2\.0 .*publish 1\.2\.1"):
        publish(request(tmp_path, version="1.1.9"))


def test_corrupt_history_is_a_clear_error(tmp_path):
    out = publish(request(tmp_path)).out
    (out / "releases.json").write_text('{"releases": [{"version": 1}]}', encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"releases\.json: releases\.0\.version: .*; restore it"):
        publish(request(tmp_path, version="1.0.1"))


# -- fingerprint ---------------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.sampled_from(["quotes", "claims"]), st.text(min_size=1, max_size=5),
                          st.sampled_from(["train", "test"]), st.integers()),
                min_size=1, max_size=30, unique_by=lambda t: (t[0], t[1])),
       st.randoms())
def test_fingerprint_ignores_row_order_but_not_content(rows, rnd):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        def fp(name, items):
            writer = ManifestWriter(Path(tmp) / name)  # a folder, one file per config
            for config, item_id, split, value in items:
                writer.add(config, item_id, split, {"id": item_id, "value": value})
            writer.close()
            return fingerprint(Path(tmp) / name)

        shuffled = rows[:]
        rnd.shuffle(shuffled)
        assert fp("a.parquet", rows) == fp("b.parquet", shuffled)
        config, item_id, split, value = rows[0]
        assert fp("c.parquet", [(config, item_id, split, value + 1), *rows[1:]]) != fp("a.parquet", rows)
        moved = "test" if split == "train" else "train"
        assert fp("d.parquet", [(config, item_id, moved, value), *rows[1:]]) != fp("a.parquet", rows)


def test_row_digest_is_canonical():
    assert row_digest({"b": 1, "a": [1, "é"]}) == row_digest({"a": [1, "é"], "b": 1})
    assert row_digest({"a": 1}) != row_digest({"a": 2})


# -- the diff and the history ---------------------------------------------------------------------------------


@pytest.fixture()
def two_versions(tmp_path):
    """1.0.0 from the seeds; 1.1.0 removes one quote, changes another, adds a claim and a new article."""
    v1 = [document(a) for a in SEEDS]
    v2 = [d.model_copy(deep=True) for d in v1]
    removed = f"{v2[0].article.id}/{v2[0].quotes[-1].id}"
    v2[0] = v2[0].model_copy(update={"quotes": v2[0].quotes[:-1]})
    q = v2[1].quotes[0]
    changed = f"{v2[1].article.id}/{q.id}"
    other_kind = QuoteKind.INDIRECT if q.kind != QuoteKind.INDIRECT else QuoteKind.DIRECT
    v2[1] = v2[1].model_copy(update={"quotes": [q.model_copy(update={"kind": other_kind}), *v2[1].quotes[1:]]})
    text = v2[2].article.text
    v2[2] = v2[2].model_copy(update={"claims": [*v2[2].claims, Claim(id="c9", span=Span.of(text, 10, 20),
                                                                      check_worthy="no")]})
    added_claim = f"{v2[2].article.id}/c9"
    # same story as the seeds: a new story would re-split, and every moved item would count as changed
    new_article = Article.from_text("new-1", SEEDS[0].text + "\n(new)", story=SEEDS[0].story)
    v2.append(document(new_article))
    publish(request(tmp_path, gold=[write_jsonl(tmp_path / "v1.jsonl", v1)]))
    result = publish(request(tmp_path, version="1.1.0", gold=[write_jsonl(tmp_path / "v2.jsonl", v2)]))
    return result, v1, v2, {"removed": removed, "changed": changed, "added_claim": added_claim,
                            "new_article": new_article.id}


def test_diff_lists_added_removed_and_changed_items_by_config(two_versions):
    result, v1, v2, expect = two_versions
    new_doc = v2[-1]
    diff = read_diff(result.out, "1.1.0")
    assert diff.previous == "1.0.0"
    quotes = diff.configs["quotes"]
    assert quotes.removed == [expect["removed"]]
    assert quotes.changed == [expect["changed"]]
    assert quotes.added == sorted(f"{new_doc.article.id}/{q.id}" for q in new_doc.quotes)
    assert diff.configs["claims"].added == sorted([expect["added_claim"], f"{new_doc.article.id}/c1"])
    assert diff.configs["articles"].added == [expect["new_article"]]
    assert diff.configs["articles"].changed == diff.configs["articles"].removed == []
    for config in ("mentions", "entities", "stances"):
        assert diff.configs[config].removed == diff.configs[config].changed == []
        assert all(i.startswith(new_doc.article.id + "/") for i in diff.configs[config].added)
    summary = result.release.changes["quotes"]
    assert (summary.added, summary.removed, summary.changed) == (len(new_doc.quotes), 1, 1)
    assert summary.examples["removed"] == [expect["removed"]]


def test_first_release_diff_adds_everything(two_versions):
    result, v1, _, _ = two_versions
    diff = read_diff(result.out, "1.0.0")
    assert diff.previous is None
    assert len(diff.configs["quotes"].added) == sum(len(d.quotes) for d in v1)
    with pytest.raises(ToolkitError, match=r"releases\.json: no version '9\.9\.9' \(published: 1\.0\.0, 1\.1\.0\)"):
        read_diff(result.out, "9.9.9")


def test_history_changelog_and_older_versions_stay_loadable(two_versions, offline, tmp_path):
    result, v1, v2, expect = two_versions
    out = result.out
    history = ReleaseHistory.read(out)
    assert [r.version for r in history.releases] == ["1.0.0", "1.1.0"]
    assert history.releases[0].fingerprint != history.releases[1].fingerprint
    stored = json.loads((version_dir(out, "1.0.0") / "release.json").read_text(encoding="utf-8"))
    assert stored["fingerprint"] == history.releases[0].fingerprint
    card = (out / "README.md").read_text(encoding="utf-8")
    changelog = card.split("\n## Changelog\n", 1)[1]
    assert changelog.index("### 1.1.0") < changelog.index("### 1.0.0")
    assert f"removed: `{expect['removed']}`" in changelog and f"changed: `{expect['changed']}`" in changelog
    old = load(version_dir(out, "1.0.0"), "quotes", tmp_path / "c")
    new = load(out, "quotes", tmp_path / "c")
    assert sum(s.num_rows for s in old.values()) == sum(len(d.quotes) for d in v1)
    assert sum(s.num_rows for s in new.values()) == sum(len(d.quotes) for d in v2)
    for version in ("1.0.0", "1.1.0"):
        for name in (DIFF_FILE, "README.md", f"{MANIFEST_DIR}/quotes.parquet"):
            assert (version_dir(out, version) / name).is_file()
    # the current files are the latest version's, hard-linked rather than copied
    current = out / "data" / "quotes" / "train.parquet"
    assert current.stat().st_ino == (version_dir(out, "1.1.0") / "data" / "quotes" / "train.parquet").stat().st_ino
    assert pq.read_table(current).num_rows == sum(len(d.quotes) for d in v2)


def test_an_item_whose_story_moves_to_another_split_is_changed(tmp_path):
    seed_story = story_key(SEEDS[0].id, SEEDS[0].story)
    # a second story that sends the seeds' story to test (found by the splitter itself, not hard-coded)
    other = next(f"story-{i}" for i in range(100)
                 if assign_splits([seed_story, story_key("x", f"story-{i}")])[seed_story] == "test")
    v1 = [document(a) for a in SEEDS]
    publish(request(tmp_path, gold=[write_jsonl(tmp_path / "v1.jsonl", v1)]))
    extra = document(Article.from_text("other-1", SEEDS[0].text, story=other))
    result = publish(request(tmp_path, version="1.0.1", gold=[write_jsonl(tmp_path / "v2.jsonl", [*v1, extra])]))
    diff = read_diff(result.out, "1.0.1")
    assert diff.configs["quotes"].changed == sorted(f"{d.article.id}/{q.id}" for d in v1 for q in d.quotes)
    assert diff.configs["articles"].changed == sorted(a.id for a in SEEDS)
    assert diff.configs["articles"].added == ["other-1"]
    assert result.release.rows["articles"] == {"test": len(SEEDS), "train": 1}
