"""Where LightGBM's custom-objective cost comes from: each objective under its three histogram modes.

LightGBM builds its histograms column-wise or row-wise (``force_col_wise``,
``force_row_wise``; by default it times both on the first iteration and keeps the faster).
Its built-in squared error declares a constant hessian, and the column-wise histograms
then skip the hessians; no Python objective can declare that (LightGBM asks only its own
objectives), so a custom objective pays for the hessian sums even when they are all ones.
This script times, on the data of ``bench/backends.py`` (1M rows x 50 features, 100
rounds by default):

- the built-in squared error, and the same with weights that are not all ones (a
  non-constant hessian inside LightGBM; all-ones weights are dropped by LightGBM's Python
  package and would measure nothing);
- the cheapest custom objective (squared error in two numpy lines);
- the toolkit's ZPTAE and CZAR (``czar_gbdt.lightgbm.train``, starting score included);

each under the automatic choice, ``force_col_wise`` and ``force_row_wise``. Runs alternate
(every objective and mode once, then again), one untimed warm-up each; the figures are
medians, and the ratios are to the built-in squared error under the automatic choice.

Usage::

    python bench/lightgbm_modes.py                   # 1M x 50, 100 rounds, 3 repeats
    python bench/lightgbm_modes.py --rows 200000 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import date

import numpy as np
from _common import cpu_model
from backends import make_data

MODES = {"auto": {}, "col-wise": {"force_col_wise": True}, "row-wise": {"force_row_wise": True}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import lightgbm as lgb

    from czar_gbdt import lightgbm as clx

    X, y, std = make_data(args.rows, args.features)
    params = {
        "num_leaves": 63,
        "learning_rate": 0.1,
        "num_threads": args.threads,
        "max_bin": 255,
        "seed": 0,
        "verbose": -1,
    }
    binning = {"max_bin": 255, "verbose": -1}
    label = y.astype(np.float64)
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=len(y))

    def dataset(**kwargs):
        return lgb.Dataset(X, label=y, params=binning, free_raw_data=False, **kwargs).construct()

    builtin_set, weighted_set = dataset(), dataset(weight=weight)
    plain_set = dataset(init_score=np.full(len(y), label.mean()))
    toolkit_set = dataset()
    clx.attach(toolkit_set, std=std)

    def numpy_mse(preds, data):
        return (preds - label).astype(np.float32), np.ones(len(preds), dtype=np.float32)

    def runs(mode: dict) -> dict:
        p = {**params, **mode}
        return {
            "built-in squared error": lambda: lgb.train({**p, "objective": "regression"}, builtin_set, args.rounds),
            "built-in, weighted": lambda: lgb.train({**p, "objective": "regression"}, weighted_set, args.rounds),
            "numpy squared error objective": lambda: lgb.train({**p, "objective": numpy_mse}, plain_set, args.rounds),
            "czar_gbdt ZPTAE": lambda: clx.train(p, toolkit_set, args.rounds, objective="zptae"),
            "czar_gbdt CZAR": lambda: clx.train(p, toolkit_set, args.rounds, objective="czar"),
        }

    cases = {(name, mode): fn for mode, extra in MODES.items() for name, fn in runs(extra).items()}
    for fn in cases.values():
        fn()  # warm-up: compilation, the automatic mode's timing
    times: dict = {case: [] for case in cases}
    for _ in range(args.repeats):
        for case, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[case].append(time.perf_counter() - t0)
    med = {case: statistics.median(ts) for case, ts in times.items()}
    base = med[("built-in squared error", "auto")]

    print(
        f"{date.today().isoformat()}, {cpu_model()}, {args.threads} threads (os.cpu_count()={os.cpu_count()}), "
        f"{args.rows:,} rows x {args.features} features, {args.rounds} rounds, median of {args.repeats} runs; "
        f"Python {platform.python_version()}, lightgbm {lgb.__version__}"
    )
    print()
    print(
        "| objective | "
        + " | ".join(f"{m} (s)" for m in MODES)
        + " | "
        + " | ".join(f"{m} ratio" for m in MODES)
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(MODES)))
    for name in runs({}):
        secs = " | ".join(f"{med[(name, m)]:.2f}" for m in MODES)
        ratios = " | ".join(f"{med[(name, m)] / base:.2f}" for m in MODES)
        print(f"| {name} | {secs} | {ratios} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
