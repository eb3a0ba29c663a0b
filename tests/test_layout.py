"""The folders are the layers: imports point one way, and the domain never loads Flask."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "intake"
DOMAIN = ("crypto", "dates", "store", "testimonies", "staff", "desk", "evidence", "messages")
WEB_LIBRARIES = ("flask", "flask_babel", "flask_wtf", "werkzeug", "wtforms", "markupsafe", "jinja2")
# Alembic brings in Mako and with it markupsafe, so only these are looked for once loaded.
FLASK = ("flask", "flask_babel", "flask_wtf", "werkzeug", "wtforms")
BLUEPRINTS = ("submit", "followup", "review", "admin", "operator")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (migrations are Alembic's, left out)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, at any depth of the file (function-level ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


def owner(module: str) -> str:
    """Name the layer a module of the package belongs to: `web`, `crypto`, `messages`..."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def internal(name: str) -> set[str]:
    """The package's own modules that `name` imports, each resolved to a module file."""
    found = set()
    for target in imports(name, MODULES[name]):
        while target not in MODULES and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in MODULES and target != name:
            found.add(target)
    return found


@pytest.mark.parametrize("name", sorted(n for n in MODULES if owner(n) in DOMAIN))
def test_the_domain_imports_no_web_library_and_nothing_of_web_or_cli(name: str) -> None:
    outside = {target for target in imports(name, MODULES[name])
               if target.split(".")[0] in WEB_LIBRARIES}
    upward = {target for target in internal(name) if owner(target) in ("web", "cli")}
    assert not outside | upward


@pytest.mark.parametrize("name", sorted(n for n in MODULES if owner(n) in ("crypto", "dates")))
def test_crypto_and_dates_import_nothing_else_of_intake(name: str) -> None:
    assert {target for target in internal(name) if owner(target) != owner(name)} == set()


def test_no_blueprint_imports_another() -> None:
    def blueprint(module: str) -> str | None:
        parts = module.split(".")
        return parts[2] if parts[1:2] == ["web"] and parts[2:3] and parts[2] in BLUEPRINTS else None

    crossing = {(name, target) for name in MODULES for target in internal(name)
                if blueprint(name) and blueprint(target) and blueprint(name) != blueprint(target)}
    assert crossing == set()


def test_nothing_imports_a_private_module_or_name_of_another_package() -> None:
    private = set()
    for name in MODULES:
        for target in imports(name, MODULES[name]):
            parts = target.split(".")
            for cut, part in enumerate(parts):
                if (part.startswith("_") and not part.startswith("__")
                        and not name.startswith(".".join(parts[:cut]))):
                    private.add((name, target))
    assert private == set()


def test_there_is_no_import_cycle() -> None:
    graph = {name: internal(name) for name in MODULES}
    cycles = []
    for start in graph:
        # A cycle through `start` exists if `start` is reachable from what it imports.
        seen, todo = set(), list(graph[start])
        while todo:
            node = todo.pop()
            if node == start:
                cycles.append(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(graph[node])
    assert cycles == []


def test_loading_every_domain_module_loads_no_web_library() -> None:
    domain = sorted(name for name in MODULES if owner(name) in DOMAIN)
    probe = (f"import importlib, sys; [importlib.import_module(m) for m in {domain!r}]; "
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FLASK!r}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
