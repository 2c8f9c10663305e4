"""Reports rendered from a run summary: Markdown (CI summaries), JSON (machine-readable,
also the baseline format) and self-contained HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.markdown import render_markdown

FORMATS = ("md", "json", "html")


def render(summary: dict[str, Any], fmt: str) -> str:
    """Return the report of ``summary`` in ``fmt`` (md, json or html)."""
    if fmt == "md":
        return render_markdown(summary)
    if fmt == "json":
        return json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if fmt == "html":
        from harness.report.html import render_html

        return render_html(summary)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {FORMATS}")


def write_reports(summary: dict[str, Any], out_dir: str | Path,
                  formats: tuple[str, ...] = ("md", "json")) -> list[Path]:
    """Write ``<suite>-<run id>.<fmt>`` for each format into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{summary['run']['suite']}-{summary['run']['id']}"
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        path.write_text(render(summary, fmt), encoding="utf-8")
        paths.append(path)
    return paths


__all__ = ["FORMATS", "render", "write_reports"]
