"""Build (or ``--check``) ``clusters.json`` from PolNeAR dev and the annotator's ``decisions.json``.

    .venv/bin/python -m benchmarks.polnear_statements.build            # write clusters.json
    .venv/bin/python -m benchmarks.polnear_statements.build --check    # fail unless it is what we build now
    .venv/bin/python -m benchmarks.polnear_statements.build --undecided  # proposals still to judge

Steps (RULES.md): the BRAT reader's documents, one layer per article (``corpus``); speakers made
canonical (``speakers``); candidate pairs proposed (``candidates``); every proposal must have a
decision; the "same" decisions joined into clusters (connected components), each cluster of two or
more quotes named by one entry of ``statements``; the mention set is every quote of every speaker who
has a multi-article cluster, the quotes in no cluster becoming singletons.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.polnear_statements.candidates import Candidate, inverse_document_frequency, propose
from benchmarks.polnear_statements.clusters import CLUSTERS, Cluster, dump_clusters, read_clusters, reference_of, verify
from benchmarks.polnear_statements.corpus import COMPARTMENT, dev_documents
from benchmarks.polnear_statements.decisions import Decisions, check, components, mention_set_speakers, required
from benchmarks.polnear_statements.speakers import BY_ID, canonical_documents
from schemas import AnnotatedDocument, ToolkitError
from schemas.files import read_text, write_atomically
from schemas.paths import REPO_ROOT
from schemas.quote_mentions import QuoteMention, quote_mentions

POLNEAR = REPO_ROOT.parent / "shared" / "corpora" / "polnear"


@dataclass(frozen=True)
class Build:
    documents: list[AnnotatedDocument]
    mentions: list[QuoteMention]  # every quote of the corpus
    candidates: list[Candidate]
    clusters: list[Cluster]


def build(polnear_root: Path = POLNEAR, decisions: Decisions | None = None) -> Build:
    documents = canonical_documents(dev_documents(polnear_root))
    mentions = list(quote_mentions(documents))
    known = [m for m in mentions if m.speaker in BY_ID]
    candidates = propose(known, inverse_document_frequency(mentions))
    decisions = decisions or Decisions.read()
    by_key = {m.key: m for m in known}
    groups = components(decisions, by_key)
    speakers = mention_set_speakers(decisions, groups, by_key)
    check(decisions, required(candidates, speakers), groups, by_key)
    annotators = {d.article.id: d.provenance.annotator or "" for d in documents}
    return Build(documents, mentions, candidates, _clusters(decisions, groups, known, annotators, speakers))


def _clusters(decisions: Decisions, groups: dict[str, frozenset[str]], known: list[QuoteMention],
              annotators: dict[str, str], speakers: set[str]) -> list[Cluster]:
    by_key = {m.key: m for m in known}
    order = {m.key: i for i, m in enumerate(known)}  # article by article, text order

    def refs(keys: frozenset[str] | list[str]):
        return [reference_of(by_key[k], annotators[by_key[k].article_id], COMPARTMENT)
                for k in sorted(keys, key=order.__getitem__)]

    clusters = [Cluster(id=s.id, speaker=s.speaker, gloss=s.gloss, occasion=s.occasion,
                        members=refs(groups[s.anchor]))
                for s in sorted(decisions.statements, key=lambda s: s.id) if s.speaker in speakers]
    placed = {k for c in clusters for k in c.keys()}
    clusters += [Cluster(id=f"{m.article_id}:{m.quote_id}", speaker=m.speaker, members=refs([m.key]))
                 for m in known if m.speaker in speakers and m.key not in placed]
    return clusters


def summary(result: Build) -> str:
    """The counts RULES.md reports: articles, mentions, clusters by size and by articles, outlets."""
    outlets = {d.article.id: d.article.outlet for d in result.documents}
    multi = [c for c in result.clusters if len({r.article for r in c.members}) > 1]
    sizes = Counter(len(c.members) for c in result.clusters)
    spans = Counter(len({r.article for r in c.members}) for c in multi)
    mention_articles = {r.article for c in result.clusters for r in c.members}
    lines = [
        f"corpus: {len(result.documents)} articles, {len(result.mentions)} quotes; "
        f"{sum(1 for m in result.mentions if m.speaker in BY_ID)} by canonical speakers",
        f"candidates: {len(result.candidates)} proposed "
        f"({sum(c.cross_article for c in result.candidates)} across articles)",
        f"mention set: {sum(sizes[n] * n for n in sizes)} quotes of "
        f"{', '.join(sorted({c.speaker for c in result.clusters}))} in {len(mention_articles)} articles",
        f"clusters: {len(result.clusters)} (" + ", ".join(f"{sizes[n]} of size {n}" for n in sorted(sizes)) + ")",
        f"multi-article: {len(multi)} (" + ", ".join(f"{spans[n]} over {n} articles" for n in sorted(spans)) + "), "
        f"outlets {', '.join(sorted({outlets[r.article] or '?' for c in multi for r in c.members}))}",
        f"within one article only: {sum(1 for c in result.clusters if c.gloss and c not in multi)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--polnear", type=Path, default=POLNEAR, help="PolNeAR root (metadata.tsv, dev/)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify clusters.json instead of writing it")
    mode.add_argument("--undecided", action="store_true", help="list the proposed pairs without a decision")
    args = ap.parse_args(argv)
    try:
        if args.undecided:
            return _undecided(args.polnear)
        result = build(args.polnear)
        text = dump_clusters(result.clusters)
        if args.check:
            annotators = {d.article.id: d.provenance.annotator or "" for d in result.documents}
            verify(read_clusters(CLUSTERS), {m.key: m for m in result.mentions}, annotators, COMPARTMENT)
            if read_text(CLUSTERS) != text:
                raise ToolkitError(f"{CLUSTERS}: differs from what the build makes now; rebuild it with "
                                   "`python -m benchmarks.polnear_statements.build` and review the diff")
        else:
            write_atomically(CLUSTERS, text)
        print(summary(result))
        return 0
    except ToolkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _undecided(polnear_root: Path) -> int:
    documents = canonical_documents(dev_documents(polnear_root))
    mentions = list(quote_mentions(documents))
    by_key = {m.key: m for m in mentions}
    known = {m.key: m for m in mentions if m.speaker in BY_ID}
    candidates = propose(list(known.values()), inverse_document_frequency(mentions))
    decisions = Decisions.read()
    speakers = mention_set_speakers(decisions, components(decisions, known), known)
    decided = {frozenset((p.a, p.b)) for p in decisions.pairs}
    for c in required(candidates, speakers):
        if frozenset((c.a, c.b)) not in decided:
            print(f"{c.speaker} ratio={c.ratio} idf={c.shared_idf} {'cross' if c.cross_article else 'within'}\n"
                  f"  {c.a}  {by_key[c.a].text[:160]!r}\n  {c.b}  {by_key[c.b].text[:160]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
