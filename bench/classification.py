"""Class imbalance: logistic, class-weighted logistic, focal, asymmetric and the soft-F1 composite.

The setting: a gate classifier with 10-20% positives, judged on precision first, and on
whether it keeps predicting positives at all (success: a predicted-positive rate within
10-30%, no collapse to all-negative).

Data: :func:`czar_gbdt.datasets.make_synthetic_panel` (i.i.d. normal features, a planted
linear signal with the given per-date rank IC on the z-scored target). The label is
``gate = z > Phi^-1(1 - positive_rate)``: the rows whose move exceeds a fixed threshold
(about ``positive_rate`` of them, varying by date). Walk-forward folds by date
(:class:`czar_gbdt.model_selection.WalkForward`, expanding train window, gap = horizon =
1). Every loss trains the same xgboost model (hist, fixed rounds, no early stopping) through
``czar_gbdt.xgboost.train``, starting from its own constant minimiser.

Two decision rules, on the same model:

* ``sigmoid(margin) > 0.5`` (the argmax over two classes);
* a threshold chosen on a validation slice: the last ``--valid-dates`` dates of each
  training window (after a gap of one date; the model is trained on the dates before it)
  are scored, and :func:`czar_gbdt.classification.select_threshold` picks the threshold
  by ``--criterion`` (default ``f1``; ``break_even``: as many predicted positives as the
  slice has positives) among those whose predicted-positive rate on the slice is within
  ``--rate``. No test row is used. The default ``--rate 0.12 0.28`` is the 10-30% success
  band (``--band``) narrowed by 2 points on each side: the validation and test rates are rates
  of two different windows (4,000 rows each at 40 dates x 100 assets), whose difference has
  a standard deviation of about 1 point at 30% (``sqrt(2 * 0.3 * 0.7 / 4000)``), so a
  threshold picked at a band's edge would leave the band on about half the folds.

"In band" counts the folds whose *test* predicted-positive rate lies in ``--band``.

Precision, recall and F1 use a rule; PR-AUC (average precision) does not depend on a
threshold. Precision of a fold without predicted positives counts as 0.

Rows: logistic, class-weighted logistic, focal, asymmetric and the soft-F1 composite
(with a fixed positive-class weight, and with the balanced weight ``n_neg/n_pos``), plus
two built from them: logistic with PnL weights (``pnl_weights(z)``: ``max(z, 0) + 1``,
mean 1) and a schedule (cross-entropy -> composite: metric weight 0.3, 0.5 from 30% of
the rounds, 0.7 from 80%).

Usage::

    python bench/classification.py                      # 600 dates x 100 assets, 5 folds
    python bench/classification.py --dates 400 --test-dates 40 --valid-dates 40 --signal-ic 0.15
    python bench/classification.py --seeds 0 1 2 --output /tmp/table.md
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, precision_recall_fscore_support

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xgboost as xgb  # noqa: E402

import czar_gbdt as cg  # noqa: E402
from czar_gbdt import xgboost as cx  # noqa: E402
from czar_gbdt.classification import select_threshold  # noqa: E402
from czar_gbdt.datasets import make_synthetic_panel  # noqa: E402
from czar_gbdt.model_selection import WalkForward  # noqa: E402

# a fixed positive-class weight (positives : negatives), chosen before this benchmark and not fitted to its data
POS_WEIGHT = 1.382


def models(y_train: np.ndarray, z_train: np.ndarray, rounds: int) -> list[tuple[str, object, np.ndarray | None]]:
    """``(label, loss, sample weights)`` of every compared objective for one training fold."""
    composite = cg.SoftF1Composite(alpha=0.5, beta=0.5, g=3.0, pos_weight=POS_WEIGHT)
    schedule = cg.ScheduledLoss(
        cg.SoftF1Composite(alpha=0.0, beta=1.0, pos_weight=POS_WEIGHT),  # the weighted CE alone
        cg.SoftF1Composite(alpha=1.0, beta=0.0, g=3.0),  # the metric part alone
        cg.steps([int(0.3 * rounds), int(0.8 * rounds)], [0.3, 0.5, 0.7]),
    )
    balanced = cg.balanced_pos_weight(y_train)
    return [
        ("logistic", cg.LogisticLoss(), None),
        ("class-weighted logistic (pos_weight = n_neg/n_pos)", cg.LogisticLoss(pos_weight=balanced), None),
        ("focal (gamma=2, alpha=0.25)", cg.FocalLoss(), None),
        ("asymmetric (gamma_pos=0, gamma_neg=4, clip=0)", cg.AsymmetricLoss(), None),
        (f"soft-F1 composite (alpha=beta=0.5, g=3, pos_weight={POS_WEIGHT})", composite, None),
        ("soft-F1 composite, pos_weight = n_neg/n_pos", composite.with_params(pos_weight=balanced), None),
        ("logistic, PnL weights max(z,0)+1", cg.LogisticLoss(), cg.pnl_weights(z_train)),
        ("schedule CE -> composite, metric weight 0.3/0.5/0.7", schedule, None),
    ]


def scores(y: np.ndarray, margin: np.ndarray, threshold: float) -> dict[str, float]:
    """Scores at ``sigmoid(margin) > 0.5`` (margin > 0) and at ``margin > threshold``."""
    out = {"pr_auc": average_precision_score(y, margin)}
    for key, cut in (("", 0.0), ("v_", threshold)):
        pred = (margin > cut).astype(int)
        precision, recall, f1, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
        out.update({key + "precision": precision, key + "recall": recall, key + "f1": f1, key + "rate": pred.mean()})
    return out


def run(args: argparse.Namespace) -> tuple[dict, dict]:
    threshold = float(norm.ppf(1.0 - args.positive_rate))
    params = {
        "tree_method": "hist",
        "max_depth": args.depth,
        "eta": args.eta,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 1.0,
        "nthread": args.threads,
        "seed": 0,
    }
    results: dict[str, list[dict]] = {}
    info = {"folds": 0, "positive_rates": [], "train_rows": [], "test_rows": []}
    for seed in args.seeds:
        panel = make_synthetic_panel(args.dates, args.assets, args.features, args.signal_ic, seed=seed)
        X = panel.X.to_numpy(np.float32)
        z = panel.y / panel.std
        y = (z > threshold).astype(np.float64)
        info["positive_rates"].append(float(y.mean()))
        info.setdefault("balanced", [])
        cv = WalkForward(horizon=1, test_size=args.test_dates, max_splits=args.folds, valid_size=args.valid_dates)
        for fold in cv.split_with_validation(groups=np.asarray(panel.dates)):
            train, valid, test = fold.train, fold.valid, fold.test
            info["folds"] += 1
            info["train_rows"].append(len(train))
            info["test_rows"].append(len(test))
            dvalid, dtest = xgb.DMatrix(X[valid]), xgb.DMatrix(X[test])
            info["balanced"].append(cg.balanced_pos_weight(y[train]))
            for label, loss, weight in models(y[train], z[train], args.rounds):
                dtrain = cx.DMatrix(X[train], y[train], weight=weight)
                booster = cx.train(params, dtrain, args.rounds, objective=loss)
                margin_v = booster.predict(dvalid, output_margin=True).astype(np.float64)
                threshold = select_threshold(y[valid], margin_v, criterion=args.criterion, rate=tuple(args.rate))
                margin = booster.predict(dtest, output_margin=True).astype(np.float64)
                results.setdefault(label, []).append(scores(y[test], margin, threshold))
                results[label][-1]["valid_rate"] = float((margin_v > threshold).mean())
                print(
                    f"seed {seed} fold {info['folds']} {label[:40]:40s} "
                    + " ".join(f"{k}={v:.3f}" for k, v in results[label][-1].items()),
                    flush=True,
                )
    return results, info


def table(results: dict, info: dict, args: argparse.Namespace, seconds: float) -> str:
    def cell(values: list[float], pct: bool = False) -> str:
        a = np.asarray(values) * (100 if pct else 1)
        fmt = "{:.1f}" if pct else "{:.3f}"
        return f"{fmt.format(a.mean())} ± {fmt.format(a.std())}"

    low, high = args.band
    pos = np.asarray(info["positive_rates"]) * 100
    lines = [
        f"Class imbalance on a synthetic panel: {args.dates} dates x {args.assets} assets, {args.features} "
        f"features (3 informative), planted rank IC {args.signal_ic}, label `z > {norm.ppf(1 - args.positive_rate):.3f}` "
        f"({pos.mean():.1f}% positives); {info['folds']} walk-forward folds "
        f"({len(args.seeds)} panel seed(s) x {args.folds}), test windows of {args.test_dates} dates, "
        f"validation slices of {args.valid_dates} dates at the end of each training window, "
        f"train {min(info['train_rows']):,}-{max(info['train_rows']):,} rows.",
        "",
        f"xgboost hist, depth {args.depth}, eta {args.eta}, {args.rounds} rounds, subsample/colsample 0.8. "
        "Rules: sigmoid(margin) > 0.5, and the threshold chosen on the validation slice by "
        f"`select_threshold(criterion={args.criterion!r}, rate=({args.rate[0]:g}, {args.rate[1]:g}))`. "
        "Mean ± standard deviation "
        f"over folds; 'in band' counts the folds whose test predicted-positive rate lies in [{low:.0%}, {high:.0%}]. "
        f"Balanced pos_weight (n_neg/n_pos of the training fold): {min(info['balanced']):.2f}-"
        f"{max(info['balanced']):.2f}.",
        "",
        "| loss | PR-AUC | F1 at 0.5 | positive % at 0.5 | in band at 0.5 | precision (val. threshold) | "
        "recall (val. threshold) | F1 (val. threshold) | positive % (val. threshold) | in band (val. threshold) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, rows in results.items():

        def band(key):
            return f"{sum(low - 1e-12 <= r[key] <= high + 1e-12 for r in rows)}/{len(rows)}"

        lines.append(
            f"| {label} | {cell([r['pr_auc'] for r in rows])} | {cell([r['f1'] for r in rows])} | "
            f"{cell([r['rate'] for r in rows], pct=True)} | {band('rate')} | "
            f"{cell([r['v_precision'] for r in rows])} | {cell([r['v_recall'] for r in rows])} | "
            f"{cell([r['v_f1'] for r in rows])} | {cell([r['v_rate'] for r in rows], pct=True)} | {band('v_rate')} |"
        )
    lines += [
        "",
        f"- date: {date.today().isoformat()}; {os.cpu_count()} logical cores, python "
        f"{platform.python_version()}, xgboost {xgb.__version__}, czar_gbdt {cg.__version__}; total {seconds:.0f} s",
        f"- command: `python bench/classification.py {' '.join(sys.argv[1:])}`".rstrip(),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dates", type=int, default=600)
    ap.add_argument("--assets", type=int, default=100)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--signal-ic", type=float, default=0.15)
    ap.add_argument("--positive-rate", type=float, default=0.15, help="expected share of positives (label threshold)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--test-dates", type=int, default=60)
    ap.add_argument(
        "--valid-dates",
        type=int,
        default=40,
        help="dates of the validation slice that chooses the threshold (end of each training window)",
    )
    ap.add_argument(
        "--criterion",
        default="f1",
        choices=["break_even", "f1", "precision_first"],
        help="select_threshold criterion on the validation slice",
    )
    ap.add_argument(
        "--rate",
        type=float,
        nargs=2,
        default=[0.12, 0.28],
        metavar=("LOW", "HIGH"),
        help="allowed predicted-positive rates on the validation slice",
    )
    ap.add_argument(
        "--band",
        type=float,
        nargs=2,
        default=[0.10, 0.30],
        metavar=("LOW", "HIGH"),
        help="success band of the test predicted-positive rate (default 10-30%%)",
    )
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--eta", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--output", type=Path, default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)
    if not 0 < args.positive_rate < 1 or not math.isfinite(args.positive_rate):
        ap.error(f"--positive-rate must be in (0, 1); got {args.positive_rate}")
    t0 = time.perf_counter()
    results, info = run(args)
    text = table(results, info, args, time.perf_counter() - t0)
    print()
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
