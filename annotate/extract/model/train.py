"""``annotate train``: a CRF fitted to the content, cue and source tokens of gold documents.

CRFsuite (through ``python-crfsuite``) is the classic for this kind of token tagging, trains on
the CPU in minutes and writes a data-only model; L-BFGS with elastic-net regularisation is its
strongest trainer here. The training data's fingerprint (sha256 over the documents' JSON lines,
sorted, so the order of the file does not change it) goes into the model file.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pycrfsuite

from annotate.extract.model.features import ArticleFeatures, document_spans, span_tags
from annotate.extract.model.model_file import ModelInfo, Trainer, TrainingData, write_model
from schemas import AnnotatedDocument, ToolkitError

DEFAULT_PARAMS: dict[str, float | int | str] = {"c1": 0.05, "c2": 0.01, "max_iterations": 150,
                                                "feature.possible_transitions": 1}


def toolkit_version() -> str:
    try:
        return version("news-attribution-annotate")
    except PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


def train_model(docs: Iterable[AnnotatedDocument], out: Path, *, source: str,
                params: dict[str, float | int | str] | None = None) -> ModelInfo:
    """Train on ``docs`` and write the model file ``out``; its description."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    trainer = pycrfsuite.Trainer(verbose=False)
    trainer.select("lbfgs", "crf1d")
    trainer.set_params(params)
    digest_lines: list[str] = []
    articles: dict[str, ArticleFeatures] = {}
    n_docs = n_quotes = n_sequences = n_tokens = 0
    started = time.perf_counter()
    for doc in docs:
        n_docs += 1
        n_quotes += len(doc.quotes)
        digest_lines.append(doc.model_dump_json())
        feats = articles.get(doc.article.id)
        if feats is None:
            feats = articles[doc.article.id] = ArticleFeatures(doc.article)
        gold = document_spans(doc)
        for seq in feats.sequences:
            trainer.append(feats.features(seq), span_tags(seq, gold))
            n_sequences += 1
            n_tokens += len(seq.starts)
    if n_quotes == 0:
        raise ToolkitError(f"{source}: no quotes to train on ({n_docs} documents); give a gold with annotated quotes")
    fingerprint = hashlib.sha256("\n".join(sorted(digest_lines)).encode("utf-8")).hexdigest()
    with tempfile.TemporaryDirectory(prefix="annotate-train-") as tmp:
        path = Path(tmp, "tagger.crfsuite")
        trainer.train(str(path))
        tagger = path.read_bytes()
    info = ModelInfo(
        toolkit_version=toolkit_version(),
        labels=sorted(pycrfsuite_labels(tagger)),
        trained_on=TrainingData(fingerprint=fingerprint, source=source, documents=n_docs, articles=len(articles),
                                quotes=n_quotes, sequences=n_sequences, tokens=n_tokens),
        trainer=Trainer(algorithm="lbfgs", params=params, seconds=round(time.perf_counter() - started, 1)),
        created_at=datetime.now(UTC).replace(microsecond=0),
        tagger_sha256=hashlib.sha256(tagger).hexdigest(),
    )
    write_model(out, info, tagger)
    return info


def pycrfsuite_labels(tagger: bytes) -> list[str]:
    t = pycrfsuite.Tagger()
    t.open_inmemory(tagger)  # ``tagger`` stays referenced until close
    try:
        return list(t.labels())
    finally:
        t.close()
