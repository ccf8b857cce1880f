"""The ``annotate`` command: every subcommand has help; user errors are one line and exit 2."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from annotate.cli import app

runner = CliRunner()


def _commands(group, prefix=()):
    import typer.main

    click_group = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, command in click_group.commands.items():
        path = (*prefix, name)
        yield path
        if hasattr(command, "commands"):
            yield from _commands(command, path)


def test_top_level_help_lists_subcommands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "schema" in result.output


@pytest.mark.parametrize("path", list(_commands(app)), ids=" ".join)
def test_every_subcommand_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_user_error_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "targets.json"
    bad.write_text('{"version": "x", "event": "e", "targets": []}', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "from annotate.cli import main; main()", "schema", "--check",
                           "--targets", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {bad}: version: String should match pattern")
    assert "Traceback" not in proc.stderr
