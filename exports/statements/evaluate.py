"""Evaluating a statement linker against the gold statements: cluster metrics over renderings, pooled and per story.

Renderings are the mentions and statements their clusters; ``exports.cluster_metrics.score_clusters`` scores the
prediction (the response) against the gold (the key). Two modes, by what the predicted renderings point at:

- on gold quotes (no predicted documents): the linker linked the gold's quotes, so both sides' rendering keys
  are gold quote keys and are compared as they are;
- end to end (predicted documents given): the linker linked an extractor's quotes. Per article the predicted
  quotes are aligned one-to-one to the gold quotes by the comparison core, as ``exports.evaluate`` aligns them for
  attribution (overlap boundary, untyped, the largest total overlap). A predicted rendering of an aligned quote
  takes the gold quote's key; any other keeps its own key behind ``PREDICTED_PREFIX`` and is a spurious mention;
  a gold rendering that no predicted rendering took is a missing mention. Twinless mentions are scored with the
  conventions of the CoNLL reference scorer (see ``exports.cluster_metrics``).

Both sides' statements are cut to each story's renderings (a mention's story is its statement document's, or, for
a linker run without story labels (``story`` None), its article's), and the pooled figures take the stories as the
documents of ``score_documents``, as the agreement of annotators does. So a predicted statement that spans two
stories is scored as its parts: the gold, being story-scoped, has no judgement on links across stories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from exports.cluster_metrics import score_clusters, score_documents
from exports.compare import OVERLAP, Layer, align, extract_layers
from exports.evaluation_inputs import Located, read_gold, read_jsonl
from exports.statements.clusterings import Cluster, clusterings_by_story
from exports.statements.evaluation_report import (
    MentionCounts,
    QuoteAlignment,
    StatementEvaluation,
    StoryStatementEvaluation,
)
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import iter_statement_documents
from schemas.statements import StatementDocument

__all__ = ["PREDICTED_PREFIX", "StatementEvaluation", "evaluate_statement_files", "evaluate_statements"]

# '#' is not allowed in an id, so a prefixed key never equals a gold key ("article_id/quote_id").
PREDICTED_PREFIX = "predicted#"

_Story = str | None


def evaluate_statements(gold_statements: Sequence[StatementDocument], predicted_statements: Sequence[StatementDocument],
                        *, gold_documents: Sequence[AnnotatedDocument | Located],
                        predicted_documents: Sequence[AnnotatedDocument | Located] | None = None,
                        gold_where: Sequence[str] | None = None,
                        predicted_where: Sequence[str] | None = None) -> StatementEvaluation:
    """Score ``predicted_statements`` against ``gold_statements`` (one statement document per story and side).

    Without ``predicted_documents`` the predicted renderings must be gold quotes (on gold quotes); with them, they
    are quotes of ``predicted_documents`` and are first aligned to the gold quotes (end to end). ``*_where`` name
    the statement documents in messages (``file:line``). A rendering of a quote its documents lack is a
    ``ToolkitError`` naming it.
    """
    gold_docs = _by_article(gold_documents, "gold")
    gold_quotes = _quote_stories(gold_docs)
    _check_renderings(gold_statements, gold_where, "gold", gold_quotes,
                      "the gold documents (--gold) lack; link the gold's quotes")
    alignment = None
    if predicted_documents is None:
        _check_renderings(predicted_statements, predicted_where, "predicted", gold_quotes,
                          "the gold documents (--gold) lack; on gold quotes the prediction links the gold's quotes "
                          "(for a linker run on an extractor's output, evaluate on predicted quotes)")
        predicted_quotes, rename = gold_quotes, str
    else:
        pred_docs = _by_article(predicted_documents, "predicted")
        predicted_quotes = _quote_stories(pred_docs)
        _check_renderings(predicted_statements, predicted_where, "predicted", predicted_quotes,
                          "the predicted documents (--pred) lack; link the predicted documents' quotes")
        to_gold, alignment = _align_quotes(gold_docs, pred_docs)

        def rename(key: str) -> str:
            return to_gold.get(key) or PREDICTED_PREFIX + key

    key, key_story = _clusters(gold_statements, gold_where, "gold", gold_quotes, str)
    response, response_story = _clusters(predicted_statements, predicted_where, "predicted", predicted_quotes, rename)
    if not key and not response:
        raise ToolkitError("neither the gold nor the predicted statements have a rendering; nothing to evaluate")
    story_of = {**response_story, **key_story}  # a matched mention is in the gold's story
    key_by_story, response_by_story = _by_story(key, story_of), _by_story(response, story_of)
    stories = sorted(key_by_story.keys() | response_by_story.keys(), key=lambda s: (s is None, s or ""))
    return StatementEvaluation(
        quotes="gold" if predicted_documents is None else "predicted", alignment=alignment,
        mentions=_counts(key, response),
        # Stories are the documents: BLANC does not count pairs across stories as correct non-links.
        scores=score_documents([(key_by_story.get(story, []), response_by_story.get(story, [])) for story in stories]),
        stories=[StoryStatementEvaluation(story=story, mentions=_counts(k, r), scores=score_clusters(k, r))
                 for story in stories for k, r in [(key_by_story.get(story, []), response_by_story.get(story, []))]],
    )


def evaluate_statement_files(gold_statements: Path, predicted_statements: Path, *, gold: Path,
                             predicted: Path | None = None, split: str | None = None) -> StatementEvaluation:
    """``annotate evaluate --gold-statements --pred-statements``: the gold documents are a release folder or a JSONL
    (``--gold``); with ``predicted`` (``--pred``) the evaluation is end to end."""
    gold_docs, _ = read_gold(gold, split)
    pred_docs = read_jsonl(predicted, "--pred") if predicted is not None else None
    gold_where, gold_side = _read_statements(gold_statements, "--gold-statements")
    pred_where, pred_side = _read_statements(predicted_statements, "--pred-statements")
    report = evaluate_statements(gold_side, pred_side, gold_documents=gold_docs, predicted_documents=pred_docs,
                                 gold_where=gold_where, predicted_where=pred_where)
    return report.model_copy(update={"gold_source": str(gold_statements),
                                     "predicted_source": str(predicted_statements)})


# --- inputs --------------------------------------------------------------------------------------------------


def _read_statements(path: Path, option: str) -> tuple[list[str], list[StatementDocument]]:
    if not path.is_file():
        raise ToolkitError(f"{option} {path}: no such file; give a JSONL of StatementDocument, one story per line")
    read = list(iter_statement_documents(path))
    if not read:
        raise ToolkitError(f"{option} {path}: no statement documents in the file; give a JSONL of StatementDocument")
    return [f"{path}:{lineno}" for lineno, _ in read], [doc for _, doc in read]


def _by_article(documents: Sequence[AnnotatedDocument | Located], side: str) -> dict[str, Located]:
    """One document per article: statements render the quotes of one document (the gold, or one prediction)."""
    out: dict[str, Located] = {}
    for n, d in enumerate(documents):
        located = d if isinstance(d, Located) else Located(f"{side} document {n + 1}", d)
        first = out.setdefault(located.doc.article.id, located)
        if first is not located:
            raise ToolkitError(f"{located.where}: a second {side} document of article {located.doc.article.id!r} (the "
                               f"first is at {first.where}); statements render one document's quotes per article: "
                               f"give {'the adjudicated gold' if side == 'gold' else 'one prediction per article'}")
    return out


def _quote_stories(docs: dict[str, Located]) -> dict[str, _Story]:
    """Every quote key ("article_id/quote_id") of the documents -> its article's story."""
    return {f"{a}/{q.id}": located.doc.article.story for a, located in docs.items() for q in located.doc.quotes}


def _check_renderings(documents: Sequence[StatementDocument], where: Sequence[str] | None, side: str,
                      quotes: dict[str, _Story], lacking: str) -> None:
    for n, doc in enumerate(documents):
        for s in doc.statements:
            for key in s.keys():
                if key not in quotes:
                    here = where[n] if where is not None else f"{side} statement document {n + 1}"
                    raise ToolkitError(f"{here}: {side} statement {s.id!r}: rendering {key!r} points at a quote that "
                                       f"{lacking}")


def _clusters(documents: Sequence[StatementDocument], where: Sequence[str] | None, side: str,
              quotes: dict[str, _Story], rename: Callable[[str], str]) -> tuple[list[Cluster], dict[str, _Story]]:
    """One side's statements as clusters of mention ids (renamed), and each mention's story."""
    clusters, story_of = [], {}
    placed: dict[str, _Story] = {}  # rendering key -> the story of the document that placed it
    for story, per_annotator in clusterings_by_story(documents, where).items():
        if len(per_annotator) > 1:
            raise ToolkitError(f"the {side} statements hold {len(per_annotator)} documents of story {story!r} (by "
                               f"{', '.join(sorted(per_annotator))}); give one per story: "
                               f"{'the adjudicated gold' if side == 'gold' else 'one linker run'}")
        (clustering,) = per_annotator.values()
        for cluster in clustering.clusters:
            for key in cluster:
                if key in placed:
                    raise ToolkitError(f"the {side} statements place rendering {key!r} in story {placed[key]!r} and in "
                                       f"story {story!r}; a quote renders one statement: keep it in one document")
                placed[key] = story
                story_of[rename(key)] = story if story is not None else quotes[key]
            clusters.append(frozenset(map(rename, cluster)))
    return clusters, story_of


def _align_quotes(gold: dict[str, Located], pred: dict[str, Located]) -> tuple[dict[str, str], QuoteAlignment]:
    """Predicted quote key -> gold quote key, by the one-to-one overlap alignment of each article's quotes."""
    shared = sorted(gold.keys() & pred.keys())
    for a in shared:
        if pred[a].doc.article.sha256 != gold[a].doc.article.sha256:
            raise ToolkitError(f"{pred[a].where}: predicted article {a!r} has another text than the gold's (sha256 "
                               f"{pred[a].doc.article.sha256[:12]}... vs {gold[a].doc.article.sha256[:12]}...); "
                               "predict on the gold's articles")
    docs = [gold[a].doc for a in shared] + [pred[a].doc for a in shared]
    n = len(shared)
    pairs = np.column_stack([np.arange(n), n + np.arange(n)]).astype(np.int64).reshape(-1, 2)
    units = extract_layers(docs, [Layer.QUOTE], attributes=False)[Layer.QUOTE]
    matched = align(units, pairs, boundary=OVERLAP.boundary, typed=OVERLAP.typed)
    to_gold = {f"{shared[p]}/{units.ref[r]}": f"{shared[p]}/{units.ref[g]}"
               for p, g, r in zip(matched.pair.tolist(), matched.left.tolist(), matched.right.tolist())}
    return to_gold, QuoteAlignment(
        articles=n, gold_quotes=sum(len(x.doc.quotes) for x in gold.values()),
        predicted_quotes=sum(len(x.doc.quotes) for x in pred.values()), aligned=len(to_gold),
        gold_only_articles=sorted(gold.keys() - pred.keys()), predicted_only_articles=sorted(pred.keys() - gold.keys()))


# --- figures -------------------------------------------------------------------------------------------------


def _by_story(clusters: list[Cluster], story_of: dict[str, _Story]) -> dict[_Story, list[Cluster]]:
    """Each story's part of every cluster (a cluster spanning stories is cut)."""
    out: dict[_Story, list[Cluster]] = defaultdict(list)
    for cluster in clusters:
        parts: dict[_Story, set[str]] = defaultdict(set)
        for mention in cluster:
            parts[story_of[mention]].add(mention)
        for story, part in parts.items():
            out[story].append(frozenset(part))
    return dict(out)


def _counts(key: list[Cluster], response: list[Cluster]) -> MentionCounts:
    gold, predicted = frozenset().union(*key), frozenset().union(*response)
    return MentionCounts(gold=len(gold), predicted=len(predicted), matched=len(gold & predicted),
                         spurious=len(predicted - gold), missing=len(gold - predicted),
                         gold_statements=sum(1 for c in key if c), predicted_statements=sum(1 for c in response if c))
