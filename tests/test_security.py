"""Security checks against a real Label Studio: loopback only, private credentials, secrets never printed or
written outside the credentials files, no signup without an invite. See docs/RELIABILITY.md.

Checked elsewhere (referenced in the table): secrets absent from the server's log and command line
(tests/test_server.py), article text never interpreted as HTML in the report (tests/test_html_report.py).
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import LocalServer, free_port
from pydantic import SecretStr
from test_server import copy_database

from annotate.labelstudio.client import StudioClient
from annotate.labelstudio.connection import Connection
from annotate.labelstudio.credentials import read_private_json, write_private_json
from schemas.paths import REPO_ROOT, SEEDS_DIR

pytestmark = pytest.mark.server

SEED_EXPORT = REPO_ROOT / "seeds" / "annotations" / "seed-annotations.export.json"
LISTEN = "0A"  # TCP state in /proc/net/tcp


def listening_addresses(port: int) -> list[str]:
    """Addresses with a listening TCP socket on ``port``, read from /proc/net/tcp and tcp6 (what `ss -ltn` reads)."""
    found = []
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != LISTEN or int(port_hex, 16) != port:
                continue
            # The kernel prints the address as 32-bit words in host (little-endian) byte order.
            raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
            found.append(socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, raw))
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_server_listens_on_loopback_only(ls_server: LocalServer):
    assert listening_addresses(ls_server.state.port) == ["127.0.0.1"]


def test_credentials_file_is_private(ls_server: LocalServer):
    path = ls_server.home / "credentials.json"
    assert mode(path) == 0o600
    assert read_private_json(path)["token"] == ls_server.token


# -- no account without an invite ------------------------------------------------------------------------------


def signup(base: str, email: str, password: str, invite: str | None = None) -> httpx.Response:
    """What a stranger's browser does: fetch the signup page (CSRF cookie), post the form."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as browser:
        page = browser.get("/user/signup/")
        assert page.status_code == 200
        csrf = browser.cookies.get("csrftoken")
        assert csrf, "the signup page set no CSRF cookie"
        query = f"?token={invite}" if invite else ""
        return browser.post(f"/user/signup/{query}", data={
            "csrfmiddlewaretoken": csrf, "email": email, "password": password, "how_find_us": "", "elaborate": "",
        }, headers={"Referer": f"{base}/user/signup/"})


def test_signup_without_an_invite_creates_no_user(ls_server: LocalServer, ls_client: StudioClient):
    stranger, invited = "stranger@example.org", "invited@example.org"
    refused = signup(ls_server.url, stranger, "a-long-Passw0rd!")
    assert refused.status_code == 403
    assert stranger not in {u.email for u in ls_client.list_users()}
    assert httpx.post(f"{ls_server.url}/api/users/", json={"email": stranger}).status_code == 401

    # Control: the same form with the organization's invite token does create an account, so the refusal
    # above is the invite rule at work, not a malformed request.
    invite = ls_client.sdk._client_wrapper.httpx_client.request("api/invite", method="GET").json()["token"]
    accepted = signup(ls_server.url, invited, "a-long-Passw0rd!", invite=invite)
    assert accepted.status_code == 302, accepted.text[:300]
    assert invited in {u.email for u in ls_client.list_users()}


# -- a whole flow through the CLI: secrets appear nowhere but in the credentials files -------------------------


def run_cli(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env})
    assert done.returncode == 0, f"annotate {' '.join(map(str, args))}: {done.stderr}"
    return done


def annotate_as(client: StudioClient, project_id: int, annotators: dict[str, int]) -> None:
    """Submit the recorded seed annotations as the new accounts (annotator-1 -> first, annotator-2 -> second)."""
    recorded = {t["data"]["article_id"]: t for t in json.loads(SEED_EXPORT.read_text(encoding="utf-8"))}
    emails = iter(annotators)
    as_user = {"annotator-1@example.org": next(emails), "annotator-2@example.org": next(emails)}
    for task in client.export_tasks(project_id):
        for annotation in recorded[task.data["article_id"]]["annotations"]:
            user = annotators[as_user[annotation["completed_by"]["email"]]]
            client.create_annotation(task.id, annotation["result"], completed_by=user)


@pytest.mark.slow
def test_full_flow_never_prints_or_writes_a_secret(ls_server: LocalServer, tmp_path: Path):
    if ls_server.state.database != "sqlite":
        pytest.skip("copies the session's SQLite database to start a server through the CLI")
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {"ANNOTATE_HOME": str(home)}
    for name in ("ANNOTATE_LS_URL", "ANNOTATE_LS_TOKEN"):
        env[name] = ""  # resolve_connection treats empty as unset: the flow finds its server through home
    # A copy of the session's database (no migrations) knows the session's admin: same credentials.
    write_private_json(home / "credentials.json", read_private_json(ls_server.home / "credentials.json"))
    data = copy_database(ls_server, tmp_path / "data")
    port = free_port()
    outputs: list[str] = []

    def cli(*args: object) -> subprocess.CompletedProcess:
        done = run_cli(*args, env=env)
        outputs.extend([done.stdout, done.stderr])
        return done

    cli("server", "start", "--port", port, "--data-dir", data)
    try:
        assert listening_addresses(port) == ["127.0.0.1"]  # the CLI's default: loopback
        cli("init", "--title", "security flow")
        cli("preload", SEEDS_DIR)
        chosen = "chosen-Passw0rd-for-ann2"
        cli("annotators", "add", "ann1@example.org")  # a generated password, stored 0600
        cli("annotators", "add", "ann2@example.org", "--password", chosen)  # one the curator chose
        listed = cli("annotators", "list").stdout
        users = {line.split("\t")[1]: int(line.split("\t")[0]) for line in listed.splitlines()}
        client = StudioClient.open(Connection(url=f"http://127.0.0.1:{port}", source="test",
                                              token=SecretStr(ls_server.token)))
        project = json.loads((home / "project.json").read_text())["project_id"]
        annotate_as(client, project, {e: users[e] for e in ("ann1@example.org", "ann2@example.org")})
        cli("status")
        cli("server", "status")
        cli("pull")
        cli("agreement", "--json", work / "agreement.json", "--html", work / "agreement.html", "--resamples", 20)
        cli("adjudicate", "--out", work / "gold.jsonl")
        cli("report-html", "--out", work / "report.html")
        [docs] = (home / "pulls").glob("*.docs.jsonl")
        cli("publish", work / "gold.jsonl", "--version", "1.0.0", "--out", work / "dataset", "--annotations", docs,
            "--agreement", work / "agreement.json")
    finally:
        cli("server", "stop")

    admin = read_private_json(home / "credentials.json")
    passwords = read_private_json(home / "annotator-passwords.json")
    assert sorted(passwords) == ["ann1@example.org"]  # generated ones only; a chosen one is not kept
    secrets = {"admin token": admin["token"], "admin password": admin["password"], "ann2 password": chosen,
               **{f"{email} password": p for email, p in passwords.items()}}
    assert mode(home / "credentials.json") == mode(home / "annotator-passwords.json") == 0o600

    # Everything the toolkit wrote: state dir (server log, pulls, reports, records) and the outputs. The
    # server's own SQLite database is left out: Label Studio must store the token to check it.
    credential_files = {home / "credentials.json", home / "annotator-passwords.json"}
    written = [p for root in (home, work, data) for p in root.rglob("*")
               if p.is_file() and p not in credential_files and not p.name.startswith("label_studio.sqlite3")]
    names = {p.name for p in written}
    assert "label-studio.log" in names and any(n.endswith(".report.json") for n in names)
    assert {"agreement.json", "report.html", "gold.jsonl", "releases.json"} <= names
    assert len(outputs) == 2 * 14 and any("password" in o for o in outputs)  # every command, and the redacted lines
    for what, secret in secrets.items():
        for probe in {secret, secret[:12]}:  # the redacted form shows 4 characters; 12 would be a leak
            leaks = [f"output of command {i // 2}" for i, o in enumerate(outputs) if probe in o]
            leaks += [str(p) for p in written if probe.encode() in p.read_bytes()]
            assert leaks == [], f"{what} found in {leaks}"
    assert re.search(r"API token [0-9a-f]{4}…", "".join(outputs))  # shown redacted, as designed
