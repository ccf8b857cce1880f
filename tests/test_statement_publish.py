"""Publishing the statement layer: the `statements` and `renderings` configs, checked against the gold quotes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exports.dataset.publish import PublishRequest, publish
from schemas import ToolkitError
from schemas.documents import read_statement_documents, write_statement_documents
from schemas.paths import SEEDS_DIR

GOLD = SEEDS_DIR / "annotations" / "gold.jsonl"
STATEMENTS = SEEDS_DIR / "annotations" / "gold-statements.jsonl"


def request(tmp_path: Path, statements: Path) -> PublishRequest:
    return PublishRequest(version="1.0.0", out=tmp_path / "ds", gold=[GOLD], statements=[statements])


def test_statement_configs_are_published_and_load_offline(tmp_path: Path, monkeypatch) -> None:
    import datasets

    result = publish(request(tmp_path, STATEMENTS))
    assert result.release.rows["statements"] == {"train": 30} and result.release.rows["renderings"] == {"train": 50}
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    renderings = datasets.load_dataset(str(result.out), "renderings")["train"]
    names = renderings.features["fidelity"].names
    by_key = {row["id"]: names[row["fidelity"]] for row in renderings}
    # 000 and 003 print "no point in the presence of foreign troops" in the same words; 001 in other words
    assert [by_key[k] for k in ("000_77ccc7b56971afc5/q3", "003_e83bb071d895df33/q6", "001_2d7e49398b561f7e/q9")] == [
        "verbatim", "verbatim", "variant"]
    assert by_key["001_2d7e49398b561f7e/q2"] == "paraphrase"
    card = (result.out / "README.md").read_text()
    assert "**Statements** group the gold quotes" in card and "No statement agreement report" in card


def _bad(tmp_path: Path, change) -> Path:
    [doc] = read_statement_documents([STATEMENTS])
    path = tmp_path / "bad.jsonl"
    write_statement_documents(path, [change(doc)])
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.model_copy(update={"provenance": d.provenance.model_copy(update={"annotator": "a",
                                                                                  "origin": "import"})}),
     "bad.jsonl:1: statements by 'a', not gold"),
    (lambda d: d.model_copy(update={"statements": [d.statements[0].model_copy(update={"renderings": [
        d.statements[0].renderings[0].model_copy(update={"quote_id": "q404"})]})]}),
     "bad.jsonl:1: statement 's-000_77ccc7b56971afc5-q1': rendering '000_77ccc7b56971afc5/q404' points at quote"),
    (lambda d: d.model_copy(update={"statements": [d.statements[0].model_copy(update={"speaker_entity_id": "x"})]}),
     "is spoken by 'vladimir-putin', not by the statement's speaker 'x'"),
])
def test_bad_statements_are_refused_and_nothing_is_written(tmp_path: Path, change, message) -> None:
    with pytest.raises(ToolkitError, match=message.replace("(", r"\(")):
        publish(request(tmp_path, _bad(tmp_path, change)))
    assert not (tmp_path / "ds").exists() or not json.loads((tmp_path / "ds" / "releases.json").read_text())["releases"]
