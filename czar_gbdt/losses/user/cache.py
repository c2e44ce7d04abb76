"""The disk cache of derived sources: a second process reads a user loss's row functions
instead of deriving them again (derivation takes seconds for large formulas).

The derived sources live under ``$CZAR_GBDT_KERNEL_DIR/derived``, named by a hash of the
definition, the code generator and the sympy version; a source is written only after its
finite-difference check passed (when one was asked for).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..._kernels.loops import kernel_dir
from . import codegen
from .formula import sympy_module

__all__ = ["cache_path", "read_source", "write_source"]


def cache_path(definition: dict) -> Path:
    """Where the derived source of a definition is kept."""
    sp = sympy_module()
    h = hashlib.sha256()
    h.update(repr(sorted(definition.items())).encode())
    h.update(Path(codegen.__file__).read_bytes())
    h.update(sp.__version__.encode())
    return kernel_dir() / "derived" / f"{definition['name']}_{h.hexdigest()[:20]}.py"


def read_source(definition: dict) -> str | None:
    """The cached source of a definition, or None when it was never written (or cannot be read)."""
    try:
        return cache_path(definition).read_text()
    except OSError:
        return None


def write_source(definition: dict, source: str) -> None:
    """Keep the derived source of a definition, atomically; a read-only cache is left alone
    (the next process derives again)."""
    path = cache_path(definition)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    except OSError:
        pass
