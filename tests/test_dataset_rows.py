"""The dataset's row codec: a gold document encoded to rows (through Parquet's types) decodes to the same document."""

from collections import defaultdict

import pyarrow as pa
import pytest

from exports.dataset.configs import ANNOTATIONS, ARTICLES, CONFIGS
from exports.dataset.rows import (
    GOLD_LAYERS,
    annotation_row,
    article_of,
    article_row,
    gold_document,
    gold_item,
    gold_rows,
)
from schemas import AnnotatedDocument, Provenance
from schemas.documents import read_documents
from schemas.paths import SEEDS_DIR

SEED_GOLD = read_documents([SEEDS_DIR / "annotations" / "gold.jsonl"])


def through_parquet_types(config: str, rows: list[dict]) -> list[dict]:
    """The rows as a reader of the published files gets them: cast to the config's declared Arrow schema."""
    return pa.Table.from_pylist(rows, schema=CONFIGS[config].features.arrow_schema).to_pylist()


def round_trip(doc: AnnotatedDocument) -> AnnotatedDocument:
    by_config = defaultdict(list)
    for config, row in gold_rows(doc, "test"):
        by_config[config].append(row)
    [article] = through_parquet_types(ARTICLES.name, [article_row(doc)])
    items = {config: [gold_item(config, row) for row in through_parquet_types(config, by_config[config])]
             for config in GOLD_LAYERS if by_config[config]}
    return gold_document(article_of(article), items)


def expected(doc: AnnotatedDocument) -> AnnotatedDocument:
    # What a release keeps of a gold document: gold provenance, and each quote's speaker resolved to its entity.
    quotes = [q.model_copy(update={"speaker_entity_id": doc.speaker_of(q)}) for q in doc.quotes]
    return doc.model_copy(update={"provenance": Provenance(annotator="gold", origin="gold"), "quotes": quotes})


@pytest.mark.parametrize("doc", SEED_GOLD, ids=[d.article.id for d in SEED_GOLD])
def test_gold_rows_decode_to_the_same_document(doc):
    assert any(getattr(doc, layer) for layer in GOLD_LAYERS)  # the round trip has something to carry
    assert round_trip(doc) == expected(doc)


def test_every_gold_row_has_exactly_the_declared_columns():
    # The codec and the declarations in configs.py are two modules: this keeps their column names the same.
    for doc in SEED_GOLD:
        assert list(article_row(doc)) == list(ARTICLES.columns)
        assert list(annotation_row(doc, "test")) == list(ANNOTATIONS.columns)
        for config, row in gold_rows(doc, "test"):
            assert list(row) == list(CONFIGS[config].columns), config
