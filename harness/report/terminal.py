"""The cells table in a terminal: laid out for the console's width, so that every cell id,
header and number is printed whole at 80 columns as at 200.

Columns are measured first (each value on one line, never cut). The cell column comes
first in every block; the metric columns are packed, in ``key_metrics`` order, into as
many blocks (tables one under the other) as the width needs. When not even one metric fits
beside the cell ids, each cell becomes a short list instead. Metrics beyond ``max_metrics``
are named after the tables, with where to read them (the reports). Piped output has no width
limit (the CLI's console is 1000 columns wide), so it gets one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from harness.report.format import MISSING, truncated_share, value_ci
from harness.report.markdown import TRUNCATED_NOTE, cells_note, key_metrics, pareto_lines
from harness.text import plain


@dataclass
class Column:
    """A column as it will be printed: header, one value per cell, right-aligned or not."""

    header: str
    values: list[str]
    right: bool = True

    @property
    def width(self) -> int:
        return max([cell_len(self.header), *map(cell_len, self.values)])


def table_width(columns: list[Column]) -> int:
    """The printed width of a rich ``Table`` (default box, padding 1, edges) of
    ``columns``: each column's width plus 2 of padding, plus one rule per column and one."""
    return sum(c.width + 2 for c in columns) + len(columns) + 1


def blocks(first: list[Column], metrics: list[Column], width: int) -> list[list[Column]] | None:
    """Split ``metrics`` into blocks that fit ``width`` beside the leading columns
    (``first`` in the first block, only the cell column in the others), in order; None
    when some metric does not fit beside the cell column alone."""
    cell = first[0]
    out: list[list[Column]] = []
    current = list(first)
    for col in metrics:
        if table_width([*current, col]) <= width:
            current.append(col)
            continue
        if table_width([cell, col]) > width:
            return None
        if len(current) > 1:
            out.append(current)
        current = [cell, col]
    out.append(current)
    return out


def cells_tables(summary: dict[str, Any], width: int, max_metrics: int = 6
                 ) -> list[RenderableType]:
    """Return what ``harness run`` prints about the cells of ``summary`` within ``width``
    columns: one table (or several blocks, or a list per cell when even one metric does
    not fit), then the notes: what a cell is computed over, the Pareto frontier, and the
    metrics left out."""
    run = summary["run"]
    names = key_metrics(summary)
    shown, rest = names[:max_metrics], names[max_metrics:]
    pareto = summary.get("pareto") or {}
    frontier = set(pareto.get("cells") or [])
    cells = summary["cells"]
    ids = [c["cell"] + (" ★" if c["cell"] in frontier else "") for c in cells]
    first = [Column("cell", ids, right=False)]
    if len({c["n"] for c in cells}) > 1:
        first.append(Column("n", [str(c["n"]) for c in cells]))
    if any(c.get("truncated") is not None for c in cells):
        first.append(Column("cut", [truncated_share(c) for c in cells]))
    metrics = [Column(m, [value_ci(c["metrics"].get(m), bound_digits=2) for c in cells])
               for m in shown]
    title = f"{run['suite']} · run {run['id']} · mean [95% CI]"
    laid = blocks(first, metrics, width)
    out: list[RenderableType] = []
    if laid is None:
        out.append(Text(plain(title), style="italic"))
        out += _listed(cells, ids, first[1:] + metrics)
    else:
        for i, cols in enumerate(laid):
            part = f" ({i + 1}/{len(laid)})" if len(laid) > 1 else ""
            out.append(_table(title + part, cols))
    notes = [cells_note(summary), TRUNCATED_NOTE]
    notes += pareto_lines(summary)
    if rest:
        notes.append(f"{len(rest)} more metric{'s' * (len(rest) != 1)} in the reports "
                     f"(`harness report {run['id']}`): {', '.join(rest)}.")
    out += [Text(plain(n), style="dim") for n in notes]
    return out


def _table(title: str, columns: list[Column]) -> Table:
    table = Table(title=Text(plain(title)))
    for col in columns:
        table.add_column(Text(plain(col.header)), justify="right" if col.right else "left",
                         no_wrap=True)
    for row in zip(*(c.values for c in columns), strict=True):
        table.add_row(*(Text(plain(v)) for v in row))
    return table


def _listed(cells: list[dict[str, Any]], ids: list[str], columns: list[Column]
            ) -> list[RenderableType]:
    """Each cell as its id and one indented ``metric: value`` line per column."""
    out: list[RenderableType] = []
    for i, cid in enumerate(ids):
        out.append(Text(plain(cid), style="bold"))
        for col in columns:
            if col.values[i] != MISSING:
                out.append(Text(plain(f"  {col.header}: {col.values[i]}")))
    return out
