"""``annotate pull``: export the project from Label Studio (or read a downloaded export) into documents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the module itself is imported when the command runs (keeps --help fast)
    from annotate.labelstudio.pull import PullResult

# Defaults live in annotate.labelstudio.pull (RetryPolicy, DEFAULT_BATCH_SIZE); repeated here so --help stays fast.
_BATCH, _RETRIES, _FIRST_WAIT, _RETRY_FOR, _TIMEOUT = 500, 5, 1.0, 120.0, 300.0


def register(app: typer.Typer) -> None:
    @app.command("pull")
    def pull(
        project: int = typer.Option(None, "--project", "-p",
                                    help="Project id (default: the project `annotate init` recorded)."),
        from_file: Path = typer.Option(None, "--from", metavar="EXPORT.json",
                                       help="Convert a JSON export downloaded from the Label Studio UI; no server."),
        out: Path = typer.Option(None, "--out", help="Output directory, or the documents' .jsonl path "
                                                     "(default: the pulls directory in the state directory)."),
        articles: list[Path] = typer.Option(None, "--articles", help="Also check task texts against these "
                                            "articles (seeds dir, .txt dir or JSONL; repeatable)."),
        batch_size: int = typer.Option(_BATCH, "--batch-size", min=0, help="Tasks per export request "
                                       "(0: the whole project in one request, which large projects can time out)."),
        retries: int = typer.Option(_RETRIES, "--retries", min=0,
                                    help="Retries of each request when the server is down or slow."),
        retry_wait: float = typer.Option(_FIRST_WAIT, "--retry-wait", min=0,
                                         help="Seconds before the first retry; doubled after each."),
        retry_for: float = typer.Option(_RETRY_FOR, "--retry-for", min=0,
                                        help="No retry starts later than this many seconds after a request was "
                                             "first tried."),
        timeout: float = typer.Option(_TIMEOUT, "--timeout", min=1,
                                      help="Seconds a request may stay silent before it counts as failed."),
    ) -> None:
        """Save the project's full JSON export unchanged and convert it: one document per article per annotator."""
        from annotate.labelstudio.pull import RetryPolicy, pull_from_file, pull_from_server
        from schemas import ToolkitError
        from schemas.articles import load_articles

        if project is not None and from_file is not None:
            raise ToolkitError("--project and --from exclude each other: pull from the server or convert a file")
        from annotate.labelstudio.blind.record import read_blind

        by_id = {a.id: a for a in load_articles(articles)} if articles else None
        policy = RetryPolicy(retries=retries, first_wait=retry_wait, retry_for=retry_for, timeout=timeout)
        record = read_blind()
        if record is not None and project is None and from_file is None:  # blind mode: every desk, merged
            from annotate.cli.blind import pull as pull_blind

            pull_blind(record, out, articles_by_id=by_id, batch_size=batch_size, retry=policy)
            return
        if from_file is not None:
            result = pull_from_file(from_file, out=out, articles_by_id=by_id)
        else:
            result = pull_from_server(project, out=out, articles_by_id=by_id, batch_size=batch_size, retry=policy)
        typer.echo(_summary(result))


def _summary(result: PullResult) -> str:
    """A few lines for the terminal."""
    r = result.report
    skipped = r.skipped
    lines = [
        f"pulled {r.source}: {r.tasks} tasks, {r.annotations} annotations -> {r.documents} documents "
        f"by {len(r.annotators)} annotators ({', '.join(r.annotators) or 'none'})",
        f"skipped: {skipped.cancelled} cancelled, {skipped.drafts} drafts, {skipped.predictions} predictions, "
        f"{skipped.superseded} superseded, {skipped.tasks_without_annotations} tasks without annotations",
        f"{len(r.repairs)} repairs, {len(r.rejections)} rejections (details in the report)",
    ]
    lines += [f"lead time {name}: median {t.median:.0f} s over {t.annotations} annotation(s), total {t.total:.0f} s"
              for name, t in r.lead_times.items()]
    lines += [f"  rejected: {x.message}" for x in r.rejections[:5]]
    if len(r.rejections) > 5:
        lines.append(f"  ... and {len(r.rejections) - 5} more")
    lines += [f"export:    {result.export_path}", f"documents: {result.docs_path}", f"report:    {result.report_path}"]
    return "\n".join(lines)
