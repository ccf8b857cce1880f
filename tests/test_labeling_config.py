"""The labeling config is generated from the models and parses with the SDK offline."""

import json

import pytest
from label_studio_sdk.label_interface import LabelInterface

from annotate.cli.artifacts import JSON_DIR, LABELING_CONFIG, rendered, write_artifacts
from annotate.labelstudio import config as lc
from schemas import CheckWorthy, EntityType, Polarity, QuoteKind, Target, TargetInventory
from schemas.articles import load_targets
from schemas.paths import SEED_TARGETS

TARGETS = load_targets(SEED_TARGETS)


@pytest.fixture(scope="module")
def interface() -> LabelInterface:
    return LabelInterface(lc.generate_labeling_config(TARGETS))


def test_config_parses_with_the_sdk(interface):
    assert [o.name for o in interface.objects] == [lc.TEXT]


def test_labels_and_choices_come_from_the_models(interface):
    assert interface.get_control(lc.SPAN_LABELS).labels == [lc.CONTENT, lc.CUE, lc.MENTION, lc.CLAIM]
    expected = {
        lc.KIND: [k.value for k in QuoteKind],
        lc.STANCE_POLARITY: [p.value for p in Polarity],
        lc.STANCE_TARGET: TARGETS.ids(),
        lc.ENTITY_TYPE: [t.value for t in EntityType],
        lc.CHECK_WORTHY: [c.value for c in CheckWorthy],
    }
    for name, values in expected.items():
        control = interface.get_control(name)
        assert control.labels == values, name
        assert control.attr["perRegion"] == "true"


def test_entity_link_and_relations_are_in_the_config(interface):
    for box in (lc.ENTITY, lc.SPEAKER_ENTITY, lc.WIKIDATA):
        assert interface.get_control(box).tag == "TextArea"
    config = lc.generate_labeling_config(TARGETS)
    for relation in lc.RELATIONS:
        assert f'<Relation value="{relation}"/>' in config


def test_a_new_target_reaches_the_config():
    extra = Target(id="new-one", description="d")
    more = TargetInventory(version="1.1.0", event="e", targets=[*TARGETS.targets, extra])
    assert LabelInterface(lc.generate_labeling_config(more)).get_control(lc.STANCE_TARGET).labels[-1] == "new-one"


def test_target_names_are_escaped():
    odd = TargetInventory(version="1.0.0", event="e", targets=[Target(id="a", description="d")])
    assert 'value="a"' in lc.generate_labeling_config(odd)


def test_checked_in_artifacts_match_the_models():
    """Fails when a model changed but `annotate schema` was not run and committed."""
    stale = write_artifacts(TARGETS, check=True)
    assert stale == [], f"run `annotate schema` and commit: {stale}"


def test_drift_is_detected(tmp_path, monkeypatch):
    import annotate.cli.artifacts as artifacts

    monkeypatch.setattr(artifacts, "JSON_DIR", tmp_path)
    monkeypatch.setattr(artifacts, "LABELING_CONFIG", tmp_path / "labeling_config.xml")
    assert "Quote.schema.json" in artifacts.write_artifacts(TARGETS, check=True)
    artifacts.write_artifacts(TARGETS)
    assert artifacts.write_artifacts(TARGETS, check=True) == []
    (tmp_path / "Quote.schema.json").write_text("{}", encoding="utf-8")
    assert artifacts.write_artifacts(TARGETS, check=True) == ["Quote.schema.json"]


def test_every_json_schema_is_valid_json_with_a_title():
    for path in rendered(TARGETS):
        if path.parent == JSON_DIR:
            assert json.loads(path.read_text(encoding="utf-8"))["title"] == path.name.removesuffix(".schema.json")
    assert LABELING_CONFIG.read_text(encoding="utf-8").startswith("<View>")
