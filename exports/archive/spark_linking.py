"""Statement linking over a whole collection on Spark: the one-machine linker's candidates, rule and clustering.

The quotes become one DataFrame of (block, index, words), a block being the one-machine linker's (speaker, and
story unless stories are ignored; ``candidates.blocks_of``), its quotes indexed in the same order. Then:

- *Rare words*, as ``RareWords.of``: the distinct words of the quotes of at least ``min_words`` words, counted
  per block; a word in at most ``max_df`` of them is rare.
- *Short quotes* (at most ``short_words`` distinct words) are paired with every quote sharing one of their rare
  words by an equi-join on (block, word): exact, as the one-machine rare-word pass.
- *Long quotes* go through ``pyspark.ml.feature.MinHashLSH`` over their rare words, each hashed together with
  its block (``HashingTF``), so quotes of different blocks share no feature and blocking comes from the
  feature space itself; the pairs whose hashes collide in a table (what ``approxSimilarityJoin`` proposes) are
  found by an equi-join on (block, table, hash).
- The candidates are scored per block on the executors by the linker's own ``given_pairs`` and kept by the
  same rule (``BlockCandidates.passing``); the driver receives only the passing pairs and clusters each block
  with the linker's ``cluster_block`` (connected components), so statements are built by one piece of code.

Where the two engines could differ: only in which long-long pairs LSH proposes. Spark's MinHashLSH has one
MinHash per table (no AND of rows), so with ``bands`` tables a pair of rare-word Jaccard J is proposed with
probability 1 - (1 - J)^bands, never less than the one-machine 1 - (1 - J^2)^bands (``CandidateSettings``):
Spark can find a passing pair the one-machine LSH misses (it then equals ``method="exhaustive"`` more often,
not less), and misses one only where both LSHs are likely to. Hash collisions of (block, word) features only
add candidates, which the scoring rejects. On the test data (the seed gold, 600 synthetic quotes) Spark finds
every passing pair of the exhaustive comparison and both engines give the statements of ``link_documents``; on
larger synthetic archives Spark links a few pairs the one-machine LSH misses, so a few of its statements are
unions of one-machine ones (``benchmarks/bench_statement_linking_spark.py`` counts them and compares both with
the exhaustive comparison).

Components are computed on the driver from the passing pairs (few: the links), per block, by ``cluster_block``;
scoring, the expensive part, runs on the executors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from pyspark.ml.feature import HashingTF, MinHashLSH
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from annotate.extract.statements.candidates import (
    DEFAULT_SETTINGS,
    Block,
    BlockCandidates,
    CandidateSettings,
    FoundBy,
    blocks_of,
    given_pairs,
)
from annotate.extract.statements.linker import (
    DEFAULT_THRESHOLD,
    LinkedStatement,
    cluster_block,
    in_rendering_order,
    statement_documents,
)
from annotate.extract.statements.similarity import PairScores
from exports.archive.spark_session import default_master, spark_session
from schemas.errors import ToolkitError
from schemas.models import AnnotatedDocument
from schemas.quote_mentions import QuoteMention
from schemas.statements import StatementDocument

_FEATURES = 1 << 30  # hashed (block, word) features: collisions only add candidates
_SCORES = ("ratio", "partial", "token_set", "score", "rule")
_PASSING_SCHEMA = ("block long, left long, right long, shared long, ratio double, partial double, "
                   "token_set double, score double, rule long")


def spark_link_documents(documents: Iterable[AnnotatedDocument], *, use_stories: bool = True,
                         threshold: float = DEFAULT_THRESHOLD, settings: CandidateSettings = DEFAULT_SETTINGS,
                         spark=None, workers: int = 2) -> list[StatementDocument]:
    """``link_documents`` with the linking done on Spark (a local session unless ``spark`` is given)."""
    def link(mentions: Iterable[QuoteMention]) -> list[LinkedStatement]:
        return spark_link_mentions(mentions, use_stories=use_stories, threshold=threshold, settings=settings,
                                   spark=spark, workers=workers)

    return statement_documents(documents, link, use_stories=use_stories)


def spark_link_mentions(mentions: Iterable[QuoteMention], *, use_stories: bool = True,
                        threshold: float = DEFAULT_THRESHOLD, settings: CandidateSettings = DEFAULT_SETTINGS,
                        spark=None, workers: int = 2) -> list[LinkedStatement]:
    """``link_mentions`` on Spark: the same rule, clustering and order; the same statements wherever both LSHs
    propose the same passing pairs (see the module docstring)."""
    if not 0 < threshold <= 1:
        raise ToolkitError(f"link threshold {threshold}: use a similarity in (0, 1], e.g. {DEFAULT_THRESHOLD}")
    blocks = blocks_of(mentions, use_stories=use_stories)
    if not blocks:
        return []
    session = spark if spark is not None else spark_session(default_master(workers), "annotate statements link")
    passing = passing_pairs(session, blocks, threshold=threshold, settings=settings)
    linked = []
    for b, block in enumerate(blocks):
        linked.extend(cluster_block(block, passing.get(b, _no_pairs())))
    return in_rendering_order(linked)


def passing_pairs(spark, blocks: list[Block], *, threshold: float,
                  settings: CandidateSettings) -> dict[int, BlockCandidates]:
    """The pairs of each block (by position in ``blocks``) that pass the linker's rule, found and scored on Spark."""
    rows = [(b, i, list(m.words)) for b, block in enumerate(blocks) for i, m in enumerate(block.mentions)]
    quotes = spark.createDataFrame(rows, "block long, idx long, words array<string>")
    candidates = candidate_pairs(quotes, settings)
    scored = quotes.groupBy("block").cogroup(candidates.groupBy("block")).applyInPandas(
        lambda q, p: _score_block(q, p, threshold, settings), schema=_PASSING_SCHEMA)
    # The LSH join's sides are the quotes' hashes: Spark's size estimate would broadcast them and run out of driver
    # memory past ~10,000 quotes, so shuffle joins for this job (the session's setting restored after).
    before = spark.conf.get("spark.sql.autoBroadcastJoinThreshold")
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        found = scored.toPandas()
    finally:
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", before)
    return {int(b): _block_candidates(part) for b, part in found.groupby("block")}


def candidate_pairs(quotes, settings: CandidateSettings):
    """(block, left, right) candidate pairs, left < right: the exact short-quote join and MinHash LSH."""
    eligible = quotes.where(F.size("words") >= settings.min_words).select(
        "block", "idx", F.array_distinct("words").alias("distinct"))
    eligible = eligible.withColumn("short", F.size("distinct") <= settings.short_words)
    incidence = eligible.select("block", "idx", "short", F.explode("distinct").alias("word"))
    rare_words = incidence.groupBy("block", "word").count().where(F.col("count") <= settings.max_df).drop("count")
    rare = incidence.join(rare_words, ["block", "word"])

    a, b = rare.alias("a"), rare.alias("b")
    short_pairs = a.join(b, (F.col("a.block") == F.col("b.block")) & (F.col("a.word") == F.col("b.word"))).where(
        F.col("a.short") & (F.col("a.idx") != F.col("b.idx")) & (~F.col("b.short") | (F.col("a.idx") < F.col("b.idx")))
    ).select(F.col("a.block").alias("block"), F.least("a.idx", "b.idx").alias("left"),
             F.greatest("a.idx", "b.idx").alias("right"))

    features = rare.where(~F.col("short")).groupBy("block", "idx").agg(
        F.collect_list(F.concat_ws("\x1f", F.col("block").cast("string"), F.col("word"))).alias("rare"))
    hashed = HashingTF(inputCol="rare", outputCol="features", numFeatures=_FEATURES, binary=True).transform(features)
    lsh = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=settings.bands,
                     seed=settings.seed).fit(hashed)
    # The pairs that collide in a hash table, as ``approxSimilarityJoin`` finds them (equal hash in one table),
    # joined here on (block, table, hash) over rows of three numbers: the model's join carries both whole rows
    # (features, 32 hash vectors) through the shuffle, ~70 GB of spill at 1,000,000 quotes. It also drops the
    # pairs that collide without sharing a feature; those share no rare word, so the scoring rejects them.
    buckets = lsh.transform(hashed).select("block", "idx", F.posexplode("hashes").alias("table", "hash")).select(
        "block", "idx", "table", vector_to_array("hash")[0].alias("hash"))
    a, b = buckets.alias("a"), buckets.alias("b")
    long_pairs = a.join(b, (F.col("a.block") == F.col("b.block")) & (F.col("a.table") == F.col("b.table"))
                        & (F.col("a.hash") == F.col("b.hash")) & (F.col("a.idx") < F.col("b.idx"))).select(
        F.col("a.block").alias("block"), F.col("a.idx").alias("left"), F.col("b.idx").alias("right"))
    return short_pairs.unionByName(long_pairs).distinct()


def _score_block(quotes: pd.DataFrame, pairs: pd.DataFrame, threshold: float,
                 settings: CandidateSettings) -> pd.DataFrame:
    """On an executor: one block's candidates scored by ``given_pairs``, those that pass the linker's rule."""
    if pairs.empty or quotes.empty:
        return pd.DataFrame(columns=_PASSING_SCHEMA_COLUMNS)
    quotes = quotes.sort_values("idx")
    words = [list(ws) for ws in quotes["words"]]
    order = np.lexsort((pairs["right"].to_numpy(), pairs["left"].to_numpy()))
    left = pairs["left"].to_numpy(dtype=np.int64)[order]
    right = pairs["right"].to_numpy(dtype=np.int64)[order]
    found = given_pairs(words, left, right, settings=settings).passing(threshold)
    out = {"block": np.full(len(found), int(quotes["block"].iloc[0]), dtype=np.int64), "left": found.left,
           "right": found.right, "shared": found.shared_rare}
    out.update({f: getattr(found.scores, f) for f in _SCORES})
    return pd.DataFrame(out)


_PASSING_SCHEMA_COLUMNS = [c.split()[0] for c in _PASSING_SCHEMA.split(", ")]


def _block_candidates(part: pd.DataFrame) -> BlockCandidates:
    part = part.sort_values(["left", "right"])
    scores = PairScores(ratio=part["ratio"].to_numpy(np.float64), partial=part["partial"].to_numpy(np.float64),
                        token_set=part["token_set"].to_numpy(np.float64), score=part["score"].to_numpy(np.float64),
                        rule=part["rule"].to_numpy(np.uint8))
    return BlockCandidates(left=part["left"].to_numpy(np.int64), right=part["right"].to_numpy(np.int64),
                           found_by=np.full(len(part), FoundBy.GIVEN, dtype=np.uint8),
                           shared_rare=part["shared"].to_numpy(np.int64), scores=scores)


def _no_pairs() -> BlockCandidates:
    return _block_candidates(pd.DataFrame({c: pd.Series(dtype="float64") for c in _PASSING_SCHEMA_COLUMNS}))


def iter_passing(found: dict[int, BlockCandidates]) -> Iterator[tuple[int, int, int]]:
    """(block, left, right) of every passing pair, for comparing engines."""
    for b in sorted(found):
        yield from ((b, int(i), int(j)) for i, j in zip(found[b].left.tolist(), found[b].right.tolist()))
