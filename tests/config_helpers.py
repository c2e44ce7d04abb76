"""``make_config(**sections)``: a config file for a test, written from Python values instead of
TOML text edited with ``str.format`` or ``str.replace``.

Each keyword is one table of the config (``study``, ``data``, ``splits``, ``model``, ``loss``,
``compare``, ``report``, ``cluster``); a dict inside a table is a sub-table (``model={"params":
{...}}`` is ``[model.params]``), except a search range or choice list (a dict whose keys are
among ``low``, ``high``, ``log``, ``step``, ``choices``), which is written inline as the config
expects: ``num_leaves={"low": 3, "high": 6}`` is ``num_leaves = { low = 3, high = 6 }``.

    path = make_config(tmp_path, study=small_study("errs", tmp_path), data={"source": csv, "horizon": 5})
"""

from __future__ import annotations

import datetime
import math
import tomllib
from pathlib import Path
from typing import Any

_RANGE_KEYS = {"low", "high", "log", "step", "choices"}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return ("-" if v < 0 else "") + ("nan" if math.isnan(v) else "inf")
        return repr(v)
    if isinstance(v, (str, Path)):
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"make_config: no TOML for {v!r}")


def _is_table(v: Any) -> bool:
    return isinstance(v, dict) and not (v and set(v) <= _RANGE_KEYS)


def _table(name: str, body: dict) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{k} = {_value(v)}" for k, v in body.items() if not _is_table(v)]
    for k, v in body.items():
        if _is_table(v):
            lines += ["", *_table(f"{name}.{k}", v)]
    return lines


def config_text(**sections: dict) -> str:
    """The TOML text of the config made of ``sections`` (checked to parse back to them)."""
    lines: list[str] = []
    for name, body in sections.items():
        if body is not None:
            lines += [*_table(name, body), ""]
    text = "\n".join(lines)
    tomllib.loads(text)  # a helper bug shows here, not as a config error in the test
    return text


def make_config(where: str | Path, _name: str = "config.toml", **sections: dict) -> Path:
    """Write the config made of ``sections`` into the folder ``where`` (or to ``where`` itself when it
    names a ``.toml`` file) and return its path."""
    where = Path(where)
    path = where if where.suffix == ".toml" else where / _name
    path.write_text(config_text(**sections))
    return path


def small_study(name: str, runs: str | Path, **overrides: Any) -> dict:
    """The ``[study]`` table of the small test studies: 2 trials, random sampler, no pruner, seed 3
    (the table :func:`study_helpers.study_table` writes as text)."""
    return {
        "name": name,
        "runs_dir": str(runs),
        "n_trials": 2,
        "seed": 3,
        "sampler": "random",
        "pruner": "none",
        **overrides,
    }


def ff49_tiny(
    name: str,
    runs: str | Path,
    *,
    study: dict | None = None,
    data: dict | None = None,
    model: dict | None = None,
    params: dict | None = None,
    loss: dict | None = None,
) -> dict:
    """The sections of a small CZAR search on the bundled FF49 data (2 folds of 120 dates, a 120-date
    holdout, 20 rounds; learning rate, leaves and alpha searched), for ``make_config(where, **sections)``.

    ``study``, ``data``, ``model`` and ``params`` (``[model.params]``) update their tables; ``loss``
    replaces ``[loss]``. The same search as :data:`study_helpers.FF49_TINY`.
    """
    return {
        "study": small_study(name, runs, **(study or {})),
        "data": {"source": "ff49", "start": "2017-01-01", "horizon": 5, **(data or {})},
        "splits": {"test_size": 120, "min_train_size": 400, "holdout": 120, "max_splits": 2},
        "model": {
            "backend": "lightgbm",
            "num_boost_round": 20,
            **(model or {}),
            "params": {
                "learning_rate": {"low": 0.05, "high": 0.2},
                "num_leaves": {"low": 4, "high": 8},
                "num_threads": 2,
                **(params or {}),
            },
        },
        "loss": loss if loss is not None else {"name": "czar", "czar": {"alpha": {"low": 0.0, "high": 1.0}}},
    }


def merged(sections: dict, **edits: dict) -> dict:
    """``sections`` with ``edits`` applied table by table: a table merges into a table (a search range
    or choice list is a value and is replaced whole), a value replaces a value, ``None`` removes the key."""
    out = dict(sections)
    for name, edit in edits.items():
        if _is_table(edit) and _is_table(out.get(name)):
            out[name] = merged(out[name], **edit)
        elif edit is None:
            out.pop(name, None)
        else:
            out[name] = edit
    return out
