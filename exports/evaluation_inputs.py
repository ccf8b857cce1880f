"""The inputs of ``annotate evaluate``: gold documents (a published release folder or a JSONL), predicted
documents (JSONL), and the agreement report that gives the ceilings.

Every document keeps where it was read (``file:line``, or the Parquet file and row), so that every later
error and every prediction left out of the evaluation can name it.

A release folder is read back from its gold configs (``articles`` and ``exports.dataset.rows.GOLD_LAYERS``;
``data/<config>/<split>.parquet``), one gold document per article: this module chooses the files and names
where each row came from; the rows are decoded by the dataset's own codec (``exports.dataset.rows``), and the
version comes from the release records (``exports.dataset.release``).

For streaming (``exports.evaluation_stream``) the gold is a ``GoldArticles``: the documents of one article on
demand. A JSONL gold is indexed, not held (``IndexedGold``: article id -> byte offsets, each line validated
once while indexing and again when its article is asked for); a release folder, and documents given in memory,
are held (``HeldGold``): a release is read whole from its Parquet files, so its size is bounded by memory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import ValidationError

from exports.corpus import AnnotatorDocuments, ArticleTexts, Corpus
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


@dataclass
class GoldArticles:
    """The gold documents by article, checked as ``Corpus`` checks them (one article id, one text; one document
    per annotator and article). ``documents`` gives one article's, sorted by annotator."""

    info: InputInfo
    texts: ArticleTexts
    n_documents: int
    annotators: list[str]  # sorted

    def documents(self, article_id: str) -> list[AnnotatedDocument]:
        raise NotImplementedError

    def check_rest(self) -> None:
        """Validate the documents not asked for yet (a bad gold line is an error even if nothing predicts it)."""

    def check_all(self) -> None:
        """Raise the first problem of the whole gold, as reading it whole would (held gold: checked already)."""

    def close(self) -> None:
        """Release what reading held open (nothing, unless the gold is read from a file on demand)."""


@dataclass
class HeldGold(GoldArticles):
    """Gold documents held in memory (given in memory, or read from a release folder)."""

    by_article: dict[str, list[AnnotatedDocument]] = field(default_factory=dict)

    @classmethod
    def of(cls, gold: list[Located], info: InputInfo) -> HeldGold:
        corpus = Corpus.of([g.doc for g in gold], [g.where for g in gold], exclude_origins=False)
        by_article: dict[str, list[AnnotatedDocument]] = {}
        for doc in corpus.docs:  # sorted by (article id, annotator)
            by_article.setdefault(doc.article.id, []).append(doc)
        return cls(info, corpus.texts, len(gold), sorted({d.provenance.annotator for d in corpus.docs}), by_article)

    def documents(self, article_id: str) -> list[AnnotatedDocument]:
        return self.by_article[article_id]


def _raw_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line) of every line, numbered as ``schemas.files.iter_lines`` numbers them."""
    offset = 0
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            yield lineno, offset, raw
            offset += len(raw)


class _NotPlain(Exception):
    """A line the quick index does not read as a plain document; the exact, validating pass decides."""


def _keys(raw: bytes) -> tuple[str, str, str, str] | None:
    """(article id, sha256, annotator, origin) of a plain document line; None for a blank one."""
    try:
        line = raw.decode("utf-8")
        if not line.strip():
            return None
        record = json.loads(line)
        article, provenance = record["article"], record["provenance"]
        keys = article["id"], article["sha256"], provenance["annotator"], provenance.get("origin", "label-studio")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _NotPlain from None
    if not all(isinstance(k, str) for k in keys):
        raise _NotPlain
    return keys


@dataclass
class IndexedGold(GoldArticles):
    """A gold JSONL indexed by article (byte offset and line of each document) and read again on demand: memory
    grows with the number of documents by an index entry each, not by the documents.

    The index reads four keys of each line (``json.loads``, no validation), so that each document is validated
    once, when its article is evaluated, and the ones never asked for at the end (``check_rest``). Any problem
    (a line the index cannot read, a swapped or inconsistent gold, a document that fails validation) sends the
    file through the one reader, ``iter_documents``, which reports what reading the gold whole reports first.
    """

    path: Path = field(default_factory=Path)
    entries: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)  # id -> (annotator, offset, line)
    validated: set[int] = field(default_factory=set)  # lines already validated
    _file: BinaryIO | None = None

    @classmethod
    def read(cls, path: Path) -> IndexedGold:
        if not path.is_file():
            raise ToolkitError(f"--gold {path}: no such file; give a JSONL file of AnnotatedDocument, one per line")
        texts, owners = ArticleTexts(), AnnotatorDocuments()
        entries: dict[str, list[tuple[str, int, int]]] = {}
        try:
            for lineno, offset, raw in _raw_lines(path):
                keys = _keys(raw)
                if keys is None:
                    continue
                article_id, sha256, annotator, origin = keys
                where = f"{path}:{lineno}"
                if origin == "prediction":
                    raise _NotPlain
                texts.check(article_id, sha256, where)
                owners.check(article_id, annotator, where)
                entries.setdefault(article_id, []).append((annotator, offset, lineno))
        except (_NotPlain, ToolkitError):
            return cls._validated(path)
        if not entries:
            return cls._validated(path)
        return cls._of(path, texts, entries, set())

    @classmethod
    def _of(cls, path: Path, texts: ArticleTexts, entries: dict[str, list[tuple[str, int, int]]],
            validated: set[int]) -> IndexedGold:
        for docs in entries.values():
            docs.sort()
        annotators = sorted({annotator for docs in entries.values() for annotator, _, _ in docs})
        n = sum(map(len, entries.values()))
        return cls(InputInfo(str(path)), texts, n, annotators, path, entries, validated)

    @classmethod
    def _validated(cls, path: Path) -> IndexedGold:
        """The index from validated documents, the first problem of each kind raised in the order ``read_gold``
        and ``Corpus`` raise them."""
        texts, owners = ArticleTexts(), AnnotatorDocuments()
        entries: dict[str, list[tuple[str, int, int]]] = {}
        swapped = inconsistent = None
        offsets = ((line, offset) for line, offset, _ in _raw_lines(path))  # in step with the reader
        for lineno, doc in iter_documents(path):
            offset = next(o for line, o in offsets if line == lineno)
            where, article, annotator = f"{path}:{lineno}", doc.article, doc.provenance.annotator
            if swapped is None and doc.provenance.origin == "prediction":
                swapped = _swapped(where)
            if inconsistent is None:
                try:
                    texts.check(article.id, article.sha256, where)
                    owners.check(article.id, annotator, where)
                except ToolkitError as e:
                    inconsistent = e
            entries.setdefault(article.id, []).append((annotator, offset, lineno))
        if not entries:
            raise no_documents(path, "--gold")
        for error in (swapped, inconsistent):
            if error is not None:
                raise error
        return cls._of(path, texts, entries, {line for docs in entries.values() for _, _, line in docs})

    def _load(self, article_id: str, annotator: str, offset: int, lineno: int) -> AnnotatedDocument:
        if self._file is None:
            self._file = self.path.open("rb")
        self._file.seek(offset)
        raw = self._file.readline()
        try:
            doc = AnnotatedDocument.model_validate_json(raw)  # pydantic's own JSON parser: the fast way
        except ValueError:  # pydantic's ValidationError is a ValueError
            try:  # the way ``iter_documents`` parses (json.loads accepts what some parsers refuse, lone surrogates)
                doc = AnnotatedDocument.model_validate(json.loads(raw.decode("utf-8")))
            except ValueError:
                self.check_all()
                raise self._changed(lineno) from None
        if (doc.article.id, doc.provenance.annotator) != (article_id, annotator) \
                or doc.article.sha256 != self.texts.sha256(article_id):
            raise self._changed(lineno)
        self.validated.add(lineno)
        return doc

    def _changed(self, lineno: int) -> ToolkitError:
        return ToolkitError(f"{self.path}:{lineno}: the file changed while it was being evaluated; evaluate again "
                            "with a gold file nothing writes to")

    def documents(self, article_id: str) -> list[AnnotatedDocument]:
        return [self._load(article_id, *entry) for entry in self.entries[article_id]]

    def check_rest(self) -> None:
        for article_id, docs in self.entries.items():
            for entry in docs:
                if entry[2] not in self.validated:
                    self._load(article_id, *entry)

    def check_all(self) -> None:
        for _ in iter_documents(self.path):
            pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def gold_articles(path: Path, split: str | None = None) -> GoldArticles:
    """The gold of ``annotate evaluate`` by article: a release folder held, a JSONL indexed."""
    if path.is_dir():
        docs, info = read_gold(path, split)
        return HeldGold.of(docs, info)
    if split is not None:
        read_gold(path, split)  # raises: only a release folder has splits
    return IndexedGold.read(path)
