"""Blind double annotation on real Label Studio servers: three annotators, each on a desk of their own, N = 2.

Routing (each article reaches exactly two; the third is never offered it), blindness (B's own session, in the
browser and through the API, reaches nothing of A's), status per annotator and per article with lead times, the
merged pull, and the bad input of the issue: a task deleted from one desk, an annotation by another account, an
annotator removed half-way. One module-scoped set of desks: each desk is a server, and a start costs a minute.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chromium import logged_in_page, needs_chromium
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio.blind.desks import add_desk, desk_client, desk_running, stop_desk
from annotate.labelstudio.blind.pull import pull_blind
from annotate.labelstudio.blind.record import BlindRecord, read_blind, write_blind
from annotate.labelstudio.blind.status import blind_status
from annotate.labelstudio.blind.sync import desk_project, init_blind, init_desk, preload_blind, remove_annotator
from annotate.labelstudio.config import generate_labeling_config
from schemas.articles import load_articles, load_targets
from schemas.documents import read_documents
from schemas.paths import SEED_TARGETS, SEEDS_DIR

pytestmark = pytest.mark.server
runner = CliRunner()
EMAILS = ("ann-a@example.org", "ann-b@example.org", "ann-c@example.org")
PASSWORD = "blind-desk-passw0rd"


class Person:
    """An annotator's own browser-like session on their desk: the login form, then the UI's API with its cookie."""

    def __init__(self, url: str, email: str, password: str = PASSWORD):
        self.http = httpx.Client(base_url=url, timeout=60)
        self.http.get("/user/login/")
        self.http.post("/user/login/", headers={"Referer": f"{url}/user/login/"},
                       data={"email": email, "password": password,
                             "csrfmiddlewaretoken": self.http.cookies["csrftoken"]})
        who = self.http.get("/api/current-user/whoami")
        self.email = who.json().get("email") if who.status_code == 200 else None

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def submit(self, task_id: int, lead_time: float) -> int:
        r = self.http.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], "lead_time": lead_time},
                           headers={"X-CSRFToken": self.http.cookies["csrftoken"]})
        assert r.status_code == 201, r.text
        return r.json()["id"]


@pytest.fixture(scope="module")
def world(ls_server, tmp_path_factory) -> Iterator[BlindRecord]:
    """Blind mode in a home of its own (so the session's other tests stay in shared mode), three desks, the seeds."""
    home = tmp_path_factory.mktemp("blind-home")
    before = os.environ["ANNOTATE_HOME"]
    os.environ["ANNOTATE_HOME"] = str(home)
    record = None
    try:
        config = generate_labeling_config(load_targets(SEED_TARGETS))
        record, _ = init_blind(config, "blind test", 2)
        for email in EMAILS:
            desk, _ = add_desk(record, email, password=PASSWORD, die_with_parent=True)
            init_desk(record, desk)
            write_blind(record)
        preload_blind(record, load_articles([SEEDS_DIR]), predictions=False)
        yield record
    finally:
        for desk in (read_blind() or BlindRecord(wanted=1, title="", label_config="")).desks.values():
            stop_desk(desk)
        os.environ["ANNOTATE_HOME"] = before


def tasks_by_article(record: BlindRecord, email: str) -> dict[str, int]:
    desk = record.desks[email]
    client = desk_client(desk)
    return {t.data["article_id"]: t.id for t in client.export_tasks(desk_project(desk, client).id)}


def url_of(record: BlindRecord, email: str) -> str:
    return desk_client(record.desks[email]).url


def test_each_article_reaches_exactly_two_annotators_and_each_desk_holds_its_share(world):
    articles = [a.id for a in load_articles([SEEDS_DIR])]
    assert sorted(world.routes) == sorted(articles)
    for routed in world.routes.values():
        assert len(routed) == 2 and len(set(routed)) == 2
    load = Counter(e for routed in world.routes.values() for e in routed)
    assert sorted(load.values()) == [2, 3, 3]  # 8 routings over 3 annotators, within one of each other
    for email in EMAILS:
        assert sorted(tasks_by_article(world, email)) == sorted(a for a, r in world.routes.items() if email in r)


def test_the_third_annotator_is_never_offered_an_article_the_other_two_have(world):
    a, b, c = EMAILS
    both = next(art for art, routed in world.routes.items() if set(routed) == {a, b})
    for email in (a, b):
        person = Person(url_of(world, email), email)
        person.submit(tasks_by_article(world, email)[both], lead_time=30.0)
    carol = Person(url_of(world, c), c)
    assert carol.email == c
    offered = set()
    project = world.desks[c].project_id
    for _ in range(6):  # walk C's whole queue as the labelling stream does
        r = carol.get(f"/api/projects/{project}/next/")
        if r.status_code != 200:
            break
        offered.add(r.json()["data"]["article_id"])
        carol.submit(r.json()["id"], lead_time=12.0)
    assert offered == {art for art, routed in world.routes.items() if c in routed}
    assert both not in offered


@needs_chromium
def test_annotator_b_cannot_reach_a_s_annotations_in_the_browser_or_with_b_s_session(world):
    a, b, _ = EMAILS
    a_url, b_url = url_of(world, a), url_of(world, b)
    # B's password on A's desk: there is no such account.
    assert Person(a_url, b).email is None
    with logged_in_page(b_url, b, PASSWORD) as page:
        page.goto(f"{b_url}/projects/")
        page.wait_for_selector("text=blind test")
        projects = page.request.get(f"{b_url}/api/projects/").json()["results"]
        assert [p["id"] for p in projects] == [world.desks[b].project_id]
        # Every annotation id the server could hold, as B's session asks for it: only B's own come back.
        seen = []
        for n in range(1, 30):
            r = page.request.get(f"{b_url}/api/annotations/{n}/")
            if r.status == 200:
                seen.append(r.json()["completed_by"])
        assert seen and set(seen) == {world.desks[b].user_id}
        users = page.request.get(f"{b_url}/api/users/").json()
        assert a not in {u["email"] for u in users}


def test_status_names_each_annotator_and_article_with_lead_times(world):
    s = blind_status(world)
    by_email = {d.email: d for d in s.desks}
    a, b, c = EMAILS
    assert by_email[c].waiting == [] and len(by_email[c].submitted) == by_email[c].routed
    assert by_email[a].lead_times == [30.0] and by_email[a].median_lead_time == 30.0
    assert len(by_email[a].waiting) == by_email[a].routed - 1
    done = {x.article_id: x for x in s.articles}
    assert all(len(x.done) + len(x.waiting) == 2 for x in done.values())
    assert s.drift == []
    out = runner.invoke(app, ["status"])
    assert out.exit_code == 0, out.output
    assert f"{a} (active at " in out.output and "median lead time 30 s" in out.output
    assert "waiting on" in out.output


def test_pull_merges_the_desks_into_one_set_of_blind_documents(world, tmp_path):
    result = pull_blind(world, tmp_path)
    docs = read_documents([result.docs_path])
    expected = {(art, e) for d in blind_status(world).desks for art in d.submitted for e in [d.email]}
    assert {(d.article.id, d.provenance.annotator) for d in docs} == expected
    assert {d.provenance.annotation_mode for d in docs} == {"blind"}
    assert result.report.drift == [] and len(result.report.desks) == 3
    assert sorted(p.name for p in result.desks_dir.iterdir()) == sorted(e.replace("@", "-").replace(".", "-")
                                                                       for e in EMAILS)


def test_a_task_deleted_from_one_desk_is_reported_and_restored_by_preloading_again(world, tmp_path):
    _, b, _ = EMAILS
    desk = world.desks[b]
    client = desk_client(desk)
    waiting = next(d for d in blind_status(world).desks if d.email == b).waiting
    article = waiting[-1]  # one B has not submitted: deleting a task deletes its annotations
    client.sdk.tasks.delete(id=tasks_by_article(world, b)[article])
    missing = [d for d in blind_status(world).drift if d.kind == "missing"]
    assert [(d.email, d.article_id) for d in missing] == [(b, article)]
    assert "run `annotate preload`" in missing[0].message
    assert [d.kind for d in pull_blind(world, tmp_path).report.drift] == ["missing"]
    preload_blind(world, load_articles([SEEDS_DIR]), predictions=False)
    assert article in tasks_by_article(world, b)
    assert blind_status(world).drift == []


def test_an_annotation_by_another_account_is_reported_and_left_out(world, tmp_path):
    _, b, _ = EMAILS
    desk = world.desks[b]
    client = desk_client(desk)
    article, task_id = sorted(tasks_by_article(world, b).items())[0]
    client.create_annotation(task_id, [], completed_by=client.whoami().id)  # the desk admin, not the annotator
    foreign = [d for d in blind_status(world).drift if d.kind == "foreign annotation"]
    assert [(d.email, d.article_id) for d in foreign] == [(b, article)]
    report = pull_blind(world, tmp_path).report
    desk_report = next(d for d in report.desks if d.email == b)
    assert desk_report.left_out == [client.whoami().email]
    docs = read_documents([next(tmp_path.glob("*-blind.docs.jsonl"))])
    assert all(d.provenance.annotator in EMAILS for d in docs)


def test_an_annotator_removed_half_way_loses_nothing_and_their_articles_are_rerouted(world, tmp_path):
    a, b, c = EMAILS
    before = {art: list(r) for art, r in world.routes.items()}
    c_submitted = sorted(blind_status(world).desks[2].submitted)
    # Give C one more article to leave waiting: a new one, routed now.
    fresh = load_articles([SEEDS_DIR])[0].model_copy(update={"id": "extra-article"})
    preload_blind(world, [fresh], predictions=False)
    removal = remove_annotator(world, c, stop_desk)
    assert not desk_running(world.desks[c])
    assert removal.submitted == c_submitted and Path(removal.archive).exists()
    s = blind_status(world)
    by_email = {d.email: d for d in s.desks}
    assert by_email[c].state == "removed" and by_email[c].submitted == c_submitted
    for art, routed in world.routes.items():
        counting = [e for e in routed if world.desks[e].active or art in c_submitted]
        assert len(counting) == 2, (art, routed)
        assert routed[:len(before.get(art, []))] == before.get(art, [])  # nothing taken away from the record
    if c in world.routes["extra-article"]:
        assert "extra-article" in removal.rerouted
    docs = read_documents([pull_blind(world, tmp_path).docs_path])
    assert {d.article.id for d in docs if d.provenance.annotator == c} == set(c_submitted)
    assert read_blind().desks[c].removed_at is not None

