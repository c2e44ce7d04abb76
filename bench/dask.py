"""Benchmark: training throughput and peak memory, in memory vs on a 2-worker Dask LocalCluster.

For each panel size (default 2M and 20M rows x 50 features, 2,000 assets per date):

1. a synthetic long panel is written to Parquet in chunks of ``--chunk-rows`` rows (never
   the whole panel in memory): float32 features (two carry a planted signal), a float32
   target ``std * (signal + t(4) noise)`` and a per-row std, one file per chunk, sorted
   by date; kept in ``--data-dir`` and reused by later runs;
2. **in memory, one process**: the panel is read with pandas, an ``xgb.QuantileDMatrix``
   (or a ``lightgbm.Dataset``) is built from the float32 features with the std attached,
   and ``czar_gbdt.xgboost.train`` (``czar_gbdt.lightgbm.train``) trains the loss;
3. **Dask, a LocalCluster of ``--workers`` worker processes** (1 thread each, the cores of
   this machine): the panel is read lazily and persisted on the workers, and
   ``czar_gbdt.dask.train_loss`` trains the same loss (starting score by distributed
   reductions, ``DaskQuantileDMatrix``, ``xgboost.dask.train``).

Each mode runs in a fresh subprocess, so that the peak resident memory (``ru_maxrss``) of
every process is its own: the single process; the Dask client and each worker. Timed:
reading (or persisting) the panel, and building the training matrix plus training
(``--rounds`` rounds, which includes the starting score); throughput is rows x rounds per
second of that second figure. Then, from the measured cost per row:

* the largest panel each set-up could train on this machine (``MemAvailable``), an
  extrapolation (``--probe ROWS`` trains one given size to check it);
* on paper, what a cluster of N machines would need for a 15M-row x 100-feature panel:
  rows and memory per worker, and the expected rounds per second.

Figures mean something only on an idle machine (``uptime``: load below 0.5).

Usage::

    python bench/dask.py [--rows 2000000 20000000] [--features 50] [--rounds 50] [--backend xgboost]
                         [--loss czar] [--workers 2] [--data-dir /tmp/czar_gbdt_bench] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import cpu_model, emit_report

# this file is bench/dask.py, and Python put its folder first on sys.path: move it last so that
# ``import dask`` finds the library, not this script (the worker processes, which import this
# module again, still find _common there)
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ASSETS = 2_000


# --------------------------------------------------------------------------- data
def write_panel(folder: Path, rows: int, features: int, chunk_rows: int, seed: int = 0) -> Path:
    """Write the synthetic panel as Parquet files of ``chunk_rows`` rows (whole dates), once."""
    done = folder / "_complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    n_dates = rows // ASSETS
    dates = pd.bdate_range("1990-01-01", periods=n_dates)
    per_chunk = max(1, chunk_rows // ASSETS)
    names = [f"f{i}" for i in range(features)]
    for k, start in enumerate(range(0, n_dates, per_chunk)):
        rng = np.random.default_rng([seed, k])
        d = dates[start : start + per_chunk]
        n = len(d) * ASSETS
        X = rng.standard_normal((n, features), dtype=np.float32)
        std = (0.01 * np.exp(0.3 * rng.standard_normal(n))).astype(np.float32)
        signal = 0.3 * np.tanh(X[:, 0]) + 0.2 * X[:, 1]
        frame = pd.DataFrame(X, columns=names)
        frame.insert(0, "asset", np.tile(np.arange(ASSETS, dtype=np.int32), len(d)))
        frame.insert(0, "date", np.repeat(d.values, ASSETS))
        frame["target"] = (std * (signal + rng.standard_t(4, n))).astype(np.float32)
        frame["std"] = std
        frame.to_parquet(folder / f"part{k:05d}.parquet", index=False)
    done.touch()
    return folder


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _mem_available_mb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


# --------------------------------------------------------------------------- the two modes (subprocesses)
def run_memory(args: argparse.Namespace) -> dict:
    import czar_gbdt as cg

    base = _peak_mb()
    t0 = time.perf_counter()
    frame = pd.read_parquet(args.path)
    features = [c for c in frame.columns if c.startswith("f")]
    X = frame[features].to_numpy(np.float32)
    y = frame["target"].to_numpy(np.float64)
    std = frame["std"].to_numpy(np.float64)
    del frame
    t_read = time.perf_counter() - t0
    loss = cg.get_loss(args.loss)
    t0 = time.perf_counter()
    if args.backend == "xgboost":
        import xgboost as xgb

        from czar_gbdt import xgboost as cx

        dtrain = cx.attach(xgb.QuantileDMatrix(X, y, max_bin=256), std=std)
        cx.train(
            {"max_depth": 6, "eta": 0.1, "nthread": os.cpu_count(), "tree_method": "hist"},
            dtrain,
            args.rounds,
            objective=loss,
        )
    else:
        from czar_gbdt import lightgbm as clx

        train_set = clx.Dataset(X, y, std=std, params={"max_bin": 255, "verbose": -1})
        clx.train(
            {"num_leaves": 63, "learning_rate": 0.1, "num_threads": os.cpu_count(), "verbose": -1},
            train_set,
            args.rounds,
            objective=loss,
        )
    t_train = time.perf_counter() - t0
    return {"read_s": t_read, "train_s": t_train, "peak_mb": {"process": _peak_mb()}, "base_mb": base}


def _worker_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_dask(args: argparse.Namespace) -> dict:
    import dask.dataframe as dd
    import distributed

    import czar_gbdt as cg
    from czar_gbdt import dask as cdask

    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            memory_limit=args.memory_limit,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(args.workers)
        base = client.run(_worker_peak)
        t0 = time.perf_counter()
        frame = dd.read_parquet(args.path)
        features = [c for c in frame.columns if c.startswith("f")]
        frame = client.persist(frame)
        distributed.wait(frame)
        t_read = time.perf_counter() - t0
        params = (
            {"max_depth": 6, "eta": 0.1, "max_bin": 256}
            if args.backend == "xgboost"
            else {"num_leaves": 63, "learning_rate": 0.1, "max_bin": 255}
        )
        t0 = time.perf_counter()
        cdask.train_loss(
            cg.get_loss(args.loss),
            frame[features],
            frame["target"].astype("float64"),
            std=frame["std"].astype("float64"),
            backend=args.backend,
            params=params,
            num_boost_round=args.rounds,
            client=client,
        )
        t_train = time.perf_counter() - t0
        peaks = client.run(_worker_peak)
    workers = {f"worker {i}": peaks[a] for i, a in enumerate(sorted(peaks))}
    return {
        "read_s": t_read,
        "train_s": t_train,
        "peak_mb": {"client": _peak_mb(), **workers},
        "base_mb": float(np.mean(list(base.values()))),
    }


def _subprocess(mode: str, path: Path, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--_mode",
        mode,
        "--_path",
        str(path),
        "--rounds",
        str(args.rounds),
        "--backend",
        args.backend,
        "--loss",
        args.loss,
        "--workers",
        str(args.workers),
        "--memory-limit",
        args.memory_limit,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- report
def _fmt_rows(n: float) -> str:
    return f"{n / 1e6:.0f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 20_000_000])
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--backend", choices=("xgboost", "lightgbm"), default="xgboost")
    ap.add_argument("--loss", default="czar")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="0", help="per Dask worker ('0': no limit, so that peaks are measured)")
    ap.add_argument("--chunk-rows", type=int, default=500_000)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/czar_gbdt_bench"))
    ap.add_argument("--probe", type=int, default=0, help="also train this many rows in each mode")
    ap.add_argument("--output", type=Path, default=None, help="also write the markdown report here")
    ap.add_argument("--_mode", help=argparse.SUPPRESS)
    ap.add_argument("--_path", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._mode:
        args.path = args._path
        result = run_memory(args) if args._mode == "memory" else run_dask(args)
        print(json.dumps(result))
        return 0

    sizes = list(args.rows) + ([args.probe] if args.probe else [])
    results = []
    for rows in sizes:
        folder = args.data_dir / f"panel_{rows}_{args.features}"
        t0 = time.perf_counter()
        write_panel(folder, rows, args.features, args.chunk_rows)
        print(
            f"{_fmt_rows(rows)} rows written in {time.perf_counter() - t0:.0f} s (or reused): {folder}", file=sys.stderr
        )
        for mode in ("memory", "dask"):
            res = _subprocess(mode, folder, args)
            res.update(rows=rows, mode=mode)
            results.append(res)
            print(json.dumps(res), file=sys.stderr)

    avail = _mem_available_mb()
    load = os.getloadavg()[0]
    lines = [
        f"Dask benchmark (`bench/dask.py`): {args.backend}, loss {args.loss}, {args.features} float32 features, "
        f"{ASSETS:,} assets per date, {args.rounds} rounds",
        "",
        f"- date: {_dt.date.today().isoformat()}; load average at the end {load:.2f}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; MemAvailable {avail / 1024:.1f} GiB",
        f"- python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; Dask: LocalCluster of "
        f"{args.workers} worker processes x 1 thread (memory_limit {args.memory_limit}); in memory: one process, "
        f"{os.cpu_count()} threads",
        "",
        "| rows | set-up | read/persist (s) | build + train (s) | rows x rounds / s | peak memory per process (MB) |",
        "|---:|---|---:|---:|---:|---|",
    ]
    runs: dict[str, list[tuple[int, float, float]]] = {"memory": [], "dask": []}  # (rows, total MB, rate)
    for r in results:
        label = "in memory, 1 process" if r["mode"] == "memory" else f"Dask, {args.workers} workers"
        if "error" in r:
            lines.append(f"| {_fmt_rows(r['rows'])} | {label} | failed: {r['error']} | | | |")
            continue
        rate = r["rows"] * args.rounds / r["train_s"]
        peaks = ", ".join(f"{k} {v:,.0f}" for k, v in r["peak_mb"].items())
        lines.append(
            f"| {_fmt_rows(r['rows'])} | {label} | {r['read_s']:.1f} | {r['train_s']:.1f} | "
            f"{rate / 1e6:.1f}M | {peaks} |"
        )
        total = sum(v for k, v in r["peak_mb"].items() if k != "client")  # the processes that hold rows
        runs[r["mode"]].append((r["rows"], total, rate))
    lines.append("")
    costs = {}
    for mode, found in runs.items():
        found.sort()
        if len(found) >= 2 and found[-1][0] > found[0][0]:
            (r0, m0, _), (r1, m1, _) = found[0], found[-1]
            slope = (m1 - m0) * 2**20 / (r1 - r0)  # bytes per row: the growth between the smallest and largest run
            costs[mode] = (slope, m0 - slope * r0 / 2**20)  # and the fixed MB
    if len(costs) == 2:
        (b_mem, f_mem), (b_dask, f_dask) = costs["memory"], costs["dask"]
        lines += [
            f"- Memory per row (peak growth between the smallest and the largest panel): in memory {b_mem:.0f} bytes; "
            f"on the cluster {b_dask:.0f} bytes summed over the workers ({b_dask / args.workers:.0f} per worker "
            f"and row of the panel); fixed cost {f_mem:,.0f} MB and {f_dask:,.0f} MB (all workers).",
            f"- Largest panel this machine could train (extrapolated from those costs and MemAvailable, "
            f"{args.features} features): in memory about {_fmt_rows((avail - f_mem) * 2**20 / b_mem)} rows; on the "
            f"{args.workers}-worker cluster about {_fmt_rows((avail - f_dask) * 2**20 / b_dask)} rows. Check one "
            "size with `--probe ROWS`.",
        ]
        per_worker = runs["dask"][-1][2] / args.workers
        cost_100 = b_dask * 100 / args.features  # features dominate the cost per row
        lines += [
            "",
            f"On paper, the 15M-row x 100-feature panel on N machines with {args.workers} cores each "
            f"({args.workers} workers per machine; the cost per row scaled to 100 features, "
            f"{cost_100:.0f} bytes; the rows x rounds / s of one worker on the largest panel, "
            f"{per_worker / 1e6:.1f}M, scaled by {args.features}/100 features):",
            "",
            "| machines | rows per worker | memory per worker | expected rounds / s |",
            "|---:|---:|---:|---:|",
        ]
        for machines in (1, 2, 4, 8, 16):
            workers = machines * args.workers
            rows_w = 15e6 / workers
            rate = per_worker * args.features / 100 / rows_w
            memory = rows_w * cost_100 / 2**30 + f_dask / args.workers / 1024
            lines.append(f"| {machines} | {_fmt_rows(rows_w)} | {memory:.1f} GiB | {rate:.2f} |")
        lines += [
            "",
            "(Rounds per second assume the workers' histograms are summed as cheaply as on one machine; "
            "across a network each round adds an allreduce of the histograms.)",
        ]
    emit_report(lines, "Dask benchmark (bench/dask.py)", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
