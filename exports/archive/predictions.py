"""The predictions of an archive run read back as typed documents, one part file at a time.

A batch's ``annotations`` part and its ``articles`` part have the same relative path under their config's
folder and hold the same articles, so each pair is read alone: memory stays that of one batch. Documents come
in path order (partition folder, then batch), every span checked against its article on the way in
(``exports.dataset.rows.annotation_document``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from exports.archive.output import MANIFEST
from exports.dataset.configs import ANNOTATIONS, ARTICLES
from exports.dataset.rows import annotation_document, article_of
from schemas import AnnotatedDocument, Article, ToolkitError
from schemas.errors import first_error


def _rows(path: Path) -> list[dict]:
    # ParquetFile, not read_table: read_table would add a column for the `key=value` folder the file is in.
    try:
        return pq.ParquetFile(path).read().to_pylist()
    except (pa.ArrowInvalid, OSError) as e:
        raise ToolkitError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None


def _articles(path: Path) -> dict[str, Article]:
    if not path.is_file():
        raise ToolkitError(f"{path}: missing (its annotations part has no articles part); run the extraction again")
    found = {}
    for n, row in enumerate(_rows(path)):
        try:
            found[row["id"]] = article_of(row)
        except ValidationError as e:
            raise ToolkitError(f"{path} row {n}: {first_error(e)}") from None
    return found


def read_predictions(out: Path) -> Iterator[AnnotatedDocument]:
    """Every predicted document of a finished ``annotate extract --input ARCHIVE --out OUT`` run."""
    out = Path(out)
    if not (out / MANIFEST).is_file():
        raise ToolkitError(f"{out}: no {MANIFEST}, so not a finished `annotate extract --input` run; run its command "
                           "again to finish it")
    annotations = out / ANNOTATIONS.name
    for path in sorted(annotations.rglob("part-*.parquet")):
        articles = _articles(out / ARTICLES.name / path.relative_to(annotations))
        for n, row in enumerate(_rows(path)):
            article = articles.get(row["article_id"])
            if article is None:
                raise ToolkitError(f"{path} row {n}: article {row['article_id']!r} is not in its articles part; run "
                                   "the extraction again")
            yield annotation_document(row, article, f"{path} row {n}")
