"""What the benchmark scripts share: the machine description of their reports, and printing them.

Imported as ``from _common import cpu_model``: running ``python bench/<script>.py`` puts
this folder first on ``sys.path``.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

__all__ = ["cpu_model", "emit_report"]


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


def emit_report(lines: list[str], title: str, output: Path | None) -> None:
    """Print a report's lines, and write them under ``# title`` to ``output`` when given (``--output``)."""
    text = "\n".join(lines)
    print(text)
    if output is not None:
        output.write_text(f"# {title}\n\n{text}\n")
