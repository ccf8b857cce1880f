"""The claim and stance rules measured on the seed gold (4 articles), three ways:

1. as `annotate extract` writes them (the baseline's quotes, its own entity ids):

       annotate extract seeds --out pred.jsonl
       annotate evaluate --gold seeds/annotations/gold.jsonl --pred pred.jsonl --json report.json

2. as preload sends them: ``StoryEntities.predict`` (the baseline's entities linked to the story's inventory,
   seeds/entities.json, then the rules), the prediction read back as the pull would (``results_to_document``),
   then the same `annotate evaluate`;
3. on the gold's own quotes, speakers and entities (the gold with its claims and stances removed, then
   completed by the rules): the rules alone, without the quote extractor's misses. Here every quote is the
   gold's, so stances are also scored quote by quote, as SemEval-2016 task 6 scores one text at a time.

Then, when PolNeAR is beside the repository (``../shared``), `annotate extract` over its dev texts: 2016 US
politics, about none of the seeds' targets, so every stance predicted there is a false alarm.

The rules were written with these four articles and guidelines.md in view and there is no held-out claim
or stance gold, so every figure here is optimistic. The error counts and lists it prints are the material
of the error analysis in BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_claims_stances.py [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench_agreement import machine, update_section

from annotate.extract import with_claims_and_stances
from annotate.labelstudio.decode import results_to_document
from annotate.labelstudio.story_entities import StoryEntities
from annotate.labelstudio.wire import to_json
from exports.evaluation_report import EvaluationReport, Figure
from schemas import AnnotatedDocument, Polarity, Provenance, Quote, TargetInventory
from schemas.articles import load_articles, load_targets
from schemas.documents import read_documents, write_documents
from schemas.files import read_text, write_atomically
from schemas.inventory import SEED_ENTITIES, read_inventory
from schemas.paths import REPO_ROOT, SEED_TARGETS, SEEDS_DIR

GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
OFF_TOPIC = REPO_ROOT.parent / "shared" / "corpora" / "polnear" / "dev" / "text"
ANNOTATE = str(Path(sys.executable).with_name("annotate"))
SECTION, AFTER = "Claims and stances", "Extractor quality"
RUNS = ("`annotate extract`", "as preload sends", "rules on the gold quotes")
Item = tuple[str, str, str]  # (holder, target, polarity), as the evaluator compares stances


def annotate(*argv: str) -> None:
    subprocess.run([ANNOTATE, *argv], check=True, capture_output=True, text=True)


def evaluate(pred: Path, report: Path) -> EvaluationReport:
    annotate("evaluate", "--gold", str(GOLD), "--pred", str(pred), "--json", str(report))
    return EvaluationReport.model_validate_json(report.read_text(encoding="utf-8"))


def preloaded(stories: StoryEntities, targets: TargetInventory) -> list[AnnotatedDocument]:
    """What preload sends for each seed, decoded as the pull decodes an annotation that accepts it unchanged."""
    docs = []
    for article in load_articles([SEEDS_DIR]):
        prediction = stories.predict(article)
        outcome = results_to_document(article, to_json(prediction.result), Provenance(annotator="preload"),
                                      targets=targets, entities=stories.inventory_for(article))
        if outcome.rejections:
            raise SystemExit(f"{article.id}: the decoder rejected {len(outcome.rejections)} predicted item(s)")
        docs.append(outcome.document)
    return docs


# --- figures ------------------------------------------------------------------------------------------------


def _v(f: Figure, name: str) -> str:
    estimate = getattr(f, name)
    return "n/a" if estimate is None or estimate.value is None else f"{estimate.value:.3f}"


def _f1(f: Figure) -> str:
    ci = f" [{f.f1.ci_low:.2f}–{f.f1.ci_high:.2f}]" if f.f1.ci_low is not None else ""
    return _v(f, "f1") + ci


def _prf(f: Figure) -> str:
    return f"{_f1(f)}; P {_v(f, 'precision')}, R {_v(f, 'recall')}"


def figures(reports: list[EvaluationReport], claimants: list[Counter]) -> list[str]:
    lines = ["| figure | " + " | ".join(RUNS) + " |", "| --- |" + " ---: |" * len(RUNS)]

    def row(title: str, cells: list[str]) -> None:
        lines.append(f"| {title} | " + " | ".join(cells) + " |")

    row("**claims F1**, exact span", [_prf(r.figure("span", "claim", "exact")) for r in reports])
    row("claims F1, overlapping span", [_prf(r.figure("span", "claim", "overlap")) for r in reports])
    row("claims F1, tokens", [_prf(r.figure("token_overlap", "claim", "token")) for r in reports])
    row("**check-worthy `yes` F1**, exact span and class",
        [_prf(r.figure("span", "claim", "strict", "yes")) for r in reports])
    row("check-worthy `yes` F1, overlapping span and class",
        [_prf(r.figure("span", "claim", "type", "yes")) for r in reports])
    row("check-worthy `no` F1, exact span and class",
        [_prf(r.figure("span", "claim", "strict", "no")) for r in reports])
    row("claimant right (gold claims with an overlapping prediction)",
        [f"{c['right']} of {c['right'] + c['wrong']}" for c in claimants])
    for p in Polarity:
        row(f"stance `{p.value}` F1 (gold, predicted items)",
            [f"{_prf(f := r.figure('stance', 'stance', None, p.value))} ({f.n_gold}, {f.n_pred})" for r in reports])
    row("**stance macro-F1** (favor, against, neutral)", [_f1(r.figure("stance_macro_f1", "stance")) for r in reports])
    row("**stance F_avg** (favor, against)", [_f1(r.figure("stance_f_avg", "stance")) for r in reports])
    return lines


# --- error analysis -----------------------------------------------------------------------------------------


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def claim_errors(gold: list[AnnotatedDocument], pred: list[AnnotatedDocument]) -> tuple[Counter, Counter, list[str]]:
    """Each gold claim paired with the unpaired prediction it overlaps most: (kinds, claimants, listed errors)."""
    by_id = {d.article.id: d for d in pred}
    kinds, claimants, listed = Counter(), Counter(), []
    for g in gold:
        aid, predicted, paired = g.article.id[:3], by_id[g.article.id].claims, set()
        for c in g.claims:
            span = (c.span.start, c.span.end)
            size, i = max(((_overlap(span, (d.span.start, d.span.end)), i) for i, d in enumerate(predicted)
                           if i not in paired), default=(0, -1))
            if size == 0:
                kinds["missed"] += 1
                listed.append(f"{aid} claim missed ({c.check_worthy.value}): {c.span.text!r}")
                continue
            d = predicted[i]
            paired.add(i)
            exact, same = span == (d.span.start, d.span.end), c.check_worthy == d.check_worthy
            kind = "right" if exact and same else "class" if exact else "boundary" if same else "boundary and class"
            kinds[kind] += 1
            if kind != "right":
                listed.append(f"{aid} claim {kind}: gold {c.check_worthy.value} {c.span.text!r}, predicted "
                              f"{d.check_worthy.value} {d.span.text!r}")
            claimants["right" if c.claimant_entity_id == d.claimant_entity_id else "wrong"] += 1
            if c.claimant_entity_id != d.claimant_entity_id:
                listed.append(f"{aid} claimant: gold {c.claimant_entity_id or 'the journalist'}, predicted "
                              f"{d.claimant_entity_id or 'the journalist'}: {c.span.text!r}")
        for i, d in enumerate(predicted):
            if i not in paired:
                kinds["false alarm"] += 1
                listed.append(f"{aid} claim false alarm ({d.check_worthy.value}): {d.span.text!r}")
    return kinds, claimants, listed


def _items(doc: AnnotatedDocument) -> set[Item]:
    return {(s.holder_entity_id, s.target_id, s.polarity.value) for s in doc.stances}


def _evidence(doc: AnnotatedDocument, item: Item) -> list[Quote]:
    ids = {q for s in doc.stances if (s.holder_entity_id, s.target_id, s.polarity.value) == item for q in s.evidence}
    return [q for q in doc.quotes if q.id in ids]


def _meets(a: Quote, b: Quote) -> bool:
    return any(_overlap((f.start, f.end), (h.start, h.end)) for f in a.content for h in b.content)


def stance_errors(gold: list[AnnotatedDocument], pred: list[AnnotatedDocument]) -> tuple[Counter, list[str], Counter]:
    """Missed and extra stance items by kind (a holder named otherwise, the quote not found, the rules), the
    listed errors, and the kinds (direct, indirect, mixed) of the gold quotes not found."""
    by_id = {d.article.id: d for d in pred}
    kinds, listed, unfound = Counter(), [], Counter()
    for g in gold:
        p, aid = by_id[g.article.id], g.article.id[:3]
        missed, extra = sorted(_items(g) - _items(p)), sorted(_items(p) - _items(g))
        known = {e.id for e in g.entities}
        for item in list(missed):  # the same target and polarity on the same quote, held by an unknown entity
            other = next((x for x in extra if x[1:] == item[1:] and x[0] not in known and any(
                _meets(q, r) for q in _evidence(g, item) for r in _evidence(p, x))), None)
            if other is not None:
                missed.remove(item)
                extra.remove(other)
                kinds["holder id differs (one miss, one false alarm)"] += 1
                listed.append(f"{aid} stance holder id differs: gold {item}, predicted {other}")
        with_stance = [q for item in _items(g) for q in _evidence(g, item)]
        for item in missed:
            found = any(_meets(q, r) for q in _evidence(g, item) for r in p.quotes)
            kind = "missed, quote found, other or no stance" if found else "missed, quote not found"
            kinds[kind] += 1
            unfound[_evidence(g, item)[0].kind.value] += not found
            listed.append(f"{aid} stance {kind}: {item} {_evidence(g, item)[0].content[0].text[:90]!r}")
        for item in extra:
            on_gold = any(_meets(q, r) for q in _evidence(p, item) for r in with_stance)
            kind = "false alarm, on a quote with a gold stance" if on_gold else "false alarm, no gold stance there"
            kinds[kind] += 1
            listed.append(f"{aid} stance {kind}: {item} {_evidence(p, item)[0].content[0].text[:90]!r}")
    return kinds, listed, unfound


def _quote_stances(doc: AnnotatedDocument) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for s in doc.stances:
        for q in s.evidence:
            out.setdefault(q, (s.target_id, s.polarity.value))  # Label Studio holds one stance per quote
    return out


def per_quote(gold: list[AnnotatedDocument], pred: list[AnnotatedDocument]) -> tuple[list[str], Counter, list[str]]:
    """Stances quote by quote on the same quotes: F1 per polarity (right target and polarity), macro-F1,
    F_avg, and each quote's agreement."""
    by_id = {d.article.id: d for d in pred}
    tp, n_pred, n_gold, kinds, listed = Counter(), Counter(), Counter(), Counter(), []
    for g in gold:
        gs, ps = _quote_stances(g), _quote_stances(by_id[g.article.id])
        for q in g.quotes:
            a, b = gs.get(q.id), ps.get(q.id)
            n_gold[a and a[1]] += 1
            n_pred[b and b[1]] += 1
            tp[a and a[1]] += a == b and a is not None
            kind = ("no stance, both" if a is None and b is None else "right" if a == b else "false alarm"
                    if a is None else "missed (no stance)" if b is None else "wrong target" if a[0] != b[0]
                    else "wrong polarity")
            kinds[kind] += 1
            if a != b:
                listed.append(f"{g.article.id[:3]} {q.id} quote {kind}: gold {a}, predicted {b}: "
                              f"{q.content[0].text[:90]!r}")
    f1 = {p.value: 2 * tp[p.value] / (n_pred[p.value] + n_gold[p.value]) for p in Polarity
          if n_pred[p.value] + n_gold[p.value]}
    lines = ["| per quote, rules on the gold quotes | favor F1 | against F1 | neutral F1 | **macro-F1** | **F_avg** |",
             "| --- | ---: | ---: | ---: | ---: | ---: |",
             f"| {sum(n_gold.values())} quotes, {sum(v for k, v in n_gold.items() if k)} with a gold stance | "
             + " | ".join(f"{f1[p.value]:.3f}" if p.value in f1 else "n/a" for p in Polarity)
             + f" | {sum(f1.values()) / len(f1):.3f} | {(f1.get('favor', 0) + f1.get('against', 0)) / 2:.3f} |"]
    return lines, kinds, listed


def off_topic(tmp: str) -> list[str]:
    """Stances and claims `annotate extract` predicts on PolNeAR dev, which is about none of the seed targets."""
    if not OFF_TOPIC.is_dir():
        return [f"Off-topic check not run: no PolNeAR dev texts at `{OFF_TOPIC.relative_to(REPO_ROOT.parent)}`."]
    out = Path(tmp, "polnear.jsonl")
    annotate("extract", str(OFF_TOPIC), "--out", str(out))
    docs = read_documents([out])
    quotes, stances = sum(len(d.quotes) for d in docs), [s for d in docs for s in d.stances]
    evidence = sum(len(s.evidence) for s in stances)
    by_target = Counter(s.target_id for s in stances)
    return [f"Off-topic check (`annotate extract ../shared/corpora/polnear/dev/text`, 2016 US politics, the seeds' "
            f"targets): {len(docs)} articles, {quotes} quotes, {len(stances)} stance items on {evidence} quotes "
            f"({evidence / quotes:.1%} of the quotes), every one a false alarm since no seed target is the subject "
            "of those stories; by target: " + ", ".join(f"`{t}` {n}" for t, n in by_target.most_common())
            + f". Claims there: {sum(len(d.claims) for d in docs)} (no gold, not scored)."]


def _counts(kinds: Counter) -> str:
    return "; ".join(f"{kind} {n}" for kind, n in sorted(kinds.items(), key=lambda x: (-x[1], x[0]))) or "none"


# --- the section --------------------------------------------------------------------------------------------


def measure() -> str:
    targets, articles, gold = load_targets(SEED_TARGETS), load_articles([SEEDS_DIR]), read_documents([GOLD])
    with tempfile.TemporaryDirectory(prefix="bench-claims-") as tmp:
        paths = [Path(tmp, f"{name}.jsonl") for name in ("extract", "preload", "gold-quotes")]
        annotate("extract", str(SEEDS_DIR), "--out", str(paths[0]))
        stories = StoryEntities.build(articles, inventories=[read_inventory(SEED_ENTITIES)], targets=targets)
        write_documents(paths[1], preloaded(stories, targets))
        on_gold = [with_claims_and_stances(g.model_copy(update={"claims": [], "stances": []}), targets) for g in gold]
        write_documents(paths[2], on_gold)
        reports = [evaluate(p, p.with_suffix(".report.json")) for p in paths]
        runs = [read_documents([p]) for p in paths]
        polnear = off_topic(tmp)
    claims = [claim_errors(gold, docs) for docs in runs]
    stances = [stance_errors(gold, docs) for docs in runs]
    quote_table, quote_kinds, quote_list = per_quote(gold, on_gold)
    n_claims, n_stances = sum(len(g.claims) for g in gold), sum(len(g.stances) for g in gold)
    lines = [
        f"Command: `.venv/bin/python {' '.join(['benchmarks/bench_claims_stances.py', *sys.argv[1:]])}`",
        f"Machine: {machine()}",
        "",
        f"Gold: `seeds/annotations/gold.jsonl`, {len(gold)} articles, {n_claims} claims, {n_stances} stance items "
        "(holder, target, polarity). Runs: `annotate extract seeds` (the baseline's quotes and its own entity "
        "ids); as preload sends (`StoryEntities.predict`: entities linked to `seeds/entities.json`, the "
        "prediction decoded back as the pull would); the rules on the gold's own quotes, speakers and entities "
        "(the rules alone). All three scored by `annotate evaluate`: claims through the span schemes (their "
        "label `yes` is the check-worthy class); stance items compared as sets per article, F1 per polarity, "
        "macro-F1 over the polarities present, F_avg the mean of favor and against F1 (SemEval-2016 task 6). "
        f"Intervals: 95% bootstrap over the {len(gold)} articles, so wide.",
        "",
        "**The rules were written with these four articles and guidelines.md in view, and there is no held-out "
        "claim or stance gold (PolNeAR annotates neither): every figure below is optimistic, an upper bound "
        "rather than an estimate.**",
        "",
        *figures(reports, [c[1] for c in claims]),
        "",
        *quote_table,
        "",
        "Error kinds, counted by the script (claims: each gold claim paired with the prediction it overlaps "
        "most; stances: the missed and extra items of the set comparison):",
        "",
        "| run | claims | stance items |",
        "| --- | --- | --- |",
        *(f"| {run} | {_counts(c[0])} | {_counts(s[0])} |" for run, c, s in zip(RUNS, claims, stances)),
        f"| per quote, rules on the gold quotes | | {_counts(quote_kinds)} |",
        "",
        *polnear,
        "",
        "Reading the errors (the lists below are the script's):",
        "",
        "- Claims are scored on span and class, not claimant, and the rules find the same clauses whichever "
        "quotes the extractor found: a clause outside every predicted quote is read as the journalist's, so the "
        "extractor's missed quotes change only the claimant (the `claimant right` row). Boundary errors run "
        "past the checkable fact into a relative clause or a purpose phrase (`... of the conflict that began "
        "when ...`, `... military forces under the initiative to ...`): clauses are cut at punctuation and "
        "conjunctions only. Class: a negative present perfect (`no one has discussed this with us ...`) read as "
        "a completed event (`no`). False alarm: a cause in a quote (`root causes`) that the annotators did not "
        "mark.",
        "- Stances, `annotate extract`: a holder id that differs from the gold's for the same speaker "
        "(`volodymyr-zelensky` for `volodymyr-zelenskyy`, a group named otherwise) costs a miss and a false "
        "alarm; preload links entities to the story's inventory first, which removes those. Neutral has "
        f"{reports[0].figure('stance', 'stance', None, 'neutral').n_gold} gold item, so macro-F1 moves by a "
        "third with it; F_avg is the steadier figure.",
        f"- As preload sends, {stances[1][0]['missed, quote not found']} of the "
        f"{sum(n for k, n in stances[1][0].items() if k.startswith('missed'))} missed items are quotes the "
        "baseline does not find (by the kind of the gold quote: "
        + ", ".join(f"{k} {n}" for k, n in stances[1][2].most_common() if n)
        + "); on the gold quotes the rules' own errors remain: a target pulled by one word (`guarantee` in "
        "an invitation to meet; `military`, rare among the "
        "descriptions, outweighing `troops`, which two share; `forces` in the United States' `will not deploy "
        "forces`, whose target is US involvement), content without a stance word (`the US role will "
        "be finalized ...`), a verb form the stem match misses (`sent`, not stemmed to `send`), and a target "
        "taken from the sentence around a content that guidelines.md 6.3 says fits none (`practically "
        "impossible`).",
        "- Set comparison hides errors: a wrong quote whose (holder, target, polarity) the gold has from another "
        "quote costs nothing there; the per-quote table counts it.",
        "- Off topic, stance words that are also description words (`support`, `supporters`, `meeting`, "
        "`security`) find a target in any story: the rules have no check that a story is about the inventory's "
        "event, so the target inventory given must be the one made for the stories (`annotate extract` and "
        "preload default to the seeds').",
        "",
        "Errors, as preload sends:",
        "",
        *(f"- {d}" for d in claims[1][2] + stances[1][1]),
        "",
        "Errors, rules on the gold quotes (claims and stance items; then quote by quote):",
        "",
        *(f"- {d}" for d in claims[2][2] + stances[2][1] + quote_list),
    ]
    return "\n".join(lines) + "\n"


def place_section(path: Path) -> None:
    """An empty section right after the one it follows, so ``update_section`` fills it in place (it would
    append a missing section at the end)."""
    lines = read_text(path).splitlines(keepends=True)
    head, after = f"## {SECTION}\n", f"## {AFTER}\n"
    if head in lines or after not in lines:
        return
    start = lines.index(after)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    write_atomically(path, "".join(lines[:end] + [head, "\n"] + lines[end:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", type=Path, help=f"Write the figures into this file's '{SECTION}' section.")
    args = parser.parse_args()
    body = measure()
    print(body)
    if args.update:
        place_section(args.update)
        update_section(args.update, SECTION, body)


if __name__ == "__main__":
    main()
