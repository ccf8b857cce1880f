"""What the commands print in blind mode (``blind.json`` present): desks, routes, status, merged pulls.

The commands (``init``, ``annotators``, ``status``, ``preload``, ``pull``, ``server start|stop``) stay where they are
and hand over here when blind mode is on; each function calls the library once and prints its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from annotate.labelstudio.blind.record import BlindRecord

if TYPE_CHECKING:
    from annotate.labelstudio.story_entities import StoryEntities


def init(label_config: str, title: str, wanted: int, instructions: str | None) -> None:
    from annotate.labelstudio.blind.sync import init_blind

    record, inits = init_blind(label_config, title, wanted, instructions)
    typer.echo(f"blind mode: each article goes to {record.wanted} annotator(s), each on a Label Studio of their own")
    for done in inits:
        p = done.outcome.project
        detail = f" ({', '.join(done.outcome.changed)})" if done.outcome.changed else ""
        typer.echo(f"  {done.email}: project {p.id} {done.outcome.action}{detail} at {done.url}/projects/{p.id}")
    if not inits:
        typer.echo("  no annotator yet: add each with `annotate annotators add EMAIL`")


def add(record: BlindRecord, email: str, password: str | None, show_password: bool) -> None:
    from annotate.labelstudio.blind.desks import add_desk
    from annotate.labelstudio.blind.record import write_blind
    from annotate.labelstudio.blind.sync import init_desk
    from annotate.labelstudio.credentials import redact

    desk, added = add_desk(record, email, password=password)
    write_blind(record)
    done = init_desk(record, desk)
    write_blind(record)
    typer.echo(f"annotator {desk.email} has a desk of their own: {done.url}/projects/{desk.project_id} "
               "(no one else has an account there)")
    if show_password:
        typer.echo(f"password: {added.password}")
    elif added.password_file is not None:
        typer.echo(f"password {redact(added.password)} stored in {added.password_file} (mode 0600)")
    typer.echo("they get new articles, and articles short of annotators, at the next `annotate preload`")


def remove(record: BlindRecord, email: str) -> None:
    from annotate.labelstudio.blind.desks import stop_desk
    from annotate.labelstudio.blind.sync import remove_annotator

    removal = remove_annotator(record, email, stop_desk)
    typer.echo(f"{removal.email} removed: their server is stopped; their export is kept in {removal.archive} "
               f"({len(removal.submitted)} submitted article(s), still pulled)")
    for article_id, emails in removal.rerouted.items():
        typer.echo(f"  {article_id}: now routed to {', '.join(emails)}")
    for article_id, n in removal.short.items():
        typer.echo(f"  {article_id}: only {n} annotator(s) left for it; `annotate annotators add` one, then "
                   "`annotate preload` the same articles")


def list_desks(record: BlindRecord) -> None:
    for desk in record.desks.values():
        state = "active" if desk.active else f"removed {desk.removed_at:%Y-%m-%d %H:%M} UTC"
        typer.echo(f"{desk.email}\t{state}\tproject {desk.project_id}\t{desk.home}")


def status(record: BlindRecord, limit: int) -> None:
    from annotate.labelstudio.blind.status import blind_status

    s = blind_status(record)
    typer.echo(f"blind mode: {len(s.articles)} article(s) routed, {s.wanted} annotator(s) wanted per article")
    for d in s.desks:
        lead = f", median lead time {d.median_lead_time:.0f} s" if d.median_lead_time is not None else ""
        where = f" at {d.url}" if d.url else ""
        typer.echo(f"  {d.email} ({d.state}{where}): {d.routed} routed, {len(d.submitted)} submitted, "
                   f"{len(d.skipped)} skipped, {len(d.waiting)} waiting{lead}")
    short = s.short()
    typer.echo(f"{len(short)} article(s) with fewer than {s.wanted} submitted annotations")
    for a in short[:limit]:
        typer.echo(f"  {a.article_id}: done by {', '.join(a.done) or 'no one'}; "
                   f"waiting on {', '.join(a.waiting) or 'no one (route it: see below)'}")
    if len(short) > limit:
        typer.echo(f"  ... and {len(short) - limit} more")
    for d in s.drift[:limit]:
        typer.echo(f"problem: {d.message}")
    if len(s.drift) > limit:
        typer.echo(f"... and {len(s.drift) - limit} more problems")


def preload(record: BlindRecord, articles: list, batch_size: int, predictions: bool, stories: StoryEntities) -> None:
    from annotate.labelstudio.blind.sync import preload_blind

    report = preload_blind(record, articles, batch_size=batch_size, predictions=predictions, predict=stories.predict,
                           inventory_for=stories.inventory_for)
    typer.echo(f"routed {len(report.routed)} article(s) to annotators")
    for email, r in report.desks.items():
        typer.echo(f"  {email}: imported {r.imported} with {r.predictions} prediction(s), {r.unchanged} already there")
    for article_id, n in report.short.items():
        typer.echo(f"  {article_id}: only {n} annotator(s) for it, {record.wanted} wanted; add annotators")


def pull(record: BlindRecord, out: Path | None, **options: Any) -> None:
    from annotate.labelstudio.blind.pull import pull_blind

    result = pull_blind(record, out, **options)
    r = result.report
    typer.echo(f"pulled {len(r.desks)} desk(s) (blind): {r.documents} documents by {len(r.annotators)} annotators")
    for d in r.desks:
        lead = f", median lead time {d.lead_times.median:.0f} s" if d.lead_times is not None else ""
        left = f"; left out documents by {', '.join(d.left_out)}" if d.left_out else ""
        typer.echo(f"  {d.email} ({d.state}): {d.documents} documents{lead}{left}")
    typer.echo(f"{len(r.rejections)} rejections, {len(r.drift)} problems, {len(r.short)} article(s) short of "
               f"{r.wanted} annotations (details in the report)")
    for d in r.drift[:5]:
        typer.echo(f"  problem: {d.message}")
    typer.echo(f"desks:     {result.desks_dir}\ndocuments: {result.docs_path}\nreport:    {result.report_path}")


def start_desks(record: BlindRecord) -> None:
    from annotate.labelstudio.blind.desks import start_desk

    for desk in record.active_desks():
        state = start_desk(desk)
        typer.echo(f"desk of {desk.email} running at {state.url}")


def stop_desks(record: BlindRecord) -> None:
    from annotate.labelstudio.blind.desks import stop_desk

    for desk in record.active_desks():
        if stop_desk(desk) is not None:
            typer.echo(f"desk of {desk.email} stopped")
