"""The inputs of ``annotate evaluate``: gold documents (a published release folder or a JSONL), predicted
documents (JSONL), and the agreement report that gives the ceilings.

Every document keeps where it was read (``file:line``, or the Parquet file and row), so that every later
error and every prediction left out of the evaluation can name it.

A release folder is read back from the gold configs that ``exports.dataset_rows`` writes (``articles``,
``entities``, ``mentions``, ``quotes``, ``stances``, ``claims``; ``data/<config>/<split>.parquet``), one gold
document per article; dataset_rows offers no reader, so the inverse mapping is here. Class labels are stored
as positions in the enums of ``schemas.labels`` (dataset_rows encodes them so), and read back the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from annotate.articles import first_error, read_text
from exports.agreement_report import AgreementReport
from schemas import (
    AnnotatedDocument,
    Article,
    CheckWorthy,
    Claim,
    Entity,
    EntityType,
    Mention,
    Polarity,
    Provenance,
    Quote,
    QuoteKind,
    Span,
    Stance,
    ToolkitError,
)

RELEASE_AGREEMENT = "agreement.json"  # an agreement report carried in a release folder, if any
GOLD_CONFIGS = ("entities", "mentions", "quotes", "stances", "claims")


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
    from annotate.documents import iter_documents

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


def _release_version(folder: Path) -> str | None:
    from exports.release import HISTORY_FILE, RELEASE_FILE, Release, ReleaseHistory

    try:
        if (folder / RELEASE_FILE).is_file():  # a version folder: .releases/<version>/
            return Release.model_validate_json((folder / RELEASE_FILE).read_bytes()).version
        if (folder / HISTORY_FILE).is_file():
            latest = ReleaseHistory.model_validate_json((folder / HISTORY_FILE).read_bytes()).latest
            return latest.version if latest else None
    except ValidationError as e:
        raise ToolkitError(f"{folder}: release record unreadable ({first_error(e)}); publish the release again") \
            from None
    return None


def _span(value: dict | None) -> Span | None:
    return None if value is None else Span(**value)


def _item(config: str, row: dict) -> Entity | Mention | Quote | Stance | Claim:
    """One gold item from its row: the inverse of ``exports.dataset_rows``' per-layer fields."""
    if config == "entities":
        return Entity(id=row["entity_id"], name=row["name"], type=list(EntityType)[row["type"]],
                      wikidata=row["wikidata"])
    if config == "mentions":
        return Mention(id=row["mention_id"], span=_span(row["span"]), entity_id=row["entity_id"],
                       supported_by=row["supported_by"] or [])
    if config == "quotes":
        return Quote(id=row["quote_id"], kind=list(QuoteKind)[row["kind"]], content=[Span(**s) for s in row["content"]],
                     cue=_span(row["cue"]), speaker_mention_id=row["speaker_mention_id"],
                     speaker_entity_id=row["speaker_entity_id"], supported_by=row["supported_by"] or [])
    if config == "stances":
        return Stance(id=row["stance_id"], holder_entity_id=row["holder_entity_id"], target_id=row["target_id"],
                      polarity=list(Polarity)[row["polarity"]], evidence=row["evidence"] or [],
                      supported_by=row["supported_by"] or [])
    return Claim(id=row["claim_id"], span=_span(row["span"]), claimant_entity_id=row["claimant_entity_id"],
                 check_worthy=list(CheckWorthy)[row["check_worthy"]], supported_by=row["supported_by"] or [])


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
            articles[row["id"]] = (where, Article.model_validate(row))
        except ValidationError as e:
            raise ToolkitError(f"{where} (article {row.get('id')!r}): {first_error(e)}; publish the release again") \
                from None
    items: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for config in GOLD_CONFIGS:
        for file, n, row in _parquet_rows(folder, config, split):
            if row["article_id"] not in articles:
                raise ToolkitError(f"{file} row {n} (id {row['id']!r}): article {row['article_id']!r} is not in the "
                                   "articles config of this split; the release is inconsistent: publish it again")
            try:
                items[row["article_id"]][config].append(_item(config, row))
            except (ValidationError, KeyError, IndexError, TypeError) as e:
                detail = first_error(e) if isinstance(e, ValidationError) else f"unexpected row layout ({e!r})"
                raise ToolkitError(f"{file} row {n} (id {row.get('id')!r}): {detail}; publish the release again") \
                    from None
    docs = []
    for article_id, (where, article) in sorted(articles.items()):
        try:
            doc = AnnotatedDocument(article=article, provenance=Provenance(annotator="gold", origin="gold"),
                                    **items.get(article_id, {}))
        except ValidationError as e:
            raise ToolkitError(f"{folder}: gold document of article {article_id!r} ({where}): {first_error(e)}; "
                               "publish the release again") from None
        docs.append(Located(f"{where} (article {article_id!r})", doc))
    if not docs:
        raise ToolkitError(f"--gold {folder}: no articles{f' in split {split}' if split else ''}; nothing to evaluate")
    return docs, _release_version(folder)


def release_agreement(folder: Path) -> Path | None:
    """The agreement report a release folder carries (``agreement.json``), if any."""
    path = folder / RELEASE_AGREEMENT
    return path if path.is_file() else None


def read_agreement_report(path: Path) -> AgreementReport:
    if not path.is_file():
        raise ToolkitError(f"--agreement {path}: no such file; give the JSON written by `annotate agreement --json`")
    try:
        return AgreementReport.model_validate_json(read_text(path))
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}; give the JSON written by `annotate agreement --json`") from None
