"""How tests/data/store_v3.sqlite was made: the store of the release before human ratings
were keyed by text (schema version 3, migrations m001-m003; harness at commit 26b37e3).

    git worktree add --detach /tmp/rel 26b37e3
    cd /tmp/rel && PYTHONPATH=/tmp/rel python /path/to/tests/data/make_store_v3.py OUT

Runs a tiny suite (2 prompts x 3 inputs x 2 samples) twice on the tests' fake backend
(the second run is the cached rerun: same texts, zero requests), exports a rating sheet
and a pairwise sheet of the first run and imports two raters' ratings of both.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import harness.generate.runner
from harness.api import run
from harness.humans.reading import import_ratings
from harness.humans.sheets import export_sheet, write_sheet
from harness.store.tables import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.conftest import FakeBackend  # noqa: E402

SUITE = """
name: v3
seed: 3
samples: 2
defaults: {max_tokens: 12}
prompts:
  - id: plain
    template: "Write a line about {{ topic }}."
  - id: terse
    template: "Write a terse line about {{ topic }}."
inputs: [{topic: rain}, {topic: bread}, {topic: kites}]
metrics: [distinct_2, length_words]
"""


def main(out: Path) -> None:
    harness.generate.runner.make_backend = lambda name, model, **kw: FakeBackend()  # type: ignore
    suite = out.with_suffix(".yaml")
    suite.write_text(SUITE, encoding="utf-8")
    first = run(suite, store=out, backend="hf", model="fake")
    run(suite, store=out, backend="hf", model="fake")  # cached rerun
    store = Store(out)
    for kind in ("rating", "pairwise"):
        sheet = export_sheet(store, first.run.id, kind=kind)
        csv_path = write_sheet(sheet, out.parent / f"sheet-{kind}")[0]
        with open(csv_path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        filled = []
        for n, row in enumerate(rows):
            for rater in ("ann", "ben"):
                answer = (str(1 + (n + len(rater)) % 5) if kind == "rating"
                          else ("A", "B", "tie")[(n + len(rater)) % 3])
                filled.append({**row, "rating": answer, "rater": rater})
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(filled)
        import_ratings(store, csv_path)
    store.close()
    suite.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
