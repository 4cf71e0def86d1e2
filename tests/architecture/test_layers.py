"""The house rules of issue 13, checked on the source: one-way layers (import-linter, also run by
`make lint`), no imports hidden inside functions, small modules, a short top of newsletter/."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["config", "papers", "subscribers", "newsletter", "benchmarks"]


def product_modules() -> list[Path]:
    return [
        path for app in APPS for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts
    ]


def nested_imports(path: Path) -> list[str]:
    """Imports inside a function, except in an AppConfig's ready() (where Django wants them)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == "ready":
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} in {node.name}()")
    return found


def test_no_module_imports_inside_a_function():
    assert [hit for path in product_modules() for hit in nested_imports(path)] == []


def test_no_module_is_over_350_lines():
    lengths = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in product_modules()}
    assert {path: n for path, n in lengths.items() if n > 350} == {}


def test_newsletter_keeps_at_most_eight_modules_at_its_top():
    top = sorted(p.name for p in (ROOT / "newsletter").glob("*.py"))
    assert len(top) <= 8, top


@pytest.mark.skipif(not shutil.which("lint-imports"), reason="needs import-linter (requirements-dev.txt)")
def test_the_layer_contracts_hold():
    result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
