"""Synthetic data for tests and examples: a panel with a planted rank IC, a wide table of returns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .panel import Panel

__all__ = ["expected_rank_ic", "make_synthetic_panel", "make_synthetic_returns"]


def expected_rank_ic(rho: float, n_assets: int) -> float:
    """Return the expected per-date Spearman correlation of ``n_assets`` bivariate-normal pairs.

    Moran's (1948) exact formula for a sample of size n from a bivariate
    normal with correlation rho::

        E[r_s] = 6 / (pi * (n + 1)) * (arcsin(rho) + (n - 2) * arcsin(rho / 2))

    Parameters
    ----------
    rho : float
        Pearson correlation in [-1, 1].
    n_assets : int
        Assets per date, >= 2.

    Returns
    -------
    float
        Expected per-date rank IC.
    """
    n = n_assets
    return 6.0 / (math.pi * (n + 1)) * (math.asin(rho) + (n - 2) * math.asin(rho / 2.0))


def _rho_for_rank_ic(signal_ic: float, n_assets: int) -> float:
    lo, hi = -1.0, 1.0
    for _ in range(200):  # bisection: expected_rank_ic is increasing in rho
        mid = 0.5 * (lo + hi)
        if expected_rank_ic(mid, n_assets) < signal_ic:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def make_synthetic_panel(
    n_dates: int = 250,
    n_assets: int = 50,
    n_features: int = 10,
    signal_ic: float = 0.05,
    *,
    n_informative: int | None = None,
    vol: float = 0.02,
    vol_dispersion: float = 0.0,
    start: str = "2000-01-03",
    seed: int | None = 0,
) -> Panel:
    """Synthetic panel with a planted signal of known rank IC, for fast tests.

    Features are i.i.d. standard normal. The signal is a fixed random linear
    combination of the first ``n_informative`` features, scaled to unit
    variance: ``s = X[:, :n_informative] @ beta``. The z-scored target is
    ``z = rho * s + sqrt(1 - rho**2) * noise`` with ``rho`` chosen so that the
    *expected per-date* Spearman correlation between ``s`` and ``z`` over
    ``n_assets`` assets equals ``signal_ic`` (Moran's formula, see
    :func:`expected_rank_ic`). The target is ``y = std * z``.

    Parameters
    ----------
    n_dates : int, default=250
        Business days from ``start``.
    n_assets : int, default=50
        Assets per date (all present every date), >= 2.
    n_features : int, default=10
        Feature columns ``f0 .. f{n_features-1}``.
    signal_ic : float, default=0.05
        Planted expected rank IC, in (-1, 1).
    n_informative : int, default=None
        Features carrying the signal (1 <= n_informative <= n_features);
        ``None`` means ``min(3, n_features)``.
    vol : float, default=0.02
        Typical per-row target scale (``std``).
    vol_dispersion : float, default=0.0
        Standard deviation of ``log(std)`` across rows. With 0 every row has
        ``std = vol`` and the rank IC of ``y`` is the planted one; with more,
        the planted rank IC holds for ``y / std`` (the z-scored target the
        CZAR/ZPTAE losses see) and the raw ``y`` rank IC is lower.
    start : str, default="2000-01-03"
        First date.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    Panel
        With ``std`` set, ``mean`` and ``weight`` None, and ``info`` holding
        ``signal`` (the oracle prediction), ``rho``, ``beta``,
        ``signal_ic`` and ``seed``.

    Raises
    ------
    ValueError
        If a size or ``signal_ic`` is out of range.
    """
    for name, v, lo in (("n_dates", n_dates, 1), ("n_assets", n_assets, 2), ("n_features", n_features, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}.")
    if n_informative is None:
        n_informative = min(3, int(n_features))
    if (
        isinstance(n_informative, bool)
        or not isinstance(n_informative, (int, np.integer))
        or not (1 <= n_informative <= n_features)
    ):
        raise ValueError(f"n_informative must be an integer in [1, n_features={n_features}]; got {n_informative!r}.")
    if not (isinstance(signal_ic, (int, float, np.floating)) and -1 < signal_ic < 1):
        raise ValueError(f"signal_ic must be in (-1, 1); got {signal_ic!r}.")
    if not (np.isfinite(vol) and vol > 0):
        raise ValueError(f"vol must be finite and > 0; got {vol!r}.")
    if not (np.isfinite(vol_dispersion) and vol_dispersion >= 0):
        raise ValueError(f"vol_dispersion must be finite and >= 0; got {vol_dispersion!r}.")
    rng = np.random.default_rng(seed)
    n = n_dates * n_assets
    X = rng.standard_normal((n, n_features))
    beta = rng.standard_normal(n_informative)
    beta /= np.linalg.norm(beta)
    signal = X[:, :n_informative] @ beta
    rho = _rho_for_rank_ic(float(signal_ic), n_assets)
    z = rho * signal + math.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    std = vol * np.exp(vol_dispersion * rng.standard_normal(n)) if vol_dispersion > 0 else np.full(n, vol)
    y = std * z
    dates = np.repeat(pd.bdate_range(start, periods=n_dates).values, n_assets)
    assets = np.tile(np.array([f"A{i:04d}" for i in range(n_assets)], dtype=object), n_dates)
    feats = pd.DataFrame(X, columns=[f"f{j}" for j in range(n_features)])
    info = {
        "source": "make_synthetic_panel",
        "signal": signal,
        "rho": rho,
        "beta": beta,
        "signal_ic": float(signal_ic),
        "seed": seed,
    }
    return Panel.from_arrays(feats, y, dates, assets, std=std, info=info)


def make_synthetic_returns(
    n_dates: int = 500,
    n_assets: int = 20,
    *,
    momentum: float = 0.1,
    vol: float = 0.015,
    late_listing: int = 0,
    delisting: int = 0,
    start: str = "2015-01-02",
    seed: int | None = 0,
) -> pd.DataFrame:
    """A wide table of daily simple returns with a little momentum, for examples and tests.

    Each asset's return is ``beta * market + vol_i * noise``, plus ``momentum`` times its
    own standardised return over the previous 5 days (a signal the features of
    :func:`czar_gbdt.features.build_features` can find). Optionally the first
    ``late_listing`` assets list a third of the way through (NaN before) and the last
    ``delisting`` assets delist two thirds of the way through (NaN after).

    Parameters
    ----------
    n_dates, n_assets : int
        Business days from ``start``, and assets (``A00``, ``A01`` ...).
    momentum : float, default=0.1
        Strength of the planted signal.
    vol : float, default=0.015
        Typical daily volatility.
    late_listing, delisting : int, default=0
        Assets that list late and that delist early.
    start : str, default="2015-01-02"
        First date.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame of shape (n_dates, n_assets)
        Decimal returns, a DatetimeIndex named ``"date"``, columns named ``"asset"``.
    """
    for name, v, lo in (("n_dates", n_dates, 10), ("n_assets", n_assets, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}.")
    if not 0 <= late_listing + delisting <= n_assets:
        raise ValueError(
            f"late_listing + delisting must be in [0, n_assets={n_assets}]; got {late_listing} + {delisting}."
        )
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.6 * vol, n_dates)
    beta = rng.uniform(0.5, 1.5, n_assets)
    scale = vol * rng.uniform(0.6, 1.6, n_assets)
    noise = rng.standard_normal((n_dates, n_assets))
    r = np.empty((n_dates, n_assets))
    for t in range(n_dates):
        past = noise[max(0, t - 5) : t].sum(axis=0) / math.sqrt(5) if t else 0.0
        r[t] = beta * market[t] + scale * (noise[t] + momentum * past)
    r = np.maximum(r, -0.5)
    if late_listing:
        r[: n_dates // 3, :late_listing] = np.nan
    if delisting:
        r[2 * n_dates // 3 :, n_assets - delisting :] = np.nan
    return pd.DataFrame(
        r,
        index=pd.bdate_range(start, periods=n_dates, name="date"),
        columns=pd.Index([f"A{i:02d}" for i in range(n_assets)], name="asset"),
    )
