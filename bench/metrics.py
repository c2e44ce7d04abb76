"""Benchmark: per-date Rank IC with czar_gbdt.metrics against pandas groupby, same run.

Default problem (issue 4): 1,000,000 rows over 5,000 dates (200 assets per
date), 1% NaN targets, continuous predictions, rows stored date by date.

Timed, median over ``--repeats`` runs after one warm-up call (numba compiles
once per machine and caches to disk; the first-call time is printed too):

* ``rank_ic`` from raw per-row dates (the whole call: grouping + ranks + summary);
* ``rank_ic`` with a precomputed ``DateGroups`` (what a per-round eval metric does);
* ``rank_ic`` on the same rows shuffled (unsorted dates: factorise + counting sort);
* ``ic`` (Pearson) from raw dates;
* pandas ``df.groupby("date")[["y", "p"]].corr(method="spearman")``, the reference
  named in the issue, and a vectorised pandas equivalent (groupby rank, then
  per-date Pearson from groupby sums), the fastest honest pandas version we know.

All Spearman results are checked equal (1e-10) before timing is reported.

Usage::

    python bench/metrics.py [--rows 1000000] [--dates 5000] [--repeats 7] [--output bench/RESULTS_metrics.md]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from _common import cpu_model, emit_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from czar_gbdt import metrics  # noqa: E402


def make_data(n_rows: int, n_dates: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = n_rows // n_dates
    dates = np.repeat(pd.bdate_range("2000-01-03", periods=n_dates).values, per)
    n = dates.size
    y = rng.normal(0.0, 0.02, size=n)
    y[rng.random(n) < 0.01] = np.nan
    p = 0.05 * y + rng.normal(0.0, 0.02, size=n)
    p[np.isnan(p)] = 0.0
    return pd.DataFrame({"date": dates, "y": y, "p": p})


def pandas_corr(df: pd.DataFrame) -> pd.Series:
    out = df.groupby("date")[["y", "p"]].corr(method="spearman")
    return out.xs("y", level=1)["p"]


def pandas_vectorised(df: pd.DataFrame) -> pd.Series:
    d = df.dropna(subset=["y", "p"])
    r = d.groupby("date")[["y", "p"]].rank()
    key = d["date"]
    cx = r["y"] - r["y"].groupby(key).transform("mean")
    cy = r["p"] - r["p"].groupby(key).transform("mean")
    sxy = (cx * cy).groupby(key).sum()
    sxx = (cx * cx).groupby(key).sum()
    syy = (cy * cy).groupby(key).sum()
    return sxy / np.sqrt(sxx * syy)


def timeit(func, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dates", type=int, default=5_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--pandas-repeats", type=int, default=3)
    ap.add_argument("--output", type=Path, default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)

    df = make_data(args.rows, args.dates)
    y = df["y"].to_numpy()
    p = df["p"].to_numpy()
    d = df["date"].to_numpy()
    perm = np.random.default_rng(1).permutation(len(df))
    ys, ps, ds = y[perm], p[perm], d[perm]

    t0 = time.perf_counter()
    first = metrics.rank_ic(y, p, dates=d)
    t_first = time.perf_counter() - t0
    metrics.ic(y, p, dates=d)
    metrics.rank_ic(ys, ps, dates=ds)
    groups = metrics.group_dates(d)

    # correctness before speed
    ref = pandas_corr(df)
    vec = pandas_vectorised(df).reindex(ref.index)
    err = float(np.nanmax(np.abs(first.per_date.to_numpy() - ref.to_numpy())))
    err_vec = float(np.nanmax(np.abs(vec.to_numpy() - ref.to_numpy())))
    shuffled = metrics.rank_ic(ys, ps, dates=ds).per_date
    err_shuf = float(np.nanmax(np.abs(shuffled.to_numpy() - ref.to_numpy())))
    assert max(err, err_vec, err_shuf) <= 1e-10, (err, err_vec, err_shuf)

    cases = [
        ("pandas `groupby(date)[[y,p]].corr(method='spearman')`", lambda: pandas_corr(df), args.pandas_repeats),
        ("pandas vectorised (groupby rank + groupby-sum Pearson)", lambda: pandas_vectorised(df), args.pandas_repeats),
        ("`metrics.rank_ic`, raw dates, rows sorted by date", lambda: metrics.rank_ic(y, p, dates=d), args.repeats),
        ("`metrics.rank_ic`, precomputed `DateGroups`", lambda: metrics.rank_ic(y, p, dates=groups), args.repeats),
        ("`metrics.rank_ic`, raw dates, rows shuffled", lambda: metrics.rank_ic(ys, ps, dates=ds), args.repeats),
        ("`metrics.ic` (Pearson), raw dates, rows sorted", lambda: metrics.ic(y, p, dates=d), args.repeats),
        ("`metrics.group_dates` alone, rows sorted", lambda: metrics.group_dates(d), args.repeats),
    ]
    rows = []
    for name, func, repeats in cases:
        median, times = timeit(func, repeats)
        rows.append((name, median, min(times)))
    t_pd, t_vec = rows[0][1], rows[1][1]

    lines = [
        f"Rank IC benchmark: {len(df):,} rows, {args.dates:,} dates, {len(df) // args.dates} assets/date, "
        "1% NaN targets",
        "",
        f"- date: {_dt.date.today().isoformat()}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores, numba threads {numba.get_num_threads()} "
        f"({numba.threading_layer() if hasattr(numba, 'threading_layer') else '?'})",
        f"- python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"numba {numba.__version__}",
        f"- median of {args.repeats} runs (pandas: {args.pandas_repeats}); first call in a fresh process "
        f"(loads the numba cache, or compiles): {t_first:.3f} s",
        f"- max |difference| to pandas per date: {err:.1e} (sorted), {err_shuf:.1e} (shuffled), "
        f"vectorised pandas {err_vec:.1e}",
        "",
        "| method | median time (s) | min time (s) | speed-up vs pandas groupby corr (medians) "
        "| vs vectorised pandas (medians) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, t, t_min in rows:
        lines.append(f"| {name} | {t:.4f} | {t_min:.4f} | {t_pd / t:.1f}x | {t_vec / t:.1f}x |")
    emit_report(lines, "Metrics benchmark (bench/metrics.py)", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
