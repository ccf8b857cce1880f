"""Reading articles: the seeds (by their manifest), a directory of .txt files, or a JSONL of articles.

Text is read as bytes and decoded strictly, never through Python's newline translation, so
CRLF line ends and every other code point survive: offsets must refer to the stored text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from schemas import Article, TargetInventory, ToolkitError, sha256_of
from schemas.errors import first_error
from schemas.files import read_model, read_text


def load_manifest_dir(directory: Path) -> list[Article]:
    """A directory with a ``manifest.json`` (like ``seeds/``): metadata and checksums from it."""
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(read_text(manifest_path))
    except json.JSONDecodeError as e:
        raise ToolkitError(f"{manifest_path}:{e.lineno}: invalid JSON ({e.msg})") from None
    entries = manifest.get("articles") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        raise ToolkitError(f'{manifest_path}: expected {{"articles": [...]}}; see seeds/manifest.json for the format')
    articles = []
    for n, entry in enumerate(entries):
        # A hand-edited manifest can lack keys: say which entry, not KeyError.
        missing = [k for k in ("id", "file", "sha256")
                   if not isinstance(entry, dict) or not isinstance(entry.get(k), str)]
        if missing:
            raise ToolkitError(f"{manifest_path} entry {n}: {', '.join(missing)} missing or not a string; "
                               "every entry needs id, file and sha256")
        text = read_text(directory / entry["file"])
        if sha256_of(text) != entry["sha256"]:
            raise ToolkitError(
                f"{directory / entry['file']}: SHA-256 differs from {manifest_path} entry {n}; "
                "the file was changed: restore it or update the manifest deliberately"
            )
        fields = {k: entry.get(k) for k in ("title", "outlet", "published", "url", "language", "story")}
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            articles.append(Article.from_text(entry["id"], text, **fields))
        except ValidationError as e:
            raise ToolkitError(f"{manifest_path} entry {n}: {first_error(e)}") from None
    return articles


def load_txt_dir(directory: Path) -> list[Article]:
    """Every ``*.txt`` in a directory; the file stem is the article id."""
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise ToolkitError(f"{directory}: no .txt files found; give a directory of UTF-8 .txt articles")
    articles = []
    for path in files:
        try:
            articles.append(Article.from_text(path.stem, read_text(path)))
        except ValidationError as e:
            raise ToolkitError(f"{path}: {first_error(e)}") from None
    return articles


def iter_jsonl_articles(path: Path) -> Iterator[Article]:
    """A JSONL file, one ``Article`` per line (``sha256`` may be omitted and is then computed)."""
    # Split on "\n" only: str.splitlines() would also split at U+2028 or U+0085 inside a text.
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{lineno}: invalid JSON ({e.msg}); one article object per line") from None
        if not isinstance(record, dict):
            raise ToolkitError(f"{path}:{lineno}: expected a JSON object with id and text")
        if "sha256" not in record and isinstance(record.get("text"), str):
            record["sha256"] = sha256_of(record["text"])
        try:
            yield Article.model_validate(record)
        except ValidationError as e:
            raise ToolkitError(f"{path}:{lineno}: {first_error(e)}; fix the line (one article per line: id, text)"
                               ) from None


def load_articles(paths: list[Path]) -> list[Article]:
    """Articles from any mix of manifest directories, .txt directories and JSONL files."""
    articles: list[Article] = []
    seen: dict[str, tuple[str, Path]] = {}  # article id -> (sha256, where first read), to name both places
    for path in paths:
        if path.is_dir():
            found = load_manifest_dir(path) if (path / "manifest.json").exists() else load_txt_dir(path)
        elif path.suffix == ".jsonl":
            found = list(iter_jsonl_articles(path))
        elif path.exists():
            raise ToolkitError(f"{path}: not a directory or .jsonl file; give a folder of .txt files or a JSONL")
        else:
            raise ToolkitError(f"{path}: no such file or directory")
        for a in found:
            sha, first = seen.setdefault(a.id, (a.sha256, path))
            if sha != a.sha256:
                raise ToolkitError(f"article id {a.id!r} appears twice with different texts (in {first} and {path}); "
                                   "give each article its own id")
        articles += found
    return list({a.id: a for a in articles}.values())


def load_targets(path: Path) -> TargetInventory:
    return read_model(path, TargetInventory, "fix the target inventory (format: seeds/targets.json)")
