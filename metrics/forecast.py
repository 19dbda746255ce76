"""One weekly series' forecast: a small statsmodels state-space model, its period found in the data.

The model is statsmodels' `UnobservedComponents`: a level (the team's load drifts
after a reorg or a hiring wave; a random-walk level follows it; on a steady team a
constant level, when the AICc prefers it, keeps a few weeks' noise out of the forecast)
plus regressors: the
harmonics of the period found in the data (`find_period`), sine/cosine pairs at 1, 2, ...
cycles per period, as many as the corrected Akaike criterion (AICc) asks for (a load
cycle need not be a sine); and, when the team serves another team's support requests,
that demand leads its load by at least `MIN_LAG` weeks and it lowers the AICc further,
the demand `lag` weeks earlier. Future values of a regressor: the harmonics are known; demand not yet observed
(beyond the lag) is the demand's own cycle (its mean and first harmonic fitted on the
weeks seen), not one noisy week of it. Intervals are the model's Gaussian prediction
intervals. `seasonal_naive` is the benchmark the backtest (`metrics.backtest`) measures
it against, and the fallback.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

# statsmodels and scipy.stats are imported where a model is fitted: together they take
# 1.5 s to import, which every command and page that reads these names paid, forecast
# or not.

MAX_PERIOD = 26  # half a year: longer cycles need more history than teams keep
MIN_ACF = 0.2  # below this, a peak is noise: no seasonality
MIN_WEEKS = 8  # fewer known weeks: no model, seasonal naive (or last value) only
# Demand in the same week as the load tells nothing about a week not yet begun: every
# future value would be a guess (the backtest showed one noisy week as a guess made the
# forecast worse), so the demand enters the model only when it leads by a week or more.
MIN_LAG = 1
WEEKS_PER_PARAMETER = 3  # a harmonic is added only while the fit keeps 3 weeks per parameter
Z80 = 1.2815515655446004  # the standard normal's 90% quantile: scipy.stats.norm.ppf(0.9)
Z95 = 1.959963984540054  # and its 97.5% quantile
NAIVE = "seasonal naive"
RANDOM_WALK = "local level"
CONSTANT = "deterministic constant"
LEVELS = (RANDOM_WALK, CONSTANT)  # in `fit_harmonics`' order: a tie keeps the random walk


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
    from statsmodels.tsa.stattools import acf
    from statsmodels.tsa.tsatools import detrend

    r = acf(detrend(y, order=1), nlags=top + 1, fft=True)
    floor = max(MIN_ACF, 2.5 / np.sqrt(len(y)))
    peaks = [
        k for k in range(2, top + 1) if r[k] >= floor and r[k] >= r[k - 1] and r[k] >= r[k + 1]
    ]
    return max(peaks, key=lambda k: r[k]) if peaks else None


def harmonic_columns(total: int, period: int, harmonics: int) -> list[np.ndarray]:
    """sin and cos of 2 pi k t / period for k = 1..harmonics, t = 0..total-1 (the sine
    at k = period / 2 is zero at whole weeks and is left out)."""
    t = np.arange(total)
    columns = []
    for k in range(1, harmonics + 1):
        angle = 2 * np.pi * k * t / period
        if 2 * k != period:
            columns.append(np.sin(angle))
        columns.append(np.cos(angle))
    return columns


def demand_cycle(seen: np.ndarray, weeks: np.ndarray, period: int | None) -> np.ndarray:
    """The demand's own cycle at week indices `weeks`: its mean and first harmonic at
    `period`, fitted (least squares) on the `seen` weeks 0..len(seen)-1; without a
    period, or with fewer weeks seen than a period, its mean."""
    weeks = np.asarray(weeks, np.float64)
    if not len(seen):
        return np.zeros(len(weeks))
    if not period or len(seen) < period:
        return np.full(len(weeks), float(np.mean(seen)))

    def basis(t: np.ndarray) -> np.ndarray:
        angle = 2 * np.pi * t / period
        return np.column_stack([np.ones(len(t)), np.sin(angle), np.cos(angle)])

    beta = np.linalg.lstsq(basis(np.arange(len(seen), dtype=np.float64)), seen, rcond=None)[0]
    return basis(weeks) @ beta


def lagged_demand(
    demand: np.ndarray, lag: int, known: int, total: int, period: int | None
) -> np.ndarray:
    """The demand regressor for steps 0..total-1: demand[t - lag] where it is observed
    (0 <= t - lag < known); the other steps take the demand's own cycle
    (`demand_cycle`, fitted on the weeks observed)."""
    seen = np.asarray(demand[:known], np.float64)
    source = np.arange(total) - lag
    out = demand_cycle(seen, source, period)
    observed = (source >= 0) & (source < known)
    out[observed] = seen[source[observed]]
    return out


def design(
    total: int,
    period: int | None,
    harmonics: int,
    demand: np.ndarray | None,
    lag: int,
    known: int,
) -> np.ndarray | None:
    """Regressor columns for steps 0..total-1 (None: no regressor)."""
    columns = harmonic_columns(total, period, harmonics) if period else []
    if demand is not None:
        columns.append(lagged_demand(demand, lag, known, total, period))
    return np.column_stack(columns) if columns else None


def model_name(
    period: int | None,
    harmonics: int,
    demand_of: str | None,
    lag: int,
    level: str = RANDOM_WALK,
) -> str:
    """What the model is made of, for readers: its level and the regressors it uses."""
    parts = ["local level" if level == RANDOM_WALK else "constant level"]
    if period and harmonics:
        shape = f" ({harmonics} harmonics)" if harmonics > 1 else ""
        parts.append(f"{period}-week cycle{shape}")
    if demand_of:
        parts.append(f"{demand_of} demand at lag {lag}")
    return "state-space (" + " + ".join(parts) + ")"


def _model(y: np.ndarray, exog: np.ndarray | None, level: str) -> UnobservedComponents:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    return UnobservedComponents(y, level=level, exog=exog)


def fit(
    y: np.ndarray,
    exog: np.ndarray | None,
    start: np.ndarray | None = None,
    level: str = RANDOM_WALK,
) -> Any:
    """The fitted model (statsmodels results) of `y` (NaN = missing week) on `exog`, with
    a random-walk or a constant `level`."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Short team histories often stop the optimiser early; the fit is still usable
        # and the backtest says how good it is.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        return _model(y, exog, level).fit(disp=False, maxiter=60, start_params=start)


@dataclass(frozen=True)
class Fitted:
    """A fitted model (statsmodels results), the harmonics of the period it uses, whether
    the demand regressor is in it and its level (`LEVELS`)."""

    result: Any
    harmonics: int
    demand: bool = False
    level: str = RANDOM_WALK


def fit_harmonics(
    y: np.ndarray, period: int | None, demand: np.ndarray | None = None, lag: int = 0
) -> Fitted:
    """The fit of `y` with the lowest AICc: of a random-walk and a constant level (a few
    weeks of a steady team's noise cannot tell them apart; the random walk then follows
    that noise into the forecast), each with the harmonics of `period` (`_harmonics`).
    Then the demand regressor, if any, is kept only if it lowers the AICc further: demand
    shares the load's cycle, so its correlation with the load says little about what it
    adds to the harmonics."""
    known = int(np.sum(~np.isnan(y)))
    best = min((_harmonics(y, period, level) for level in LEVELS), key=lambda f: f.result.aicc)
    if demand is not None:
        exog = design(len(y), period, best.harmonics, demand, lag, len(y))
        assert exog is not None
        if _parameters(best.level, exog) * WEEKS_PER_PARAMETER <= known:
            result = fit(y, exog, level=best.level)
            if result.aicc < best.result.aicc:
                best = Fitted(result, best.harmonics, demand=True, level=best.level)
    return best


def _harmonics(y: np.ndarray, period: int | None, level: str) -> Fitted:
    """The fit with `level` on 1, 2, ... harmonics of `period` with the lowest AICc: a
    harmonic is added while the AICc falls and the fit keeps `WEEKS_PER_PARAMETER` known
    weeks per parameter (`_parameters`); without a period, no harmonics."""
    known = int(np.sum(~np.isnan(y)))
    top = period // 2 if period else 0
    best: Fitted | None = None
    for harmonics in range(1 if top else 0, top + 1):
        exog = design(len(y), period, harmonics, None, 0, len(y))
        if best is not None and _parameters(level, exog) * WEEKS_PER_PARAMETER > known:
            break
        result = fit(y, exog, level=level)
        if best is not None and not result.aicc < best.result.aicc:
            break
        best = Fitted(result, harmonics, level=level)
    assert best is not None  # the loop runs at least once
    return best


def _parameters(level: str, exog: np.ndarray | None) -> int:
    """The parameters a fit estimates: the noise's variance, the random walk's (a constant
    level has none), and one coefficient per regressor column."""
    return (2 if level == RANDOM_WALK else 1) + (0 if exog is None else exog.shape[1])


def refilter(fitted: Fitted, y: np.ndarray, exog: np.ndarray | None) -> Any:
    """The same model and parameters run over another stretch of the series (no
    re-estimation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _model(y, exog, fitted.level).filter(fitted.result.params)


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

    from scipy.stats import norm

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
