"""Third-party extensions, found through Python entry points (as inspect_ai and simonw/llm
load theirs).

A package adds metrics, backends and judge kinds by declaring entry points in its
``pyproject.toml`` (``examples/plugin/`` is a complete one)::

    [project.entry-points."harness.metrics"]
    mine = "my_package.metrics"            # a module whose @metric functions register

    [project.entry-points."harness.backends"]
    echo = "my_package.backend:make_echo"  # a factory: (model, **options) -> Backend

    [project.entry-points."harness.judges"]
    vote = "my_package.judges:Vote"        # a JudgeKind class (or a module registering them)

Metric plugins load when ``harness.metrics`` is first imported; backend plugins when a
backend name is first looked up; judge-kind plugins when a kind is not among the
registered ones (``harness.judges.registry``). A plugin that fails to load is named in a
``PluginError`` (exit 2) with its own error, never a traceback from inside it, in every
command (those that do not need metrics too: they load them as they import the library).
A metric registered while a plugin loads records the plugin's name (``loading``), so a
metric that later fails or returns something that is not a finite number is named with
its plugin (``harness.metrics.registry.MetricError``, exit 2).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from harness.errors import InputError

GROUPS = ("harness.metrics", "harness.backends", "harness.judges")
_loaded: dict[str, dict[str, Any]] = {}
_loading: list[str] = []  # the entry point being loaded, while it loads


class PluginError(InputError):
    """A plugin could not be loaded; the message names it and says why."""


def loading() -> str | None:
    """The name of the plugin whose module is being imported now, else None."""
    return _loading[-1] if _loading else None


def load(group: str) -> dict[str, Any]:
    """Load every entry point of ``group`` once; return {name: loaded object}."""
    if group in _loaded:
        return _loaded[group]
    _loaded[group] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        _loading.append(ep.name)
        try:
            _loaded[group][ep.name] = ep.load()
        except (Exception, SystemExit) as exc:  # whatever a plugin raises is named
            _loaded.pop(group, None)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise PluginError(f"plugin {ep.name!r} ({ep.value}, group {group}) failed to "
                              f"load: {type(exc).__name__}: {first}") from None
        finally:
            _loading.pop()
    return _loaded[group]
