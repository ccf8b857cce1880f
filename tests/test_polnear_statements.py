"""The PolNeAR dev statement clusters (benchmarks/polnear_statements): the build reproduces the checked-in
clusters, every reference resolves in ../shared, the gold is a partition of one mention set, and the
speaker rules and the candidate proposer behave as RULES.md says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from annotate.formats.brat import import_brat
from benchmarks.polnear_statements import build as build_module
from benchmarks.polnear_statements.build import build
from benchmarks.polnear_statements.candidates import inverse_document_frequency, propose
from benchmarks.polnear_statements.clusters import CLUSTERS, dump_clusters, read_clusters
from benchmarks.polnear_statements.decisions import Decisions, Pair
from benchmarks.polnear_statements.load import load_dev_clusters
from benchmarks.polnear_statements.speakers import BY_ID, Overrides, by_name, canonicalise, head_of
from schemas import Provenance, ToolkitError, sha256_of
from schemas.files import read_text
from schemas.quote_mentions import quote_mentions
from schemas.statements import Rendering, Statement, StatementDocument, check_against_quotes

POLNEAR = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "polnear"
needs_polnear = pytest.mark.skipif(
    not (POLNEAR / "dev").is_dir(),
    reason=f"PolNeAR not found at {POLNEAR} (../shared beside the repository); the set refers into it")


@pytest.fixture(scope="module")
def built():
    return build(POLNEAR)


@pytest.fixture(scope="module")
def loaded():
    documents, gold = load_dev_clusters(POLNEAR)
    return documents, gold, {m.key: m for m in quote_mentions(documents)}


@needs_polnear
def test_check_mode_passes(capsys):
    assert build_module.main(["--check", "--polnear", str(POLNEAR)]) == 0
    assert "multi-article:" in capsys.readouterr().out


@needs_polnear
def test_build_is_deterministic(built):
    again = build(POLNEAR)
    assert dump_clusters(again.clusters) == dump_clusters(built.clusters) == read_text(CLUSTERS)


@needs_polnear
def test_every_reference_resolves_in_the_corpus(loaded):
    documents, _, mentions = loaded
    quotes = {f"{d.article.id}/{q.id}": (d, q) for d in documents for q in d.quotes}
    for cluster in read_clusters(CLUSTERS):
        for r in cluster.members:
            assert (POLNEAR / r.text_file).is_file() and (POLNEAR / r.ann_file).is_file(), r.key
            doc, quote = quotes[r.key]
            text = read_text(POLNEAR / r.text_file)
            assert doc.article.text == text
            assert (quote.content[0].start, quote.content[-1].end) == (r.start, r.end)
            assert sha256_of(" ".join(text[f.start:f.end] for f in quote.content)) == r.sha256
            assert r.ann_file.endswith(f"_{doc.provenance.annotator}.ann")
            assert mentions[r.key].key == r.key


@needs_polnear
def test_clusters_partition_the_mention_set(loaded):
    _, gold, mentions = loaded
    keys = [k for cluster in gold for k in cluster]
    assert len(keys) == len(set(keys)), "a quote is in two clusters"
    speakers = {mentions[k].speaker for k in keys}
    expected = {k for k, m in mentions.items() if m.speaker in speakers}
    assert set(keys) == expected, "the mention set is every quote of the clusters' speakers"


@needs_polnear
def test_each_cluster_has_one_speaker_and_each_speaker_a_multi_article_statement():
    clusters = read_clusters(CLUSTERS)
    multi = [c for c in clusters if len({r.article for r in c.members}) > 1]
    assert len(multi) >= 5
    for c in clusters:
        assert c.speaker in BY_ID
        assert (c.gloss is None) == (len(c.members) == 1), c.id  # statements are glossed, singletons not
    assert {c.speaker for c in clusters} == {c.speaker for c in multi}


@needs_polnear
def test_gold_keys_are_rendering_keys_and_pass_the_statement_checks(loaded):
    documents, _, mentions = loaded
    statements = [Statement(id=c.id, speaker_entity_id=c.speaker, gloss=c.gloss, occasion=c.occasion,
                            renderings=[Rendering(article_id=r.article, quote_id=r.quote_id) for r in c.members])
                  for c in read_clusters(CLUSTERS) if c.gloss]
    doc = StatementDocument(provenance=Provenance(annotator="polnear-statements", origin="gold"),
                            statements=statements)
    check_against_quotes(doc, documents)  # one speaker per statement, one name per entity id across articles
    assert all(key in mentions for key in doc.rendering_keys())


@needs_polnear
def test_an_undecided_proposal_is_refused(built):
    decisions = Decisions.read()
    cross = next(c for c in built.candidates if c.cross_article)
    kept = [p for p in decisions.pairs if {p.a, p.b} != {cross.a, cross.b}]
    with pytest.raises(ToolkitError, match="have no decision"):
        build(POLNEAR, decisions.model_copy(update={"pairs": kept}))


@needs_polnear
def test_a_different_decision_inside_a_cluster_is_refused(built):
    decisions = Decisions.read()
    decided = {frozenset((p.a, p.b)) for p in decisions.pairs}
    a, b = next((x, y) for c in built.clusters for x in c.keys() for y in c.keys()
                if x < y and frozenset((x, y)) not in decided)  # joined only through other members
    pairs = [*decisions.pairs, Pair(a=a, b=b, same=False, reason="test")]
    with pytest.raises(ToolkitError, match="decided different but other decisions join them"):
        build(POLNEAR, decisions.model_copy(update={"pairs": pairs}))


@needs_polnear
def test_loader_refuses_a_corpus_that_moved(tmp_path):
    copy = tmp_path / "polnear"
    shutil.copytree(POLNEAR / "dev", copy / "dev")
    shutil.copy(POLNEAR / "metadata.tsv", copy / "metadata.tsv")
    ref = next(r for c in read_clusters(CLUSTERS) if c.gloss for r in c.members)
    ann = copy / ref.ann_file
    event = next(line for line in read_text(ann).split("\n") if line.startswith(f"{ref.quote_id}\t"))
    content = next(a.split(":")[1] for a in event.split("\t")[1].split() if a.startswith("Content"))
    lines = []
    for line in read_text(ann).split("\n"):
        if line.startswith(f"{content}\t"):  # drop the content's last character: same quote, other text
            tid, kind_span, covered = line.split("\t")
            kind, *offsets = kind_span.split(" ")
            offsets[-1] = str(int(offsets[-1]) - 1)
            line = f"{tid}\t{kind} {' '.join(offsets)}\t{covered[:-1]}"
        lines.append(line)
    ann.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ToolkitError, match=f"{ref.key} moved or changed"):
        load_dev_clusters(copy)


def test_names_roles_and_other_first_names():
    assert by_name("Republican nominee Donald Trump", {}).id == "donald-trump"
    assert by_name("Mr. Trump", {}).id == "donald-trump"
    assert by_name("The GOP presidential nominee", {}).id == "donald-trump"
    assert by_name("Ivanka Trump", {}).id == "ivanka-trump"
    assert by_name("Former President Bill Clinton", {}).id == "bill-clinton"
    assert by_name("Clinton", {}).id == "hillary-clinton"
    assert by_name("Clinton", {"clinton": "bill-clinton"}).id == "bill-clinton"
    assert by_name("Veronica Cruz", {}) is None
    assert by_name("Obama and Clinton", {}) is None
    assert by_name(head_of("Hillary Clinton’s campaign manager Robby Mook"), {}).id == "robby-mook"
    assert by_name(head_of("Donald Trump’s"), {}).id == "donald-trump"
    assert by_name(head_of("Clinton, the former secretary of State,"), {}).id == "hillary-clinton"


def _brat(tmp_path: Path, text: str, quotes: list[tuple[str, str, str]]) -> Path:
    """A one-article BRAT folder: each quote is (source, cue, content), found in order in ``text``."""
    lines, n, pos = [], 0, 0
    for e, (source, cue, content) in enumerate(quotes, start=1):
        ids = []
        for kind, part in (("Source", source), ("Cue", cue), ("Content", content), ("Attribution", cue)):
            start = text.index(part, pos if kind == "Source" else 0)
            if kind == "Source":
                pos = start + 1
            n += 1
            lines.append(f"T{n}\t{kind} {start} {start + len(part)}\t{part}")
            ids.append(f"T{n}")
        lines.append(f"E{e}\tAttribution:{ids[3]} Source:{ids[0]} Cue:{ids[1]} Content:{ids[2]}")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "a_x.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_pronouns_follow_the_nearest_compatible_anchor(tmp_path):
    text = ("Donald Trump said taxes are unfair. Melania Trump said she agreed. He added that it was "
            "rigged. Hillary Clinton said facts matter. Voters, who were tired, said enough.")
    doc = import_brat(_brat(tmp_path, text, [
        ("Donald Trump", "said", "taxes are unfair"), ("Melania Trump", "said", "she agreed"),
        ("He", "added", "that it was rigged"), ("Hillary Clinton", "said", "facts matter"),
        ("who", "said", "enough")])).documents[0]
    speakers = [doc.speaker_of(q) for q in canonicalise(doc, Overrides({}, {})).quotes]
    assert speakers[:4] == ["donald-trump", "melania-trump", "donald-trump", "hillary-clinton"]
    assert speakers[4].endswith("@a")  # "Voters, who": nobody known, an article-local entity


def test_overrides_win_and_stale_ones_are_refused(tmp_path):
    doc = import_brat(_brat(tmp_path, "Trump said no.", [("Trump", "said", "no")])).documents[0]
    mention = doc.quotes[0].speaker_mention_id
    fixed = canonicalise(doc, Overrides({"a": {mention: None}}, {}))
    assert fixed.speaker_of(fixed.quotes[0]).endswith("@a")
    with pytest.raises(ToolkitError, match="no source mention T99"):
        canonicalise(doc, Overrides({"a": {"T99": "donald-trump"}}, {}))


def test_proposer_pairs_shared_rare_words_of_one_speaker(tmp_path):
    text = ("Trump said that makes me smart. Trump told reporters that makes me smart indeed. "
            "Trump said the weather is fine indeed. Clinton said that makes me smart.")
    doc = import_brat(_brat(tmp_path, text, [
        ("Trump", "said", "that makes me smart"), ("Trump", "told", "that makes me smart indeed"),
        ("Trump", "said", "the weather is fine indeed"), ("Clinton", "said", "that makes me smart")])).documents[0]
    mentions = list(quote_mentions([canonicalise(doc, Overrides({}, {}))]))
    idf = dict.fromkeys(("makes", "smart", "indeed", "weather", "fine"), 4.0)  # every word as rare as "smart"
    pairs = {(c.a, c.b) for c in propose(mentions, idf)}
    # Not E2/E3: one shared word weighs 4 < MIN_SHARED_IDF; not E4: another speaker says it.
    assert pairs == {("a/E1", "a/E2")}
    assert inverse_document_frequency(mentions)["makes"] < inverse_document_frequency(mentions)["weather"]
