"""docs/architecture.md stays true: it names every package of ``harness/`` and every
shared module at its top level, and names nothing that does not exist."""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"
PKG = ROOT / "harness"


def _drawn_packages() -> set[str]:
    diagram = DOC.read_text(encoding="utf-8").split("```")[1]
    return set(re.findall(r"^\s*([a-z_]+)/ ", diagram, flags=re.M))


def _table_modules() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+\.py)` \|", DOC.read_text(encoding="utf-8"),
                          flags=re.M))


def test_every_package_is_drawn_and_every_drawn_package_exists() -> None:
    packages = {p.name for p in PKG.iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    drawn = _drawn_packages()
    assert drawn - packages == set(), "drawn in docs/architecture.md but not in harness/"
    assert packages - drawn == set(), "in harness/ but not drawn in docs/architecture.md"


def test_top_level_holds_only_the_listed_shared_modules() -> None:
    modules = {p.name for p in PKG.glob("*.py") if p.name != "__init__.py"}
    assert modules == _table_modules()


def test_the_drawing_is_in_data_flow_order() -> None:
    drawn = re.findall(r"^\s*([a-z_]+)/ ", DOC.read_text(encoding="utf-8").split("```")[1],
                       flags=re.M)
    assert drawn[0] == "suite" and drawn[-1] == "cli"
    assert drawn.index("generate") < drawn.index("backends") < drawn.index("store") \
        < drawn.index("metrics") < drawn.index("summarize") < drawn.index("report")


def test_modules_stay_small_and_commands_thin() -> None:
    """No module over about 400 lines (420 allowed), and no CLI command body over 30 lines:
    the CLI parses, calls the library and prints."""
    import ast

    long = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 420}
    assert long == {}
    fat, seen = {}, 0
    for path in (PKG / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                    "command" in ast.unparse(d) for d in node.decorator_list):
                seen += 1
                body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
                if (lines := body[-1].end_lineno - body[0].lineno + 1) > 30:  # type: ignore[operator]
                    fat[node.name] = lines
    assert seen >= 10 and fat == {}
