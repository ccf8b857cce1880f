"""PolNeAR ``dev`` as one document per article, through the repository's BRAT reader.

The reader gives one document per article *per annotator*; a statement set needs one layer per
article (a quote key ``article_id/quote_id`` must name one quote), so for the articles that several
annotators did we keep the layer of the annotator listed first in ``metadata.tsv`` (RULES.md, "Mention
set"). Outlet, date and title come from ``metadata.tsv`` as well: the reader knows only the text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from annotate.formats.brat import import_brat
from schemas import AnnotatedDocument, ToolkitError
from schemas.files import read_text

COMPARTMENT = "dev"


@dataclass(frozen=True)
class ArticleMeta:
    filename: str
    annotators: tuple[str, ...]
    outlet: str
    published: date
    title: str


def read_metadata(polnear_root: Path) -> dict[str, ArticleMeta]:
    """The ``dev`` rows of ``metadata.tsv``, by file name (= the reader's article id)."""
    path = polnear_root / "metadata.tsv"
    if not path.is_file():
        raise ToolkitError(f"{path}: not found; give the PolNeAR root (the folder holding metadata.tsv and dev/)")
    rows = csv.DictReader(read_text(path).splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {
        r["filename"]: ArticleMeta(r["filename"], tuple(r["annotators"].split("|")), r["publisher"],
                                   date.fromisoformat(r["publication_date"]), r["title"])
        for r in rows if r["compartment"] == COMPARTMENT
    }


def dev_documents(polnear_root: Path) -> list[AnnotatedDocument]:
    """One document per ``dev`` article (first-listed annotator's layer), with outlet, date and title set,
    sorted by article id."""
    meta = read_metadata(polnear_root)
    layers: dict[str, dict[str, AnnotatedDocument]] = {}
    for doc in import_brat(polnear_root / COMPARTMENT).documents:
        layers.setdefault(doc.article.id, {})[doc.provenance.annotator or ""] = doc
    documents = []
    for article_id in sorted(layers):
        m = meta.get(article_id)
        if m is None:
            raise ToolkitError(f"{polnear_root / 'metadata.tsv'}: no dev row for {article_id}; "
                               "use the metadata.tsv shipped with this copy of PolNeAR")
        chosen = next((layers[article_id][a] for a in m.annotators if a in layers[article_id]), None)
        if chosen is None:
            raise ToolkitError(f"{polnear_root / COMPARTMENT}: no layer of {'/'.join(m.annotators)} for {article_id}; "
                               "metadata.tsv and the attributions folder disagree")
        article = chosen.article.model_copy(update={"outlet": m.outlet, "published": m.published, "title": m.title})
        documents.append(chosen.model_copy(update={"article": article}))
    return documents
