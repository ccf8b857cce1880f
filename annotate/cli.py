"""The ``annotate`` command. Each feature module adds its own subcommands through ``register``.

Errors a user can cause (``ToolkitError``) become one line on stderr and exit code 2; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
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


# One module per feature; each defines ``register(app)``. Keep heavy imports inside commands.
# Listed in the order of the workflow, which is the order `annotate --help` shows.
COMMAND_MODULES = [
    "annotate.demo",
    "annotate.server_cli",  # server, init, annotators, status
    "annotate.preload_cli",
    "annotate.extract_cli",
    "annotate.recordings_cli",
    "exports.pull_cli",
    "exports.agreement_cli",
    "exports.adjudicate_cli",
    "exports.publish_cli",
    "exports.evaluate_cli",
    "annotate.import_cli",
    "annotate.citron_cli",
    "annotate.schema_cli",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    try:
        app()
    except ToolkitError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
