"""Adjudication into a gold layer: majority, ground truth, conflicts, decisions, files, the CLI, review tasks."""

from __future__ import annotations

import json
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate.cli import main
from exports.adjudication.decisions import Decision, Decisions, MajorityRule, load_decisions, parse_majority
from exports.adjudication.latest import latest_adjudication
from exports.adjudication.report import AdjudicationReport
from exports.adjudication.review import push_conflicts
from exports.adjudication.rules import adjudicate
from exports.adjudication.run import documents_with_where, run_adjudication
from exports.compare import Boundary
from schemas import AnnotatedDocument, Article, Claim, Entity, Mention, Provenance, Quote, Span, Stance, ToolkitError

TEXT = ('Putin said: "Western troops in Ukraine would be legitimate targets." Macron replied that Europe '
        "would decide, and he added that talks with Kyiv go on. Zelensky's office said nothing.")
ARTICLE = Article.from_text("eef", TEXT)
NAMES = {"putin": "Vladimir Putin", "macron": "Emmanuel Macron", "zelensky": "Volodymyr Zelensky"}
TARGET = "foreign-troops-in-ukraine"


def at(word: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(word, start + 1)
    return start, start + len(word)


def between(first: str, last: str) -> tuple[int, int]:
    start = TEXT.index(first)
    return start, TEXT.index(last, start) + len(last)


def build(annotator: str, spec: dict, *, ground_truth: bool = False, origin: str = "label-studio",
          article: Article = ARTICLE) -> AnnotatedDocument:
    """spec: mentions [((s, e), entity)], quotes [(kind, [(s, e)], cue | None, speaker mention index | None,
    (target, polarity) | None)], claims [((s, e), check_worthy, claimant | None)]."""
    text = article.text
    mentions = [Mention(id=f"m{i}", span=Span.of(text, *span), entity_id=entity)
                for i, (span, entity) in enumerate(spec.get("mentions", []))]
    quotes, stances = [], {}
    for i, (kind, content, cue, speaker, stance) in enumerate(spec.get("quotes", [])):
        quotes.append(Quote(id=f"q{i}", kind=kind, content=[Span.of(text, *f) for f in content],
                            cue=Span.of(text, *cue) if cue else None,
                            speaker_mention_id=None if speaker is None else f"m{speaker}"))
        if stance:
            holder = mentions[speaker].entity_id
            key = (holder, *stance)
            stances.setdefault(key, []).append(f"q{i}")
    claims = [Claim(id=f"c{i}", span=Span.of(text, *span), check_worthy=cw, claimant_entity_id=claimant)
              for i, (span, cw, claimant) in enumerate(spec.get("claims", []))]
    used = ({m.entity_id for m in mentions} | {c.claimant_entity_id for c in claims}) - {None}
    return AnnotatedDocument(
        article=article, provenance=Provenance(annotator=annotator, origin=origin, ground_truth=ground_truth,
                                               task_id=7),
        entities=[Entity(id=e, name=NAMES[e]) for e in sorted(used)], mentions=mentions, quotes=quotes,
        stances=[Stance(id=f"{h}:{t}:{p}", holder_entity_id=h, target_id=t, polarity=p, evidence=ev)
                 for (h, t, p), ev in stances.items()],
        claims=claims,
    )


def canonical(doc: AnnotatedDocument) -> dict:
    """The annotations without ids: what two documents must share to say the same thing."""
    quote_spans = {q.id: tuple((s.start, s.end) for s in q.content) for q in doc.quotes}
    stance_of = {qid: (s.target_id, s.polarity.value) for s in doc.stances for qid in s.evidence}
    return {
        "mentions": sorted((m.span.start, m.span.end, m.entity_id) for m in doc.mentions),
        "quotes": sorted((quote_spans[q.id], q.kind.value, q.cue and (q.cue.start, q.cue.end), doc.speaker_of(q),
                          stance_of.get(q.id)) for q in doc.quotes),
        "stances": sorted((s.holder_entity_id, s.target_id, s.polarity.value,
                           tuple(sorted(quote_spans[e] for e in s.evidence))) for s in doc.stances),
        "claims": sorted((c.span.start, c.span.end, c.check_worthy.value, c.claimant_entity_id) for c in doc.claims),
    }


def assert_valid_gold(doc: AnnotatedDocument) -> None:
    """Revalidated from JSON (every span against the text, every reference), and marked as gold."""
    again = AnnotatedDocument.model_validate_json(doc.model_dump_json())
    assert again.provenance.annotator == "gold" and again.provenance.origin == "gold"
    text = again.article.text
    spans = ([m.span for m in again.mentions] + [c.span for c in again.claims]
             + [s for q in again.quotes for s in q.content] + [q.cue for q in again.quotes if q.cue])
    assert all(text[s.start:s.end] == s.text for s in spans)


SAID = ("direct", [between('"Western', 'targets."')], at("said"), 0, (TARGET, "against"))
REPLIED = ("indirect", [between("Europe", "decide")], at("replied"), 1, None)
SPEC = {
    "mentions": [(at("Putin"), "putin"), (at("Macron"), "macron"), (at("Zelensky"), "zelensky")],
    "quotes": [SAID, REPLIED],
    "claims": [(between("talks", "go on"), "yes", "macron")],
}


def only(result):
    assert len(result.gold) == 1
    return result.gold[0]


# --- majority ------------------------------------------------------------------------------------------------


def test_two_agreeing_annotators_give_their_annotations_supported_by_both():
    result = adjudicate([build("b", SPEC), build("a", SPEC)])
    gold = only(result)
    assert_valid_gold(gold)
    assert canonical(gold) == canonical(build("a", SPEC))
    items = [*gold.mentions, *gold.quotes, *gold.stances, *gold.claims]
    assert len(items) == 7 and all(item.supported_by == ["a", "b"] for item in items)
    assert result.report.conflicts == []
    assert [m.id for m in gold.mentions] == ["m1", "m2", "m3"] and [q.id for q in gold.quotes] == ["q1", "q2"]
    assert gold.quotes[0].speaker_mention_id == "m1" and gold.quotes[0].speaker_entity_id is None
    assert {e.id: e.name for e in gold.entities} == NAMES
    assert result.report.articles[0].method == "majority" and result.report.articles[0].needed == 2


WORDS = [m.span() for m in re.finditer(r"\w+", TEXT)]


@st.composite
def specs(draw, max_units: int = 4) -> dict:
    """Random annotations on word boundaries; units of one layer never overlap within one document."""

    def ranges(n: int) -> list[tuple[int, int]]:
        cuts = sorted(draw(st.sets(st.integers(0, len(WORDS) - 1), min_size=0, max_size=2 * n)))
        return [(WORDS[a][0], WORDS[b][1]) for a, b in zip(cuts[::2], cuts[1::2])]

    words = draw(st.lists(st.integers(0, len(WORDS) - 1), unique=True, max_size=max_units))
    mentions = [(WORDS[w], draw(st.sampled_from(sorted(NAMES)))) for w in words]
    quotes = []
    for content in ranges(max_units):
        speaker = draw(st.none() | st.integers(0, len(mentions) - 1)) if mentions else None
        stance = draw(st.none() | st.tuples(st.sampled_from([TARGET, "ukraine-in-nato"]),
                                            st.sampled_from(["favor", "against"]))) if speaker is not None else None
        cue = draw(st.none() | st.sampled_from(WORDS))
        quotes.append((draw(st.sampled_from(["direct", "indirect", "mixed"])), [content], cue, speaker, stance))
    claims = [(span, draw(st.sampled_from(["yes", "no"])), draw(st.none() | st.sampled_from(sorted(NAMES))))
              for span in ranges(2)]
    return {"mentions": mentions, "quotes": quotes, "claims": claims}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_annotators_who_agree_get_exactly_their_annotations(spec):
    result = adjudicate([build("a", spec), build("b", spec), build("c", spec)])
    gold = only(result)
    assert_valid_gold(gold)
    assert canonical(gold) == canonical(build("a", spec))
    assert result.report.conflicts == []
    assert all(item.supported_by == ["a", "b", "c"] for item in [*gold.mentions, *gold.quotes, *gold.claims])


def test_disagreements_are_listed_as_conflicts_and_kept_out_of_the_gold():
    b_spec = {**SPEC, "quotes": [SAID, ("direct", *REPLIED[1:])], "claims": []}  # kind differs, no claim
    result = adjudicate([build("a", SPEC), build("b", b_spec)])
    gold = only(result)
    assert_valid_gold(gold)
    conflicts = {c.id: c for c in result.report.conflicts}
    claim_id = f"eef/claim/{between('talks', 'go on')[0]}-{between('talks', 'go on')[1]}"
    kind_id = f"eef/quote/{between('Europe', 'decide')[0]}-{between('Europe', 'decide')[1]}/kind"
    assert set(conflicts) == {claim_id, kind_id}
    claim = conflicts[claim_id]
    assert claim.kind == "unit" and claim.layer == "claim" and "marked by 1 of 2" in claim.problem
    assert [(v.annotator, v.unit, v.attributes["check_worthy"]) for v in claim.versions] == [("a", "c0", "yes")]
    kind = conflicts[kind_id]
    assert kind.kind == "attribute" and kind.attribute == "kind"
    assert sorted((v.annotator, v.value) for v in kind.versions) == [("a", "indirect"), ("b", "direct")]
    assert all(c.decision is None for c in conflicts.values())
    # Only the quote everybody agrees on is gold; the open conflicts are not.
    assert [q.content[0].text for q in gold.quotes] == [TEXT[slice(*between('"Western', 'targets."'))]]
    assert gold.claims == []
    assert result.report.articles[0].open_conflicts == 2


def test_conflict_ids_are_stable_whatever_the_order_of_documents():
    docs = [build("a", SPEC), build("b", {**SPEC, "claims": []}), build("c", {**SPEC, "quotes": [SAID]})]
    unanimous = parse_majority("3")
    ids = [c.id for c in adjudicate(docs, majority=unanimous).report.conflicts]
    assert len(ids) == 2 and ids == [c.id for c in adjudicate(docs[::-1], majority=unanimous).report.conflicts]


def test_majority_of_three_accepts_what_two_agree_on():
    mixed = ("mixed", *REPLIED[1:])
    a = build("a", SPEC)
    b = build("b", {**SPEC, "quotes": [SAID, mixed], "claims": []})
    c = build("c", {**SPEC, "quotes": [SAID], "claims": [(between("talks", "go on"), "no", "macron")]})
    result = adjudicate([a, b, c])
    gold = only(result)
    assert_valid_gold(gold)
    # The claim: marked by a and c (2 of 3), check-worthiness split 1:1 -> an attribute conflict, claim held.
    # The second quote: marked by a and b, kind indirect vs mixed -> an attribute conflict.
    assert {(c.layer, c.attribute) for c in result.report.conflicts} == {("claim", "check_worthy"), ("quote", "kind")}
    assert len(gold.quotes) == 1 and gold.quotes[0].supported_by == ["a", "b", "c"]
    assert result.report.articles[0].needed == 2

    # Two of three with the same value: accepted, supported by those two.
    c2 = build("c", {**SPEC, "quotes": [SAID], "claims": [(between("talks", "go on"), "yes", "macron")]})
    gold = only(adjudicate([a, b, c2]))
    assert [(x.check_worthy.value, x.supported_by) for x in gold.claims] == [("yes", ["a", "c"])]

    # One of three: below the majority.
    one = adjudicate([a, build("b", {**SPEC, "claims": []}), build("c", {**SPEC, "claims": []})])
    assert [(c.kind, c.layer, c.problem) for c in one.report.conflicts] == [
        ("unit", "claim", "marked by 1 of 3 annotators (a); 2 needed")]


def test_majority_rule_can_be_a_count_or_a_fraction():
    docs = [build("a", SPEC), build("b", SPEC), build("c", {**SPEC, "claims": []})]
    assert len(only(adjudicate(docs)).claims) == 1  # 2 of 3
    unanimous = adjudicate(docs, majority=parse_majority("3"))
    assert only(unanimous).claims == [] and unanimous.report.conflicts[0].problem.endswith("3 needed")
    assert only(adjudicate(docs, majority=parse_majority("1.0"))).claims == []
    # Attributes follow the same rule: a 2:1 kind is the majority value, unless all three must agree.
    split_kind = [build("a", SPEC), build("b", SPEC), build("c", {**SPEC, "quotes": [SAID, ("mixed", *REPLIED[1:])]})]
    assert [q.kind.value for q in only(adjudicate(split_kind)).quotes] == ["direct", "indirect"]
    strict = adjudicate(split_kind, majority=parse_majority("3"))
    assert [q.kind.value for q in only(strict).quotes] == ["direct"]
    assert [(c.attribute, c.problem) for c in strict.report.conflicts] == [
        ("kind", "kind has no value 3 annotators agree on (indirect x2, mixed x1)")]
    lone = [build("a", SPEC), build("b", {**SPEC, "claims": []}), build("c", {**SPEC, "claims": []})]
    assert [c.supported_by for c in only(adjudicate(lone, majority=parse_majority("1/3"))).claims] == [["a"]]
    assert only(adjudicate(lone, majority=parse_majority("2/3"))).claims == []
    assert [MajorityRule().needed(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert parse_majority("0.5").needed(3) == 2 and parse_majority("2").needed(5) == 2


@pytest.mark.parametrize("text, message", [
    ("two", "not a number"), ("0", "a count must be 1 or more"), ("1.5", "at most 1"), ("0/3", "above 0"),
    ("-1", "a count must be 1 or more"), ("1/0", "not a number"),
])
def test_bad_majority_is_refused(text, message):
    with pytest.raises(ToolkitError, match=message):
        parse_majority(text)


def test_a_quote_whose_speaker_mention_is_not_gold_keeps_the_speaker_entity():
    # b marks the speaker Putin with a longer span that a does not share exactly: the mention is an attribute
    # conflict (span), so the gold quote names its speaker by entity and refers to no missing mention.
    b_spec = {**SPEC, "mentions": [(between("Putin", "said"), "putin"), *SPEC["mentions"][1:]]}
    gold = only(adjudicate([build("a", SPEC), build("b", b_spec)]))
    assert_valid_gold(gold)
    said = next(q for q in gold.quotes if q.kind.value == "direct")
    assert said.speaker_mention_id is None and said.speaker_entity_id == "putin"
    assert "putin" in {e.id for e in gold.entities}
    assert [s.holder_entity_id for s in gold.stances] == ["putin"]


def test_gold_and_predictions_are_not_annotators():
    result = adjudicate([build("a", SPEC), build("b", SPEC), build("gold", {}, origin="gold"),
                         build("baseline", {}, origin="prediction")])
    assert [e.annotator for e in result.report.excluded] == ["gold", "baseline"]
    assert result.report.articles[0].annotators == ["a", "b"]
    with pytest.raises(ToolkitError, match="no annotator documents to adjudicate: all 1 are gold or predictions"):
        adjudicate([build("gold", {}, origin="gold")])


def test_inconsistent_inputs_are_refused():
    with pytest.raises(ToolkitError, match=r"x.jsonl:2: annotator 'a' already has a document of article 'eef' at "
                                           r"x.jsonl:1; keep one"):
        adjudicate([build("a", SPEC), build("a", {})], where=["x.jsonl:1", "x.jsonl:2"])
    other = Article.from_text("eef", TEXT + " More.")
    with pytest.raises(ToolkitError, match="article 'eef' has a different text"):
        adjudicate([build("a", SPEC), build("b", {}, article=other)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(specs(), min_size=1, max_size=3), st.sampled_from([None, "1", "2", "0.5", "1.0"]),
       st.sampled_from(list(Boundary)), st.randoms(use_true_random=False))
def test_gold_always_validates_and_does_not_depend_on_the_order(annotations, rule, boundary, rnd):
    docs = [build(f"ann{i}", spec) for i, spec in enumerate(annotations)]
    majority = parse_majority(rule)
    result = adjudicate(docs, majority=majority, boundary=boundary)
    gold = only(result)
    assert_valid_gold(gold)
    needed = majority.needed(len(docs))
    for item in [*gold.mentions, *gold.quotes, *gold.claims]:
        assert len(item.supported_by) >= needed and set(item.supported_by) <= {d.provenance.annotator for d in docs}
    ids = [c.id for c in result.report.conflicts]
    assert len(ids) == len(set(ids))
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    again = adjudicate(shuffled, majority=majority, boundary=boundary)
    assert again.gold[0].model_dump_json() == gold.model_dump_json()
    assert [c.id for c in again.report.conflicts] == ids


# --- ground truth ----------------------------------------------------------------------------------------------


def test_ground_truth_wins_the_whole_article():
    truth_spec = {**SPEC, "quotes": [SAID], "claims": [(between("talks", "go on"), "no", None)]}
    others = [build("a", SPEC), build("b", SPEC)]  # they agree with each other, not with the ground truth
    truth = build("t", truth_spec, ground_truth=True)
    result = adjudicate([*others, truth])
    gold = only(result)
    assert_valid_gold(gold)
    assert canonical(gold) == canonical(truth)
    assert result.report.conflicts == []
    outcome = result.report.articles[0]
    assert outcome.method == "ground-truth" and outcome.ground_truth == "t"
    # supported_by: everybody whose unit aligns with the ground truth's.
    assert [q.supported_by for q in gold.quotes] == [["a", "b", "t"]]
    assert [c.supported_by for c in gold.claims] == [["a", "b", "t"]]
    assert [s.supported_by for s in gold.stances] == [["a", "b", "t"]]
    assert gold.provenance.annotator == "gold" and gold.provenance.task_id == 7


def test_two_ground_truths_hold_the_article_back_until_decided(tmp_path):
    t1 = build("t1", {**SPEC, "claims": []}, ground_truth=True)
    t2 = build("t2", SPEC, ground_truth=True)
    result = adjudicate([t1, t2, build("a", SPEC)])
    assert result.gold == []
    [conflict] = result.report.conflicts
    assert conflict.id == "eef/ground-truth" and conflict.kind == "ground-truth"
    assert [v.annotator for v in conflict.versions] == ["t1", "t2"]
    assert result.report.articles[0].method == "held-back"

    accept = Decisions("d.yaml", {"eef/ground-truth": _decision(accept="t1", reason="t1 is the senior annotator")})
    decided = adjudicate([t1, t2, build("a", SPEC)], decisions=accept)
    assert canonical(only(decided)) == canonical(t1)
    assert decided.report.conflicts[0].decision.reason == "t1 is the senior annotator"

    reject = Decisions("d.yaml", {"eef/ground-truth": _decision(reject=True, reason="both marked by mistake")})
    majority = adjudicate([t1, t2, build("a", SPEC)], decisions=reject)
    assert majority.report.articles[0].method == "majority"
    assert [c.supported_by for c in only(majority).claims] == [["a", "t2"]]


# --- decisions -------------------------------------------------------------------------------------------------


def _decision(**fields):
    return Decision(**fields)


def write_jsonl(path, docs) -> None:
    path.write_text("".join(d.model_dump_json() + "\n" for d in docs), encoding="utf-8")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_decisions_are_applied_and_their_reasons_recorded(tmp_path, home):
    longer_cue = ("direct", SAID[1], between("said", ":"), 0, SAID[4])
    b_spec = {"mentions": SPEC["mentions"], "quotes": [longer_cue, ("direct", *REPLIED[1:])]}
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", SPEC), build("b", b_spec)])
    out = tmp_path / "gold.jsonl"
    first, conflicts_path = run_adjudication([docs], out)
    assert conflicts_path == tmp_path / "gold.conflicts.json"
    ids = {(c.layer, c.attribute): c.id for c in first.report.conflicts}
    assert set(ids) == {("claim", None), ("quote", "kind"), ("quote", "cue")}

    decisions = tmp_path / "decisions.yaml"
    decisions.write_text(
        f"{ids['claim', None]}:\n  accept: a\n  reason: the claim is check-worthy, guideline 4.2\n"
        f"{ids['quote', 'kind']}:\n  value: indirect\n  reason: 'no quotation marks: indirect'\n"
        f"{ids['quote', 'cue']}:\n  reject: true\n  reason: the cue cannot be settled; drop the quote\n"
        "eef/quote/1-2:\n  reject: true\n  reason: stale decision\n", encoding="utf-8")
    second, _ = run_adjudication([docs], out, decisions_path=decisions)
    gold = AnnotatedDocument.model_validate_json(out.read_text(encoding="utf-8").split("\n")[0])
    assert_valid_gold(gold)
    assert [(c.check_worthy.value, c.claimant_entity_id, c.supported_by) for c in gold.claims] == [
        ("yes", "macron", ["a"])]
    assert [(q.kind.value, q.content[0].text) for q in gold.quotes] == [("indirect", "Europe would decide")]
    report = AdjudicationReport.model_validate_json(conflicts_path.read_text(encoding="utf-8"))
    reasons = {c.id: c.decision.reason for c in report.conflicts}
    assert reasons == {ids["claim", None]: "the claim is check-worthy, guideline 4.2",
                       ids["quote", "kind"]: "no quotation marks: indirect",
                       ids["quote", "cue"]: "the cue cannot be settled; drop the quote"}
    assert report.unused_decisions == ["eef/quote/1-2"]
    assert report.decisions_file.path == str(decisions) and report.inputs[0].path == str(docs)
    assert report.articles[0].decided_conflicts == 3 and report.articles[0].open_conflicts == 0

    # Reproducible: the same inputs and decisions give the same gold, byte for byte.
    before = out.read_bytes()
    run_adjudication([docs], out, decisions_path=decisions)
    assert out.read_bytes() == before
    assert latest_adjudication() == out.resolve()


def test_value_decisions_set_spans_speakers_and_stances():
    b_spec = {"mentions": SPEC["mentions"], "quotes": [("direct", [between('"Western', 'Ukraine')], SAID[2], 2,
                                                         ("ukraine-in-nato", "favor"))]}
    docs = [build("a", {**SPEC, "quotes": [SAID]}), build("b", b_spec)]
    ids = {c.attribute: c.id for c in adjudicate(docs).report.conflicts if c.layer == "quote"}
    assert set(ids) == {"span", "speaker", "stance"}
    span = between("Western", "targets")
    decisions = Decisions("d.json", {
        ids["span"]: _decision(value=f"{span[0]}-{span[1]}", reason="without the quotation marks"),
        ids["speaker"]: _decision(value="Vladimir V. Putin", reason="a new canonical name"),
        ids["stance"]: _decision(value="none", reason="no stance is expressed"),
    })
    gold = only(adjudicate(docs, decisions=decisions))
    assert_valid_gold(gold)
    [quote] = gold.quotes
    assert quote.content[0].text == TEXT[span[0]:span[1]]
    assert quote.speaker_entity_id == "vladimir-v-putin" and quote.speaker_mention_id is None
    assert {e.id: e.name for e in gold.entities}["vladimir-v-putin"] == "Vladimir V. Putin"
    assert gold.stances == []


def test_decisions_load_from_json_and_yaml(tmp_path):
    as_json = tmp_path / "d.json"
    as_json.write_text(json.dumps({"x/claim/1-2": {"accept": "a", "reason": "r"}}), encoding="utf-8")
    as_yaml = tmp_path / "d.yml"
    as_yaml.write_text("x/claim/1-2: {accept: a, reason: r}\n", encoding="utf-8")
    assert load_decisions(as_json).by_id == load_decisions(as_yaml).by_id
    assert load_decisions(as_json).by_id["x/claim/1-2"].accept == "a"
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_decisions(empty).by_id == {}


@pytest.mark.parametrize("name, content, message", [
    ("d.yaml", "a: [unclosed\n", r"d.yaml:\d+: invalid YAML"),
    ("d.json", "{not json", r"d.json:1: invalid JSON"),
    ("d.json", "[1, 2]", "expected a mapping of conflict id to decision, found list"),
    ("d.yaml", "x: {accept: a}\n", r"conflict 'x': reason: Field required"),
    ("d.yaml", "x: {accept: a, reject: true, reason: r}\n", "give exactly one of accept, reject, value"),
    ("d.yaml", "x: {reject: true, unit: q1, reason: r}\n", "unit goes with accept only"),
    ("d.yaml", "x: {value: v, reason: '  '}\n", "reason is blank"),
    ("d.yaml", "x: {accept: a, reason: r, because: s}\n", "Extra inputs are not permitted"),
])
def test_bad_decision_files_are_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ToolkitError, match=message):
        load_decisions(path)


def _conflict_ids(docs):
    return {(c.layer, c.attribute): c.id for c in adjudicate(docs).report.conflicts}


@pytest.mark.parametrize("key, decision, message", [
    (("claim", None), {"accept": "z"}, r"accept 'z' is not one of its versions \(a\); accept one of those"),
    (("claim", None), {"value": "yes"}, "a unit conflict takes accept"),
    (("quote", "kind"), {"value": "loud"}, "value 'loud' is not one of direct, indirect, mixed"),
    (("quote", "kind"), {"accept": "a", "unit": "q9"}, "accept 'a' with unit 'q9' is not one of its versions"),
    (("quote", "span"), {"value": "5-3"}, "spans must be non-empty, within the article"),
    (("quote", "span"), {"value": "0-5+3-8"}, "in order and not overlapping"),
    (("quote", "span"), {"value": "start-end"}, "is not a span; give start-end code points"),
    (("quote", "stance"), {"value": "nato:loves"}, "is not a stance; give target:polarity"),
])
def test_decisions_that_do_not_fit_their_conflict_are_refused(key, decision, message):
    b_spec = {"mentions": SPEC["mentions"], "quotes": [("direct", [between('"Western', 'Ukraine')], SAID[2], 0,
                                                         ("ukraine-in-nato", "favor")), ("direct", *REPLIED[1:])]}
    docs = [build("a", SPEC), build("b", b_spec)]
    ids = _conflict_ids(docs)
    decisions = Decisions("d.yaml", {ids[key]: _decision(reason="r", **decision)})
    with pytest.raises(ToolkitError, match=f"d.yaml: conflict '{re.escape(ids[key])}': .*{message}"):
        adjudicate(docs, decisions=decisions)


def test_a_unit_marked_twice_by_one_annotator_needs_the_unit_named():
    # Pairwise alignments chain a:q0 - b:q0 - c:q0 - a:q1, so one group holds two quotes of a.
    def quotes(*spans):
        return {"quotes": [("direct", [span], None, None, None) for span in spans]}

    a = build("a", quotes(between('"Western', "troops"), between("would be", 'targets."')))
    b = build("b", quotes(between('"Western', "Ukraine")))
    c = build("c", quotes(between("in Ukraine", "legitimate")))
    [conflict] = adjudicate([a, b, c]).report.conflicts
    assert conflict.kind == "unit" and "a marked several units here" in conflict.problem
    assert [(v.annotator, v.unit) for v in conflict.versions] == [("a", "q0"), ("a", "q1"), ("b", "q0"), ("c", "q0")]
    ambiguous = Decisions("d.yaml", {conflict.id: _decision(accept="a", reason="r")})
    with pytest.raises(ToolkitError, match=r"annotator 'a' has several versions here \(units q0, q1\); add unit"):
        adjudicate([a, b, c], decisions=ambiguous)
    chosen = Decisions("d.yaml", {conflict.id: _decision(accept="a", unit="q1", reason="the quote proper")})
    gold = only(adjudicate([a, b, c], decisions=chosen))
    assert [(q.content[0].text, q.supported_by) for q in gold.quotes] == [
        (TEXT[slice(*between("would be", 'targets."'))], ["a", "b", "c"])]


# --- files -----------------------------------------------------------------------------------------------------


def test_documents_are_split_on_newline_only(tmp_path):
    odd = Article.from_text("odd", "Putin said\u2028it\u0085 twice.\x0c Macron said nothing.")
    doc = build("a", {"mentions": [((0, 5), "putin")]}, article=odd)
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(json.loads(doc.model_dump_json()), ensure_ascii=False) + "\n", encoding="utf-8")
    assert "\u2028" in path.read_text(encoding="utf-8")
    docs, where = documents_with_where([path])
    assert docs == [doc] and where == [f"{path}:1"]


def test_bad_document_files_name_file_and_line(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(build("a", SPEC).model_dump_json() + "\n\n{broken\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match=rf"{re.escape(str(path))}:3: invalid JSON"):
        documents_with_where([path])
    record = json.loads(build("a", SPEC).model_dump_json())
    record["mentions"][0]["span"]["text"] = "Macro"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match=rf"{re.escape(str(path))}:1: .*mention 'm0'"):
        documents_with_where([path])
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ToolkitError, match="no annotated documents in"):
        documents_with_where([path])


def test_outputs_never_overwrite_inputs(tmp_path, home):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", SPEC)])
    with pytest.raises(ToolkitError, match="--out .* is one of the inputs"):
        run_adjudication([docs], docs)
    with pytest.raises(ToolkitError, match="--conflicts .* is one of the inputs"):
        run_adjudication([docs], tmp_path / "gold.jsonl", conflicts_path=docs)
    with pytest.raises(ToolkitError, match="--conflicts .* is the gold file"):
        run_adjudication([docs], tmp_path / "gold.jsonl", conflicts_path=tmp_path / "gold.jsonl")
    with pytest.raises(ToolkitError, match="directory .* does not exist"):
        run_adjudication([docs], tmp_path / "missing" / "gold.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs.jsonl"]  # nothing half-written


def test_latest_adjudication_says_what_to_do_without_one(tmp_path, home):
    with pytest.raises(ToolkitError, match="no adjudication recorded in .*; run `annotate adjudicate"):
        latest_adjudication()
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", SPEC)])
    run_adjudication([docs], tmp_path / "gold.jsonl")
    assert latest_adjudication() == (tmp_path / "gold.jsonl").resolve()
    (tmp_path / "gold.jsonl").unlink()
    with pytest.raises(ToolkitError, match="gold .* is gone"):
        latest_adjudication()
    (home / "adjudication.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ToolkitError, match="gold: Field required"):
        latest_adjudication()


# --- CLI -------------------------------------------------------------------------------------------------------


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


def test_cli_adjudicates_with_decisions(tmp_path, home, capsys):
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [build("a", SPEC), build("b", {**SPEC, "claims": []}), build("c", {**SPEC, "claims": []})])
    out = tmp_path / "gold.jsonl"
    code, stdout, _ = run(["adjudicate", str(docs), "--out", str(out), "--majority", "1/3"], capsys)
    assert code == 0 and "gold for 1 of 1 articles" in stdout and "0 conflicts" in stdout
    assert len(AnnotatedDocument.model_validate_json(out.read_text(encoding="utf-8")).claims) == 1

    code, stdout, _ = run(["adjudicate", str(docs), "--out", str(out)], capsys)
    assert code == 0 and "1 conflicts (1 open, 0 decided)" in stdout and "1 articles lack" in stdout
    report = AdjudicationReport.model_validate_json((tmp_path / "gold.conflicts.json").read_text(encoding="utf-8"))
    decisions = tmp_path / "decisions.json"
    decisions.write_text(json.dumps({report.conflicts[0].id: {"reject": True, "reason": "not a claim"}}),
                         encoding="utf-8")
    code, stdout, _ = run(["adjudicate", str(docs), "--out", str(out), "--decisions", str(decisions)], capsys)
    assert code == 0 and "1 conflicts (0 open, 1 decided)" in stdout
    code, _, err = run(["adjudicate", str(docs), "--out", str(out), "--majority", "lots"], capsys)
    assert code == 2 and err.startswith("error: --majority 'lots': not a number") and err.count("\n") == 1


def test_cli_without_documents_uses_the_last_pull(tmp_path, home, capsys):
    pulls = home / "pulls"
    pulls.mkdir(parents=True)
    stem = "20250101T000000Z-project1"
    write_jsonl(pulls / f"{stem}.docs.jsonl", [build("a", SPEC), build("b", SPEC)])
    (pulls / f"{stem}.report.json").write_text("{}", encoding="utf-8")
    code, stdout, _ = run(["adjudicate", "--out", str(tmp_path / "gold.jsonl")], capsys)
    assert code == 0 and "gold for 1 of 1 articles" in stdout
    assert (AnnotatedDocument.model_validate_json((tmp_path / "gold.jsonl").read_text(encoding="utf-8"))
            .quotes[0].supported_by == ["a", "b"])


def test_cli_without_documents_or_pull_says_what_to_do(tmp_path, home, capsys):
    code, _, err = run(["adjudicate", "--out", str(tmp_path / "gold.jsonl")], capsys)
    assert code == 2 and "no pull in" in err and "run `annotate pull` first" in err


# --- review tasks in a real Label Studio -------------------------------------------------------------------------


@pytest.mark.server
def test_push_conflicts_creates_review_tasks_once(ls_client, ls_project, tmp_path, capsys):
    from annotate.formats.authoring import compile_file
    from schemas.articles import load_articles
    from schemas.paths import SEEDS_DIR

    articles = {a.id: a for a in load_articles([SEEDS_DIR])}
    docs = [d for n in (1, 2) for d in compile_file(SEEDS_DIR / f"annotations/authoring/annotator-{n}.json",
                                                     articles)]
    result = adjudicate(docs)
    conflicting = sorted({c.article_id for c in result.report.open_conflicts()})
    assert conflicting  # the recorded seed annotations do disagree somewhere

    pushed = push_conflicts(ls_client, ls_project, result)
    assert pushed.created and pushed.project_title == f"{ls_project.title} (review)"
    assert sorted(pushed.imported) == conflicting and pushed.skipped_versions == []
    review = ls_client.get_project(pushed.project_id)
    assert review.label_config.strip() == ls_client.get_project(ls_project.id).label_config.strip()
    tasks = ls_client.export_tasks(pushed.project_id)
    assert sorted(t.data["article_id"] for t in tasks) == conflicting
    for task in tasks:
        predictions = ls_client.sdk.predictions.list(task=task.id)
        versions = sorted(p.model_version for p in predictions)
        assert versions == ["annotator:annotator-1", "annotator:annotator-2", "gold-so-far"]
        assert all(c.id in task.data["conflicts"] for c in result.report.open_conflicts()
                   if c.article_id == task.data["article_id"])
        text = task.data["text"]
        regions = [r["value"] for p in predictions for r in p.result if r.get("type") == "labels"]
        assert regions and all(text[v["start"]:v["end"]] == v["text"] for v in regions)

    again = push_conflicts(ls_client, ls_project, result)
    assert not again.created and again.imported == [] and sorted(again.unchanged) == conflicting
    assert len(ls_client.export_tasks(pushed.project_id)) == len(conflicting)
    assert len(ls_client.export_tasks(ls_project.id)) == 0  # the annotation project is left alone

    # The CLI finds the server and the project `init` recorded (here: this module's) by itself.
    path = tmp_path / "docs.jsonl"
    write_jsonl(path, docs)
    code, stdout, _ = run(["adjudicate", str(path), "--out", str(tmp_path / "gold.jsonl"), "--push-conflicts"],
                          capsys)
    assert code == 0 and f"(id {pushed.project_id}): 0 tasks added, {len(conflicting)} already there" in stdout

