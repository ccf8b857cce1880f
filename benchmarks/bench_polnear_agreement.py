"""Agreement on PolNeAR's annotator-training articles (each annotated by all 6 annotators), beside the
figures PolNeAR publishes for its whole corpus: token-wise Krippendorff's alpha 0.754 and
attribution-wise agreement 0.923 (Newell, Margolin & Ruths, LREC 2018).

Reads the BRAT files where they are (``../shared``, no license to copy them) through
``annotate.formats.brat`` and runs ``exports.agreement.compute_agreement``.

    .venv/bin/python benchmarks/bench_polnear_agreement.py [--corpus DIR] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench_agreement import machine, update_section

from annotate.formats.brat import import_brat
from exports.agreement import compute_agreement
from schemas.paths import REPO_ROOT

CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "polnear" / "annotator-training"
PUBLISHED = {("token_alpha", "token"): 0.754, ("attribution_agreement", "quote"): 0.923}
ROWS = [("token_alpha", "token", "token-role alpha (content / cue / source / none)"),
        ("f1_exact", "quote", "pairwise F1, content, exact"), ("f1_overlap", "quote", "pairwise F1, content, overlap"),
        ("f1_exact", "cue", "pairwise F1, cue, exact"), ("f1_overlap", "cue", "pairwise F1, cue, overlap"),
        ("f1_exact", "speaker", "pairwise F1, source, exact"),
        ("f1_overlap", "speaker", "pairwise F1, source, overlap"),
        ("attribution_agreement", "quote", "same source entity, aligned quotes")]


def run(corpus: Path) -> str:
    start = time.perf_counter()
    imported = import_brat(corpus)
    report = compute_agreement(imported.documents)
    seconds = time.perf_counter() - start
    lines = [
        f"Command: `.venv/bin/python {' '.join(['benchmarks/bench_polnear_agreement.py', *sys.argv[1:]])}`",
        f"Machine: {machine()}",
        "",
        f"Data: `../shared/corpora/polnear/annotator-training`, {report.articles_compared} articles x "
        f"{len(report.annotators)} annotators = {report.documents} documents ({len(imported.warnings)} BRAT lines "
        f"outside the attribution scheme skipped, e.g. Discuss/Discard spans); import + agreement {seconds:.1f} s.",
        "",
        "| figure | here (95% CI over articles) | PolNeAR, whole corpus |",
        "| --- | ---: | ---: |",
    ]
    for metric, layer, name in ROWS:
        f = report.figure(metric, layer)
        ci = f" ({f.ci_low:.3f}-{f.ci_high:.3f})" if f.ci_low is not None else ""
        value = "n/a" if f.value is None else f"{f.value:.3f}{ci}"
        published = PUBLISHED.get((metric, layer))
        lines.append(f"| {name} | {value} | {'' if published is None else f'{published:.3f}'} |")
    lines += [
        "",
        "Not the same measurement as PolNeAR's: 4 training articles rather than the 1,008-article corpus "
        f"(a bootstrap over 4 articles says little); tokens are `{report.tokeniser}` rather than CoreNLP's; "
        "a token touched by several spans takes the role listed last in "
        f"{' < '.join(report.role_priority)}; PolNeAR's attribution-wise agreement compares attributions, here the "
        "share of overlapping quotes whose source entities (slugs of the source text) agree.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="PolNeAR compartment: text/ + attributions/.")
    parser.add_argument("--update", type=Path, help="Write the figures into this file's PolNeAR agreement section.")
    args = parser.parse_args()
    body = run(args.corpus)
    print(body)
    if args.update:
        update_section(args.update, "Agreement on PolNeAR", body)


if __name__ == "__main__":
    main()
