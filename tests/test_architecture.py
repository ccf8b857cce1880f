"""The import rules of the codebase, checked on the source so that they hold from now on.

Layers, bottom to top: ``schemas`` (models, spans, the one document JSONL reader/writer, the one
atomic write) imports nothing of the project; ``annotate`` (Label Studio, formats, extractors) never
imports ``exports``; ``exports`` (what is made from typed documents) imports ``annotate`` only in the
modules that talk to the server, and ``annotate.extract`` only in ``exports.archive`` (which runs the
extractor over an archive); ``annotate.cli`` sits on top and may import everything.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from schemas.paths import REPO_ROOT

PACKAGES = ("schemas", "annotate", "exports")
CLI = "annotate.cli"
# exports modules whose job is to talk to a Label Studio server, and so may use annotate.labelstudio.
SERVER_FACING_EXPORTS = {"exports.adjudication.review"}
# the exports package that runs the extractor over an archive, and so may use annotate.extract (nothing else of it).
EXTRACTING_EXPORTS = "exports.archive"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((REPO_ROOT / pkg).rglob("*.py"))}


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules an import statement names (``from pkg import sub`` names ``pkg.sub`` too)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if MODULES[module].name != "__init__.py":
                base = base[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [target] + [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    return [n for n in names if n.split(".")[0] in PACKAGES]


def parse(path: Path) -> tuple[ast.Module, dict[ast.AST, ast.AST]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return tree, parents


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function?) for every project import of ``module``."""
    tree, parents = parse(MODULES[module])
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        local, up = False, parents.get(node)
        while up is not None:
            if isinstance(up, ast.FunctionDef | ast.AsyncFunctionDef):
                local = True
                break
            up = parents.get(up)
        found += [(target, node.lineno, local) for target in imported(module, node)]
    return found


IMPORTS = {m: imports_of(m) for m in MODULES}


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(REPO_ROOT)}:{line}"


def test_the_checker_sees_the_project():
    # Guards the test itself: an empty module list or a parser that finds no imports would pass everything.
    assert {"schemas", "annotate.cli", "annotate.labelstudio", "exports"} <= set(MODULES)
    assert any(target.startswith("schemas") for target, _, _ in IMPORTS["annotate.cli.app"])


def test_schemas_import_nothing_of_the_project_above_them():
    bad = [f"{where(m, line)} imports {t}" for m in MODULES if in_package(m, "schemas")
           for t, line, _ in IMPORTS[m] if not in_package(t, "schemas")]
    assert not bad, "schemas/ is the bottom layer:\n" + "\n".join(bad)


def test_annotate_never_imports_exports():
    bad = [f"{where(m, line)} imports {t}" for m in MODULES if in_package(m, "annotate") and not in_package(m, CLI)
           for t, line, _ in IMPORTS[m] if in_package(t, "exports") or in_package(t, CLI)]
    assert not bad, "annotate/ (outside annotate/cli) must not import exports or the CLI:\n" + "\n".join(bad)


def test_exports_use_annotate_only_to_talk_to_the_server_or_to_extract():
    bad = []
    for m in MODULES:
        if not in_package(m, "exports"):
            continue
        for t, line, _ in IMPORTS[m]:
            allowed = m in SERVER_FACING_EXPORTS or (in_package(m, EXTRACTING_EXPORTS)
                                                     and in_package(t, "annotate.extract"))
            if in_package(t, CLI) or (in_package(t, "annotate") and not allowed):
                bad.append(f"{where(m, line)} imports {t}")
    assert not bad, "exports/ may import annotate only in " + ", ".join(sorted(SERVER_FACING_EXPORTS)) + \
        f", and annotate.extract only in {EXTRACTING_EXPORTS}:\n" + "\n".join(bad)


def test_no_function_local_imports_of_the_project_outside_the_cli():
    # A local import hides an upward dependency (or a cycle); the CLI may defer them to keep --help fast.
    bad = [f"{where(m, line)} imports {t} inside a function" for m in MODULES if not in_package(m, CLI)
           for t, line, local in IMPORTS[m] if local]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = defaultdict(set)
    for m, found in IMPORTS.items():
        for t, _, _ in found:
            if t in MODULES and t != m:
                graph[m].add(t)
    # Tarjan's strongly connected components, iteratively (no recursion limit to worry about).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in MODULES:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, f"import cycles: {cycles}"


def test_no_module_is_over_the_size_limit():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    big = [f"{MODULES[m].relative_to(REPO_ROOT)}: {n} lines" for m, n in sizes.items() if n > MAX_LINES]
    assert not big, f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(big)


def test_no_import_strings_or_import_error_fallbacks():
    bad = []
    for m, path in MODULES.items():
        tree, _ = parse(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                    "import_module", "__import__"):
                bad.append(f"{where(m, node.lineno)}: imports a module by name")
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = [node.type] if not isinstance(node.type, ast.Tuple) else node.type.elts
                if any(getattr(c, "id", None) in ("ImportError", "ModuleNotFoundError") for c in caught):
                    bad.append(f"{where(m, node.lineno)}: falls back on an ImportError")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("source, expected", [
    ("from schemas import Span\n", ["schemas"]),
    ("from annotate.labelstudio import client\n", ["annotate.labelstudio", "annotate.labelstudio.client"]),
    ("import json\nimport exports.metrics as m\n", ["exports.metrics"]),
])
def test_imports_are_read_as_written(source, expected, tmp_path, monkeypatch):
    # The rules above are only as good as this reader of import statements.
    tree = ast.parse(source)
    found = [t for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
             for t in imported("annotate.cli.app", node)]
    assert found == expected
