"""Tuner throughput: trials per minute of the main-job config, and 2 workers vs 1 on PostgreSQL.

Part 1 runs ``configs/ff49_czar.toml`` (the README's main job) as ``czar-gbdt tune`` would,
on its default SQLite storage in a temporary runs folder, and reports trials per minute of
wall time. The first run in a fresh process pays the data load (cached afterwards) and, on
a fresh clone, numba's compilation; both are reported separately.

Part 2 needs a PostgreSQL URL (``--storage`` or ``$CZAR_GBDT_PG_URL``; ``eval
"$(.ci/postgres.sh)"`` starts one on loopback). It runs the same number of trials with
1 worker and with 2 workers, each on a fresh study, and reports the throughput ratio.
The sides alternate (1, 2, 1, 2, ...) and each figure is the median of ``--repeats``
runs. With ``num_threads = 2`` in the config each worker already uses both cores, so the
config's thread count is set to ``--threads`` (default 1) for this part: the question
is whether two single-threaded workers on one study scale.

Usage::

    python bench/tuning.py                         # part 1 (+ part 2 if CZAR_GBDT_PG_URL is set)
    python bench/tuning.py --trials 8 --repeats 3 --storage postgresql+psycopg2://...
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from czar_gbdt import tuning  # noqa: E402
from czar_gbdt.config import load_config  # noqa: E402
from czar_gbdt.evaluation import load_data  # noqa: E402

FINISHED = tuning.FINISHED


def run_once(cfg: dict, *, trials: int, workers: int, storage: str | None) -> tuple[float, dict]:
    """Wall seconds for a fresh study of ``trials`` trials, and the count of each state."""
    cfg = copy.deepcopy(cfg)
    cfg["study"]["name"] = f"bench_{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    study = tuning.tune(cfg, storage=storage, workers=workers, n_trials=trials, show_progress=False)
    wall = time.perf_counter() - t0
    states: dict = {}
    for t in study.get_trials(deepcopy=False):
        states[t.state.name] = states.get(t.state.name, 0) + 1
    if storage:
        optuna.delete_study(study_name=cfg["study"]["name"], storage=storage)
    return wall, states


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "ff49_czar.toml"))
    ap.add_argument("--trials", type=int, default=None, help="trials per run (default: the config's n_trials)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--storage", default=os.environ.get("CZAR_GBDT_PG_URL"),
                    help="PostgreSQL URL for part 2 (default $CZAR_GBDT_PG_URL)")
    ap.add_argument("--threads", type=int, default=1, help="booster threads per worker in part 2")
    ap.add_argument("--skip-main", action="store_true", help="skip part 1 (the main job on SQLite)")
    args = ap.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    base = load_config(args.config)
    trials = args.trials or base["study"]["n_trials"]
    runs = Path(tempfile.mkdtemp(prefix="czar_bench_tuning_"))
    base["study"]["runs_dir"] = str(runs)
    print(f"# bench/tuning.py  {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"python {platform.python_version()}, optuna {optuna.__version__}")
    print(f"config {Path(args.config).name}: {trials} trials per run, {args.repeats} repeats, "
          f"backend {base['model']['backend']}, {base['model']['num_boost_round']} rounds, "
          f"{base['splits']['max_splits']} folds")

    t0 = time.perf_counter()
    panel = load_data(base)
    print(f"data load + features (first call, cached after): {time.perf_counter() - t0:.2f} s "
          f"({len(panel.y):,} rows)")

    # part 1: the main job as shipped (SQLite, one process, the config's threads)
    walls = []
    for i in range(0 if args.skip_main else args.repeats + 1):
        wall, states = run_once(base, trials=trials, workers=1, storage=None)
        label = "warm-up (numba compile/cache load)" if i == 0 else f"run {i}"
        print(f"  main job, SQLite, 1 worker, {label}: {wall:.1f} s  {states}")
        if i:
            walls.append(wall)
    if walls:
        med = statistics.median(walls)
        print(f"main job: median {med:.1f} s for {trials} trials = {60 * trials / med:.1f} trials/min")

    if not args.storage:
        print("part 2 skipped: no PostgreSQL URL (--storage or CZAR_GBDT_PG_URL)")
        return 0
    cfg = copy.deepcopy(base)
    cfg["model"]["params"]["num_threads"] = args.threads
    cfg["study"]["pruner"] = "none"  # the same amount of work per trial on both sides
    run_once(cfg, trials=2, workers=1, storage=args.storage)  # warm-up
    times: dict = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            wall, states = run_once(cfg, trials=trials, workers=workers, storage=args.storage)
            times[workers].append(wall)
            print(f"  PostgreSQL, {workers} worker(s), {args.threads} thread(s) each: {wall:.1f} s  {states}")
    m1, m2 = statistics.median(times[1]), statistics.median(times[2])
    print(f"PostgreSQL {trials} trials: 1 worker {60 * trials / m1:.1f} trials/min, 2 workers "
          f"{60 * trials / m2:.1f} trials/min; 2 workers / 1 worker throughput = {m1 / m2:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
