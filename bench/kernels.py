"""Loss kernels against a vectorised numpy implementation and a memory-bound floor.

For each loss, at 1M and 10M rows, times (median of repeats, same run):
- ``grad_hess`` and ``loss`` through the public methods (validation included, outputs
  preallocated with ``out=`` where the method has it),
- the numpy implementation of the same formulas in ``czar_gbdt.testing``,
- a numba "floor" kernel that reads the same inputs and writes the same outputs with
  one multiply-add per row (what memory bandwidth alone allows).

Prints rows/s, the ratio to numpy (speed-up) and the ratio to the floor (slow-down).

    python bench/kernels.py [--rows 1000000 10000000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numba
import numpy as np
from numba import prange

import czar_gbdt as cg
from czar_gbdt import testing as ref


@numba.njit(parallel=True, cache=True)
def floor_grad_hess(y, p, std, g, h):
    for i in prange(y.shape[0]):
        g[i] = p[i] - y[i] * std[i]
        h[i] = y[i] + std[i]


@numba.njit(parallel=True, cache=True)
def floor_loss(y, p, std, out):
    for i in prange(y.shape[0]):
        out[i] = p[i] - y[i] * std[i]


# binary losses read no std: their floor reads only labels and margins
@numba.njit(parallel=True, cache=True)
def floor_grad_hess_binary(y, p, g, h):
    for i in prange(y.shape[0]):
        g[i] = p[i] - y[i]
        h[i] = y[i] * p[i]


@numba.njit(parallel=True, cache=True)
def floor_loss_binary(y, p, out):
    for i in prange(y.shape[0]):
        out[i] = p[i] - y[i]


def timeit(fn, repeats):
    """(median, min) seconds over ``repeats`` calls after one warm-up call."""
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def make_data(n, binary, rng):
    if binary:
        y = (rng.random(n) < 0.2).astype(np.float64)
        return y, rng.normal(-1, 2, n), np.ones(n)
    std = rng.uniform(0.005, 0.03, n)
    return std * rng.standard_t(4, n), std * rng.normal(0, 0.5, n), std


CASES = {
    "czar": (cg.CZAR(), lambda y, p, s: ref.czar_grad_hess(y, p, s),
             lambda y, p, s: ref.czar_loss(y, p, s)),
    "zptae": (cg.ZPTAE(), lambda y, p, s: ref.zptae_grad_hess(y, p, s),
              lambda y, p, s: ref.zptae_loss(y, p, s)),
    "mse": (cg.HalfSquaredError(), lambda y, p, s: ref.squared_error_grad_hess(y, p, s),
            lambda y, p, s: 0.5 * ((p - y) / s) ** 2),
    "focal": (cg.FocalLoss(), lambda y, p, s: ref.focal_grad_hess(y, p),
              lambda y, p, s: ref.focal_loss(y, p)),
    "asymmetric": (cg.AsymmetricLoss(), lambda y, p, s: ref.asymmetric_grad_hess(y, p),
                   lambda y, p, s: ref.asymmetric_loss(y, p)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--losses", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--threads", type=int, nargs="+", default=[numba.config.NUMBA_NUM_THREADS],
                        help="numba thread counts to run (e.g. 1 2: does parallelism pay?)")
    args = parser.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, numba {numba.__version__}, numpy {np.__version__}; "
          f"times are medians (min in brackets) of {args.repeats} calls; ratios of medians")
    print(f"{'loss':<11}{'what':<10}{'rows':>10}{'thr':>4}{'Mrows/s':>9}{'(min)':>8}{'numpy Mr/s':>11}"
          f"{'x numpy':>8}{'floor Mr/s':>11}{'/ floor':>8}{'(min)':>7}")
    rng = np.random.default_rng(0)
    for n in args.rows:
        for name in args.losses:
            loss, np_gh, np_loss = CASES[name]
            binary = loss.kind == "binary"
            y, p, s = make_data(n, binary, rng)
            kw = {} if binary else {"std": s}
            g, h, out = np.empty(n), np.empty(n), np.empty(n)
            reps = args.repeats if n <= 2_000_000 else max(3, args.repeats // 2)
            t_np_gh = timeit(lambda: np_gh(y, p, s), max(3, reps // 2))[0]
            t_np_loss = timeit(lambda: np_loss(y, p, s), max(3, reps // 2))[0]
            for threads in args.threads:
                numba.set_num_threads(threads)
                if binary:
                    fl_gh = lambda: floor_grad_hess_binary(y, p, g, h)  # noqa: E731
                    fl_loss = lambda: floor_loss_binary(y, p, out)  # noqa: E731
                else:
                    fl_gh = lambda: floor_grad_hess(y, p, s, g, h)  # noqa: E731
                    fl_loss = lambda: floor_loss(y, p, s, out)  # noqa: E731
                rows = [
                    ("grad_hess", timeit(lambda: loss.grad_hess(y, p, out=(g, h), **kw), reps),
                     t_np_gh, timeit(fl_gh, reps)),
                    ("loss", timeit(lambda: loss.loss(y, p, **kw), reps), t_np_loss, timeit(fl_loss, reps)),
                ]
                for what, (t_ours, m_ours), t_np, (t_floor, m_floor) in rows:
                    print(f"{name:<11}{what:<10}{n:>10}{threads:>4}{n / t_ours / 1e6:>9.1f}{n / m_ours / 1e6:>8.1f}"
                          f"{n / t_np / 1e6:>11.1f}{t_np / t_ours:>8.1f}{n / t_floor / 1e6:>11.1f}"
                          f"{t_ours / t_floor:>8.2f}{m_ours / m_floor:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
