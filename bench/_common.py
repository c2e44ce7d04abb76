"""What the benchmark scripts share: the machine description of their reports.

Imported as ``from _common import cpu_model``: running ``python bench/<script>.py`` puts
this folder first on ``sys.path``.
"""

from __future__ import annotations

import platform
import subprocess

__all__ = ["cpu_model"]


def cpu_model() -> str:
    """The CPU's model name (``lscpu``), or ``platform.processor()`` where lscpu is missing."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"
