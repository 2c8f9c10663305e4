"""The date-and-machine line every benchmark prints first, so a figure says where and when
it was measured."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform

# CPU features that decide which float32/bfloat16 kernels torch's libraries pick
FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_model() -> str:
    """The CPU's model name with the vector features its kernels depend on, e.g.
    ``AMD EPYC (family 25 model 1; avx2)``: the model line alone does not tell an AVX2
    EPYC from an AVX-512 one."""
    name, family, model, flags = platform.processor() or platform.machine(), "", "", set()
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name":
                name = value
            elif key == "cpu family":
                family = value
            elif key == "model" and not model:
                model = value
            elif key == "flags":
                flags = set(value.split())
                break
    features = [f for f in FEATURES if f in flags]
    detail = [f"family {family} model {model}"] if family else []
    return f"{name} ({'; '.join([*detail, ' '.join(features) or 'no avx2'])})"


def kernel_libraries() -> str:
    """torch's CPU kernel path: its vector ISA and MKL / oneDNN versions (empty without
    torch)."""
    try:
        import torch
    except ImportError:
        return ""
    config = torch.__config__.show()
    parts = []
    for marker, label in (("CPU capability usage:", "ISA"),
                          ("Math Kernel Library Version", "MKL"),
                          ("MKL-DNN v", "oneDNN")):
        for line in config.splitlines():
            if marker in line:
                value = line.split(marker, 1)[1].split()[0].lstrip("v").split("-")[0]
                parts.append(f"{label} {value}")
                break
    return ", ".join(parts + [f"{torch.get_num_threads()} threads"])


def machine_line(*versions: str) -> str:
    """``date · host · CPU model (features) · N CPUs · load · Python x.y.z`` followed by
    ``versions`` (e.g. ``"numpy 2.4.6"``); load is the 1-minute load average when the line
    is printed."""
    return " · ".join([f"{datetime.datetime.now():%Y-%m-%d %H:%M}", platform.node(),
                       cpu_model(), f"{os.cpu_count()} CPUs", f"load {_load()}",
                       f"Python {platform.python_version()}",
                       *versions])


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"
