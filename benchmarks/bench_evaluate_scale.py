"""Evaluation at scale: ``annotate evaluate`` on 100,000 predicted documents against ``nervaluate`` on the same
span layer, and its peak memory at 10,000 and at 100,000 documents, all in one run.

Synthetic data, written as JSONL to a temporary folder: articles of ~3,000 characters (a header and 24 sentences
drawn from a pool of 4,000 random-word sentences, so every text differs), 5 quotes each (speaker mention, cue
"said", content: a sentence; kinds direct and indirect by their form, some labelled mixed), and a prediction
per article made from its gold by perturbation: 12 % of the quotes missed, 18 % with the content start
shifted by -3..+5 characters, 10 % with the kind changed, a spurious 50-character quote in 40 % of the articles.

Measured:
1. ``annotate evaluate --gold gold.jsonl --pred pred.jsonl --json report.json`` as a subprocess (every figure,
   1,000 bootstrap resamples, its worker processes: one per CPU), wall time, CPU time of the process and its
   workers, and peak RSS of the largest of them (``os.wait4`` of that child), at 10,000 and 100,000;
2. ``nervaluate.Evaluator`` on the quote content spans labelled by kind, loaded from the same JSONL files with
   ``json.loads`` (no validation, as a nervaluate user would load them), its load and evaluate times, in this
   process (one CPU);
3. their counts side by side (strict, exact, partial, type = nervaluate's ent_type), and where they differ, why;
4. the cost of reading and validating one document: with ``schemas.documents.iter_documents`` (the model) and
   with the evaluation's fast reader (``exports.evaluation_read``), which bound our rate.

    .venv/bin/python benchmarks/bench_evaluate_scale.py [--articles 100000] [--small 10000] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_agreement import machine, update_section
from nervaluate import Evaluator

from exports.evaluate import compute_evaluation
from exports.evaluation_inputs import read_jsonl
from exports.evaluation_read import read_line
from exports.evaluation_workers import cpus
from schemas.documents import iter_documents

KINDS = ("direct", "indirect", "mixed")
SCHEMES = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
ANNOTATE = str(Path(sys.executable).with_name("annotate"))

_pool = random.Random(0)
_WORDS = ["".join(_pool.choices("abcdefghijklmnopqrstuvwxyz", k=_pool.randint(2, 9))) for _ in range(3000)]
NAMES = [f"{a.title()} {b.title()}" for a, b in zip(_WORDS[:200], _WORDS[200:400])]
SENTENCES = [" ".join(_pool.choices(_WORDS, k=_pool.randint(8, 22))).capitalize() for _ in range(4000)]


# --- synthetic gold and predictions ------------------------------------------------------------------------------


def _span(text: str, start: int, end: int) -> dict:
    return {"start": start, "end": end, "text": text[start:end]}


def _article(a: int, rng: np.random.Generator) -> tuple[str, list[tuple]]:
    """The text and its quotes: (mention start, end, cue start, end, content start, end, kind, speaker)."""
    picks = rng.integers(0, len(SENTENCES), 24).tolist()
    quoted = set(rng.choice(24, 5, replace=False).tolist())
    parts, quotes = [f"Synthetic article {a}."], []
    position = len(parts[0])
    for i, s in enumerate(picks):
        sentence = SENTENCES[s]
        if i in quoted:
            name = NAMES[(s + a) % len(NAMES)]
            kind = KINDS[(s + i) % 3]
            lead = f" {name} said that " if kind == "indirect" else f" {name} said: \""
            content = position + len(lead)
            quotes.append((position + 1, position + 1 + len(name), position + 2 + len(name),
                           position + 6 + len(name), content, content + len(sentence), kind, name))
            chunk = lead + sentence + ("." if kind == "indirect" else ".\"")
        else:
            chunk = " " + sentence + "."
        parts.append(chunk)
        position += len(chunk)
    return "".join(parts), quotes


def _document(article: str, text: str, quotes: list[tuple], prediction: bool, rng: np.random.Generator) -> str:
    entities, mentions, built = {}, [], []
    for k, (m0, m1, c0, c1, s0, s1, kind, name) in enumerate(quotes):
        if prediction:
            r = rng.random()
            if r < 0.12:
                continue  # missed
            if r < 0.30:
                s0 = min(s1 - 1, s0 + int(rng.integers(-3, 6)))  # shifted start
            elif r < 0.40:
                kind = KINDS[(KINDS.index(kind) + 1) % 3]  # wrong kind
        entity = name.lower().replace(" ", "-")
        entities[entity] = name
        mentions.append({"id": f"m{k}", "span": _span(text, m0, m1), "entity_id": entity})
        built.append({"id": f"q{k}", "kind": kind, "content": [_span(text, s0, s1)], "cue": _span(text, c0, c1),
                      "speaker_mention_id": f"m{k}", "speaker_entity_id": entity})
    if prediction and rng.random() < 0.4:  # a spurious quote
        start = int(rng.integers(0, len(text) - 60))
        built.append({"id": "q-extra", "kind": "indirect", "content": [_span(text, start, start + 50)]})
    body = json.dumps({"entities": [{"id": e, "name": n} for e, n in entities.items()], "mentions": mentions,
                       "quotes": built})
    provenance = ('{"annotator":"model","origin":"prediction"}' if prediction
                  else '{"annotator":"gold","origin":"gold"}')
    return f'{{"article":{article},"provenance":{provenance},{body[1:]}\n'


def generate(folder: Path, articles: int, small: int, seed: int = 0) -> dict[str, float]:
    """gold.jsonl and pred.jsonl of ``articles``, and small-gold/pred.jsonl of the first ``small`` of them."""
    rng = np.random.default_rng(seed)
    chars = 0
    with ((folder / "gold.jsonl").open("w", encoding="utf-8") as gold,
          (folder / "pred.jsonl").open("w", encoding="utf-8") as pred,
          (folder / "small-gold.jsonl").open("w", encoding="utf-8") as small_gold,
          (folder / "small-pred.jsonl").open("w", encoding="utf-8") as small_pred):
        for a in range(articles):
            text, quotes = _article(a, rng)
            chars += len(text)
            article = json.dumps({"id": f"synthetic-{a:06d}", "text": text,
                                  "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
            lines = _document(article, text, quotes, False, rng), _document(article, text, quotes, True, rng)
            gold.write(lines[0])
            pred.write(lines[1])
            if a < small:
                small_gold.write(lines[0])
                small_pred.write(lines[1])
    return {"chars": chars / articles, "mib": ((folder / "gold.jsonl").stat().st_size
                                               + (folder / "pred.jsonl").stat().st_size) / 2**20}


# --- the runs ----------------------------------------------------------------------------------------------------


def run_evaluate(gold: Path, pred: Path, report: Path) -> tuple[float, float, float]:
    """``annotate evaluate`` as a child process: (wall seconds, CPU seconds, peak RSS in MiB) of that child; its
    CPU time counts the worker processes it waited for, its peak RSS is the largest of theirs and its own."""
    start = time.perf_counter()
    child = subprocess.Popen([ANNOTATE, "evaluate", "--gold", str(gold), "--pred", str(pred), "--json", str(report)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"annotate evaluate failed: {child.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _nervaluate_spans(path: Path) -> dict[str, list[dict]]:
    """Quote content fragments per article, labelled by kind; nervaluate's ends are inclusive."""
    spans = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            spans[doc["article"]["id"]] = [{"label": q["kind"], "start": s["start"], "end": s["end"] - 1}
                                           for q in doc["quotes"] for s in q["content"]]
    return spans


def run_nervaluate(gold: Path, pred: Path) -> tuple[tuple[float, float], tuple[float, float], dict]:
    """(load, evaluate) as (wall, CPU) seconds each, and nervaluate's overall results, on the same files."""
    start = time.perf_counter(), time.process_time()
    true_spans, pred_spans = _nervaluate_spans(gold), _nervaluate_spans(pred)
    ids = list(true_spans)
    true, predicted = [true_spans[i] for i in ids], [pred_spans.get(i, []) for i in ids]
    loaded = time.perf_counter(), time.process_time()
    results = Evaluator(true, predicted, tags=list(KINDS), loader="dict").evaluate()
    done = time.perf_counter(), time.process_time()
    return ((loaded[0] - start[0], loaded[1] - start[1]), (done[0] - loaded[0], done[1] - loaded[1]),
            results["overall"])


def scoring_only(gold: Path, pred: Path) -> tuple[float, float]:
    """CPU seconds of ``compute_evaluation`` on documents already validated and held, and of nervaluate's
    ``evaluate`` on the same spans: the two scoring engines without reading."""
    gold_docs, pred_docs = read_jsonl(gold, "--gold"), read_jsonl(pred, "--pred")
    start = time.process_time()
    compute_evaluation(gold_docs, pred_docs)
    ours = time.process_time() - start
    _, (_, theirs), _ = run_nervaluate(gold, pred)
    return ours, theirs


def validation_cost(path: Path, limit: int = 5000) -> tuple[float, float]:
    """CPU microseconds to read and validate one document (the first ``limit``): with ``iter_documents`` (the
    model), and with the evaluation's fast reader (``read_line``, which accepts and refuses the same lines)."""
    start, n = time.process_time(), 0
    for n, _ in enumerate(iter_documents(path), start=1):
        if n == limit:
            break
    model = (time.process_time() - start) / max(n, 1) * 1e6
    with path.open("rb") as f:
        raws = [raw for _, raw in zip(range(limit), f)]
    start = time.process_time()
    for lineno, raw in enumerate(raws, start=1):
        read_line(raw, path, lineno, 0)
    return model, (time.process_time() - start) / max(len(raws), 1) * 1e6


def agreement_rows(report: dict, theirs: dict) -> tuple[list[str], int]:
    """Table rows of both sides' counts per scheme, and how many schemes disagree."""
    ours = {(f["scheme"]): f for f in report["figures"]
            if f["metric"] == "span" and f["layer"] == "quote" and f["label"] is None}
    rows, differ = [], 0
    for scheme, name in SCHEMES.items():
        t, o = theirs[name], ours[scheme]
        credit = t.correct + (0.5 * t.partial if scheme == "partial" else 0)
        same = (t.possible, t.actual, credit) == (o["n_gold"], o["n_pred"], o["correct_pred"])
        differ += not same
        rows.append(f"| {scheme} / {name} | {t.correct:,} | {t.incorrect:,} | {t.partial:,} | {t.missed:,} | "
                    f"{t.spurious:,} | {t.possible:,} / {t.actual:,} | {t.f1:.4f} | {o['n_gold']:,} / {o['n_pred']:,} "
                    f"| {o['correct_pred']:,.1f} | {o['f1']['value']:.4f} | {'yes' if same else 'no'} |")
    return rows, differ


def run(articles: int, small: int) -> str:
    command = " ".join(["benchmarks/bench_evaluate_scale.py", *sys.argv[1:]])
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        data = generate(folder, articles, small)
        generated = time.perf_counter() - start
        small_gold, small_pred = folder / "small-gold.jsonl", folder / "small-pred.jsonl"
        small_run = run_evaluate(small_gold, small_pred, folder / "small-report.json")
        big_run = run_evaluate(folder / "gold.jsonl", folder / "pred.jsonl", folder / "report.json")
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        load, evaluate, theirs = run_nervaluate(folder / "gold.jsonl", folder / "pred.jsonl")
        model_us, fast_us = validation_cost(folder / "pred.jsonl")
        ours_scoring, theirs_scoring = scoring_only(small_gold, small_pred)
    load_after = os.getloadavg()[0]
    rows, differ = agreement_rows(report, theirs)
    nerv = load[0] + evaluate[0], load[1] + evaluate[1]
    (big_s, big_cpu, big_rss), (small_s, small_cpu, small_rss) = big_run, small_run
    speed_wall, speed_cpu = nerv[0] / big_s, nerv[1] / big_cpu
    workers = cpus()
    budget = workers * nerv[0] / 5 / (2 * articles) * 1e6  # µs of CPU per document read, for 5x
    lines = [
        f"Command: `.venv/bin/python {command}`",
        f"Machine: {machine()}; 1-minute load average {load_before:.1f} before, {load_after:.1f} after "
        "(shared with other jobs: wall times include their turns, CPU times do not).",
        "",
        f"Data: {articles:,} synthetic articles ({data['chars']:,.0f} characters on average, 5 quotes each with "
        f"cue and speaker mention) and one perturbed prediction each, {data['mib']:,.0f} MiB of JSONL "
        f"(generated in {generated:.1f} s); the first {small:,} of them as the small run.",
        "",
        f"`annotate evaluate` reads both files in {workers} worker processes (one per CPU) and its CPU time counts "
        "theirs; nervaluate runs in one process.",
        "",
        "| run | wall time | CPU time | peak RSS |",
        "|---|---|---|---|",
        f"| `annotate evaluate`, {small:,} predicted documents (every figure, 1,000 resamples) | {small_s:.1f} s | "
        f"{small_cpu:.1f} s | {small_rss:,.0f} MiB |",
        f"| `annotate evaluate`, {articles:,} predicted documents | **{big_s:.1f} s** | **{big_cpu:.1f} s** | "
        f"**{big_rss:,.0f} MiB** |",
        f"| nervaluate {_nervaluate_version()}, {articles:,}: load the quote spans (`json.loads`) | {load[0]:.1f} s | "
        f"{load[1]:.1f} s | |",
        f"| nervaluate, `Evaluator(...).evaluate()` (strict, exact, partial, ent_type) | {evaluate[0]:.1f} s | "
        f"{evaluate[1]:.1f} s | |",
        f"| nervaluate, load + evaluate | **{nerv[0]:.1f} s** | **{nerv[1]:.1f} s** | |",
        "",
        f"Speed, nervaluate (load + evaluate) / `annotate evaluate`: wall time **{speed_wall:.2f}x** ({workers} "
        f"workers against one process), CPU time **{speed_cpu:.2f}x**; target >= 5x: "
        f"**{'met' if speed_wall >= 5 else 'missed'}** on wall time, **{'met' if speed_cpu >= 5 else 'missed'}** "
        f"on CPU time. Memory: {big_rss / small_rss:.2f}x the peak RSS for {articles // small}x the documents.",
        "",
        f"Where our time goes: reading and validating one document costs {model_us:.0f} µs of CPU with "
        f"`iter_documents` (pydantic models, their validators) and {fast_us:.0f} µs with the evaluation's fast "
        f"reader (the models' core schema as typed dicts, the validators re-done in one pass; the same lines "
        f"accepted and refused); `annotate evaluate` reads each gold and each predicted document once: "
        f"{2 * articles * fast_us / 1e6:.1f} s of CPU at that rate, against nervaluate's {nerv[1]:.1f} s for "
        f"everything (its `json.loads` alone: {load[1]:.1f} s). The scoring alone, on the {small:,} documents "
        f"already validated and held, in one process: `compute_evaluation` (every figure, every layer, 1,000 "
        f"resamples) {ours_scoring:.1f} s of CPU, nervaluate's `evaluate` (one layer) {theirs_scoring:.1f} s: "
        f"{theirs_scoring / ours_scoring:.2f}x.",
        "",
        f"What 5x would take: finishing in {nerv[0] / 5:.1f} s on {workers} CPUs allows at most "
        f"{budget * 2 * articles / 1e6:.1f} s of CPU for everything, {budget:.0f} µs per document read (gold and "
        f"predicted). The standard library's `json.loads` alone, without validating or scoring, spends "
        f"{load[1] / (2 * articles) * 1e6:.0f} µs per document (nervaluate's load); our fast reader, with "
        f"validation, {fast_us:.0f} µs, which leaves {budget - fast_us:.0f} µs per document for everything else "
        f"(building the units, pairing, scoring every layer, the bootstrap, starting the processes), where they "
        f"take {big_cpu / (2 * articles) * 1e6 - fast_us:.0f} µs now. More CPUs divide our wall time (the "
        "reading runs in one worker per CPU), not nervaluate's (one process).",
        "",
        "Counts on the quote content layer (all kinds; nervaluate's possible / actual against our n_gold / n_pred; "
        "credit: correct, plus half of partial for the partial scheme):",
        "",
        "| scheme (ours / nervaluate) | correct | incorrect | partial | missed | spurious | possible / actual | "
        "nervaluate F1 | ours: gold / pred | ours: credit | ours F1 | same counts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"{4 - differ} of 4 schemes give the same counts." + (
            " Where they differ (partial and type, by a few matches): nervaluate takes the predictions in order "
            "and pairs each with a gold span it overlaps that no earlier prediction took, whatever the kinds, "
            "then scores the pair; we align first, one-to-one, maximising the total overlap, and under type only "
            "units of the same kind. Seen in the data: a gold indirect quote, a prediction with its exact bounds "
            "but kind mixed, and a spurious indirect one overlapping it: nervaluate's ent_type counts the first "
            "as incorrect and the second as spurious, our type scheme matches the second (same kind). Units "
            "(possible, actual) agree; strict and exact, where bounds must be equal, agree exactly." if differ else ""),
    ]
    return "\n".join(lines) + "\n"


def _nervaluate_version() -> str:
    from importlib.metadata import version

    return version("nervaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="Articles of the small run (memory comparison).")
    parser.add_argument("--update", type=Path, help="Write the figures into this file's '## Evaluation at scale'.")
    args = parser.parse_args()
    body = run(args.articles, min(args.small, args.articles))
    print(body)
    if args.update:
        update_section(args.update, "Evaluation at scale", body)


if __name__ == "__main__":
    main()
