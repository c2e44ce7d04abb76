"""Loss kernels before and after a change: two versions of the package timed alternately in one process.

Extract the old version under another package name (its imports are relative), then run::

    mkdir -p /tmp/ab/old && git archive OLD_COMMIT czar_gbdt | tar -x -C /tmp/ab/old \
        --transform 's/^czar_gbdt/czar_gbdt_old/'
    python bench/ab_kernels.py --old /tmp/ab/old --rows 1000000 10000000 --threads 1 2

Each kernel call of the old version is followed by the same call of the new one on the
same arrays (``out=`` preallocated for ``grad_hess``); the table gives the median rows per
second of each side and their ratio (new/old > 1: the new version is faster).
"""

import argparse
import statistics
import sys
import time

import numba
import numpy as np

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--old", default="/tmp/ab/old", help="folder holding the package czar_gbdt_old")
ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
ap.add_argument("--repeats", type=int, default=21)
ap.add_argument("--losses", nargs="+", default=["czar", "zptae", "mse", "focal", "asymmetric", "logistic"])
ap.add_argument("--what", nargs="+", default=["grad_hess", "loss"])
ap.add_argument(
    "--clock",
    choices=["wall", "cpu"],
    default="wall",
    help="cpu: the process's CPU time, not inflated by other jobs on a shared machine (with --threads 1)",
)
args = ap.parse_args()
clock = time.process_time if args.clock == "cpu" else time.perf_counter
sys.path.insert(0, args.old)
import czar_gbdt_old as old  # noqa: E402

import czar_gbdt as new  # noqa: E402

rng = np.random.default_rng(0)
print(f"{'loss':<11}{'what':<10}{'rows':>10}{'thr':>4}{'old Mr/s':>10}{'new Mr/s':>10}{'new/old':>8}")
for n in args.rows:
    for name in args.losses:
        lo, ln = old.get_loss(name), new.get_loss(name)
        binary = ln.kind == "binary"
        if binary:
            y = (rng.random(n) < 0.2).astype(np.float64)
            p = rng.normal(-1, 2, n)
            kw = {}
        else:
            s = rng.uniform(0.005, 0.03, n)
            y = s * rng.standard_t(4, n)
            p = s * rng.normal(0, 0.5, n)
            kw = {"std": s}
        g, h = np.empty(n), np.empty(n)
        for thr in args.threads:
            numba.set_num_threads(thr)
            for what in args.what:
                if what == "grad_hess":
                    fo = lambda: lo.grad_hess(y, p, out=(g, h), **kw)
                    fn = lambda: ln.grad_hess(y, p, out=(g, h), **kw)
                else:
                    fo = lambda: lo.loss(y, p, **kw)
                    fn = lambda: ln.loss(y, p, **kw)
                fo()
                fn()
                to, tn = [], []
                reps = args.repeats if n <= 2_000_000 else max(5, args.repeats // 3)
                for _ in range(reps):
                    t0 = clock()
                    fo()
                    to.append(clock() - t0)
                    t0 = clock()
                    fn()
                    tn.append(clock() - t0)
                mo, mn = statistics.median(to), statistics.median(tn)
                print(
                    f"{name:<11}{what:<10}{n:>10}{thr:>4}{n / mo / 1e6:>10.1f}{n / mn / 1e6:>10.1f}{mo / mn:>8.3f}",
                    flush=True,
                )
