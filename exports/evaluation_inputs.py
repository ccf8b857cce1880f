"""The inputs of ``annotate evaluate``: gold documents (a published release folder or a JSONL), predicted
documents (JSONL), and the agreement report that gives the ceilings.

Every document keeps where it was read (``file:line``, or the Parquet file and row), so that every later
error and every prediction left out of the evaluation can name it.

A release folder is read back from its gold configs (``articles`` and ``exports.dataset.rows.GOLD_LAYERS``;
``data/<config>/<split>.parquet``), one gold document per article: this module chooses the files and names
where each row came from; the rows are decoded by the dataset's own codec (``exports.dataset.rows``), and the
version comes from the release records (``exports.dataset.release``).

For streaming (``exports.evaluation_stream``) the gold is a ``GoldArticles``: every gold document validated
once, up front (a bad gold line is the first error, whatever the predictions), and kept only as the units the
figures read (``exports.evaluation_units.Docs``, a few hundred bytes a document), by article. A JSONL gold is
read in worker processes (``exports.evaluation_workers``) by the fast reader (``exports.evaluation_read``); a
release folder, and documents given in memory, are read as ``AnnotatedDocument``s first (a release whole, from
its Parquet files).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ValidationError

from exports.corpus import AnnotatorDocuments, ArticleTexts, Corpus
from exports.dataset.release import version_of
from exports.dataset.rows import GOLD_LAYERS, article_of, gold_document, gold_item
from exports.evaluation_read import document_dict, read_line
from exports.evaluation_units import Docs, DocsBuilder, Speakers
from exports.evaluation_workers import Range, lines, ranges, run
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


def iter_jsonl(path: Path, option: str) -> Iterator[Located]:
    """``AnnotatedDocument``s one at a time; a missing file is an error at once, a bad line when it is reached."""
    if not path.is_file():
        raise ToolkitError(f"{option} {path}: no such file; give a JSONL file of AnnotatedDocument, one per line")
    return (Located(f"{path}:{lineno}", doc) for lineno, doc in iter_documents(path))


def no_documents(path: Path, option: str) -> ToolkitError:
    return ToolkitError(f"{option} {path}: no documents in the file; give a JSONL of AnnotatedDocument")


def read_jsonl(path: Path, option: str) -> list[Located]:
    """``AnnotatedDocument``s, one JSON object per line; a bad line raises ``ToolkitError`` naming ``file:line``."""
    docs = list(iter_jsonl(path, option))
    if not docs:
        raise no_documents(path, option)
    return docs


def _swapped(where: str) -> ToolkitError:
    return ToolkitError(f"{where}: a model prediction (provenance origin 'prediction') in the gold; "
                        "did you swap --gold and --pred?")


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
            raise _swapped(located.where)
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


# --- the gold by article, for streaming ----------------------------------------------------------------------

RANGE_BYTES = 8 * 2**20  # bytes of a JSONL file per worker task: a few thousand documents


@dataclass
class GoldArticles:
    """The gold documents by article, checked as ``Corpus`` checks them (one article id, one text; one document
    per annotator and article), as the units the figures read: ``docs[i]`` for ``i`` in ``by_article[id]``, an
    article's documents sorted by annotator."""

    info: InputInfo
    texts: ArticleTexts
    docs: Docs
    speakers: Speakers  # the codes of the speaker entities in ``docs``
    by_article: dict[str, list[int]]
    annotator: list[str]  # (D,) of each document
    annotators: list[str]  # sorted

    @property
    def n_documents(self) -> int:
        return len(self.annotator)

    @classmethod
    def _of(cls, info: InputInfo, texts: ArticleTexts, docs: Docs, speakers: Speakers, article_ids: list[str],
            annotator: list[str]) -> GoldArticles:
        by_article: dict[str, list[int]] = {}
        for i in sorted(range(len(annotator)), key=lambda i: (article_ids[i], annotator[i])):
            by_article.setdefault(article_ids[i], []).append(i)
        return cls(info, texts, docs, speakers, by_article, annotator, sorted(set(annotator)))

    @classmethod
    def held(cls, gold: list[Located], info: InputInfo) -> GoldArticles:
        """Gold documents already read (given in memory, or from a release folder)."""
        corpus = Corpus.of([g.doc for g in gold], [g.where for g in gold], exclude_origins=False)
        builder = DocsBuilder(Speakers())
        for doc in corpus.docs:
            builder.add(document_dict(doc))
        return cls._of(info, corpus.texts, builder.docs(), builder.speakers, [d.article.id for d in corpus.docs],
                       [d.provenance.annotator for d in corpus.docs])

    @classmethod
    def read(cls, path: Path, workers: int | None = None, range_bytes: int = RANGE_BYTES) -> GoldArticles:
        """A JSONL gold, every line validated once (in worker processes), checked in file order: the first bad
        line, else the first prediction in it (a swapped --gold), else the first inconsistency."""
        if not path.is_file():
            raise ToolkitError(f"--gold {path}: no such file; give a JSONL file of AnnotatedDocument, one per line")
        parts, keys, before = [], [], 0
        for part in run(_read_range, ranges(path, range_bytes), workers=workers):
            if part.bad is not None:
                index, offset, raw = part.bad
                read_line(raw, path, before + index + 1, offset)  # raises that line's error
            parts.append(part)
            keys += [(before + index + 1, *k) for index, *k in part.keys]
            before += part.n_lines
        if not keys:
            raise no_documents(path, "--gold")
        for lineno, _, _, _, origin in keys:
            if origin == "prediction":
                raise _swapped(f"{path}:{lineno}")
        texts, owners = ArticleTexts(), AnnotatorDocuments()
        for lineno, article_id, sha256, annotator, _ in keys:
            where = f"{path}:{lineno}"
            texts.check(article_id, sha256, where)
            owners.check(article_id, annotator, where)
        speakers = Speakers()
        docs = Docs.concat([p.docs.recode(np.array([speakers.code(name) for name in p.speakers], dtype=np.int64))
                            for p in parts])
        return cls._of(InputInfo(str(path)), texts, docs, speakers, [k[1] for k in keys], [k[3] for k in keys])


@dataclass(frozen=True)
class _GoldPart:
    """What a worker read of one range of a gold file."""

    n_lines: int
    docs: Docs
    speakers: list[str]  # the range's speaker codes, in code order
    keys: list[tuple[int, str, str, str, str]]  # (line index, article id, sha256, annotator, origin)
    bad: tuple[int, int, bytes] | None  # the first bad line: (line index, byte offset, bytes)


def _read_range(r: Range) -> _GoldPart:
    builder, keys, bad, n_lines = DocsBuilder(Speakers()), [], None, 0
    for index, offset, raw in lines(r):
        n_lines = index + 1
        try:
            d = read_line(raw, r.path, 0, offset)  # the caller numbers the lines: it rereads a bad one to raise
        except ToolkitError:
            bad = index, offset, raw
            break
        if d is not None:
            article, provenance = d["article"], d["provenance"]
            keys.append((index, article["id"], article["sha256"], provenance["annotator"], provenance["origin"]))
            builder.add(d)
    return _GoldPart(n_lines, builder.docs(), list(builder.speakers), keys, bad)


def gold_articles(path: Path, split: str | None = None, workers: int | None = None) -> GoldArticles:
    """The gold of ``annotate evaluate`` by article: a release folder read whole, a JSONL in worker processes."""
    if path.is_dir():
        docs, info = read_gold(path, split)
        return GoldArticles.held(docs, info)
    if split is not None:
        read_gold(path, split)  # raises: only a release folder has splits
    return GoldArticles.read(path, workers)
