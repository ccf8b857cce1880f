"""The one reader of an article archive: a Parquet file, or a directory of Parquet files, streamed in batches.

Columns have the published ``articles`` config's names (``exports.dataset.configs.ARTICLES``) unless mapped
(``ColumnMap``: ``--id-column``, ``--text-column``, ``--column FIELD=COLUMN`` for metadata); other columns are
ignored. A directory is read file by file in path order, at any depth; names that start with ``.`` or ``_``
are skipped, as Spark and Hive skip them (``_SUCCESS``, checksums, temporary files), and hive-style folders
(``outlet=Fox%20News``) give a value to a field that the files below them lack. A missing ``sha256`` is computed.

``ArchiveSource.check`` is the pre-pass: every row is read and validated as the ``Article`` the run will make
of it (id, text, metadata, a given sha256) and every id is checked unique across all files, before anything is
written, so a run cannot stop half-way on bad input. Errors name the file and the row (counted from 0, as
pandas and pyarrow count). Duplicate ids are found from 8-byte hashes (memory stays small for millions of
articles); the few colliding ids are then looked up again to name both places.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from exports.dataset.configs import ARTICLES
from schemas import Article, ToolkitError, sha256_of
from schemas.errors import first_error

FIELDS = tuple(ARTICLES.columns)  # id, title, outlet, published, url, language, story, text, sha256
METADATA = tuple(f for f in FIELDS if f not in ("id", "text"))
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # Hive's, Spark's and pyarrow's folder name for a null key
READ_ROWS = 1024  # rows decoded at a time: memory stays flat whatever the file size


def _stringy(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _stringy(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_null(t)


def _type_ok(field: str, t: pa.DataType) -> bool:
    if field == "id":
        return _stringy(t) or pa.types.is_integer(t)
    if field == "published":
        return _stringy(t) or pa.types.is_date(t) or pa.types.is_timestamp(t)
    return _stringy(t)


_EXPECTED = {"id": "text or integers", "published": "a date, a timestamp or ISO date text"}


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds each article field; metadata not mapped is read from its own name when present."""

    id: str = "id"
    text: str = "text"
    metadata: tuple[tuple[str, str], ...] = ()  # (field, column) given with --column, sorted

    @classmethod
    def from_options(cls, id_column: str = "id", text_column: str = "text", columns: Sequence[str] = ()) -> ColumnMap:
        mapped: dict[str, str] = {}
        for option in columns:
            field, sep, column = (part.strip() for part in option.partition("="))
            if not sep or not field or not column:
                raise ToolkitError(f"--column {option!r}: give FIELD=COLUMN, e.g. --column outlet=source")
            if field not in METADATA:
                raise ToolkitError(f"--column {option!r}: {field!r} is not an article field; map one of "
                                   f"{', '.join(METADATA)} (the id and text have --id-column and --text-column)")
            if field in mapped:
                raise ToolkitError(f"--column {option!r}: {field} is mapped twice; give one --column per field")
            mapped[field] = column
        return cls(id_column, text_column, tuple(sorted(mapped.items())))

    def required(self) -> dict[str, str]:
        return {"id": self.id, "text": self.text, **dict(self.metadata)}

    @staticmethod
    def option_for(field: str) -> str:
        return {"id": "--id-column COLUMN", "text": "--text-column COLUMN"}.get(field, f"--column {field}=COLUMN")


@dataclass(frozen=True)
class _File:
    """One Parquet file and where each field comes from in it."""

    path: Path
    columns: dict[str, str]  # field -> column of the file
    constants: dict[str, str | None]  # field -> value from a hive-style folder above the file
    rows: int


def _hive_values(root: Path, path: Path) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for part in path.relative_to(root).parts[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            values[key] = None if value == HIVE_NULL else unquote(value)
    return values


def _plan(root: Path, path: Path, columns: ColumnMap) -> _File:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ToolkitError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]}); give Parquet files"
                           ) from None
    schema = parquet.schema_arrow
    hive = _hive_values(root, path) if root.is_dir() else {}
    required = columns.required()
    found: dict[str, str] = {}
    constants: dict[str, str | None] = {}
    for field in FIELDS:
        column = required.get(field, field)
        if column in schema.names:
            t = schema.field(column).type
            if not _type_ok(field, t):
                raise ToolkitError(f"{path}: column {column!r} (the article {field}) holds {t}, not "
                                   f"{_EXPECTED.get(field, 'text')}; convert it or map another column with "
                                   f"{columns.option_for(field)}")
            found[field] = column
        elif column in hive:
            constants[field] = hive[column]
        elif field in required:
            raise ToolkitError(f"{path}: no column {column!r} for the article {field}; its columns are "
                               f"{', '.join(schema.names) or '(none)'}; name the {field} column with "
                               f"{columns.option_for(field)}")
    return _File(path, found, constants, parquet.metadata.num_rows)


def _id_of(value: object) -> object:
    # Integer ids (common in archives) become their decimal text, which the id pattern accepts.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def article_of_record(record: dict[str, object], where: str) -> Article:
    """The article of one archive row (fields already mapped); a bad row is a ``ToolkitError`` naming ``where``."""
    article_id, text = _id_of(record.get("id")), record.get("text")
    if article_id is None:
        raise ToolkitError(f"{where}: the article id is null; give every row an id")
    if text is None or text == "":
        raise ToolkitError(f"{where}: article {article_id!r} has no text (null or empty); fill it in or leave the "
                           "row out of the archive")
    fields = {k: v for k, v in record.items() if v is not None and k not in ("id", "text")}
    if isinstance(fields.get("published"), datetime):
        fields["published"] = fields["published"].date()  # a timestamp column: its calendar date
    if "sha256" not in fields and isinstance(text, str):
        fields["sha256"] = sha256_of(text)
    try:
        return Article.model_validate({"id": article_id, "text": text, **fields})
    except ValidationError as e:
        raise ToolkitError(f"{where}: {first_error(e)}; fix the row or map another column with --column") from None


@dataclass(frozen=True)
class ArchiveSource:
    """An archive opened and its columns checked (no row read yet)."""

    root: Path
    files: tuple[_File, ...]
    columns: ColumnMap

    @classmethod
    def open(cls, path: Path, columns: ColumnMap | None = None) -> ArchiveSource:
        columns = columns or ColumnMap()
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.parquet") if p.is_file()
                           and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
            if not files:
                raise ToolkitError(f"{path}: no .parquet files in this directory; give a Parquet file or a directory "
                                   "of them")
        elif path.is_file():
            files = [path]
        else:
            raise ToolkitError(f"{path}: no such file or directory; give a Parquet file or a directory of them")
        return cls(path, tuple(_plan(path, f, columns) for f in files), columns)

    def fingerprint(self) -> dict[str, object]:
        """What identifies this input cheaply (no byte read): its files, their sizes and modification times."""
        files = []
        for f in self.files:
            stat = os.stat(f.path)
            rel = f.path.name if f.path == self.root else str(f.path.relative_to(self.root))
            files.append({"path": rel, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns})
        return {"path": str(self.root.resolve()), "files": files, "columns": self.columns.required()}

    def _records(self, f: _File, fields: Container[str] | None = None) -> Iterator[tuple[str, dict[str, object]]]:
        wanted = {k: c for k, c in f.columns.items() if fields is None or k in fields}
        constants = {k: v for k, v in f.constants.items() if fields is None or k in fields}
        row = 0
        for batch in pq.ParquetFile(f.path).iter_batches(batch_size=READ_ROWS, columns=sorted(set(wanted.values()))):
            values = {field: batch.column(column).to_pylist() for field, column in wanted.items()}
            for i in range(batch.num_rows):
                yield f"{f.path} row {row}", {**{k: v[i] for k, v in values.items()}, **constants}
                row += 1

    def check(self) -> int:
        """The pre-pass (see the module's docstring): the number of articles, or the first problem as an error."""
        hashes: list[pa.Array] = []
        pending: list[int] = []
        for f in self.files:
            for where, record in self._records(f):
                pending.append(hash(article_of_record(record, where).id))
                if len(pending) >= 65536:
                    hashes.append(pa.array(pending, pa.int64()))
                    pending = []
        hashes.append(pa.array(pending, pa.int64()))
        total = sum(len(h) for h in hashes)
        if not total:
            raise ToolkitError(f"{self.root}: no articles (its Parquet files have no rows)")
        counts = pc.value_counts(pa.chunked_array(hashes, pa.int64()))
        repeated = set(counts.filter(pc.greater(counts.field("counts"), 1)).field("values").to_pylist())
        if repeated:
            self._name_duplicate(repeated)
        return total

    def _name_duplicate(self, repeated: set[int]) -> None:
        first: dict[str, str] = {}
        for f in self.files:
            for where, record in self._records(f, ("id",)):
                article_id = _id_of(record["id"])
                assert isinstance(article_id, str)  # checked by the first pass
                if hash(article_id) not in repeated:
                    continue
                if article_id in first:
                    raise ToolkitError(f"article id {article_id!r} appears twice: {first[article_id]} and {where}; "
                                       "give each article its own id (nothing was written)")
                first[article_id] = where
        # Only 64-bit hash collisions between different ids: no duplicate after all.

    def batches(self, size: int, skip: Container[int] = ()) -> Iterator[tuple[int, list[Article]]]:
        """Consecutive batches of ``size`` articles in archive order, numbered from 1 (the same numbers on every
        run over the same input); the rows of a batch in ``skip`` are read past without being validated."""
        number, filled, articles = 1, 0, []
        for f in self.files:
            for where, record in self._records(f):
                if number not in skip:
                    articles.append(article_of_record(record, where))
                filled += 1
                if filled == size:
                    if number not in skip:
                        yield number, articles
                    number, filled, articles = number + 1, 0, []
        if filled and number not in skip:
            yield number, articles
