"""Core never imports plugins: no module under al/ imports the ``strategies`` package."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO

PLUGINS = "strategies"


def plugin_imports(source: str) -> list[str]:
    """Lines that import the plugin package: ``import``/``from`` statements (at any depth,
    ``TYPE_CHECKING`` blocks included) and ``importlib.import_module`` / ``__import__`` calls
    with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [f"line {node.lineno}: {name}" for name in names
                  if name == PLUGINS or name.startswith(PLUGINS + ".")]
    return found


CORE = sorted((REPO / "al").rglob("*.py"))


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(REPO)))
def test_core_module_does_not_import_plugins(path):
    assert plugin_imports(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_every_way_of_importing():
    source = (
        "import strategies\n"
        "import numpy, strategies.dal as d\n"
        "from strategies.class_embedding import class_centroids\n"
        "def f():\n"
        "    import importlib\n"
        "    importlib.import_module('strategies.alps')\n"
        "    __import__('strategies')\n"
        "from strategies_extra import x\n"  # another package: fine
        "from .strategies import y\n"  # a relative import inside al: fine
    )
    assert plugin_imports(source) == [
        "line 1: strategies", "line 2: strategies.dal", "line 3: strategies.class_embedding",
        "line 6: strategies.alps", "line 7: strategies",
    ]


def test_core_modules_that_used_to_import_plugins_load_without_them():
    code = (
        "import sys; sys.modules['strategies'] = None\n"  # any import of the plugin package fails
        "import al.registry, al.analysis.diagnostics, al.analysis.embedding_analysis, al.centroids\n"
        "print(len(al.registry.available()))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 8


def test_core_covers_the_package():
    assert {"registry.py", "centroids.py", "report.py"} <= {p.name for p in CORE}
    assert any(p.parent.name == "analysis" for p in CORE)
