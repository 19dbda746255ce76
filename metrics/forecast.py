"""One weekly series' forecast: a small statsmodels state-space model, its period found in the data.

The model is statsmodels' `UnobservedComponents`: a local level (the team's load drifts
after a reorg or a hiring wave; a random-walk level follows it) plus regressors: one
sine/cosine pair at the period found in the data (`find_period`) and, when the team
serves another team's support requests, that demand `lag` weeks earlier. Future values
of a regressor come from the series itself: the sine/cosine are known, and demand not
yet observed (beyond the lag) repeats its value one period earlier (seasonal naive).
Intervals are the model's Gaussian prediction intervals. `seasonal_naive` is the
benchmark the backtest (`metrics.backtest`) measures it against, and the fallback.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.structural import UnobservedComponents
from statsmodels.tsa.stattools import acf
from statsmodels.tsa.tsatools import detrend

MAX_PERIOD = 26  # half a year: longer cycles need more history than teams keep
MIN_ACF = 0.2  # below this, a peak is noise: no seasonality
MIN_WEEKS = 8  # fewer known weeks: no model, seasonal naive (or last value) only
Z80 = float(norm.ppf(0.9))
Z95 = float(norm.ppf(0.975))
NAIVE = "seasonal naive"


@dataclass(frozen=True)
class Prediction:
    """Per step ahead (1..h): the expected value and the standard deviation of the error."""

    mean: np.ndarray
    sd: np.ndarray

    def interval(self, z: float) -> tuple[np.ndarray, np.ndarray]:
        return self.mean - z * self.sd, self.mean + z * self.sd


def find_period(values: np.ndarray, max_period: int = MAX_PERIOD) -> int | None:
    """The seasonal period in weeks: the lag where the autocorrelation of the linearly
    detrended series has its highest local peak, among 2..max_period and at most a third
    of the known weeks (so at least three cycles are seen); None when no peak reaches
    0.2 and 2.5 / sqrt(weeks) (white noise's autocorrelations stay below that bound).
    Missing weeks are left out (the series is taken as contiguous)."""
    y = np.asarray(values, np.float64)
    y = y[~np.isnan(y)]
    top = min(max_period, len(y) // 3)
    if top < 3 or np.ptp(y) == 0:
        return None
    r = acf(detrend(y, order=1), nlags=top + 1, fft=True)
    floor = max(MIN_ACF, 2.5 / np.sqrt(len(y)))
    peaks = [
        k for k in range(2, top + 1) if r[k] >= floor and r[k] >= r[k - 1] and r[k] >= r[k + 1]
    ]
    return max(peaks, key=lambda k: r[k]) if peaks else None


def lagged_demand(demand: np.ndarray, lag: int, known: int, total: int, period: int | None):
    """The demand regressor for steps 0..total-1: demand[t - lag], where demand is observed
    for t - lag < known; later steps repeat the value one period (or, without a period,
    one step) earlier; steps before the first observation take the observed mean."""
    seen = np.asarray(demand[:known], np.float64)
    step = period or 1
    out = np.empty(total)
    for t in range(total):
        k = t - lag
        while k >= known:
            k -= step
        out[t] = seen[k] if 0 <= k < known else (seen.mean() if known else 0.0)
    return out


def design(
    total: int, period: int | None, demand: np.ndarray | None, lag: int, known: int
) -> np.ndarray | None:
    """Regressor columns for steps 0..total-1 (None: no regressor)."""
    t = np.arange(total)
    columns = []
    if period:
        columns += [np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period)]
    if demand is not None:
        columns.append(lagged_demand(demand, lag, known, total, period))
    return np.column_stack(columns) if columns else None


def model_name(period: int | None, demand_of: str | None, lag: int) -> str:
    """What the model is made of, for readers: its level and the regressors it uses."""
    parts = ["local level"]
    if period:
        parts.append(f"{period}-week cycle")
    if demand_of:
        parts.append(f"{demand_of} demand at lag {lag}")
    return "state-space (" + " + ".join(parts) + ")"


def _model(y: np.ndarray, exog: np.ndarray | None) -> UnobservedComponents:
    return UnobservedComponents(y, level="local level", exog=exog)


def fit(y: np.ndarray, exog: np.ndarray | None, start: np.ndarray | None = None) -> Any:
    """The fitted model (statsmodels results) of `y` (NaN = missing week) on `exog`."""
    with warnings.catch_warnings():
        # Short team histories often stop the optimiser early; the fit is still usable
        # and the backtest says how good it is.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        return _model(y, exog).fit(disp=False, maxiter=60, start_params=start)


def refilter(result: Any, y: np.ndarray, exog: np.ndarray | None) -> Any:
    """The same parameters run over another stretch of the series (no re-estimation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _model(y, exog).filter(result.params)


def predict(result: Any, steps: int, exog: np.ndarray | None) -> Prediction:
    forecast = result.get_forecast(steps, exog=exog)
    mean = np.asarray(forecast.predicted_mean, np.float64)
    sd = np.sqrt(np.maximum(np.asarray(forecast.var_pred_mean, np.float64), 0.0))
    return Prediction(mean, sd)


def _last_known(y: np.ndarray, index: int) -> float:
    known = np.flatnonzero(~np.isnan(y[: index + 1]))
    return float(y[known[-1]]) if len(known) else float("nan")


def seasonal_naive(y: np.ndarray, steps: int, period: int | None) -> Prediction:
    """Each step ahead repeats the value one period before (the last value without a
    period; a missing value falls back to the latest known before it). The error's sd
    is that of the series' one-period differences times the square root of the number
    of periods the step reaches back (the usual seasonal-naive interval)."""
    y = np.asarray(y, np.float64)
    n, m = len(y), period or 1
    back = [n - 1 + h - m * math.ceil(h / m) for h in range(1, steps + 1)]
    mean = np.array([_last_known(y, k) if k >= 0 else float("nan") for k in back])
    diffs = y[m:] - y[:-m] if n > m else np.array([])
    diffs = diffs[~np.isnan(diffs)]
    sigma = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else float("nan")
    sd = sigma * np.sqrt([math.ceil(h / m) for h in range(1, steps + 1)])
    return Prediction(mean, sd)


def flood_drought_odds(
    prediction: Prediction, flood_at: float | None, drought_at: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """P(load >= flood_at) and P(load <= drought_at) per step, the error taken as Gaussian
    (a zero sd gives 0 or 1); None thresholds give NaN."""

    def odds(threshold: float | None, upper: bool) -> np.ndarray:
        if threshold is None:
            return np.full(len(prediction.mean), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (threshold - prediction.mean) / prediction.sd
        exact = np.where(upper, prediction.mean >= threshold, prediction.mean <= threshold).astype(
            np.float64
        )
        p = norm.sf(z) if upper else norm.cdf(z)
        return np.where(prediction.sd > 0, p, exact)

    return odds(flood_at, True), odds(drought_at, False)
