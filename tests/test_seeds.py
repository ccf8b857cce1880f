"""The seeds are the shared articles byte for byte, and the manifest describes them truthfully."""

import hashlib
import json
from pathlib import Path

import pytest

from schemas import ToolkitError
from schemas.articles import load_articles, load_manifest_dir, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

SHARED_SEEDS = SEEDS_DIR.parent.parent / "shared" / "seeds"
MANIFEST = json.loads((SEEDS_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_checksums_match_the_files():
    assert len(MANIFEST["articles"]) == 4
    for entry in MANIFEST["articles"]:
        assert hashlib.sha256((SEEDS_DIR / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="../shared/seeds is not beside the repository")
def test_seeds_are_the_shared_articles_byte_for_byte():
    shared = {p.name: p.read_bytes() for p in SHARED_SEEDS.glob("*.txt")}
    ours = {p.name: p.read_bytes() for p in SEEDS_DIR.glob("*.txt")}
    assert ours == shared


def test_manifest_invents_nothing_the_text_does_not_tell():
    for entry in MANIFEST["articles"]:
        text = (SEEDS_DIR / entry["file"]).read_text(encoding="utf-8")
        for field in ("title", "outlet"):
            if entry[field] is not None:
                assert entry[field] in text, f"{entry['id']}: {field} {entry[field]!r} is not in the text"


def test_seed_articles_load_with_verified_hashes():
    articles = load_articles([SEEDS_DIR])
    assert [a.id for a in articles] == [e["id"] for e in MANIFEST["articles"]]
    assert all(a.story == "eef-2025-09-05-foreign-troops" for a in articles)


def test_changed_seed_file_is_refused(tmp_path: Path):
    for p in SEEDS_DIR.iterdir():
        if p.is_file():
            (tmp_path / p.name).write_bytes(p.read_bytes())
    victim = tmp_path / MANIFEST["articles"][0]["file"]
    victim.write_bytes(victim.read_bytes() + b" ")
    with pytest.raises(ToolkitError, match=f"{victim.name}: SHA-256 differs from .*manifest.json entry 0"):
        load_manifest_dir(tmp_path)


def test_target_inventory_loads():
    assert "foreign-troops-in-ukraine" in load_targets(SEED_TARGETS).ids()


def test_txt_directory_keeps_crlf_and_astral_characters(tmp_path: Path):
    raw = "Line one\r\nHe said “hi 🙂”\u00a0ok\r\n"
    (tmp_path / "x1.txt").write_bytes(raw.encode("utf-8"))
    [article] = load_articles([tmp_path])
    assert article.text == raw and article.id == "x1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "t"}\n{"id": "b"', r"x\.jsonl:2: invalid JSON"),
        ('{"id": "a", "text": "t"}\n[1]', r"x\.jsonl:2: expected a JSON object"),
        ('{"id": "a b", "text": "t"}', r"x\.jsonl:1: id: String should match pattern"),
        ('{"id": "a", "text": "t", "sha256": "' + "0" * 64 + '"}', r"x\.jsonl:1: article 'a': sha256"),
    ],
)
def test_bad_article_jsonl_names_the_line(tmp_path: Path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ToolkitError, match=message):
        load_articles([path])


def test_non_utf8_text_is_refused(tmp_path: Path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    with pytest.raises(ToolkitError, match=r"bad\.txt: not UTF-8 at byte 3"):
        load_articles([tmp_path])


def test_same_id_with_different_text_is_refused(tmp_path: Path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n', encoding="utf-8")
    with pytest.raises(ToolkitError, match="article id 'a' appears twice with different texts"):
        load_articles([path])


def test_missing_path_is_reported(tmp_path: Path):
    with pytest.raises(ToolkitError, match="nope: no such file or directory"):
        load_articles([tmp_path / "nope"])
