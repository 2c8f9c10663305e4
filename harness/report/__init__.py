"""Reports rendered from a run summary: Markdown (CI summaries), JSON (machine-readable,
also the baseline format) and self-contained HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.jsonout import dumps
from harness.report.markdown import render_markdown
from harness.summarize.model import Summary

FORMATS = ("md", "json", "html")


def render(summary: dict[str, Any] | Summary, fmt: str) -> str:
    """Return the report of ``summary`` in ``fmt`` (md, json or html). A typed ``Summary``
    is laid out in its JSON form, the one a report file holds, so a stored run and a
    report read back from a file render alike."""
    if isinstance(summary, Summary):
        summary = summary.as_json()
    if fmt == "md":
        return render_markdown(summary)
    if fmt == "json":
        return dumps(summary, indent=2, sort_keys=True) + "\n"
    if fmt == "html":
        from harness.report.html import render_html

        return render_html(summary)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {FORMATS}")


def write_reports(summary: dict[str, Any] | Summary, out_dir: str | Path,
                  formats: tuple[str, ...] = ("md", "json"), stamped: bool = True
                  ) -> list[Path]:
    """Write ``<suite>-latest.<fmt>`` for each format into ``out_dir`` (replacing the
    previous one) and, with ``stamped``, a copy ``<suite>-<run id>.<fmt>`` that is kept;
    return the paths written. The CLI stamps a run that generated something, so reruns
    served from the store (a day of ``harness check``) leave one current report per suite
    instead of hundreds of near-identical files."""
    if isinstance(summary, Summary):
        summary = summary.as_json()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suite = summary["run"]["suite"]
    stems = [f"{suite}-latest"] + ([f"{suite}-{summary['run']['id']}"] if stamped else [])
    paths = []
    for fmt in formats:
        text = render(summary, fmt)
        for stem in stems:
            path = out / f"{stem}.{fmt}"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    return paths


__all__ = ["FORMATS", "render", "write_reports"]
