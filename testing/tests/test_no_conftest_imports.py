"""Tests import shared helpers from `testing`, never from a conftest (pytest advises against
it: a conftest is a plugin, and importing it by name depends on rootdir and sys.path)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".git", "node_modules"}


def conftest_importers() -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        if SKIPPED & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            if any(m == "conftest" or m.endswith(".conftest") for m in modules):
                found.append(str(path.relative_to(ROOT)))
    return found


def test_no_file_imports_a_conftest():
    assert conftest_importers() == []


def test_the_check_sees_such_an_import(tmp_path, monkeypatch):
    (tmp_path / "test_sneaky.py").write_text("def f():\n    from conftest import make_user\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)

    assert conftest_importers() == ["test_sneaky.py"]
