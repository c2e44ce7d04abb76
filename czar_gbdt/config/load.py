"""Reading a configuration file: TOML, the command line's overrides, then validation.

:func:`load_config` returns the validated dict (what the engine layers read today, with the
file's path under ``"_path"``); :func:`load` returns the typed :class:`~.typed.Config`.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from .schema import ConfigError
from .typed import Config
from .validate import validate_config

__all__ = ["load_config", "load"]


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    """Read a TOML file and validate it (see :func:`validate_config`).

    ``overrides`` is a nested dict merged over the file (the CLI's ``--trials`` etc.).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {str(path)!r}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    # a loss of your own (loss.name = "my_losses:huber") may live next to the config or in the
    # current directory: both are searched after the installed packages
    for folder in (str(path.resolve().parent), str(Path.cwd())):
        if folder not in sys.path:
            sys.path.append(folder)
    cfg = validate_config(raw)
    cfg["_path"] = str(path)
    return cfg


def load(path: str | Path, overrides: dict | None = None) -> Config:
    """Read, validate and type a TOML file (:func:`load_config`, then :meth:`Config.from_validated`)."""
    return Config.from_validated(load_config(path, overrides))
