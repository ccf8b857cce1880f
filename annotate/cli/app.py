"""The ``annotate`` Typer app and the process entry point.

Errors a user can cause (``ToolkitError``) become one line on stderr and exit code 2; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

from schemas import ToolkitError

app = typer.Typer(
    help="Annotate news attribution (quotes, speakers, stances, claims) with Label Studio "
    "and publish a gold dataset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Keeps ``annotate`` a group of subcommands."""


def main() -> None:
    try:
        app()
    except ToolkitError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
