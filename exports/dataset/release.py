"""Releases: semantic versions, the content fingerprint, the diff against the previous version, the history.

Layout of a published folder ``DIR`` (a Hugging Face dataset repository):

- ``DIR/README.md``, ``DIR/data/<config>/<split>.parquet``: the current (latest) version;
- ``DIR/releases.json``: the history, one ``Release`` per version, oldest first;
- ``DIR/.releases/<version>/``: every version kept whole (``README.md``, ``data/``, ``release.json``) plus its
  ``items/<config>.parquet`` (the manifest: item id, split, row SHA-256) and ``diff.parquet`` (config, item id,
  change). An older version stays loadable with ``datasets.load_dataset("DIR/.releases/1.0.0", "quotes")``;
  on the Hub each version is a tag. The current files are hard links into the latest version's folder.

Beside ``DIR``: ``.DIR.publish.lock`` (held while a publish runs) and, only during a publish, its temp tree
``.DIR.publish-<pid>-<random>``, which becomes ``DIR`` in one rename; leftovers of a killed publish are removed
(or, if ``DIR`` itself was lost between two renames, put back) by the next publish.

The fingerprint is the SHA-256 of the manifest's lines ``["config", "item_id", "split", "<row_sha256 hex>"]``
(compact JSON, one per line) sorted by config then item id, where ``row_sha256`` hashes the row as compact JSON
with sorted keys. So it covers every value of every row and its split, and does not depend on input order or
Parquet encoding.
A version, once published, is immutable: the same content again is a no-op, different content is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from schemas import ToolkitError
from schemas.files import read_model, write_atomically

HISTORY_FILE = "releases.json"
RELEASES_DIR = ".releases"
RELEASE_FILE = "release.json"
MANIFEST_DIR = "items"  # one Parquet file per config: each is read alone, which bounds memory
DIFF_FILE = "diff.parquet"
CHANGES = ("added", "removed", "changed")
EXAMPLES = 20  # item ids per config and kind of change kept in the history (all are in diff.parquet)

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_MANIFEST_SCHEMA = pa.schema([("item_id", pa.string()), ("split", pa.string()),
                              ("row_sha256", pa.binary(32))])
_DIFF_SCHEMA = pa.schema([("config", pa.string()), ("item_id", pa.string()), ("change", pa.string())])


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; anything but a plain semantic version is a user error."""
    match = _SEMVER.match(version)
    if match is None:
        raise ToolkitError(
            f"--version {version!r}: not a semantic version; give MAJOR.MINOR.PATCH such as 1.0.0 "
            "(no leading zeros, no prefix or suffix)"
        )
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigChanges(_Model):
    added: int = 0
    removed: int = 0
    changed: int = 0
    examples: dict[Literal["added", "removed", "changed"], list[str]] = Field(
        default_factory=dict, description=f"Up to {EXAMPLES} item ids per kind; all are in diff.parquet."
    )


class Release(_Model):
    version: str
    previous: str | None = Field(description="The version this one is diffed against; None for the first.")
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    published_at: datetime
    tool_version: str
    schema_version: str
    guidelines_version: str
    license: str
    rows: dict[str, dict[str, int]] = Field(description="Rows per config and split.")
    changes: dict[str, ConfigChanges] = Field(description="Per config, against the previous version.")

    @classmethod
    def read(cls, folder: Path) -> Release:
        """The record of a version folder (``.releases/<version>/release.json``)."""
        path = folder / RELEASE_FILE
        return read_model(path, cls, "publish the release again")

    def write(self, folder: Path) -> None:
        write_atomically(folder / RELEASE_FILE, self.model_dump_json(indent=2) + "\n")


class ReleaseHistory(_Model):
    releases: list[Release] = Field(default_factory=list, description="Oldest first.")

    @property
    def latest(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def get(self, version: str) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    @classmethod
    def read(cls, out: Path) -> ReleaseHistory:
        """The history of ``out``; empty for a new or empty folder, an error for any other folder."""
        path = out / HISTORY_FILE
        if not path.exists():
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise ToolkitError(
                    f"{out}: exists but holds no {HISTORY_FILE}, so it is not a dataset published by "
                    "`annotate publish`; choose a new or empty folder for --out"
                )
            return cls()
        remedy = f"restore it (each version's record is in {RELEASES_DIR}/<version>/{RELEASE_FILE})"
        return read_model(path, cls, remedy)

    def write(self, out: Path) -> None:
        write_atomically(out / HISTORY_FILE, self.model_dump_json(indent=2) + "\n")


class ConfigItems(_Model):
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)


class ReleaseDiff(_Model):
    """Every changed item of one version, by config."""

    version: str
    previous: str | None
    configs: dict[str, ConfigItems]


def version_dir(out: Path, version: str) -> Path:
    return out / RELEASES_DIR / version


def row_digest(row: dict) -> bytes:
    """SHA-256 of the row's canonical JSON (sorted keys, compact, dates as ISO 8601)."""
    canonical = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


class ManifestWriter:
    """Streams ``(item_id, split, row_sha256)`` per config to Parquet in batches: never all items in memory."""

    BATCH = 50_000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._columns: dict[str, tuple[list, list, list]] = {}

    def add(self, config: str, item_id: str, split: str, row: dict) -> None:
        columns = self._columns.setdefault(config, ([], [], []))
        for column, value in zip(columns, (item_id, split, row_digest(row))):
            column.append(value)
        if len(columns[0]) >= self.BATCH:
            self._flush(config)

    def _flush(self, config: str) -> None:
        columns = self._columns.pop(config, None)
        if not columns or not columns[0]:
            return
        if config not in self._writers:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._writers[config] = pq.ParquetWriter(self.directory / f"{config}.parquet", _MANIFEST_SCHEMA)
        self._writers[config].write_batch(pa.record_batch(list(columns), schema=_MANIFEST_SCHEMA))

    def close(self) -> None:
        for config in list(self._columns):
            self._flush(config)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _configs(manifest: Path | None) -> list[str]:
    return sorted(p.stem for p in manifest.glob("*.parquet")) if manifest is not None else []


def _of_config(manifest: Path | None, config: str) -> pa.Table:
    """One config's items sorted by id: the fingerprint and the diff work a config at a time to bound memory."""
    path = manifest / f"{config}.parquet" if manifest is not None else None
    if path is None or not path.exists():
        return _MANIFEST_SCHEMA.empty_table()
    return pq.read_table(path).sort_by("item_id")


def fingerprint(manifest: Path) -> str:
    digest = hashlib.sha256()
    for config in _configs(manifest):  # configs in order, items in order: one global sort, a config at a time
        for batch in _of_config(manifest, config).to_batches(max_chunksize=65_536):
            ids, splits, hashes = (batch.column(name).to_pylist() for name in _MANIFEST_SCHEMA.names)
            digest.update("".join(json.dumps([config, i, s, h.hex()], ensure_ascii=False, separators=(",", ":"))
                                  + "\n" for i, s, h in zip(ids, splits, hashes)).encode("utf-8"))
    return digest.hexdigest()


def write_diff(manifest: Path, previous_manifest: Path | None, diff_path: Path) -> dict[str, ConfigChanges]:
    """Compare two manifests by (config, item id); write every change to ``diff_path``; return the summary.

    An item whose row or split differs is ``changed``. The join runs in Arrow, not in Python dicts, so a
    release of a million items diffs in seconds and modest memory.
    """
    configs = sorted(set(_configs(manifest)) | set(_configs(previous_manifest)))
    summary: dict[str, ConfigChanges] = {}
    with pq.ParquetWriter(diff_path, _DIFF_SCHEMA) as writer:
        for config in configs:
            diff = _config_diff(config, _of_config(manifest, config), _of_config(previous_manifest, config))
            writer.write_table(diff)
            counts, examples = {}, {}
            for kind in CHANGES:
                ids = diff.filter(pc.equal(diff["change"], kind))["item_id"]
                counts[kind] = len(ids)
                if len(ids):
                    examples[kind] = ids.slice(0, EXAMPLES).to_pylist()
            summary[config] = ConfigChanges(**counts, examples=examples)
    return summary


def _config_diff(config: str, new: pa.Table, old: pa.Table) -> pa.Table:
    joined = new.join(old, keys="item_id", join_type="full outer", right_suffix="_old")
    new_hash, old_hash = joined["row_sha256"], joined["row_sha256_old"]
    moved = pc.or_(pc.not_equal(new_hash, old_hash), pc.not_equal(joined["split"], joined["split_old"]))
    change = pc.case_when(
        pc.make_struct(pc.is_null(old_hash), pc.is_null(new_hash), pc.fill_null(moved, False)),
        "added", "removed", "changed",
    )
    table = pa.table({"config": pa.array([config] * len(joined), pa.string()), "item_id": joined["item_id"],
                      "change": change}, schema=_DIFF_SCHEMA)
    return table.filter(pc.is_valid(change)).sort_by("item_id")


def read_diff(out: Path, version: str) -> ReleaseDiff:
    """The full diff of a published version."""
    history = ReleaseHistory.read(out)
    release = history.get(version)
    if release is None:
        known = ", ".join(r.version for r in history.releases) or "none"
        raise ToolkitError(f"{out / HISTORY_FILE}: no version {version!r} (published: {known})")
    table = pq.read_table(version_dir(out, version) / DIFF_FILE)
    configs: dict[str, ConfigItems] = {}
    for config, item_id, change in zip(*(table[name].to_pylist() for name in _DIFF_SCHEMA.names)):
        getattr(configs.setdefault(config, ConfigItems()), change).append(item_id)
    return ReleaseDiff(version=version, previous=release.previous, configs=configs)


def version_of(folder: Path) -> str | None:
    """The version a published folder holds: a version folder's own record, else the latest in the history."""
    if (folder / RELEASE_FILE).is_file():  # a version folder: .releases/<version>/
        return Release.read(folder).version
    if (folder / HISTORY_FILE).is_file():
        latest = ReleaseHistory.read(folder).latest
        return latest.version if latest else None
    return None


def existing_release(history: ReleaseHistory, version: str, out: Path) -> Release | None:
    """The release already published as ``version``, or None when ``version`` may be published as new."""
    parsed = parse_version(version)
    existing = history.get(version)
    latest = history.latest
    if existing is None and latest is not None and parsed < parse_version(latest.version):
        raise ToolkitError(
            f"--version {version}: below the latest release {latest.version} in {out / HISTORY_FILE}; "
            f"versions only go up: publish {next_patch(latest.version)} or higher"
        )
    return existing


def ensure_unchanged(existing: Release, new_fingerprint: str, out: Path) -> None:
    """Refuse to publish different content under a version that already exists."""
    if existing.fingerprint != new_fingerprint:
        raise ToolkitError(
            f"--version {existing.version}: already published in {out} with different content "
            f"(fingerprint {existing.fingerprint[:12]}..., now {new_fingerprint[:12]}...); a published version is "
            "immutable: publish the new content under a higher version"
        )


def next_patch(version: str) -> str:
    major, minor, patch = parse_version(version)
    return f"{major}.{minor}.{patch + 1}"
