"""Publish gold (and raw) AnnotatedDocuments as one version of a Hugging Face dataset folder.

Order of work, so that a failure at any point leaves the previous release as it was:
1. check the version, the inputs, the guidelines, the targets and the agreement report (cheap, fail early);
2. scan the inputs once for each article's story and assign splits (only ids and story keys kept);
3. stream the documents again, re-verify every span, and write Parquet per config and split in batches into
   a temp dir beside ``--out``, with the item manifest (item id + row hash) beside them;
4. fingerprint; a version that exists must have the same fingerprint (then nothing changes); diff against
   the previous version; write the card and the history;
5. hard-link the older versions into the temp tree and swap it in for ``--out`` in one rename
   (``renameat2(RENAME_EXCHANGE)`` where the OS has it), then optionally push to the Hub.

See ``exports.dataset.release`` for the folder layout.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, ValidationError

from exports.adjudication.latest import latest_adjudication
from exports.corpus import ArticleTexts
from exports.dataset import release as rel
from exports.dataset.card import (
    DEFAULT_LICENSE,
    DEFAULT_PRETTY_NAME,
    NOT_RECORDED,
    SOURCES_LISTED,
    Agreement,
    ArticleSource,
    CardContext,
    ProvenanceSummary,
    data_file,
    read_agreement,
    render_card,
)
from exports.dataset.configs import ANNOTATIONS, ARTICLES, CONFIGS
from exports.dataset.publish_statements import statement_release_rows
from exports.dataset.rows import annotation_row, article_row, gold_rows, is_gold
from exports.dataset.splits import assign_splits, story_key
from exports.statements.agreement_report import read_statement_agreement
from schemas import SCHEMA_VERSION, AnnotatedDocument, TargetInventory, ToolkitError
from schemas.articles import load_targets
from schemas.documents import iter_documents
from schemas.files import iter_lines, read_text, write_atomically
from schemas.guidelines import Guidelines, read_guidelines
from schemas.paths import GUIDELINES, SEED_TARGETS

BATCH_ROWS = 1_000  # rows buffered per (config, split) before a Parquet row group is written


@dataclass(frozen=True)
class PublishRequest:
    version: str
    out: Path
    gold: list[Path] = field(default_factory=list)
    annotations: list[Path] = field(default_factory=list)
    agreement: Path | None = None
    targets: Path = SEED_TARGETS
    guidelines: Path = GUIDELINES
    license: str = DEFAULT_LICENSE
    pretty_name: str = DEFAULT_PRETTY_NAME
    push: str | None = None
    notes: Path | None = None  # Markdown the curators want on the card (caveats, how it was made)
    statements: list[Path] = field(default_factory=list)  # gold StatementDocument JSONL
    statement_agreement: Path | None = None  # `annotate statements agreement --json`


@dataclass(frozen=True)
class PublishResult:
    release: rel.Release
    out: Path
    unchanged: bool  # the version existed with the same content: nothing was written


# -- reading the inputs -------------------------------------------------------------------------------------


def _documents(path: Path, targets: TargetInventory) -> Iterator[tuple[str, AnnotatedDocument]]:
    """Each document with its file:line, streamed (a 100,000-article file is never read whole)."""
    for lineno, doc in iter_documents(path, targets=targets):
        yield f"{path}:{lineno}", doc


class _ArticleHead(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    story: str | None = None
    sha256: str


class _DocumentHead(BaseModel):
    """Just enough of a document to place its article in a split, without validating the rest (pass 2 does)."""

    model_config = ConfigDict(extra="ignore")
    article: _ArticleHead


def _story_keys(paths: list[Path]) -> dict[str, str]:
    """Article id -> story key over all inputs; the same id must mean the same text (and story) everywhere."""
    texts = ArticleTexts()
    seen: dict[str, tuple[str | None, str]] = {}  # id -> (story, where first seen)
    for path in paths:
        for lineno, line in iter_lines(path):
            try:
                head = _DocumentHead.model_validate_json(line).article
            except ValidationError:
                continue  # reported with its file and line by the full validation in pass 2
            where = f"{path}:{lineno}"
            texts.check(head.id, head.sha256, where)
            story, first_where = seen.setdefault(head.id, (head.story, where))
            if story is None:  # a story missing in one copy (Label Studio tasks do not carry it) is not a conflict
                seen[head.id] = (head.story, first_where)
            elif head.story not in (None, story):
                raise ToolkitError(
                    f"{where}: article {head.id!r} has story {head.story!r} but {story!r} at {first_where}; "
                    "give the article one story everywhere"
                )
    return {article_id: story_key(article_id, story) for article_id, (story, _) in seen.items()}


def _gold_paths(given: list[Path]) -> list[Path]:
    if given:
        return given
    return [latest_adjudication()]


def _check_inputs(paths: list[Path], option: str) -> None:
    for path in paths:
        if not path.is_file():
            raise ToolkitError(f"{option} {path}: no such file; give a JSONL file of AnnotatedDocument")


# -- writing ------------------------------------------------------------------------------------------------


class _SplitWriters:
    """One Parquet file per (config, split), opened on its first row, written in row groups of BATCH_ROWS."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: dict[str, dict[str, int]] = {}
        self._open: dict[tuple[str, str], tuple[pq.ParquetWriter, list[dict]]] = {}

    def add(self, config: str, split: str, row: dict) -> None:
        key = (config, split)
        if key not in self._open:
            path = self.root / data_file(config, split)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._open[key] = (pq.ParquetWriter(path, CONFIGS[config].features.arrow_schema), [])
        writer, buffer = self._open[key]
        buffer.append(row)
        counts = self.rows.setdefault(config, {})
        counts[split] = counts.get(split, 0) + 1
        if len(buffer) >= BATCH_ROWS:
            self._flush(config, writer, buffer)

    @staticmethod
    def _flush(config: str, writer: pq.ParquetWriter, buffer: list[dict]) -> None:
        writer.write_batch(pa.RecordBatch.from_pylist(buffer, schema=CONFIGS[config].features.arrow_schema))
        buffer.clear()

    def close(self) -> None:
        for (config, _), (writer, buffer) in self._open.items():
            if buffer:
                self._flush(config, writer, buffer)
            writer.close()
        self._open.clear()

    def abandon(self) -> None:
        for writer, _ in self._open.values():
            with contextlib.suppress(Exception):
                writer.close()
        self._open.clear()


@dataclass
class _Build:
    """The rows of one version, streamed into ``root`` (a version folder inside the temp tree)."""

    root: Path
    splits: dict[str, str]  # story key -> split
    story_of: dict[str, str]  # article id -> story key
    provenance: ProvenanceSummary
    writers: _SplitWriters = field(init=False)
    manifest: rel.ManifestWriter = field(init=False)
    _articles: set[str] = field(default_factory=set)
    _gold: set[str] = field(default_factory=set)
    _annotated: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.writers = _SplitWriters(self.root)
        self.manifest = rel.ManifestWriter(self.root / rel.MANIFEST_DIR)

    def _emit(self, config: str, split: str, row: dict) -> None:
        self.writers.add(config, split, row)
        self.manifest.add(config, row["id"], split, row)

    def _article(self, doc: AnnotatedDocument, split: str) -> None:
        a = doc.article
        if a.id in self._articles:
            return
        self._articles.add(a.id)
        self._emit(ARTICLES.name, split, article_row(doc))
        p = self.provenance
        p.articles += 1
        p.languages.add(a.language)
        outlet = a.outlet or "(not stated)"
        p.outlets[outlet] = p.outlets.get(outlet, 0) + 1
        if len(p.sources) <= SOURCES_LISTED:
            p.sources.append(ArticleSource(id=a.id, title=a.title, outlet=a.outlet, published=a.published, url=a.url))

    def add_gold(self, where: str, doc: AnnotatedDocument) -> None:
        if not is_gold(doc):
            raise ToolkitError(
                f"{where}: provenance says annotator {doc.provenance.annotator!r}, origin {doc.provenance.origin!r}, "
                "not gold; pass raw per-annotator documents with --annotations"
            )
        if doc.article.id in self._gold:
            raise ToolkitError(f"{where}: a second gold document for article {doc.article.id!r}; keep one per article")
        self._gold.add(doc.article.id)
        split = self.splits[self.story_of[doc.article.id]]
        rows = list(gold_rows(doc, where))  # spans re-verified for the whole document before any of it is written
        self._article(doc, split)
        for config, row in rows:
            self._emit(config, split, row)
            for name in row.get("supported_by", ()):
                self.provenance.gold_supporters[name] = self.provenance.gold_supporters.get(name, 0) + 1
        self.provenance.gold_documents += 1
        self.provenance.document_schema_versions.add(doc.schema_version)

    def add_annotation(self, where: str, doc: AnnotatedDocument) -> None:
        annotator = doc.provenance.annotator
        if is_gold(doc):
            raise ToolkitError(f"{where}: a gold document given with --annotations; pass gold files as arguments")
        if (doc.article.id, annotator) in self._annotated:
            raise ToolkitError(
                f"{where}: a second document by {annotator!r} for article {doc.article.id!r}; keep one per annotator"
            )
        self._annotated.add((doc.article.id, annotator))
        split = self.splits[self.story_of[doc.article.id]]
        row = annotation_row(doc, where)
        self._article(doc, split)
        self._emit(ANNOTATIONS.name, split, row)
        p = self.provenance
        p.annotator_documents[annotator] = p.annotator_documents.get(annotator, 0) + 1
        mode = doc.provenance.annotation_mode or NOT_RECORDED
        p.annotation_modes[mode] = p.annotation_modes.get(mode, 0) + 1
        p.document_schema_versions.add(doc.schema_version)

    def close(self) -> None:
        self.writers.close()
        self.manifest.close()

    def abandon(self) -> None:
        self.writers.abandon()
        with contextlib.suppress(Exception):
            self.manifest.close()


# -- the folder swap ----------------------------------------------------------------------------------------

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2). False where the OS or filesystem cannot.

    Hand-written with ctypes because neither the standard library nor a maintained package exposes
    RENAME_EXCHANGE; without it a swap needs two renames with a moment in between.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, out: Path) -> None:
    """Make ``tmp`` the new ``out``; the old tree is deleted only after the new one is in place."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        os.replace(tmp, out)  # a rename onto a missing or empty directory is atomic
    elif _exchange(tmp, out):
        shutil.rmtree(tmp)  # now holds the previous tree
    else:
        # Two renames: an interruption between them leaves the old tree at `<tmp>.old`, which the next
        # publish (see _clear_leftovers) puts back.
        old = tmp.with_name(tmp.name + ".old")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old)


def _temp_prefix(out: Path) -> str:
    return f".{out.name}.publish-"


def _clear_leftovers(out: Path) -> None:
    """Remove temp trees of interrupted publishes (we hold the lock, so none is running), restoring a lost ``out``."""
    for leftover in sorted(out.parent.glob(_temp_prefix(out) + "*")):
        if leftover.name.endswith(".old") and not out.exists():
            os.replace(leftover, out)
        elif leftover.is_dir():
            shutil.rmtree(leftover)


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One publish at a time per folder: two at once would each miss the other's release in the history."""
    lock_path = out.parent / f".{out.name}.publish.lock"
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ToolkitError(f"{out}: another `annotate publish` is writing it; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _link_or_copy(src: str, dst: str) -> None:
    """Older versions and the current files are hard links: no second copy of the data on disk."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _assemble(tmp: Path, out: Path, version_root: Path, history: rel.ReleaseHistory) -> None:
    """Complete the temp tree: older versions from ``out``, the current files at the top, the history."""
    if (out / rel.RELEASES_DIR).is_dir():
        for older in (out / rel.RELEASES_DIR).iterdir():
            if older.name != version_root.name:
                shutil.copytree(older, tmp / rel.RELEASES_DIR / older.name, copy_function=_link_or_copy)
    shutil.copytree(version_root / "data", tmp / "data", copy_function=_link_or_copy)
    _link_or_copy(str(version_root / "README.md"), str(tmp / "README.md"))
    history.write(tmp)


# -- the whole job ------------------------------------------------------------------------------------------


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("news-attribution-annotate")
    except PackageNotFoundError:
        return "unknown"


def publish(req: PublishRequest) -> PublishResult:
    """Publish ``req.version`` into ``req.out``; see the module docstring for the steps."""
    rel.parse_version(req.version)
    out = req.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        _clear_leftovers(out)
        history = rel.ReleaseHistory.read(out)
        existing = rel.existing_release(history, req.version, out)
        gold = _gold_paths(req.gold)
        _check_inputs(gold, "GOLD")
        _check_inputs(req.annotations, "--annotations")
        _check_inputs(req.statements, "--statements")
        targets = load_targets(req.targets)
        guidelines = read_guidelines(req.guidelines)
        agreement = read_agreement(req.agreement) if req.agreement is not None else None

        tmp = out.parent / f"{_temp_prefix(out)}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        version_root = rel.version_dir(tmp, req.version)
        version_root.mkdir(parents=True)
        try:
            result = _build_and_swap(req, out, tmp, version_root, history, existing, gold, targets, guidelines,
                                     agreement)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    if req.push:
        push(out, req.push, req.version)
    return result


def _build_and_swap(req: PublishRequest, out: Path, tmp: Path, version_root: Path, history: rel.ReleaseHistory,
                    existing: rel.Release | None, gold: list[Path], targets: TargetInventory,
                    guidelines: Guidelines, agreement: Agreement | None) -> PublishResult:
    story_of = _story_keys([*gold, *req.annotations])
    provenance = ProvenanceSummary(tool_version=_tool_version(), schema_version=SCHEMA_VERSION)
    build = _Build(version_root, assign_splits(story_of.values()), story_of, provenance)
    try:
        for path in gold:
            for where, doc in _documents(path, targets):
                build.add_gold(where, doc)
        for path in req.annotations:
            for where, doc in _documents(path, targets):
                build.add_annotation(where, doc)
        if req.statements:
            gold_docs = [doc for path in gold for _, doc in _documents(path, targets)]
            split_of = {a: build.splits[key] for a, key in story_of.items()}
            for config, split, row in statement_release_rows(req.statements, gold_docs, split_of):
                build._emit(config, split, row)
    except BaseException:
        build.abandon()
        raise
    build.close()
    if provenance.gold_documents == 0:
        files = ", ".join(map(str, gold))
        raise ToolkitError(f"{files}: no gold documents to publish; give non-empty GOLD.jsonl files")

    fingerprint = rel.fingerprint(version_root / rel.MANIFEST_DIR)
    if existing is not None:
        rel.ensure_unchanged(existing, fingerprint, out)
        return PublishResult(release=existing, out=out, unchanged=True)

    previous = history.latest
    previous_manifest = rel.version_dir(out, previous.version) / rel.MANIFEST_DIR if previous else None
    changes = rel.write_diff(version_root / rel.MANIFEST_DIR, previous_manifest, version_root / rel.DIFF_FILE)
    rows = {name: build.writers.rows[name] for name in CONFIGS if name in build.writers.rows}
    release = rel.Release(
        version=req.version, previous=previous.version if previous else None, fingerprint=fingerprint,
        published_at=datetime.now(UTC), tool_version=provenance.tool_version, schema_version=SCHEMA_VERSION,
        guidelines_version=guidelines.version, license=req.license, rows=rows, changes=changes,
    )
    new_history = rel.ReleaseHistory(releases=[*history.releases, release])
    card = render_card(CardContext(
        version=req.version, pretty_name=req.pretty_name, license=req.license, rows=rows, guidelines=guidelines,
        agreement=agreement, targets=targets, provenance=provenance, history=new_history,
        notes=read_text(req.notes).strip() if req.notes is not None else None,
        statement_agreement=read_statement_agreement(req.statement_agreement) if req.statement_agreement else None,
    ))
    write_atomically(version_root / "README.md", card)
    release.write(version_root)
    _assemble(tmp, out, version_root, new_history)
    _swap_in(tmp, out)
    return PublishResult(release=release, out=out, unchanged=False)


def push(out: Path, repo_id: str, version: str) -> None:
    """Upload the current version to the Hub and tag it ``version``; needs HF_TOKEN and the network."""
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise ToolkitError(
            f"published {version} to {out} but did not push it to {repo_id}: HF_TOKEN is not set; set it to a "
            "write token and run the same command again (publishing the same version again is a no-op)"
        )
    import httpx
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    if constants.HF_HUB_OFFLINE:
        raise ToolkitError(f"published {version} to {out} but did not push it to {repo_id}: HF_HUB_OFFLINE is set; "
                           "unset it and run the same command again")
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, repo_type="dataset", folder_path=out, commit_message=f"Release {version}",
            # Older versions live on the Hub as tags; only their small manifests and diffs are uploaded.
            ignore_patterns=[f"{rel.RELEASES_DIR}/*/data/**", f"{rel.RELEASES_DIR}/*/README.md"],
            delete_patterns=["data/**"],
        )
        api.create_tag(repo_id, tag=version, repo_type="dataset", revision=commit.oid, exist_ok=True)
    except (HfHubHTTPError, httpx.HTTPError, OSError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ToolkitError(
            f"published {version} to {out} but the push to {repo_id} failed ({reason}); check the network and "
            "the token, then run the same command again"
        ) from None
