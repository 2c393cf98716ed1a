"""The layers (docs/architecture.md): the core imports no aiogram; storage imports only the core's domain.

`lint-imports` (in `make test`) checks the same contracts over the whole import graph; these tests check
them in the running interpreter and name the offending line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_the_core_runs_without_aiogram() -> None:
    """Importing every module of the core loads no aiogram, aiohttp or adapter module."""
    code = (
        "import importlib, pkgutil, sys, helpdesk\n"
        "for m in pkgutil.walk_packages(helpdesk.__path__, 'helpdesk.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'aiogram', 'aiohttp', 'bot', 'handlers'})\n"
        "print('\\n'.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", f"the core pulls in: {result.stdout.split()}"


def test_no_core_module_names_aiogram() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / "helpdesk").rglob("*.py"))
        for line, name in _imports(path)
        if name.split(".")[0] in {"aiogram", "aiohttp", "bot", "handlers", "sandbox", "fakegram"}
    ]
    assert offenders == []


def test_storage_imports_only_the_core_domain() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / "storage").rglob("*.py"))
        for line, name in _imports(path)
        if (name.startswith("helpdesk.") and not name.startswith("helpdesk.domain."))
        or name.split(".")[0] in {"aiogram", "aiohttp", "bot", "handlers", "sandbox", "fakegram"}
    ]
    assert offenders == []


def test_only_the_factory_wires_handlers_into_the_adapter() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if path.name != "factory.py"
        for line, name in _imports(path)
        if name.split(".")[0] == "handlers"
    ]
    assert offenders == []
