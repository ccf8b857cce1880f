"""`annotate demo` end to end against the session's real Label Studio (it reuses a running server)."""

import json

import pytest
from typer.testing import CliRunner

from annotate.cli import app

pytestmark = pytest.mark.server


def test_demo_runs_the_whole_flow_and_a_second_run_reuses_it(ls_server, tmp_path):
    first = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "reusing it" in first.output and "RECORDED" in first.output
    for name in ("agreement.json", "agreement.html", "gold.jsonl", "baseline.jsonl", "evaluation.json",
                 "baseline-statements.jsonl", "statements.jsonl", "statement-agreement.json", "gold-statements.jsonl",
                 "statements.html", "statement-evaluation.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    release = json.loads((tmp_path / "seed-gold" / "releases.json").read_text())["releases"]
    assert [r["version"] for r in release] == ["1.1.0"] and release[0]["rows"]["quotes"] == {"train": 50}
    assert release[0]["rows"]["statements"] == {"train": 30} and release[0]["rows"]["renderings"] == {"train": 50}
    # the statement passes went through the linking project and came back as the recorded groupings
    pulled = [json.loads(line) for line in (tmp_path / "statements.jsonl").read_text().splitlines()]
    annotators = ["annotator-1@example.org", "annotator-2@example.org"]
    assert sorted(d["provenance"]["annotator"] for d in pulled) == annotators
    assert all(len(d["statements"]) == 30 for d in pulled)

    second = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert "0 created, 8 already there" in second.output
    assert f"replayed RECORDED statements of {', '.join(annotators)}: 0 created" in second.output
    assert "1.1.0 is already published" in second.output
