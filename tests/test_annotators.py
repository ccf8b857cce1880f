"""Annotator accounts on a real Label Studio: people can log in; two annotators annotate; status counts."""

from __future__ import annotations

import stat

import httpx
import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio.annotators import add_annotator, check_password, local_data_dir, normalize_email
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.credentials import annotator_password, annotator_passwords_path
from annotate.labelstudio.preload import preload
from annotate.labelstudio.project import project_status, record_project
from annotate.labelstudio.pull import pull_from_server
from schemas import ToolkitError
from schemas.articles import load_articles
from schemas.documents import read_documents
from schemas.paths import SEEDS_DIR

runner = CliRunner()


def login(url: str, email: str, password: str) -> str | None:
    """Log in through Label Studio's login form as a browser does; the email of the session, or None."""
    with httpx.Client(base_url=url) as browser:
        browser.get("/user/login/")
        browser.post(
            "/user/login/",
            data={"email": email, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": f"{url}/user/login/"},
        )
        whoami = browser.get("/api/current-user/whoami")
        return whoami.json().get("email") if whoami.status_code == 200 else None


# No server needed


def test_emails_are_lower_cased_as_the_login_form_does():
    assert normalize_email("  Ann.Smith@Example.ORG ") == "ann.smith@example.org"
    with pytest.raises(ToolkitError, match="'ann-at-example.org' is not an email address"):
        normalize_email("ann-at-example.org")


def test_password_length_follows_label_studio():
    check_password("x" * 8)
    with pytest.raises(ToolkitError, match="--password has 7 characters; Label Studio needs 8-128"):
        check_password("x" * 7)


def test_passwords_need_the_local_server(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATE_HOME", str(tmp_path))
    with pytest.raises(ToolkitError, match="needs the local server .* invite annotators"):
        local_data_dir()


# Against the session's server


@pytest.mark.server
def test_added_annotator_can_log_in(ls_server, ls_client: StudioClient):
    added = add_annotator(ls_client, "Login.Test@Example.org", local_data_dir())
    assert added.user.email == "login.test@example.org" and added.generated
    assert stat.S_IMODE(added.password_file.stat().st_mode) == 0o600
    assert annotator_password("login.test@example.org") == added.password
    assert login(ls_server.url, "login.test@example.org", added.password) == "login.test@example.org"
    assert login(ls_server.url, "login.test@example.org", "not-the-password") is None


@pytest.mark.server
def test_adding_twice_is_refused_unless_resetting(ls_server, ls_client: StudioClient):
    add_annotator(ls_client, "twice@example.org", local_data_dir(), password="first-password-1")
    with pytest.raises(ToolkitError, match=r"annotator twice@example.org already exists .*--reset-password"):
        add_annotator(ls_client, "twice@example.org", local_data_dir())
    add_annotator(ls_client, "twice@example.org", local_data_dir(), password="second-password-2", reset_password=True)
    assert login(ls_server.url, "twice@example.org", "second-password-2") == "twice@example.org"
    assert login(ls_server.url, "twice@example.org", "first-password-1") is None
    assert [u.email for u in ls_client.list_users()].count("twice@example.org") == 1


@pytest.mark.server
def test_password_rejected_by_label_studio_leaves_a_clear_way_out(ls_client: StudioClient):
    # Django's similarity validator refuses a password that repeats the email: a real server-side refusal.
    with pytest.raises(ToolkitError, match=r"password rejected: .* rerun with --reset-password"):
        add_annotator(ls_client, "similar.person@example.org", local_data_dir(), password="similar.person")


@pytest.mark.server
def test_cli_stores_the_password_instead_of_printing_it(ls_client: StudioClient):
    result = runner.invoke(app, ["annotators", "add", "cli.person@example.org"])
    assert result.exit_code == 0, result.output
    password = annotator_password("cli.person@example.org")
    assert password and password not in result.output
    assert f"stored in {annotator_passwords_path()} (mode 0600)" in result.output
    shown = runner.invoke(app, ["annotators", "add", "cli.person@example.org", "--reset-password", "--show-password"])
    assert f"password: {annotator_password('cli.person@example.org')}" in shown.output
    listed = runner.invoke(app, ["annotators", "list"]).output
    assert "cli.person@example.org" in listed


@pytest.mark.server
def test_two_annotators_annotate_and_status_counts_them(ls_client: StudioClient, ls_project: ProjectInfo):
    articles = load_articles([SEEDS_DIR])
    preload(ls_client, ls_project, articles, predictions=False)
    tasks = {t.data["article_id"]: t.id for t in ls_client.export_tasks(ls_project.id)}
    first = add_annotator(ls_client, "first.annotator@example.org", local_data_dir()).user
    second = add_annotator(ls_client, "second.annotator@example.org", local_data_dir()).user
    text = articles[0].text
    region = {"id": "r1", "from_name": "span", "to_name": "text", "type": "labels",
              "value": {"start": 0, "end": 10, "text": text[:10], "labels": ["Mention"]}}
    for user in (first, second):
        ls_client.create_annotation(tasks[articles[0].id], [region], completed_by=user.id)
    ls_client.create_annotation(tasks[articles[1].id], [], completed_by=first.id)

    exported = {t.data["article_id"]: t for t in ls_client.export_tasks(ls_project.id)}
    assert sorted(a.completed_by for a in exported[articles[0].id].annotations) == sorted([first.id, second.id])

    status = project_status(ls_client, ls_project)
    assert status.tasks == len(articles) and status.annotations == 3 and status.wanted == 2
    assert status.per_annotator == {"first.annotator@example.org": 2, "second.annotator@example.org": 1}
    assert status.short == {articles[1].id: 1, articles[2].id: 0, articles[3].id: 0}

    record_project(ls_client.url, ls_project)
    out = runner.invoke(app, ["status"]).output
    assert "4 tasks, 3 annotations (2 wanted per article)" in out
    assert "3 article(s) with fewer than 2 annotations" in out
    assert "first.annotator@example.org: 2" in out


@pytest.mark.server
def test_one_shared_server_is_not_blind(ls_server, ls_client: StudioClient, ls_project: ProjectInfo, tmp_path):
    """Why blind mode needs a server per annotator: on one server B's own session reads A's annotation."""
    preload(ls_client, ls_project, load_articles([SEEDS_DIR]), predictions=False)  # idempotent
    task_id = min(t.id for t in ls_client.export_tasks(ls_project.id))
    sessions = {}
    for name in ("peek-a", "peek-b"):
        added = add_annotator(ls_client, f"{name}@example.org", local_data_dir())
        browser = httpx.Client(base_url=ls_server.url, timeout=60)
        browser.get("/user/login/")
        browser.post("/user/login/", headers={"Referer": f"{ls_server.url}/user/login/"},
                     data={"email": added.user.email, "password": added.password,
                           "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        sessions[name] = (browser, added.user)
    a, a_user = sessions["peek-a"]
    made = a.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], "lead_time": 3.0},
                  headers={"X-CSRFToken": a.cookies["csrftoken"]})
    assert made.status_code == 201, made.text
    b, _ = sessions["peek-b"]
    listed = b.get(f"/api/tasks/{task_id}/annotations/").json()
    assert made.json()["id"] in [x["id"] for x in listed]
    assert b.get(f"/api/annotations/{made.json()['id']}/").json()["completed_by"] == a_user.id
    # Lead times reach status and the pull report; a pull of a shared project marks its documents "shared".
    assert project_status(ls_client, ls_project).median_lead_time["peek-a@example.org"] == 3.0
    pulled = pull_from_server(ls_project.id, client=ls_client, out=tmp_path)
    assert pulled.report.lead_times["peek-a@example.org"].median == 3.0
    modes = {d.provenance.annotation_mode for d in read_documents([pulled.docs_path])}
    assert modes == {"shared"}
