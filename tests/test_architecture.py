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
