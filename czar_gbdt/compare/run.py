"""ZPTAE vs CZAR: the same booster on the same walk-forward folds, once per loss.

:func:`compare_losses` trains the config's booster (fixed parameters) once per entry of
``compare.losses``, on the folds of ``[splits]``:

- ``builtin``: the backend's own squared error (the baseline every custom loss must beat);
- any loss of :mod:`czar_gbdt.losses` with parameters, ``"czar:alpha=0.5"``;
- ``ranking``: the backend's learning-to-rank objective with each date as a query group
  and the target binned into quantile grades per date (``ranking:bins=10,objective=...``),
  the strongest built-in competitor when rank IC is the target;
- with ``compare.study`` (or ``study=``), CZAR with the best parameters of a tuning study;
- with ``compare.ensemble``, the rank-average of all the models above: per date, each
  model's predictions are ranked (percentiles) and the ranks averaged.

Each row of the table scores the concatenated test windows: mean Rank IC, ICIR and
t-stat (per date, as :mod:`czar_gbdt.metrics`), the same t-stat with Newey-West errors
(``horizon - 1`` lags: consecutive dates' h-day labels overlap), the per-fold spread, directional
accuracy, the top-k long-short spread before and after costs, and the mean CZAR (with
``compare.eval_alpha``, near 0 as the CZAR authors recommend for evaluation) and ZPTAE
losses. Directional accuracy and the losses compare each forecast with the test target
transformed like the training labels (``data.target_transform``): that is what the
models forecast. The ranking objective and the ensemble output scores, not return
forecasts: those three columns are NaN for them.

When a ranking objective is compared, every other row also gets its mean per-date Rank IC
difference to it, the Newey-West t-stat of that paired difference and a verdict
(``vs_ranking``: "beats it" only with t >= 2; "does NOT beat it" when the difference is
not positive), and :attr:`ComparisonResult.verdicts` spells out each CZAR model against
the ranking objective and the built-in squared error.

:func:`write_outputs` saves ``compare.csv``, ``compare_folds.csv``,
``compare_rank_ic.csv`` and three figures next to the study (``<runs_dir>/<name>/``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from .config import ConfigError, check_compare_spec, parse_loss_spec
from .datasets import Panel
from .evaluation import (
    RankObjective,
    WalkForwardResult,
    label_target,
    load_data,
    make_splitter,
)
from .losses import BaseLoss, get_loss
from .reporting import fixed_model, output_dir, run_walk_forward

__all__ = ["Member", "ComparisonResult", "compare_losses", "rank_average", "newey_west_t", "best_czar_params",
           "write_outputs",
           "print_comparison", "plot_fold_rank_ic", "plot_cumulative_rank_ic", "plot_table", "TABLE_COLUMNS"]

#: Columns of :attr:`ComparisonResult.table`, in order (``vs_ranking`` and friends only
#: when a ranking objective is compared).
TABLE_COLUMNS = ("loss", "mean_rank_ic", "icir", "t_stat", "t_stat_nw", "fold_rank_ic_std", "positive_folds", "fold_t",
                 "directional_accuracy", "top_k_spread", "top_k_net_spread", "top_k_turnover", "test_czar_loss",
                 "test_zptae_loss", "diff_vs_ranking", "t_vs_ranking", "folds_above_ranking", "vs_ranking",
                 "n_dates", "n_folds", "seconds")

#: Significance threshold of the verdicts (|t| of the paired per-date difference, Newey-West).
T_THRESHOLD = 2.0


@dataclass
class Member:
    """One compared model: its spec, display label and walk-forward result.

    ``kind`` is ``"forecast"`` (a return forecast: signs and losses are meaningful),
    ``"binary"`` (logits of a binary loss: signs only) or ``"score"`` (ranking objective,
    ensemble: only the order within a date is).
    """

    key: str
    label: str
    kind: str
    result: WalkForwardResult
    seconds: float = 0.0


@dataclass
class ComparisonResult:
    """What :func:`compare_losses` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, columns :data:`TABLE_COLUMNS`.
    folds : pandas.DataFrame
        Long per-fold table: ``loss``, ``fold``, test window, ``rank_ic`` and the other
        fold scores.
    per_date : pandas.DataFrame
        Per-date rank IC, one column per model (test dates as the index).
    verdicts : list of str
        One sentence per CZAR model against the ranking objective and the built-in
        squared error, with the paired Newey-West t-stat.
    members : list of Member
        The models, in table order (their predictions are in ``member.result``).
    settings : dict
        Backend, booster parameters, evaluation losses, top_k, cost, study.
    files : list of str
        Files written by :func:`write_outputs`.
    """

    table: pd.DataFrame
    folds: pd.DataFrame
    per_date: pd.DataFrame
    verdicts: list
    members: list = field(repr=False)
    settings: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


# --------------------------------------------------------------------------
# models to compare
# --------------------------------------------------------------------------


def _label(loss: BaseLoss) -> str:
    """``CZAR(alpha=0.5, epsilon=1, tau=0.05)``: parameters with 3 significant digits."""
    args = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in loss.params.items())
    extra = "" if loss.derivatives == "reference" else f", derivatives={loss.derivatives!r}"
    return f"{type(loss).__name__}({args}{extra})"


def _make_model(name: str, params: dict) -> BaseLoss | RankObjective | None:
    if name == "builtin":
        return None
    if name == "ranking":
        return RankObjective(str(params.get("objective", "")), int(params.get("bins", 5)))
    return get_loss(name, **params)


def best_czar_params(ref: str | Path, key: str = "compare.study") -> tuple[dict, str]:
    """The CZAR parameters of the best CZAR trial of a tuning study.

    Parameters
    ----------
    ref : str or Path
        ``best_params.json`` written by ``czar-gbdt tune`` (its best trial must be a
        CZAR trial), or the study's TOML config: then the study is opened read-only from
        its storage and the best *completed CZAR* trial is taken (a study that also
        searched other losses may have a better non-CZAR trial).
    key : str
        The option or config key named in errors.

    Returns
    -------
    params : dict
        CZAR parameters (``alpha``, ``epsilon``, ``tau`` as tuned or fixed in the study).
    source : str
        ``"study <name>, trial <n>"``.

    Raises
    ------
    ConfigError
        If the file or the study does not exist, or holds no completed CZAR trial.
    """
    path = Path(ref)
    if not path.is_file():
        raise ConfigError(f"{key}: {str(ref)!r} is not a file (give best_params.json or the study's TOML config).")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
            best = data["best_params"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{key}: {str(ref)!r} is not a best_params.json written by `czar-gbdt tune`.") from None
        if best.get("loss") != "czar":
            raise ConfigError(f"{key}: the best trial in {str(ref)!r} used loss {best.get('loss')!r}, not czar; "
                              "give the study's TOML config to take its best CZAR trial.")
        return dict(best.get("loss_params", {})), f"study {data.get('study', path.stem)}, trial {data.get('best_trial')}"
    if path.suffix == ".toml":
        return _best_czar_trial(path, key)
    raise ConfigError(f"{key}: {str(ref)!r} must be a .json (best_params.json) or a .toml study config.")


def _best_czar_trial(path: Path, key: str) -> tuple[dict, str]:
    import optuna

    from .config import load_config
    from .tuning import fixed_params, storage_url

    study_cfg = load_config(path)
    url = storage_url(study_cfg)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise ConfigError(f"{key}: the study of {str(path)!r} has no storage yet ({url}): run "
                          f"`czar-gbdt tune --config {path}` first.")
    name = study_cfg["study"]["name"]
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except KeyError:
        raise ConfigError(f"{key}: no study named {name!r} in {url}: run `czar-gbdt tune --config {path}` "
                          "first.") from None
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    for trial in sorted(done, key=lambda t: t.value, reverse=True):
        params = fixed_params(trial, study_cfg)
        if params["loss"] == "czar":
            return dict(params["loss_params"]), f"study {name}, trial {trial.number}"
    raise ConfigError(f"{key}: study {name!r} has no completed CZAR trial.")


def _specs(cfg: dict, specs: list[str] | None, study: str | None) -> list[tuple[str, str, dict, str]]:
    """``(key, name, params, label)`` per model, the tuned CZAR last."""
    backend, _ = fixed_model(cfg)
    given = specs if specs is not None else cfg["compare"]["losses"]
    if not given:
        raise ConfigError("compare.losses: nothing to compare; give at least one loss spec.")
    out = []
    for i, spec in enumerate(given):
        key = f"compare.losses[{i}]" if specs is None else f"--loss {spec!r}"
        name, params = parse_loss_spec(spec, key)
        check_compare_spec(name, params, key, [backend])
        model = _make_model(name, params)
        if model is None:
            label = f"{backend} built-in squared error"
        elif isinstance(model, RankObjective):
            label = model.label(backend)
        else:
            label = _label(model)
        out.append((spec, name, params, label))
    ref = cfg["compare"]["study"] if study is None else study
    if ref:
        key = "compare.study" if study is None else "--study"
        params, source = best_czar_params(ref, key)
        check_compare_spec("czar", params, key)
        out.append(("study", "czar", params, f"{_label(get_loss('czar', **params))}, tuned ({source})"))
    labels = [o[3] for o in out]
    dup = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
    if dup:
        raise ConfigError(f"compare.losses: the same model is listed twice: {dup}.")
    return out


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------


def rank_average(predictions: list[np.ndarray], dates: Any) -> np.ndarray:
    """Per date, rank each model's predictions (percentiles, ties averaged) and average them.

    Parameters
    ----------
    predictions : list of ndarray of shape (n_samples,)
        Predictions of several models on the same rows.
    dates : array-like of shape (n_samples,)
        Date of each row.

    Returns
    -------
    ndarray of shape (n_samples,)
        The mean percentile rank, in (0, 1].
    """
    if not predictions:
        raise ValueError("predictions is empty: nothing to average.")
    dates = np.asarray(dates)
    ranks = []
    for i, p in enumerate(predictions):
        p = np.asarray(p, dtype=np.float64)
        if p.shape != dates.shape:
            raise ValueError(f"predictions[{i}] has shape {p.shape} but dates has shape {dates.shape}.")
        ranks.append(pd.Series(p).groupby(dates).rank(method="average", pct=True).to_numpy())
    return np.mean(ranks, axis=0)


def _forecast_scorer(transform: str, czar_eval: BaseLoss, zptae_eval: BaseLoss, kind: str) -> Callable:
    """``score_extra`` of :func:`walk_forward`: losses and directional accuracy in label space."""

    def score(test: Panel, pred: np.ndarray) -> dict:
        nan = math.nan
        if kind == "score":
            return {"n_rows": len(test), "test_czar_loss": nan, "test_zptae_loss": nan, "label_direction": nan}
        y, std = label_target(test, transform)
        if kind == "binary":  # logits: the sign is a forecast of the direction, the scale is not a return
            return {"n_rows": len(test), "test_czar_loss": nan, "test_zptae_loss": nan,
                    "label_direction": metrics.directional_accuracy(y, pred)}
        return {"n_rows": len(test),
                "test_czar_loss": czar_eval(y, pred, std=std),
                "test_zptae_loss": zptae_eval(y, pred, std=std),
                "label_direction": metrics.directional_accuracy(y, pred)}

    return score


def _weighted(folds: pd.DataFrame, col: str, weight: str) -> float:
    if col not in folds:
        return math.nan
    v, w = folds[col].to_numpy(dtype=np.float64), folds[weight].to_numpy(dtype=np.float64)
    ok = np.isfinite(v)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else math.nan


def _t(x: np.ndarray) -> float:
    """mean / std (ddof=1) * sqrt(n) of the finite values; NaN with < 2 values or no spread."""
    x = x[np.isfinite(x)]
    sd = x.std(ddof=1) if len(x) > 1 else 0.0
    return float(x.mean() / sd * math.sqrt(len(x))) if sd > 0 else math.nan


def newey_west_t(x: Any, lags: int) -> float:
    """t-stat of the mean of a series with Newey-West (Bartlett) standard errors.

    Per-date rank ICs of an h-day label are autocorrelated (consecutive dates share h-1
    of their return days), so ``mean / std * sqrt(n)`` overstates the evidence;
    ``lags = h - 1`` accounts for the overlap. ``lags = 0`` gives the plain t-stat
    (with the population variance).

    Parameters
    ----------
    x : array-like of shape (n,)
        The series (NaN values are dropped).
    lags : int
        Autocovariance lags, >= 0.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no variance.
    """
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 0:
        raise ValueError(f"lags must be an integer >= 0; got {lags!r}.")
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return math.nan
    u = x - x.mean()
    var = u @ u / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - lag / (lags + 1.0)) * (u[lag:] @ u[:-lag]) / n
    return float(x.mean() / math.sqrt(var / n)) if var > 0 else math.nan


def _row(member: Member, lags: int) -> dict:
    r, f = member.result, member.result.folds
    fold_ic = f["rank_ic"].to_numpy(dtype=np.float64)
    top_w = "top_k_dates" if "top_k_dates" in f else "n_dates"
    return {
        "loss": member.label,
        "mean_rank_ic": r.mean_rank_ic, "icir": r.icir, "t_stat": r.t_stat,
        "t_stat_nw": newey_west_t(r.per_date.to_numpy(), lags),
        "fold_rank_ic_std": float(np.nanstd(fold_ic, ddof=1)) if len(fold_ic) > 1 else math.nan,
        "positive_folds": int((fold_ic > 0).sum()), "fold_t": _t(fold_ic),
        "directional_accuracy": _weighted(f, "label_direction", "n_rows"),
        "top_k_spread": _weighted(f, "top_k_spread", top_w),
        "top_k_net_spread": _weighted(f, "top_k_net_spread", top_w),
        "top_k_turnover": _weighted(f, "top_k_turnover", top_w),
        "test_czar_loss": _weighted(f, "test_czar_loss", "n_rows"),
        "test_zptae_loss": _weighted(f, "test_zptae_loss", "n_rows"),
        "n_dates": int(r.per_date.notna().sum()), "n_folds": len(f), "seconds": member.seconds,
    }


def _versus(member: Member, other: Member, lags: int) -> tuple[float, float, int]:
    """Mean per-date rank IC difference, its Newey-West t-stat, and the folds where ``member`` is higher."""
    a, b = member.result.per_date, other.result.per_date
    if not a.index.equals(b.index):
        raise ValueError("the two models were scored on different test dates; they cannot be paired.")
    d = a.to_numpy(dtype=np.float64) - b.to_numpy(dtype=np.float64)
    higher = int((member.result.folds["rank_ic"].to_numpy() > other.result.folds["rank_ic"].to_numpy()).sum())
    return float(np.nanmean(d)), newey_west_t(d, lags), higher


def _word(diff: float, t: float) -> str:
    if not math.isfinite(diff):
        return "n/a"
    if diff > 0 and t >= T_THRESHOLD:
        return "beats it"
    if diff > 0:
        return f"higher, not significant (|t| < {T_THRESHOLD:g})"
    if t <= -T_THRESHOLD:
        return "does NOT beat it (significantly lower)"
    return "does NOT beat it"


def _verdicts(members: list[Member], lags: int) -> list[str]:
    refs = [m for m in members if m.key.startswith("ranking")] + [m for m in members if m.key == "builtin"]
    out = []
    for m in members:
        if not (m.key == "study" or m.key.split(":")[0] == "czar"):
            continue
        for ref in refs:
            diff, t, higher = _versus(m, ref, lags)
            out.append(f"{m.label} vs {ref.label}: mean Rank IC {m.result.mean_rank_ic:.4f} vs "
                       f"{ref.result.mean_rank_ic:.4f}, difference {diff:+.4f} (paired t {t:+.2f}, Newey-West "
                       f"{lags} lags; "
                       f"higher in {higher} of {len(m.result.folds)} folds): {_word(diff, t)}.")
    return out


def _table(members: list[Member], lags: int) -> pd.DataFrame:
    rows = [_row(m, lags) for m in members]
    ranking = next((m for m in members if m.key.startswith("ranking")), None)
    for m, row in zip(members, rows):
        if ranking is None:
            continue
        if m is ranking:
            row.update(diff_vs_ranking=0.0, t_vs_ranking=math.nan, folds_above_ranking=0,
                       vs_ranking="(reference)")
            continue
        diff, t, higher = _versus(m, ranking, lags)
        row.update(diff_vs_ranking=diff, t_vs_ranking=t, folds_above_ranking=higher, vs_ranking=_word(diff, t))
    table = pd.DataFrame(rows)
    return table[[c for c in TABLE_COLUMNS if c in table]]


# --------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------


def compare_losses(cfg: dict, specs: list[str] | None = None, *, study: str | None = None, write: bool = True,
                   progress: Callable[[str], None] | None = None) -> ComparisonResult:
    """Train the config's booster once per loss on the same walk-forward folds and compare.

    Parameters
    ----------
    cfg : dict
        A validated configuration (:func:`czar_gbdt.config.load_config`) with fixed
        ``model.backend`` and ``model.params``; ``[compare]`` lists the losses.
    specs : list of str, optional
        Loss specs replacing ``compare.losses`` (``"czar:alpha=0.5"``, ``"builtin"``,
        ``"ranking:bins=10"`` ...).
    study : str, optional
        Replaces ``compare.study``: ``best_params.json`` or a study's TOML config whose
        best CZAR parameters are added as one more model.
    write : bool, default=True
        Write the CSV files and PNG figures next to the study (:func:`write_outputs`).
    progress : callable, optional
        Called with one line per trained model (the CLI prints it to stderr).

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ConfigError
        For a search space where a fixed value is needed, a bad loss spec or study.
    """
    backend, booster = fixed_model(cfg)
    models = _specs(cfg, specs, study)
    c = cfg["compare"]
    czar_eval, zptae_eval = get_loss("czar", alpha=float(c["eval_alpha"])), get_loss("zptae")
    panel = load_data(cfg)
    splitter = make_splitter(cfg)
    transform = cfg["data"]["target_transform"]
    members: list[Member] = []
    n_total = len(models) + (1 if c["ensemble"] and len(models) > 1 else 0)
    for i, (key, name, params, label) in enumerate(models):
        model = _make_model(name, params)
        kind = ("score" if isinstance(model, RankObjective)
                else "binary" if model is not None and model.kind == "binary" else "forecast")
        start = time.perf_counter()
        result = run_walk_forward(cfg, panel, splitter, model, top_k=c["top_k"], cost=c["cost"],
                                  score_extra=_forecast_scorer(transform, czar_eval, zptae_eval, kind))
        members.append(Member(key, label, kind, result, time.perf_counter() - start))
        if progress is not None:
            progress(f"[{i + 1}/{n_total}] {label}: mean Rank IC {result.mean_rank_ic:.4f} "
                     f"({members[-1].seconds:.0f} s)")
    if n_total > len(models):
        members.append(_ensemble(cfg, panel, splitter, members, czar_eval, zptae_eval))
        if progress is not None:
            progress(f"[{n_total}/{n_total}] {members[-1].label}: mean Rank IC "
                     f"{members[-1].result.mean_rank_ic:.4f}")
    lags = cfg["data"]["horizon"] - 1  # overlapping h-day labels
    result = ComparisonResult(
        table=_table(members, lags), folds=_fold_table(members), per_date=_per_date(members),
        verdicts=_verdicts(members, lags), members=members,
        settings={"backend": backend, "booster": booster, "num_boost_round": cfg["model"]["num_boost_round"],
                  "target_transform": transform, "top_k": c["top_k"], "cost": c["cost"],
                  "czar_eval": repr(czar_eval), "zptae_eval": repr(zptae_eval),
                  "data": cfg["data"]["source"], "horizon": cfg["data"]["horizon"], "newey_west_lags": lags})
    if write:
        write_outputs(result, output_dir(cfg))
    return result


def _ensemble(cfg: dict, panel: Panel, splitter, members: list[Member], czar_eval: BaseLoss,
              zptae_eval: BaseLoss) -> Member:
    """The rank average of the members' test predictions, scored fold by fold like a model."""
    start = time.perf_counter()

    def predict(i: int, train: Panel, test: Panel, valid: Panel | None) -> tuple[np.ndarray, int]:
        return rank_average([m.result.fold_predictions[i] for m in members], test.dates), 0

    transform = cfg["data"]["target_transform"]
    c = cfg["compare"]
    result = run_walk_forward(cfg, panel, splitter, None, top_k=c["top_k"], cost=c["cost"], predict=predict,
                              score_extra=_forecast_scorer(transform, czar_eval, zptae_eval, "score"))
    return Member("ensemble", f"rank-average ensemble of the {len(members)} models above", "score", result,
                  time.perf_counter() - start)


def _fold_table(members: list[Member]) -> pd.DataFrame:
    frames = []
    for m in members:
        f = m.result.folds.copy()
        f.insert(0, "loss", m.label)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _per_date(members: list[Member]) -> pd.DataFrame:
    """Per-date rank IC per model; a date in two overlapping test windows keeps its mean."""
    cols = {m.label: m.result.per_date.groupby(level=0).mean() for m in members}
    frame = pd.DataFrame(cols)
    frame.index.name = "date"
    return frame


# --------------------------------------------------------------------------
# figures and files
# --------------------------------------------------------------------------


def _axes(ax, figsize: tuple[float, float]):
    """``ax`` or a new Agg-backed figure's axes (no pyplot: works in scripts and notebooks)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _legend(ax) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)


def plot_fold_rank_ic(result: ComparisonResult, ax=None):
    """Mean Rank IC of each test fold, one line per model; returns the figure."""
    fig, ax = _axes(ax, (10, 5.5))
    folds = result.folds
    for label, f in folds.groupby("loss", sort=False):
        x = pd.to_datetime(f["test_start"])
        ax.plot(x, f["rank_ic"], marker="o", lw=1.2, ms=4, label=label,
                ls="--" if label.startswith("rank-average") else "-")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("test window start")
    ax.set_ylabel("mean Rank IC in the fold")
    ax.set_title("Rank IC per walk-forward fold")
    _legend(ax)
    ax.grid(alpha=0.3)
    return fig


def plot_cumulative_rank_ic(result: ComparisonResult, ax=None):
    """Cumulative sum of the per-date Rank IC over the test dates, one line per model."""
    fig, ax = _axes(ax, (10, 5.5))
    for label in result.per_date:
        s = result.per_date[label].fillna(0.0).cumsum()
        ax.plot(s.index, s.to_numpy(), lw=1.2, label=label, ls="--" if label.startswith("rank-average") else "-")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("test date")
    ax.set_ylabel("cumulative Rank IC")
    ax.set_title("Cumulative Rank IC over the test dates")
    _legend(ax)
    ax.grid(alpha=0.3)
    return fig


#: Columns shown in the printed table and the table figure, with their headers.
SHOWN = {"loss": "loss", "mean_rank_ic": "Rank IC", "icir": "ICIR", "t_stat": "t", "t_stat_nw": "t (NW)",
         "fold_rank_ic_std": "fold sd",
         "positive_folds": "folds > 0", "directional_accuracy": "dir. acc.", "top_k_net_spread": "top-k net",
         "test_czar_loss": "CZAR loss", "test_zptae_loss": "ZPTAE loss", "vs_ranking": "vs ranking"}


def _formatted(table: pd.DataFrame) -> pd.DataFrame:
    out = table[[c for c in SHOWN if c in table]].copy()
    for col in out:
        if col in ("loss", "vs_ranking"):
            continue
        if col == "positive_folds":
            out[col] = [f"{p}/{n}" for p, n in zip(table["positive_folds"], table["n_folds"])]
        elif col == "top_k_net_spread":
            out[col] = [f"{v * 1e4:.1f} bp" if np.isfinite(v) else "n/a" for v in table[col]]
        else:
            digits = 2 if col in ("t_stat", "t_stat_nw") else 4
            out[col] = [f"{v:.{digits}f}" if np.isfinite(v) else "n/a" for v in table[col]]
    return out.rename(columns=SHOWN)


def plot_table(result: ComparisonResult):
    """The comparison table as a figure (for the PNG next to the CSV)."""
    from matplotlib.figure import Figure

    shown = _formatted(result.table)
    fig = Figure(figsize=(16, 0.3 * (len(shown) + 1) + 0.5))
    ax = fig.add_subplot()
    ax.axis("off")
    tab = ax.table(cellText=shown.to_numpy(), colLabels=list(shown.columns), loc="center", cellLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7.5)
    tab.auto_set_column_width(list(range(shown.shape[1])))
    for (r, c), cell in tab.get_celld().items():
        if c == 0:
            cell.set_text_props(ha="left")
        if r == 0:
            cell.set_text_props(weight="bold")
    s = result.settings
    ax.set_title(f"{s.get('backend')} on {s.get('data')}: top-k net of {s.get('cost')} per unit turnover, "
                 f"losses {s.get('czar_eval')}, {s.get('zptae_eval')}", fontsize=8)
    return fig


def write_outputs(result: ComparisonResult, out: str | Path) -> list[str]:
    """Write the tables (CSV) and figures (PNG) into ``out``; returns and records the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "compare.csv": lambda p: result.table.to_csv(p, index=False),
        "compare_folds.csv": lambda p: result.folds.to_csv(p, index=False),
        "compare_rank_ic.csv": lambda p: result.per_date.to_csv(p),
        "compare_table.png": lambda p: plot_table(result).savefig(p, dpi=120, bbox_inches="tight"),
        "compare_fold_rank_ic.png": lambda p: plot_fold_rank_ic(result).savefig(p, dpi=120, bbox_inches="tight"),
        "compare_cumulative_rank_ic.png": lambda p: plot_cumulative_rank_ic(result).savefig(p, dpi=120, bbox_inches="tight"),
    }
    written = []
    for name, save in files.items():
        save(out / name)
        written.append(str(out / name))
    result.files = written
    return written


def print_comparison(result: ComparisonResult, fmt: str = "table") -> None:
    """Print the table, the verdicts and the files written (or all of it as JSON)."""
    if fmt == "json":
        data = {"table": json.loads(result.table.to_json(orient="records")), "verdicts": result.verdicts,
                "settings": result.settings, "files": result.files}
        print(json.dumps(data, indent=2, default=str))
        return
    print(_formatted(result.table).to_string(index=False))
    s = result.settings
    print(f"\n{s['backend']}, {s['num_boost_round']} rounds, labels {s['target_transform']}; "
          f"{int(result.table['n_dates'].iloc[0])} test dates in {int(result.table['n_folds'].iloc[0])} folds. "
          f"Rank IC t = ICIR * sqrt(dates), t (NW) with Newey-West errors ({s['newey_west_lags']} lags: "
          f"overlapping labels); 'vs ranking' from the paired per-date difference (NW t, |t| >= {T_THRESHOLD:g} "
          f"to count); dir. acc. and losses against the {s['target_transform']} target "
          f"({s['czar_eval']}, {s['zptae_eval']}); top-k: k = {s['top_k']}, cost {s['cost']} per unit turnover.")
    for v in result.verdicts:
        print(v)
    for f in result.files:
        print(f"  wrote {f}")
