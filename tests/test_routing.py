"""Routing articles to annotators in blind mode (pure): exactly N each, the load even, removals rerouted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from annotate.labelstudio.blind.routing import plan_routes

A, B, C = "a@x.org", "b@x.org", "c@x.org"


def test_each_article_gets_n_distinct_annotators_and_the_load_stays_even():
    plan = plan_routes([f"art{n}" for n in range(7)], {}, [A, B, C], 2)
    assert all(len(set(r)) == 2 for r in plan.added.values()) and len(plan.added) == 7
    load = Counter(e for r in plan.added.values() for e in r)
    assert max(load.values()) - min(load.values()) <= 1 and plan.short == {}


def test_a_rerun_routes_nothing_more():
    first = plan_routes(["x", "y"], {}, [A, B, C], 2)
    assert plan_routes(["x", "y"], first.added, [A, B, C], 2).added == {}


def test_a_removed_annotator_counts_only_for_what_they_submitted():
    routes = {"x": [A, C], "y": [B, C]}
    plan = plan_routes(["x", "y"], routes, [A, B], 2, done={"x": {C}})
    assert plan.added == {"y": [A]}  # x keeps C's submitted annotation; y needs someone in C's place


def test_too_few_annotators_leaves_the_article_short_and_says_so():
    plan = plan_routes(["x"], {}, [A], 2)
    assert plan.added == {"x": [A]} and plan.short == {"x": 1}


@given(st.integers(1, 30), st.integers(1, 5), st.integers(1, 5))
def test_routing_invariants(articles, annotators, wanted):
    people = [f"p{n}@x.org" for n in range(annotators)]
    plan = plan_routes([f"a{n}" for n in range(articles)], {}, people, wanted)
    for art in (f"a{n}" for n in range(articles)):
        got = plan.added.get(art, [])
        assert len(got) == len(set(got)) == min(wanted, annotators)
        assert (art in plan.short) == (annotators < wanted)
    load = Counter(e for r in plan.added.values() for e in r)
    assert not load or max(load.values()) - min(load.get(p, 0) for p in people) <= 1



def run_cli(*args: str, home) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, as a user runs it (ToolkitError -> one line, exit 2)."""
    return subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *args],
                          capture_output=True, text=True, env={**os.environ, "ANNOTATE_HOME": str(home)}, timeout=120)


def test_removing_an_annotator_outside_blind_mode_says_what_to_do(tmp_path):
    result = run_cli("annotators", "remove", "a@x.org", home=tmp_path)
    assert result.returncode == 2
    assert "removing an annotator is for blind mode" in result.stderr and "Organization page" in result.stderr


def test_a_broken_blind_record_is_one_clear_error(tmp_path):
    (tmp_path / "blind.json").write_text('{"wanted": 0}', encoding="utf-8")
    result = run_cli("status", home=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "blind.json" in result.stderr and "remove it to leave blind mode" in result.stderr


def test_new_revisions_are_refused_in_blind_mode_before_anything_is_sent(tmp_path):
    record = '{"wanted": 2, "title": "t", "label_config": "<View/>"}'
    (tmp_path / "blind.json").write_text(record, encoding="utf-8")
    result = run_cli("preload", "--new-revision", home=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--new-revision is not for blind mode" in result.stderr and "new id" in result.stderr
    assert (tmp_path / "blind.json").read_text(encoding="utf-8") == record  # nothing written
