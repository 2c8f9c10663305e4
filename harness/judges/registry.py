"""Looking judge kinds up by name: the built-in ones (``harness.judges.kinds``), then the
plugins' (entry points of the group ``harness.judges``, each naming a ``JudgeKind`` class
or a module that registers its classes with ``@register_judge_kind``; docs/extending.md).

Plugins load the first time a name is not found among the registered kinds, so a suite
naming a plugin's kind validates like any other; a name no one registers is an
``UnknownName`` listing the known kinds (a suite error), never read as another kind. The
base class and the table are ``harness.judges.base``'s.
"""

from __future__ import annotations

import harness.judges.kinds  # noqa: F401  (importing it registers the built-in kinds)
from harness.errors import UnknownName
from harness.judges.base import KINDS, JudgeKind, Row, register_judge_kind
from harness.plugins import load

__all__ = ["JudgeKind", "Row", "judge_kind", "judge_kind_names", "register_judge_kind"]


def judge_kind(name: str) -> JudgeKind:
    """The registered kind ``name``, loading plugins when it is not built in; an
    ``UnknownName`` listing the known kinds when no one registers it."""
    if name not in KINDS:
        _load_plugins()
    if name not in KINDS:
        raise UnknownName(f"unknown judge kind {name!r}; expected one of "
                          f"{', '.join(judge_kind_names())}")
    return KINDS[name]


def judge_kind_names() -> list[str]:
    """Every registered kind's name, plugins' included, sorted."""
    _load_plugins()
    return sorted(KINDS)


def _load_plugins() -> None:
    for plugin, obj in load("harness.judges").items():
        if isinstance(obj, type) and issubclass(obj, JudgeKind) and obj.name not in KINDS:
            obj.plugin = plugin  # an entry point naming the class itself
            register_judge_kind(obj)
