"""JSON output shared by the tuner, the reports and ``compare``: one fallback, one atomic writer.

Results hold numpy scalars and timestamps; :func:`plain` is the ``default=`` of
:func:`json.dumps` that turns them into plain JSON, and :func:`write_json` writes a file
so that a reader never sees half of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["plain", "dumps", "write_json"]


def plain(obj: Any) -> Any:
    """JSON fallback: numpy scalars become Python numbers, anything else its ``str`` (timestamps ...).

    ``json`` writes floats itself (numpy's float64 is a float), so this is never called for one.
    """
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def dumps(data: Any) -> str:
    """``data`` as indented JSON text, with :func:`plain` for what JSON does not know."""
    return json.dumps(data, indent=2, default=plain)


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a temporary file, then a rename); creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dumps(data) + "\n")
    tmp.replace(path)
