"""guidelines.md stays in step with the labeling config, the target inventory and the seed texts.

Every example the guidelines mark as verbatim must be character-for-character seed text: curly
and straight quote marks, dashes and apostrophes are exactly where annotators will select them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from annotate.labelstudio import config as lc
from schemas import CheckWorthy, EntityType, Polarity, QuoteKind
from schemas.articles import load_manifest_dir, load_targets
from schemas.paths import REPO_ROOT, SEED_TARGETS, SEEDS_DIR

GUIDELINES = REPO_ROOT / "guidelines.md"
TEXT = GUIDELINES.read_text(encoding="utf-8")
TARGETS = load_targets(SEED_TARGETS)
SEED_TEXTS = {article.id[:3]: article.text for article in load_manifest_dir(SEEDS_DIR)}

VERSION_LINE = re.compile(r"^Guidelines version: (\d+\.\d+\.\d+)$", re.M)
CHANGE_ENTRY = re.compile(r"^- (\d+\.\d+\.\d+) \((\d{4}-\d{2}-\d{2})\): \S", re.M)
EXCERPT = re.compile(r"^> (\d{3}): (.+)$")
BULLET = re.compile(r"^\s*- ")
ROLE_SPAN = re.compile(r"^\s*- (Content(?: \d+)?|Cue|Mention|Claim): `([^`]+)`")
INLINE_CITATION = re.compile(r"`([^`]+)` \((\d{3})\)")
OFFSET_EXAMPLE = re.compile(r"in seed (\d{3}), `([^`]+)`\s+is `\[(\d+), (\d+)\)`")
QUOTE_MARKS = "\"“”‘’"
# A quote mark, unless it is an apostrophe between two letters (Russia’s, don’t).
QUOTE_MARK = re.compile(r"[\"“”‘]|(?<!\w)’|’(?!\w)")


@dataclass
class Example:
    """One `> NNN:` excerpt block and the role bullets under it."""

    line: int
    seed: str
    excerpts: list[str] = field(default_factory=list)
    roles: list[tuple[int, str, str]] = field(default_factory=list)  # (line, role, span text)
    bullets: list[str] = field(default_factory=list)


def parse_examples(text: str) -> tuple[list[Example], list[str]]:
    """The example blocks, plus one error per role bullet that has no excerpt above it."""
    examples: list[Example] = []
    errors: list[str] = []
    current: Example | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        excerpt = EXCERPT.match(line)
        if excerpt:
            if current is None or current.roles or current.seed != excerpt[1]:
                current = Example(number, excerpt[1])
                examples.append(current)
            current.excerpts.append(excerpt[2])
            continue
        role = ROLE_SPAN.match(line)
        if current is not None and BULLET.match(line):
            current.bullets.append(line)
            if role:
                current.roles.append((number, role[1], role[2]))
            continue
        current = None
        if role:
            errors.append(f"line {number}: role bullet {role[2]!r} has no '> NNN:' excerpt directly above it")
    return examples, errors


def verbatim_errors(text: str) -> list[str]:
    """Every way the guidelines' verbatim examples disagree with the seeds, one line each."""
    examples, errors = parse_examples(text)
    for ex in examples:
        seed = SEED_TEXTS.get(ex.seed)
        if seed is None:
            errors.append(f"line {ex.line}: no seed {ex.seed}")
            continue
        for excerpt in ex.excerpts:
            if excerpt not in seed:
                errors.append(f"line {ex.line}: excerpt not verbatim in seed {ex.seed}: {excerpt[:60]!r}")
        for number, role, span in ex.roles:
            if not any(span in excerpt for excerpt in ex.excerpts):
                errors.append(f"line {number}: {role} span {span!r} is not in the excerpt above it")
    for match in INLINE_CITATION.finditer(text):
        cited = re.sub(r"\s*\n\s*", " ", match[1])  # citations may wrap across Markdown lines
        if cited not in SEED_TEXTS.get(match[2], ""):
            line = text.count("\n", 0, match.start()) + 1
            errors.append(f"line {line}: citation {cited!r} is not verbatim in seed {match[2]}")
    return errors


EXAMPLES, ORPHAN_ERRORS = parse_examples(TEXT)


def test_version_line_is_present_and_matches_the_latest_change_log_entry():
    versions = VERSION_LINE.findall(TEXT)
    assert len(versions) == 1, "exactly one 'Guidelines version: X.Y.Z' line"
    assert TEXT.index("Guidelines version:") < 300, "the version line belongs near the top"
    log = TEXT.split("\n## Change log\n", 1)
    assert len(log) == 2, "a '## Change log' section"
    entries = CHANGE_ENTRY.findall(log[1])
    assert entries, "the change log has '- X.Y.Z (YYYY-MM-DD): ...' entries"
    assert entries[0][0] == versions[0], "the newest change log entry is the current version"
    assert ("1.0.0", "2026-11-21") in entries


def test_every_stance_target_is_listed_with_its_description():
    for target in TARGETS.targets:
        row = re.search(rf"^\| `{re.escape(target.id)}` \| (.+?) \|$", TEXT, re.M)
        assert row, f"target {target.id!r} has no row in the target table"
        assert row[1] == target.description, f"target {target.id!r}: description differs from targets.json"


@pytest.mark.parametrize(
    "name",
    [lc.CONTENT, lc.CUE, lc.MENTION, lc.CLAIM, *lc.RELATIONS, lc.KIND, lc.STANCE_TARGET, lc.STANCE_POLARITY,
     lc.SPEAKER_ENTITY, lc.ENTITY, lc.ENTITY_TYPE, lc.WIKIDATA, lc.CHECK_WORTHY],
)
def test_every_config_name_is_defined(name):
    # Backticked, so `entity` is not satisfied by the word inside `entity_type`.
    assert f"`{name}`" in TEXT


@pytest.mark.parametrize("value", [v.value for enum in (QuoteKind, Polarity, EntityType, CheckWorthy) for v in enum])
def test_every_choice_value_is_defined(value):
    assert f"`{value}`" in TEXT


def test_there_are_examples_from_every_seed_and_for_every_label():
    assert {ex.seed for ex in EXAMPLES} == set(SEED_TEXTS)
    roles = {role.split()[0] for ex in EXAMPLES for _, role, _ in ex.roles}
    assert roles == {lc.CONTENT, lc.CUE, lc.MENTION, lc.CLAIM}
    assert any(role == "Content 2" for ex in EXAMPLES for _, role, _ in ex.roles), "a multi-fragment example"


def test_every_verbatim_example_occurs_in_its_seed():
    assert not ORPHAN_ERRORS + verbatim_errors(TEXT)


def test_the_verbatim_check_catches_a_changed_quote_mark():
    # The check above must be able to fail: straighten one curly mark inside an excerpt.
    line = next(line for line in TEXT.splitlines() if EXCERPT.match(line) and "“" in line)
    altered = TEXT.replace(line, line.replace("“", '"', 1), 1)
    assert any("not verbatim" in e for e in verbatim_errors(altered))


def test_a_role_bullet_without_an_excerpt_is_reported():
    _, errors = parse_examples("Some prose.\n\n- Cue: `said`\n")
    assert errors and "no '> NNN:' excerpt" in errors[0]


def test_offset_example_is_right():
    found = OFFSET_EXAMPLE.findall(TEXT)
    assert found, "the span section gives a worked offset example"
    for seed, span, start, end in found:
        assert SEED_TEXTS[seed][int(start) : int(end)] == span


def test_example_fields_use_known_values():
    targets, polarities = set(TARGETS.ids()), {p.value for p in Polarity}
    for ex in EXAMPLES:
        for bullet in ex.bullets:
            for target, polarity in re.findall(r"stance `([^`]+)` `([^`]+)`", bullet):
                assert target in targets and polarity in polarities, bullet
            for kind in re.findall(r"kind `([^`]+)`", bullet):
                assert kind in {k.value for k in QuoteKind}, bullet
            for value in re.findall(r"check_worthy `([^`]+)`", bullet):
                assert value in {c.value for c in CheckWorthy}, bullet


def test_content_spans_follow_the_quote_mark_rules():
    """Direct content excludes its outer marks; mixed content has inner marks; indirect has none."""
    checked = 0
    for ex in EXAMPLES:
        for bullet in ex.bullets:
            role, kind = ROLE_SPAN.match(bullet), re.search(r"kind `([^`]+)`", bullet)
            if not (role and kind):
                continue
            span, checked = role[2], checked + 1
            assert span == span.strip(), f"span {span!r} starts or ends with a space"
            if kind[1] == QuoteKind.DIRECT.value:
                assert span[0] not in QUOTE_MARKS and span[-1] not in QUOTE_MARKS, span
            elif kind[1] == QuoteKind.MIXED.value:
                assert QUOTE_MARK.search(span), span
            else:
                assert not QUOTE_MARK.search(span), span
    assert checked >= 10


def _entity_table() -> dict[str, str]:
    """Canonical name -> Wikidata id ('' when none) from the entity table."""
    rows = re.findall(r"^\| ([^|`]+?) \| `(\w+)` \| (Q\d+)? ?\| ", TEXT, re.M)
    assert rows, "the guidelines have a canonical entity table"
    for _, entity_type, _ in rows:
        assert entity_type in {t.value for t in EntityType}
    return {name: qid for name, _, qid in rows}


def test_examples_name_entities_as_the_entity_table_does():
    table = _entity_table()
    assert table["Vladimir Putin"] == "Q7747"
    for ex in EXAMPLES:
        for bullet in ex.bullets:
            for name in re.findall(r'(?:entity|`speaker_entity` =) "([^"]+)"', bullet):
                assert name in table, f"{name!r} is not a canonical name in the entity table"
            named = re.search(r'entity "([^"]+)".*?(Q\d+)', bullet)
            if named:
                assert table[named[1]] == named[2], bullet
