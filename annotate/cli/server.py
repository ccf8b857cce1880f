"""``annotate server start|stop|status``, ``annotate init``, ``annotate annotators add|list``, ``annotate status``.

Printing only: the work is in ``server``, ``client``, ``project`` and ``annotators``. Heavy
imports stay inside the commands so ``annotate --help`` is fast.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    server_app = typer.Typer(help="Run a local Label Studio server.", no_args_is_help=True)
    annotators_app = typer.Typer(help="Annotator accounts people can log into.", no_args_is_help=True)
    app.add_typer(server_app, name="server")
    app.add_typer(annotators_app, name="annotators")

    @server_app.command("start")
    def server_start(
        host: str = typer.Option("127.0.0.1", help="Address to bind; loopback unless you mean to share it."),
        port: int = typer.Option(8080, help="Port to listen on; the start fails if it is taken."),
        data_dir: Path = typer.Option(None, help="Database and media directory (default: under ANNOTATE_HOME)."),
        timeout: float = typer.Option(240.0, help="Seconds to wait for /health (first start runs migrations)."),
        database: str = typer.Option(
            "sqlite", help="sqlite (a file in --data-dir) or postgresql (an existing database; Label Studio's docs "
            "advise it for many concurrent users). Its password is read only from ANNOTATE_PG_PASSWORD (or libpq's "
            "~/.pgpass).",
        ),
        pg_host: str = typer.Option(None, help="PostgreSQL host or socket dir (env ANNOTATE_PG_HOST; 127.0.0.1)."),
        pg_port: int = typer.Option(None, help="PostgreSQL port (env ANNOTATE_PG_PORT; 5432)."),
        pg_db: str = typer.Option(None, help="PostgreSQL database, existing, empty at first (env ANNOTATE_PG_DB; "
                                  "label_studio)."),
        pg_user: str = typer.Option(None, help="PostgreSQL user (env ANNOTATE_PG_USER; postgres)."),
    ) -> None:
        """Start Label Studio in the background (SQLite or PostgreSQL, signup by invite only, telemetry off)."""
        from annotate.labelstudio import server
        from annotate.labelstudio.credentials import credentials_path, load_or_create_admin_credentials, redact
        from annotate.labelstudio.database import chosen_database

        database, postgres = chosen_database(database, host=pg_host, port=pg_port, name=pg_db, user=pg_user)
        on = f" ({postgres.describe()})" if postgres is not None else ""
        typer.echo(f"starting Label Studio {server.LABEL_STUDIO_VERSION} on {host}:{port}{on} ...")
        state = server.start(
            host=host, port=port, data_dir=data_dir, timeout=timeout, database=database, postgres=postgres
        )
        creds = load_or_create_admin_credentials()
        where = state.postgres.describe() if state.postgres is not None else f"data in {state.data_dir}"
        typer.echo(f"running at {state.url} (pid {state.pid}); {where}; log {state.log_file}")
        typer.echo(
            f"admin {creds.email}, password {redact(creds.password)}, API token {redact(creds.token)} "
            f"(in full in {credentials_path()}, mode 0600)"
        )
        if host not in ("127.0.0.1", "::1", "localhost"):
            typer.echo(f"warning: bound to {host}: other machines can reach this server", err=True)
        from annotate.labelstudio.blind.record import read_blind

        record = read_blind()
        if record is not None:  # blind mode: each annotator's own server comes up with the main one
            from annotate.cli.blind import start_desks as blind_start_desks

            blind_start_desks(record)

    @server_app.command("stop")
    def server_stop() -> None:
        """Stop the server started by `annotate server start`."""
        from annotate.labelstudio import server
        from annotate.labelstudio.blind.record import read_blind

        record = read_blind()
        if record is not None:
            from annotate.cli.blind import stop_desks as blind_stop_desks

            blind_stop_desks(record)
        state = server.stop()
        typer.echo("no server was running" if state is None else f"stopped Label Studio (pid {state.pid})")

    @server_app.command("status")
    def server_status() -> None:
        """Say whether the local server runs, where, and what projects it holds."""
        from annotate.labelstudio import server
        from annotate.labelstudio.client import StudioClient

        status = server.status()
        if not status.running or status.state is None:
            typer.echo("stopped")
            return
        state = status.state
        where = f"; {state.postgres.describe()}" if state.postgres is not None else ""
        typer.echo(f"running at {state.url} (pid {state.pid}), data in {state.data_dir}{where}")
        if not status.healthy:
            typer.echo(f"but {state.url}/health does not answer; see {state.log_file}")
            return
        projects = StudioClient.open().list_projects()
        typer.echo(f"{len(projects)} project(s)")
        for p in projects:
            tasks, annotations = p.task_number or 0, p.total_annotations_number or 0
            typer.echo(f"  {p.id}: {p.title!r}: {tasks} tasks, {annotations} annotations")

    @app.command("init")
    def init(
        targets: Path = typer.Option(None, help="Target inventory JSON (default: the seeds' targets.json)."),
        title: str = typer.Option("News attribution", help="Project title; init is idempotent by title."),
        maximum_annotations: int = typer.Option(2, help="Annotations wanted per article (several annotators)."),
        blind: bool = typer.Option(False, "--blind", help="Blind double annotation: each annotator on a Label "
                                   "Studio server of their own, articles routed by the toolkit (kept once set)."),
    ) -> None:
        """Create the Label Studio project from the schema, or update its labeling config."""
        from annotate.labelstudio.blind.record import read_blind
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.config import generate_labeling_config
        from annotate.labelstudio.instructions import instructions_html
        from annotate.labelstudio.project import init_project
        from schemas.articles import load_targets
        from schemas.paths import GUIDELINES, SEED_TARGETS

        config = generate_labeling_config(load_targets(targets or SEED_TARGETS))
        if blind or read_blind() is not None:
            from annotate.cli.blind import init as blind_init

            blind_init(config, title, maximum_annotations, instructions_html(GUIDELINES))
            return
        client = StudioClient.open()
        outcome = init_project(client, config, title=title, maximum_annotations=maximum_annotations,
                               instructions=instructions_html(GUIDELINES))
        p = outcome.project
        detail = f" ({', '.join(outcome.changed)})" if outcome.changed else ""
        typer.echo(f"project {p.id} {title!r} {outcome.action}{detail} at {client.url}/projects/{p.id}")

    @annotators_app.command("add")
    def annotators_add(
        email: str = typer.Argument(..., help="The annotator's email; they log in with it."),
        password: str = typer.Option(None, help="Password to set (default: a generated one, stored 0600)."),
        show_password: bool = typer.Option(False, "--show-password", help="Print the password."),
        reset_password: bool = typer.Option(False, "--reset-password", help="Give an existing account a new one."),
    ) -> None:
        """Create an annotator account on the local server, with a password to log in (blind mode: a desk)."""
        from annotate.labelstudio.annotators import add_annotator, local_data_dir
        from annotate.labelstudio.blind.record import read_blind
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.credentials import redact

        record = read_blind()
        if record is not None:
            from annotate.cli.blind import add as blind_add

            blind_add(record, email, password, show_password)
            return

        data_dir = local_data_dir()
        added = add_annotator(StudioClient.open(), email, data_dir, password=password, reset_password=reset_password)
        typer.echo(f"annotator {added.user.email} (user {added.user.id}) can log in")
        if show_password:
            typer.echo(f"password: {added.password}")
        elif added.password_file is not None:
            typer.echo(f"password {redact(added.password)} stored in {added.password_file} (mode 0600)")

    @annotators_app.command("remove")
    def annotators_remove(
        email: str = typer.Argument(..., help="The annotator's email."),
    ) -> None:
        """Blind mode: take an annotator off half-way; their work is kept and pulled, their articles rerouted."""
        from annotate.cli.blind import remove as blind_remove
        from annotate.labelstudio.annotators import normalize_email
        from annotate.labelstudio.blind.record import read_blind
        from schemas import ToolkitError

        record = read_blind()
        if record is None:
            raise ToolkitError("removing an annotator is for blind mode (`annotate init --blind`); in a shared "
                               "project, deactivate the account in Label Studio's Organization page")
        blind_remove(record, normalize_email(email))

    @annotators_app.command("list")
    def annotators_list() -> None:
        """List the accounts of the organization (blind mode: the desks)."""
        from annotate.labelstudio.annotators import list_annotators
        from annotate.labelstudio.blind.record import read_blind
        from annotate.labelstudio.client import StudioClient

        record = read_blind()
        if record is not None:
            from annotate.cli.blind import list_desks as blind_list_desks

            blind_list_desks(record)
            return

        for user in list_annotators(StudioClient.open()):
            typer.echo(f"{user.id}\t{user.email}")

    @app.command("status")
    def status(
        limit: int = typer.Option(20, help="How many under-annotated articles to name."),
    ) -> None:
        """Tasks, annotations per annotator, and articles still short of annotations."""
        from annotate.labelstudio.blind.record import read_blind
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.project import current_project, project_status

        record = read_blind()
        if record is not None:
            from annotate.cli.blind import status as blind_status

            blind_status(record, limit)
            return

        client = StudioClient.open()
        s = project_status(client, current_project(client))
        typer.echo(f"project {s.project.id} {s.project.title!r} at {client.url}")
        typer.echo(f"{s.tasks} tasks, {s.annotations} annotations ({s.wanted} wanted per article)")
        for email, n in s.per_annotator.items():
            lead = s.median_lead_time.get(email)
            typer.echo(f"  {email}: {n}" + (f" (median lead time {lead:.0f} s)" if lead is not None else ""))
        typer.echo(f"{len(s.short)} article(s) with fewer than {s.wanted} annotations")
        for article_id, n in list(s.short.items())[:limit]:
            typer.echo(f"  {article_id}: {n}")
        if len(s.short) > limit:
            typer.echo(f"  ... and {len(s.short) - limit} more")
