"""Judge kinds: one registered class per kind, keyed by the name a suite writes in
``kind:`` (as metrics are keyed in ``harness.metrics.registry``). This module holds the
base class and the table; ``harness.judges.registry`` looks kinds up (and is where third
parties import ``JudgeKind`` and ``register_judge_kind`` from).

A kind holds everything that differs between kinds, so that a new kind is one class and
nothing else changes: the shipped user message per language (``templates``), the variables
its templates get (``template_variables``; ``harness validate`` checks a judge's own
``prompt`` against them), what an answer is worth (``verdict``), how an item's value is
made from its calls (``values``), the bounds of those values (``scale``, ``bounds``), its
description in the summary (``describe``), the fields it requires or refuses (``check``),
how many calls it plans (``planned_calls``) and its reliability numbers
(``reliability``). The built-in kinds are in ``harness.judges.kinds``.

A third party registers a kind with ``register_judge_kind`` (also a class decorator), or
through an entry point of the group ``harness.judges`` (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import InputError
from harness.plugins import loading

if TYPE_CHECKING:
    from harness.records import Request
    from harness.suite.schema import Judge

Row = tuple[str, str, int, int, "float | None"]  # item, other, repeat, swapped, value


class JudgeKind:
    """A kind of LLM judge that asks the judge model about one item at a time (a rubric, a
    checklist). Subclass it, set ``name``, ``summary`` and ``templates``, and define
    ``verdict``; override the rest where the kind differs (``harness.judges.kinds`` has
    the built-in ones: a pairwise kind compares two items, a panel asks nothing)."""

    name: ClassVar[str] = ""
    # what the kind's values are, one line (the summary's metric description)
    summary: ClassVar[str] = ""
    # the shipped user message, a Jinja template per language ("en", "zh"); a judge's own
    # ``prompt`` replaces it. Empty: every judge of the kind must give its ``prompt``.
    templates: ClassVar[Mapping[str, str]] = {}
    pairwise: ClassVar[bool] = False  # asked about two variants' samples, in both orders
    combines: ClassVar[bool] = False  # asks no model: combines the judges named in ``of``
    takes_questions: ClassVar[bool] = False  # has ``questions`` (a checklist)
    plugin: ClassVar[str | None] = None  # the entry point that registered it; None: built in

    @property
    def averaged(self) -> bool:
        """Whether a panel may average it: a judge of one item whose values lie on
        ``bounds`` (so they rescale to 0-1)."""
        return not (self.pairwise or self.combines)

    def check(self, judge: Judge) -> None:
        """Raise ``ValueError`` (one line, for the suite's error) for a judge of this kind
        that cannot run."""
        if not self.combines and judge.prompt is None and not self.templates:
            raise ValueError(f"a {self.name} judge has no shipped template; give `prompt`")

    def scale(self, judge: Judge) -> tuple[float, float] | None:
        """The scale the judge is asked to answer on, when it has one (a rubric's)."""
        return None

    def bounds(self, judge: Judge) -> tuple[float, float]:
        """The values an item's value can take (a panel rescales them to 0-1)."""
        return self.scale(judge) or (0, 1)

    def describe(self, judge: Judge) -> str:
        """What the judge's values are, for the summary's metric description."""
        return self.summary

    def template(self, judge: Judge, lang: str) -> str:
        """The user message template: the judge's ``prompt``, else the shipped one in
        ``lang`` (English when the kind ships no other)."""
        return judge.prompt or self.templates.get(lang) or self.templates["en"]

    def template_variables(self, judge: Judge, shown: Sequence[Request], texts: Sequence[str],
                           inputs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], str]:
        """The variables of a call showing ``shown`` (one request; two for a pairwise kind,
        A then B) with ``texts``, and the call's language. ``inputs``: each input's fields
        by id, for the judge's ``task`` template. ``harness validate`` checks a judge's own
        ``prompt`` against the names this returns."""
        from harness.judges.templates import item_variables

        item = shown[0]
        return item_variables(judge, item, texts[0], inputs.get(item.input_id, {}))

    def verdict(self, judge: Judge, answer: str, swapped: bool) -> float | None:
        """The value of one answer, or None when it cannot be read (left out, counted as
        unreadable). ``swapped``: a pairwise call that showed the item second."""
        raise NotImplementedError(f"judge kind {self.name!r} defines no verdict")

    def values(self, rows: Sequence[Row]) -> dict[str, float]:
        """Each item's value from its ``judgments`` rows: the mean over its repeats of the
        values read; an item with none read gets no value."""
        per_item: dict[str, list[float]] = {}
        for item, _, _, _, value in rows:
            if value is not None:
                per_item.setdefault(item, []).append(value)
        return {k: sum(v) / len(v) for k, v in per_item.items()}

    def planned_calls(self, judge: Judge, variants: int, per_variant: int) -> int:
        """How many calls the judge makes on ``variants`` prompts of ``per_variant``
        requests each, at most: one per request and repeat."""
        return variants * per_variant * judge.repeats

    def reliability(self, judge: Judge, rows: Sequence[dict[str, Any]],
                    by_key: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The kind's own reliability numbers for the summary, from its ``judgments``
        ``rows`` (``by_key``: the run's items): with repeats, Krippendorff's alpha
        (interval) over the items, the repeats as coders."""
        if judge.repeats <= 1:
            return {}
        from harness.stats.agreement import krippendorff_alpha

        units: dict[str, list[float | None]] = {}
        for r in rows:
            units.setdefault(r["item_key"], [None] * judge.repeats)[r["repeat"]] = r["value"]
        return {"repeat_agreement": krippendorff_alpha(list(units.values()), "interval"
                                                       ).as_dict()}


KINDS: dict[str, JudgeKind] = {}


def register_judge_kind(cls: type[JudgeKind]) -> type[JudgeKind]:
    """Register the judge kind ``cls`` under its ``name`` (also a class decorator). A name
    taken by another class is an ``InputError`` naming both."""
    if not (isinstance(cls, type) and issubclass(cls, JudgeKind)) or not cls.name:
        raise InputError(f"{cls!r} is not a JudgeKind subclass with a name")
    old = KINDS.get(cls.name)
    if old is not None and type(old) is not cls:
        raise InputError(f"judge kind {cls.name!r} is registered twice: by "
                         f"{_origin(type(old))} and by {_origin(cls)}")
    if loading() is not None:
        cls.plugin = loading()
    KINDS[cls.name] = cls()
    return cls


def _origin(cls: type[JudgeKind]) -> str:
    return f"plugin {cls.plugin!r}" if cls.plugin else f"{cls.__module__}.{cls.__qualname__}"
