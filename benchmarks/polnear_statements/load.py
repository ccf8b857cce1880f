"""The PolNeAR dev statement clusters for other code (a linker's benchmark, say).

    from benchmarks.polnear_statements.load import load_dev_clusters
    documents, gold = load_dev_clusters(Path("../shared/corpora/polnear"))

``documents`` are the BRAT reader's documents, one per dev article (RULES.md, "Mention set"), with
outlet, date and title from ``metadata.tsv`` and every speaker canonicalised as ``speakers.py`` does,
so ``schemas.quote_mentions.quote_mentions(documents)`` gives mentions whose ``speaker`` is
``donald-trump`` in every article. ``gold`` is ``clusters.json`` as lists of ``QuoteMention.key``
("article_id/quote_id"): the statements, then the singletons. The gold covers the mention set only
(every quote of the speakers that have a multi-article statement); score a linker on those keys.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.polnear_statements.clusters import CLUSTERS, read_clusters, verify
from benchmarks.polnear_statements.corpus import COMPARTMENT, dev_documents
from benchmarks.polnear_statements.speakers import canonical_documents
from schemas import AnnotatedDocument
from schemas.quote_mentions import quote_mentions


def load_dev_clusters(polnear_root: Path) -> tuple[list[AnnotatedDocument], list[list[str]]]:
    """The canonicalised dev documents and the gold clusters as quote keys.

    Raises ``ToolkitError`` when a reference no longer matches the corpus under ``polnear_root`` (a
    missing quote, other offsets, another sha256 of its text, another speaker), naming the cluster.
    """
    documents = canonical_documents(dev_documents(polnear_root))
    clusters = read_clusters(CLUSTERS)
    annotators = {d.article.id: d.provenance.annotator or "" for d in documents}
    verify(clusters, {m.key: m for m in quote_mentions(documents)}, annotators, COMPARTMENT)
    return documents, [c.keys() for c in clusters]
