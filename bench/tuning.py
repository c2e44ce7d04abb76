"""Tuner throughput: trials per minute of the main-job config, where a trial's time goes, and 2 workers vs 1.

Part 1 runs ``configs/ff49_czar.toml`` (the README's main job) as ``czar-gbdt tune`` would,
on its default SQLite storage in a temporary runs folder, and reports trials per minute of
wall time. The first run in a fresh process pays the data load (cached afterwards) and, on
a fresh clone, numba's compilation; both are reported separately.

``--split`` (part 1b) runs a study of the main job and one on a 36-asset synthetic panel
(``make_synthetic_returns``, the main job's config otherwise, ``--synthetic-dates`` dates)
with timers around the stages of a trial, and prints the median over the trials of each
stage's seconds per trial: boosting (LightGBM's ``Booster.update`` less the objective),
objective (the loss's gradients), starting score (``constant_minimiser``), dataset
construction (building and binning the Datasets, and the dataset cache's key),
scoring (predicting and scoring the test windows) and optuna/storage (the rest of the
trial's wall time: sampling, pruning, the SQLite writes, the fold bookkeeping), then the
ratio of trial time to boosting + objective. The first study of the process (2 trials)
is a warm-up and is not counted. Run it on an older checkout (copy this file into its
``bench/``) for a before/after in one machine state.

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
    python bench/tuning.py --split --trials 12       # the time split of a trial, main job and 36 assets
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
STAGES = ("boosting", "objective", "starting score", "dataset construction", "scoring", "optuna/storage")


class StageTimer:
    """Seconds spent in each stage of the current trial, from wrappers installed around the
    functions of each stage (patched on their modules; nested calls are counted once)."""

    def __init__(self):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.depth = dict.fromkeys(STAGES, 0)

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # an older checkout without this function
            return

        def timed(*args, **kwargs):
            self.depth[stage] += 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.depth[stage] -= 1
                if not self.depth[stage]:
                    self.seconds[stage] += time.perf_counter() - t0

        setattr(owner, name, timed)

    def reset(self) -> dict:
        out, self.seconds = self.seconds, dict.fromkeys(STAGES, 0.0)
        return out


def install_timers() -> StageTimer:
    """Timers around LightGBM's boosting, the objective, the starting score, the Datasets and scoring."""
    import lightgbm as lgb

    from czar_gbdt import _adapters as ad
    from czar_gbdt import evaluation
    from czar_gbdt import lightgbm as clx
    from czar_gbdt._adapters import core, training

    timer = StageTimer()
    timer.wrap(lgb.Booster, "update", "boosting")  # includes the objective: subtracted below
    timer.wrap(clx.LGBObjective, "__call__", "objective")
    timer.wrap(core, "constant_minimiser", "starting score")
    timer.wrap(lgb.Dataset, "construct", "dataset construction")
    timer.wrap(clx, "Dataset", "dataset construction")
    timer.wrap(ad, "digest", "dataset construction")  # the cache's key in older checkouts
    timer.wrap(training, "digest", "dataset construction")
    content_key = getattr(ad, "ContentKey", None)  # the cache's key now: its hash and its comparisons
    if content_key is not None:
        timer.wrap(content_key, "__init__", "dataset construction")
        timer.wrap(content_key, "__eq__", "dataset construction")
    timer.wrap(evaluation.engine, "score_predictions", "scoring")  # where score_folds looks it up
    timer.wrap(clx.TrainedModel, "predict", "scoring")
    return timer


def synthetic_source(n_dates: int, n_assets: int = 36) -> str:
    """A CSV of a synthetic wide returns table (the main job's data shape, ``n_assets`` assets)."""
    from czar_gbdt.datasets import make_synthetic_returns

    path = Path(tempfile.mkdtemp(prefix="czar_bench_panel_")) / f"synthetic_{n_assets}.csv"
    make_synthetic_returns(n_dates, n_assets, seed=7).to_csv(path)
    return str(path)


def split_run(cfg: dict, timer: StageTimer, trials: int, label: str) -> None:
    """One study of ``trials`` trials with the stage timers; prints the medians over the trials."""
    cfg = copy.deepcopy(cfg)
    cfg["study"]["name"] = f"bench_{uuid.uuid4().hex[:8]}"
    rows: list[dict] = []
    last = [time.perf_counter()]

    def on_trial(study, trial) -> None:
        now = time.perf_counter()
        row = timer.reset()
        row["trial"] = now - last[0]
        row["boosting"] -= row["objective"]
        row["optuna/storage"] = row["trial"] - sum(row[s] for s in STAGES if s != "optuna/storage")
        rows.append(row)
        last[0] = now

    original = optuna.Study.optimize

    def optimize(self, func, *args, **kwargs):
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), on_trial]
        return original(self, func, *args, **kwargs)

    optuna.Study.optimize = optimize
    timer.reset()
    t0 = time.perf_counter()
    last[0] = t0
    try:
        tuning.tune(cfg, workers=1, n_trials=trials, show_progress=False)
    finally:
        optuna.Study.optimize = original
    wall = time.perf_counter() - t0
    med = {k: statistics.median(r[k] for r in rows) for k in (*STAGES, "trial")}
    fit = med["boosting"] + med["objective"]
    print(f"{label}: {len(rows)} trials in {wall:.1f} s; median seconds per trial:")
    print("| stage | s/trial (median) | share |")
    print("|---|---:|---:|")
    for stage in STAGES:
        print(f"| {stage} | {med[stage]:.3f} | {100 * med[stage] / med['trial']:.1f}% |")
    print(f"| trial | {med['trial']:.3f} | 100% |")
    ratios = [r["trial"] / (r["boosting"] + r["objective"]) for r in rows]
    totals = sum(r["trial"] for r in rows) / sum(r["boosting"] + r["objective"] for r in rows)
    print(
        f"trial / (boosting + objective): {totals:.2f}x of the totals (the issue's measure), "
        f"{med['trial'] / fit:.2f}x of the medians, median of the per-trial ratios {statistics.median(ratios):.2f}x"
    )


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
    ap.add_argument(
        "--storage",
        default=os.environ.get("CZAR_GBDT_PG_URL"),
        help="PostgreSQL URL for part 2 (default $CZAR_GBDT_PG_URL)",
    )
    ap.add_argument("--threads", type=int, default=1, help="booster threads per worker in part 2")
    ap.add_argument("--skip-main", action="store_true", help="skip part 1 (the main job on SQLite)")
    ap.add_argument("--split", action="store_true", help="part 1b only: the time split of a trial")
    ap.add_argument("--synthetic-dates", type=int, default=2000, help="dates of the 36-asset panel of --split")
    args = ap.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    base = load_config(args.config)
    trials = args.trials or base["study"]["n_trials"]
    runs = Path(tempfile.mkdtemp(prefix="czar_bench_tuning_"))
    base["study"]["runs_dir"] = str(runs)
    print(
        f"# bench/tuning.py  {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
        f"python {platform.python_version()}, optuna {optuna.__version__}"
    )
    print(
        f"config {Path(args.config).name}: {trials} trials per run, {args.repeats} repeats, "
        f"backend {base['model']['backend']}, {base['model']['num_boost_round']} rounds, "
        f"{base['splits']['max_splits']} folds"
    )

    t0 = time.perf_counter()
    panel = load_data(base)
    print(f"data load + features (first call, cached after): {time.perf_counter() - t0:.2f} s ({len(panel.y):,} rows)")

    if args.split:
        timer = install_timers()
        split_run(base, timer, 2, "warm-up")
        split_run(base, timer, trials, f"main job ({Path(args.config).name}, {len(panel.y):,} rows)")
        synth = copy.deepcopy(base)
        synth["data"]["source"] = synthetic_source(args.synthetic_dates)
        synth["data"]["start"] = ""
        split_run(
            synth,
            timer,
            trials,
            f"36-asset synthetic panel ({args.synthetic_dates} dates, {len(load_data(synth).y):,} rows)",
        )
        return 0

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
    print(
        f"PostgreSQL {trials} trials: 1 worker {60 * trials / m1:.1f} trials/min, 2 workers "
        f"{60 * trials / m2:.1f} trials/min; 2 workers / 1 worker throughput = {m1 / m2:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
