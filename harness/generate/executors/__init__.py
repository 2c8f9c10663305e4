"""Executors: where the missing requests of a run are generated.

The default is in-process (the runner calls its backend directly). ``ray`` spreads the
requests over a pool of engine replicas on a Ray cluster (``harness.generate.executors.ray``); the
driver still plans, deduplicates and alone writes the store. Ray is imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.records import Generation, Request

EXECUTORS = ("local", "ray")


def ray_generate(todo: Sequence[Request], backend_name: str, model: str, *,
                 replicas: int | None = None, address: str | None = None,
                 batch_size: int | None = None, chunk_size: int | None = None,
                 log: Callable[[str], None] | None = None,
                 on_chunk: Callable[[Any], None] | None = None,
                 **options: Any) -> Iterator[Generation]:
    """Yield one ``Generation`` per request of ``todo``, generated on a Ray pool.

    See ``harness.generate.executors.ray.ray_generate``; this wrapper keeps
    ``import harness.generate.executors`` free of Ray.
    """
    from harness.generate.executors.ray import ray_generate as _ray_generate

    return _ray_generate(todo, backend_name, model, replicas=replicas, address=address,
                         batch_size=batch_size, chunk_size=chunk_size, log=log,
                         on_chunk=on_chunk, **options)


__all__ = ["EXECUTORS", "ray_generate"]
