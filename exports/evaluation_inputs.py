"""The inputs of ``annotate evaluate``: gold documents (a published release folder or a JSONL), predicted
documents (JSONL), and the agreement report that gives the ceilings.

Every document keeps where it was read (``file:line``, or the Parquet file and row), so that every later
error and every prediction left out of the evaluation can name it.

A release folder is read back from its gold configs (``articles`` and ``exports.dataset.rows.GOLD_LAYERS``;
``data/<config>/<split>.parquet``), one gold document per article: this module chooses the files and names
where each row came from; the rows are decoded by the dataset's own codec (``exports.dataset.rows``), and the
version comes from the release records (``exports.dataset.release``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from exports.dataset.release import version_of
from exports.dataset.rows import GOLD_LAYERS, article_of, gold_document, gold_item
from schemas import AnnotatedDocument, Article, ToolkitError
from schemas.documents import iter_documents
from schemas.errors import first_error

RELEASE_AGREEMENT = "agreement.json"  # an agreement report carried in a release folder, if any


@dataclass(frozen=True)
class Located:
    """A document and where it was read."""

    where: str
    doc: AnnotatedDocument


@dataclass(frozen=True)
class InputInfo:
    """What an input was: for the report's summary."""

    path: str
    kind: Literal["release", "jsonl"] = "jsonl"
    release_version: str | None = None
    split: str | None = None


def read_jsonl(path: Path, option: str) -> list[Located]:
    """``AnnotatedDocument``s, one JSON object per line; a bad line raises ``ToolkitError`` naming ``file:line``."""
    if not path.is_file():
        raise ToolkitError(f"{option} {path}: no such file; give a JSONL file of AnnotatedDocument, one per line")
    docs = [Located(f"{path}:{lineno}", doc) for lineno, doc in iter_documents(path)]
    if not docs:
        raise ToolkitError(f"{option} {path}: no documents in the file; give a JSONL of AnnotatedDocument")
    return docs


def read_gold(path: Path, split: str | None = None) -> tuple[list[Located], InputInfo]:
    """Gold documents from a release folder (``annotate publish``) or a JSONL of AnnotatedDocuments."""
    if path.is_dir():
        docs, version = read_release(path, split)
        return docs, InputInfo(str(path), "release", version, split)
    if split is not None:
        raise ToolkitError(f"--split {split}: only a release folder has splits, and --gold {path} is not a folder; "
                           "drop --split")
    docs = read_jsonl(path, "--gold")
    for located in docs:
        if located.doc.provenance.origin == "prediction":
            raise ToolkitError(f"{located.where}: a model prediction (provenance origin 'prediction') in the gold; "
                               "did you swap --gold and --pred?")
    return docs, InputInfo(str(path))


def _parquet_rows(folder: Path, config: str, split: str | None) -> Iterable[tuple[str, int, dict]]:
    """``(file, row number, row)`` of one config, split by split (all splits when ``split`` is None)."""
    import pyarrow.parquet as pq

    for file in sorted((folder / "data" / config).glob("*.parquet")):
        if split is not None and file.stem != split:
            continue
        try:
            rows = pq.read_table(file).to_pylist()
        except Exception as e:  # pyarrow raises several types for a damaged file; all mean the same to the user
            raise ToolkitError(f"{file}: not a readable Parquet file ({e}); publish the release again") from None
        for n, row in enumerate(rows):
            yield str(file), n, row


def read_release(folder: Path, split: str | None = None) -> tuple[list[Located], str | None]:
    """One gold document per article of a published release folder, and the release's version."""
    data = folder / "data"
    if not (data / "articles").is_dir():
        raise ToolkitError(f"--gold {folder}: no data/articles/ in it, so not a release written by `annotate publish`; "
                           "give the release folder (or .releases/<version>) or a JSONL of gold documents")
    splits = sorted(p.stem for p in (data / "articles").glob("*.parquet"))
    if split is not None and split not in splits:
        raise ToolkitError(f"--split {split}: {folder} has no such split (it has: {', '.join(splits) or 'none'})")
    articles: dict[str, tuple[str, Article]] = {}
    for file, n, row in _parquet_rows(folder, "articles", split):
        where = f"{file} row {n}"
        try:
            articles[row["id"]] = (where, article_of(row))
        except ValidationError as e:
            raise ToolkitError(f"{where} (article {row.get('id')!r}): {first_error(e)}; publish the release again") \
                from None
    items: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for config in GOLD_LAYERS:
        for file, n, row in _parquet_rows(folder, config, split):
            if row["article_id"] not in articles:
                raise ToolkitError(f"{file} row {n} (id {row['id']!r}): article {row['article_id']!r} is not in the "
                                   "articles config of this split; the release is inconsistent: publish it again")
            try:
                items[row["article_id"]][config].append(gold_item(config, row))
            except (ValidationError, KeyError, IndexError, TypeError) as e:
                detail = first_error(e) if isinstance(e, ValidationError) else f"unexpected row layout ({e!r})"
                raise ToolkitError(f"{file} row {n} (id {row.get('id')!r}): {detail}; publish the release again") \
                    from None
    docs = []
    for article_id, (where, article) in sorted(articles.items()):
        try:
            doc = gold_document(article, items.get(article_id, {}))
        except ValidationError as e:
            raise ToolkitError(f"{folder}: gold document of article {article_id!r} ({where}): {first_error(e)}; "
                               "publish the release again") from None
        docs.append(Located(f"{where} (article {article_id!r})", doc))
    if not docs:
        raise ToolkitError(f"--gold {folder}: no articles{f' in split {split}' if split else ''}; nothing to evaluate")
    return docs, version_of(folder)


def release_agreement(folder: Path) -> Path | None:
    """The agreement report a release folder carries (``agreement.json``), if any."""
    path = folder / RELEASE_AGREEMENT
    return path if path.is_file() else None
