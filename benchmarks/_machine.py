"""The date-and-machine line every benchmark prints first, so a figure says where and when
it was measured."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform


def machine_line(*versions: str) -> str:
    """``date · host · CPU model · N CPUs · load · Python x.y.z`` followed by ``versions``
    (e.g. ``"numpy 2.4.6"``); load is the 1-minute load average when the line is printed."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return " · ".join([f"{datetime.datetime.now():%Y-%m-%d %H:%M}", platform.node(), cpu,
                       f"{os.cpu_count()} CPUs", f"load {_load()}",
                       f"Python {platform.python_version()}",
                       *versions])


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"
