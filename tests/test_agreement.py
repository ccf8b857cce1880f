"""Inter-annotator agreement: figures against independent computations, invariants, the CLI."""

from __future__ import annotations

import json
import os
import random
import sys
import types

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.cli import main
from exports.agreement import compute_agreement
from exports.agreement_report import AgreementReport
from exports.compare import TOKEN_PATTERN
from schemas import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Provenance,
    Quote,
    Span,
    Stance,
    ToolkitError,
)
from schemas.files import write_atomically

TEXT = ('Putin said: "Western troops in Ukraine would be legitimate targets." Macron replied that Europe '
        "would decide, and he added that talks with Kyiv go on. Zelensky's office said nothing.")
ARTICLE = Article.from_text("eef", TEXT)
ENTITIES = ("putin", "macron", "zelensky")
TARGETS = ("foreign-troops-in-ukraine", "ukraine-in-nato")


def build(annotator: str, spec: dict, article: Article = ARTICLE, origin: str = "label-studio") -> AnnotatedDocument:
    """spec: mentions [(start, end, entity)], quotes [(kind, [(s, e)], cue | None, speaker | None,
    (target, polarity) | None)], claims [(start, end, check_worthy)]."""
    text = article.text
    quotes, stances = [], []
    for i, (kind, fragments, cue, speaker, stance) in enumerate(spec.get("quotes", [])):
        quotes.append(Quote(id=f"q{i}", kind=kind, content=[Span.of(text, s, e) for s, e in fragments],
                            cue=Span.of(text, *cue) if cue else None,
                            speaker_mention_id=f"m{speaker}" if speaker is not None else None))
        if stance:
            holder = spec["mentions"][speaker][2] if speaker is not None else "putin"
            stances.append(Stance(id=f"s{i}", holder_entity_id=holder, target_id=stance[0], polarity=stance[1],
                                  evidence=[f"q{i}"]))
    return AnnotatedDocument(
        article=article, provenance=Provenance(annotator=annotator, origin=origin),
        entities=[Entity(id=e, name=e.title()) for e in ENTITIES],
        mentions=[Mention(id=f"m{i}", span=Span.of(text, s, e), entity_id=ent)
                  for i, (s, e, ent) in enumerate(spec.get("mentions", []))],
        quotes=quotes, stances=stances,
        claims=[Claim(id=f"c{i}", span=Span.of(text, s, e), check_worthy=cw)
                for i, (s, e, cw) in enumerate(spec.get("claims", []))],
    )


def at(word: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(word, start + 1)
    return start, start + len(word)


def span_between(first: str, last: str) -> tuple[int, int]:
    start = TEXT.index(first)
    return start, TEXT.index(last, start) + len(last)


PUTIN = {"mentions": [(*at("Putin"), "putin"), (*at("Macron"), "macron")],
         "quotes": [("direct", [span_between('"Western', 'targets."')], at("said"), 0,
                     ("foreign-troops-in-ukraine", "against")),
                    ("indirect", [span_between("Europe", "decide")], at("replied"), 1, None)],
         "claims": [(*span_between("talks", "on"), "yes")]}


# --- hand-checked figures --------------------------------------------------------------------------------


def token_roles(doc: AnnotatedDocument) -> list[int]:
    """Role code (Role order: none, content, cue, source) of each token, the slow obvious way."""
    speakers = {q.speaker_mention_id for q in doc.quotes}
    layers = [(3, [m.span for m in doc.mentions if m.id in speakers]), (2, [q.cue for q in doc.quotes if q.cue]),
              (1, [f for q in doc.quotes for f in q.content])]
    roles = []
    for token in TOKEN_PATTERN.finditer(doc.article.text):
        touched = [code for code, spans in layers
                   if any(s.start < token.end() and token.start() < s.end for s in spans)]
        roles.append(touched[0] if touched else 0)
    return roles


def test_token_alpha_equals_the_krippendorff_package_on_the_role_matrix():
    # ann2's content starts at its cue "said": the cue's token must keep the cue role.
    shifted = {**PUTIN, "quotes": [("direct", [span_between("said", "targets")], at("said"), 0, None)]}
    no_cue = {**PUTIN, "quotes": [(k, f, None, s, st) for k, f, _, s, st in PUTIN["quotes"]]}
    docs = [build("ann1", PUTIN), build("ann2", shifted), build("ann3", no_cue)]
    report = compute_agreement(docs, resamples=50)
    matrix = np.array([token_roles(d) for d in docs], dtype=np.float64)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert report.figure("token_alpha", "token").value == pytest.approx(expected)
    pair = next(p for p in report.pairs if p.annotators == ("ann1", "ann3"))
    pair_alpha = next(f for f in pair.figures if f.metric == "token_alpha" and f.label is None)
    assert pair_alpha.value == pytest.approx(krippendorff.alpha(reliability_data=matrix[[0, 2]],
                                                                level_of_measurement="nominal"))
    cue = report.figure("token_alpha", "token", label="cue").value
    assert cue == pytest.approx(krippendorff.alpha(reliability_data=(matrix == 2).astype(float),
                                                   level_of_measurement="nominal"))


def test_attribute_alpha_cohen_and_fleiss_over_aligned_quotes():
    kinds = {"ann1": ("direct", "indirect"), "ann2": ("direct", "direct"), "ann3": ("mixed", "indirect")}
    docs = [build(name, {**PUTIN, "quotes": [(k, *q[1:]) for k, q in zip(pair, PUTIN["quotes"])]})
            for name, pair in kinds.items()]
    report = compute_agreement(docs, resamples=50)
    code = {"direct": 0, "indirect": 1, "mixed": 2}
    matrix = np.array([[code[k] for k in pair] for pair in kinds.values()], dtype=np.float64)
    assert report.figure("alpha", "quote", attribute="kind").value == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    # Fleiss by hand: counts (direct, indirect, mixed) per quote are [2, 0, 1] and [1, 2, 0];
    # P_i = (4 + 1 - 3) / 6 = 1/3 each; p = (3/6, 2/6, 1/6), P_e = 14/36 -> kappa = -1/11.
    assert report.figure("fleiss_kappa", "quote", attribute="kind").value == pytest.approx(-1 / 11)
    pair = next(p for p in report.pairs if p.annotators == ("ann1", "ann2"))
    cohen = next(f for f in pair.figures if f.metric == "cohen_kappa" and f.attribute == "kind")
    # ann1 (direct, indirect) vs ann2 (direct, direct): p_o = 1/2, p_e = (1*2 + 1*0) / 4 = 1/2 -> 0.
    assert cohen.value == pytest.approx(0.0)
    assert report.figure("attribution_agreement", "quote").value == 1.0


def test_attribution_agreement_counts_aligned_quotes_with_the_same_speaker():
    swapped = {**PUTIN, "mentions": [(*at("Putin"), "zelensky"), (*at("Macron"), "macron")]}
    report = compute_agreement([build("a", PUTIN), build("b", swapped)], resamples=50)
    figure = report.figure("attribution_agreement", "quote")
    assert (figure.value, figure.n) == (0.5, 2)
    assert report.figure("alpha", "mention", attribute="entity").n == 4


def test_span_f1_per_layer_and_label():
    fewer = {**PUTIN, "claims": [], "quotes": PUTIN["quotes"][:1]}
    report = compute_agreement([build("a", PUTIN), build("b", fewer)], resamples=50)
    assert report.figure("f1_exact", "quote").value == pytest.approx(2 * 1 / 3)
    assert report.figure("f1_overlap", "quote", label="indirect").value == 0.0
    assert report.figure("f1_overlap", "quote", label="direct").value == 1.0
    assert report.figure("f1_overlap", "claim").value == 0.0
    assert report.figure("f1_exact", "claim", label="no").value is None


def test_single_annotator_articles_are_reported_not_compared():
    other = Article.from_text("solo", "Nobody else read this one.")
    report = compute_agreement([build("a", PUTIN), build("b", PUTIN), build("a", {}, article=other)], resamples=20)
    assert report.single_annotator_articles == ["solo"]
    assert [a.article_id for a in report.articles] == ["eef"]
    alone = compute_agreement([build("a", {}, article=other)], resamples=20)
    assert alone.articles_compared == 0 and alone.pairs == []
    assert all(f.value is None and f.ci_low is None for f in alone.corpus)


def test_gold_and_predictions_are_left_out_and_listed():
    docs = [build("a", PUTIN), build("b", PUTIN), build("gold", PUTIN, origin="gold"),
            build("baseline-0.1", {}, origin="prediction")]
    report = compute_agreement(docs, resamples=20)
    assert report.annotators == ["a", "b"]
    assert sorted(e.annotator for e in report.excluded) == ["baseline-0.1", "gold"]
    assert report.figure("f1_exact", "quote").value == 1.0


def test_duplicate_annotator_of_one_article_is_an_error():
    with pytest.raises(ToolkitError, match="annotator 'a' already has a document of article 'eef' at document 1"):
        compute_agreement([build("a", PUTIN), build("a", {})])


def test_one_article_id_with_two_texts_is_an_error():
    changed = Article.from_text("eef", TEXT + " Later edit.")
    with pytest.raises(ToolkitError, match="article 'eef' has a different text"):
        compute_agreement([build("a", PUTIN), build("b", {}, article=changed)])


def test_bootstrap_interval_brackets_the_corpus_value():
    articles = [Article.from_text(f"a{i}", TEXT) for i in range(8)]
    rng = random.Random(5)
    docs = []
    for article in articles:
        for name in ("x", "y"):
            quotes = [q for q in PUTIN["quotes"] if rng.random() < 0.7]
            docs.append(build(name, {**PUTIN, "quotes": quotes}, article=article))
    report = compute_agreement(docs, resamples=300, seed=1)
    figure = report.figure("f1_exact", "quote")
    assert figure.ci_low <= figure.value <= figure.ci_high and figure.ci_low < figure.ci_high
    assert report.bootstrap.resamples == 300
    assert compute_agreement(docs, resamples=300, seed=1).corpus == report.corpus


def test_summary_rows_are_the_corpus_figures_over_all_labels():
    report = compute_agreement([build("a", PUTIN), build("b", PUTIN)], resamples=20)
    rows = report.summary_rows()
    assert len(rows) == sum(f.label is None for f in report.corpus)
    row = next(r for r in rows if r.layer == "token")
    assert row.metric == "Krippendorff's alpha, token roles" and row.value == 1.0 and row.ci == (1.0, 1.0)


# --- invariants ------------------------------------------------------------------------------------------

offsets = st.integers(0, len(TEXT) - 1)


def span_strategy(max_length: int = 30):
    return st.tuples(offsets, st.integers(1, max_length)).map(lambda t: (t[0], min(t[0] + t[1], len(TEXT))))


@st.composite
def specs(draw) -> dict:
    # One span per start in each layer: two identical spans with different attributes would make
    # the alignment of identical annotations ambiguous.
    mentions = draw(st.lists(st.tuples(span_strategy(10), st.sampled_from(ENTITIES)), max_size=4,
                             unique_by=lambda m: m[0][0]))
    quotes = []
    for _ in range(draw(st.integers(0, 4))):
        cuts = sorted(draw(st.sets(offsets, min_size=2, max_size=4)))
        fragments = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        speaker = draw(st.none() | st.integers(0, len(mentions) - 1)) if mentions else None
        stance = draw(st.none() | st.tuples(st.sampled_from(TARGETS), st.sampled_from(["favor", "against"])))
        quotes.append((draw(st.sampled_from(["direct", "indirect", "mixed"])), fragments,
                       draw(st.none() | span_strategy(8)), speaker, stance))
    quotes = list({q[1][0][0]: q for q in quotes}.values())
    claims = draw(st.lists(st.tuples(span_strategy(), st.sampled_from(["yes", "no"])), max_size=3,
                           unique_by=lambda c: c[0][0]))
    return {"mentions": [(s, e, ent) for (s, e), ent in mentions], "quotes": quotes,
            "claims": [(s, e, cw) for (s, e), cw in claims]}


def all_figures(report: AgreementReport):
    yield from report.corpus
    for group in (*report.articles, *report.pairs):
        yield from group.figures


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.integers(2, 4))
def test_identical_annotations_agree_perfectly(spec, n_annotators):
    report = compute_agreement([build(f"ann{i}", spec) for i in range(n_annotators)], resamples=20)
    for figure in all_figures(report):
        if figure.metric.startswith("f1") and figure.n:
            assert figure.value == 1.0, figure
        if figure.value is not None:
            assert figure.value == pytest.approx(1.0), figure


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(specs(), min_size=2, max_size=4), st.randoms(use_true_random=False))
def test_annotator_order_and_names_do_not_matter(spec_list, rnd):
    docs = [build(f"ann{i}", spec) for i, spec in enumerate(spec_list)]
    report = compute_agreement(docs, resamples=50)
    names = [f"ann{i}" for i in range(len(docs))]
    renamed = dict(zip(names, rnd.sample(names, len(names))))
    shuffled = [build(renamed[d.provenance.annotator], spec) for d, spec in zip(docs, spec_list)]
    rnd.shuffle(shuffled)
    again = compute_agreement(shuffled, resamples=50)
    for a, b in zip(report.corpus, again.corpus, strict=True):
        assert (a.metric, a.layer, a.label, a.attribute, a.n) == (b.metric, b.layer, b.label, b.attribute, b.n)
        for x, y in ((a.value, b.value), (a.ci_low, b.ci_low), (a.ci_high, b.ci_high)):
            assert (x is None and y is None) or x == pytest.approx(y, abs=1e-9)


# --- CLI -------------------------------------------------------------------------------------------------


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["annotate", *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return exit_info.value.code or 0, out.out, out.err


def write_jsonl(path, docs) -> None:
    path.write_text("".join(d.model_dump_json() + "\n" for d in docs), encoding="utf-8")


def test_cli_prints_tables_and_writes_the_json_report(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", PUTIN), build("b", {**PUTIN, "claims": []})])
    out_path = tmp_path / "agreement.json"
    code, out, _ = run(["agreement", str(docs), "--json", str(out_path), "--resamples", "50"], capsys)
    assert code == 0
    assert "pairwise F1" in out and "Annotator pairs" in out
    report = AgreementReport.model_validate_json(out_path.read_text(encoding="utf-8"))
    assert report.figure("f1_exact", "claim").value == 0.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agreement.json", "docs.jsonl"]  # no temp file left


def test_cli_names_file_and_line_of_a_bad_line(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", PUTIN)])
    with docs.open("a", encoding="utf-8") as f:
        f.write("\n{not json\n")
    code, _, err = run(["agreement", str(docs)], capsys)
    assert code == 2
    assert err.strip().startswith(f"error: {docs}:3: invalid JSON") and "one annotated document per line" in err


def test_cli_names_file_line_and_field_of_an_invalid_document(tmp_path, capsys):
    record = json.loads(build("a", PUTIN).model_dump_json())
    record["quotes"][0]["content"][0]["text"] = "not the article text" + "x" * 30
    record["quotes"][0]["content"][0]["end"] = record["quotes"][0]["content"][0]["start"] + 50
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    code, _, err = run(["agreement", str(docs)], capsys)
    assert code == 2
    assert f"{docs}:1: " in err and "quote 'q0' content fragment 0" in err


def test_cli_rejects_an_empty_file_and_a_missing_file(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    code, _, err = run(["agreement", str(empty)], capsys)
    assert code == 2 and f"no annotated documents in {empty}" in err
    code, _, err = run(["agreement", str(tmp_path / "missing.jsonl")], capsys)
    assert code == 2 and "missing.jsonl: no such file" in err


def test_cli_without_paths_uses_the_last_pull(tmp_path, capsys, monkeypatch):
    docs = tmp_path / "pulled.jsonl"
    write_jsonl(docs, [build("a", PUTIN), build("b", PUTIN)])
    pull = types.ModuleType("annotate.labelstudio.pull")
    pull.latest_pull_docs = lambda: docs
    monkeypatch.setitem(sys.modules, "annotate.labelstudio.pull", pull)
    code, out, _ = run(["agreement", "--resamples", "20"], capsys)
    assert code == 0 and "2 documents" in out


def test_cli_without_paths_and_no_pull_yet_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path / "home"))
    code, _, err = run(["agreement"], capsys)
    assert code == 2 and "no pull in" in err and "run `annotate pull` first" in err


def test_cli_json_into_a_missing_directory_fails_before_writing(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", PUTIN), build("b", PUTIN)])
    code, _, err = run(["agreement", str(docs), "--json", str(tmp_path / "no" / "r.json"), "--resamples", "20"],
                       capsys)
    assert code == 2 and "directory" in err and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_write_atomically_leaves_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
