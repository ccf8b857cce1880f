"""The claim and stance rules measured on the seed gold (4 articles), three ways:

1. as `annotate extract` writes them (the baseline's quotes, its own entity ids):

       annotate extract seeds --out pred.jsonl
       annotate evaluate --gold seeds/annotations/gold.jsonl --pred pred.jsonl --json report.json

2. as preload sends them: the baseline's entities linked to the story's inventory (seeds/entities.json,
   ``StoryEntities``) before the rules run, then the same `annotate evaluate`;
3. on the gold's own quotes, speakers and entities (the gold with its claims and stances removed, then
   completed by the rules): the rules alone, without the quote extractor's misses.

The rules were written with these four articles and guidelines.md in view and there is no held-out claim
or stance gold, so every figure here is optimistic. The lists of misses and false alarms it prints are the
material of the error analysis in BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_claims_stances.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from annotate.extract import extract, with_claims_and_stances
from annotate.labelstudio.story_entities import StoryEntities
from exports.evaluation_report import EvaluationReport, Figure
from schemas import AnnotatedDocument
from schemas.articles import load_articles, load_targets
from schemas.documents import read_documents, write_documents
from schemas.inventory import SEED_ENTITIES, read_inventory
from schemas.paths import REPO_ROOT, SEED_TARGETS, SEEDS_DIR

GOLD = REPO_ROOT / "seeds" / "annotations" / "gold.jsonl"
ANNOTATE = str(Path(sys.executable).with_name("annotate"))


def annotate(*argv: str) -> None:
    subprocess.run([ANNOTATE, *argv], check=True, capture_output=True, text=True)


def evaluate(pred: Path, report: Path) -> EvaluationReport:
    annotate("evaluate", "--gold", str(GOLD), "--pred", str(pred), "--json", str(report))
    return EvaluationReport.model_validate_json(report.read_text(encoding="utf-8"))


def _v(f: Figure, name: str) -> str:
    estimate = getattr(f, name)
    return "n/a" if estimate is None or estimate.value is None else f"{estimate.value:.3f}"


def _f1(f: Figure) -> str:
    ci = f" ({f.f1.ci_low:.2f}–{f.f1.ci_high:.2f})" if f.f1.ci_low is not None else ""
    return _v(f, "f1") + ci


def figures(reports: dict[str, EvaluationReport]) -> list[str]:
    names = list(reports)
    lines = ["| figure | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]

    def row(title: str, pick) -> None:  # noqa: ANN001 - a figure getter
        lines.append(f"| {title} | " + " | ".join(pick(r) for r in reports.values()) + " |")

    for scheme in ("exact", "overlap"):
        row(f"claims F1, {scheme} (P / R)", lambda r, s=scheme: f"{_f1(f := r.figure('span', 'claim', s))} "
                                                                f"({_v(f, 'precision')} / {_v(f, 'recall')})")
    row("claims F1, tokens", lambda r: _v(r.figure("token_overlap", "claim", "token"), "f1"))
    for label in ("yes", "no"):
        for scheme in ("strict", "type"):
            row(f"check-worthy `{label}` F1, {scheme} (P / R)",
                lambda r, s=scheme, la=label: f"{_f1(f := r.figure('span', 'claim', s, la))} "
                                              f"({_v(f, 'precision')} / {_v(f, 'recall')})")
    for polarity in ("favor", "against", "neutral"):
        row(f"stance `{polarity}` F1 (P / R; gold, predicted)",
            lambda r, p=polarity: f"{_v(f := r.figure('stance', 'stance', None, p), 'f1')} ({_v(f, 'precision')} / "
                                  f"{_v(f, 'recall')}; {f.n_gold}, {f.n_pred})")
    row("**stance macro-F1**", lambda r: _f1(r.figure("stance_macro_f1", "stance")))
    row("**stance F_avg** (favor, against)", lambda r: _f1(r.figure("stance_f_avg", "stance")))
    return lines


def differences(gold: list[AnnotatedDocument], pred: list[AnnotatedDocument]) -> list[str]:
    """Claims and stances of the gold the prediction misses, and those it has that the gold has not."""
    by_id = {d.article.id: d for d in pred}
    out = []
    for g in gold:
        p = by_id[g.article.id]
        gc = {(c.span.start, c.span.end, c.check_worthy.value): c.span.text for c in g.claims}
        pc = {(c.span.start, c.span.end, c.check_worthy.value): c.span.text for c in p.claims}
        gs = {(s.holder_entity_id, s.target_id, s.polarity.value) for s in g.stances}
        ps = {(s.holder_entity_id, s.target_id, s.polarity.value) for s in p.stances}
        out += [f"{g.article.id[:3]} claim missed {k[2]}: {gc[k]!r}" for k in sorted(gc.keys() - pc.keys())]
        out += [f"{g.article.id[:3]} claim extra  {k[2]}: {pc[k]!r}" for k in sorted(pc.keys() - gc.keys())]
        out += [f"{g.article.id[:3]} stance missed: {k}" for k in sorted(gs - ps)]
        out += [f"{g.article.id[:3]} stance extra:  {k}" for k in sorted(ps - gs)]
    return out


def main() -> None:
    targets = load_targets(SEED_TARGETS)
    articles = load_articles([SEEDS_DIR])
    gold = read_documents([GOLD])
    with tempfile.TemporaryDirectory(prefix="bench-claims-") as tmp:
        as_extract = Path(tmp, "extract.jsonl")
        annotate("extract", str(SEEDS_DIR), "--out", str(as_extract))
        stories = StoryEntities.build(articles, inventories=[read_inventory(SEED_ENTITIES)], targets=targets)
        linked = [with_claims_and_stances(stories.inventory_for(a).canonical(extract(a)), targets) for a in articles]
        as_preload = Path(tmp, "preload.jsonl")
        write_documents(as_preload, linked)
        on_gold = [with_claims_and_stances(g.model_copy(update={"claims": [], "stances": []}), targets) for g in gold]
        gold_quotes = Path(tmp, "gold-quotes.jsonl")
        write_documents(gold_quotes, on_gold)
        reports = {"`annotate extract`": evaluate(as_extract, Path(tmp, "r1.json")),
                   "as preload sends (entities linked)": evaluate(as_preload, Path(tmp, "r2.json")),
                   "rules on the gold quotes": evaluate(gold_quotes, Path(tmp, "r3.json"))}
        extracted = read_documents([as_extract])
    n_claims, n_stances = sum(len(g.claims) for g in gold), sum(len(g.stances) for g in gold)
    lines = [
        "Command: `.venv/bin/python benchmarks/bench_claims_stances.py`",
        "",
        f"Gold: seeds/annotations/gold.jsonl, {len(gold)} articles, {n_claims} claims, {n_stances} stances "
        "(holder, target, polarity). Stance items are compared as sets per article; claims through the span "
        "schemes (the `yes` label is the check-worthy class). Intervals: 95% bootstrap over the 4 articles.",
        "",
        *figures(reports),
        "",
        "Differences, `annotate extract` against the gold:",
        "",
        *(f"- {d}" for d in differences(gold, extracted)),
        "",
        "Differences, rules on the gold quotes against the gold:",
        "",
        *(f"- {d}" for d in differences(gold, on_gold)),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
