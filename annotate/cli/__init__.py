"""The ``annotate`` command line: the one package that may import from every other.

Each module adds its subcommands with ``register(app)``; they are registered here in the order
of the workflow, which is the order ``annotate --help`` lists them. Commands import the heavy
libraries (and the modules that pull them in) when they run, so ``annotate --help`` stays fast.
"""

from annotate.cli import (
    adjudicate,
    agreement,
    citron,
    demo,
    evaluate,
    extract,
    imports,
    preload,
    publish,
    pull,
    recordings,
    schema,
    server,
    statements,
    train,
)
from annotate.cli.app import app, main

for _module in (demo, server, preload, extract, train, recordings, pull, agreement, adjudicate, statements, publish,
                evaluate, imports, citron, schema):
    _module.register(app)

__all__ = ["app", "main"]
