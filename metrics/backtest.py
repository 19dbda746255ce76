"""Rolling-origin backtest of the load forecast: how good it was, week by week, against seasonal naive.

From each of the last `origins` weeks (origin o: weeks 0..o-1 are known) the model and
seasonal naive forecast 1..H weeks ahead, and each forecast is compared with what
happened. The period and the demand's lead (found by the caller), the number of harmonics
and whether the demand is kept (`forecast.fit_harmonics`), and the model's parameters are
chosen once, on the weeks before the first origin (nothing after it leaks in); from each origin the model is re-run over
the weeks known then with those parameters (a Kalman filter pass, not a new fit), so
the demand regressor and the level use only what was known at the origin.

Per horizon h: `mase` = the model's mean absolute error / seasonal naive's, over the
same origins and weeks (below 1: the model beats naive), `coverage_80` = the share of
outcomes inside the model's 80% interval, `naive_coverage_80` the same for naive's
interval, `n` = the forecasts compared.

The model's intervals are calibrated: the state-space model's own standard deviation
assumes the model is right, and on loads that follow people's lanes and a demand cycle
it is not quite. So each origin's intervals multiply the model's standard deviations by
the factor that puts 80% of the errors already checked by then (of the forecasts from
earlier origins) inside them (`calibration`; 1 until `MIN_ERRORS` are known): the
coverage reported is that of the calibrated intervals, out of sample. The forecast
shown uses `final_scale`, from every error of the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics import forecast as fc

ORIGINS = 26
HORIZONS = 12
MIN_TRAIN = 16  # weeks before the first origin (fewer origins when history is short)
SHORT = 4  # horizons 1..SHORT: the near term the page and the report lean on
MIN_ERRORS = 10  # fewer errors seen: no calibration (scale 1)


@dataclass(frozen=True)
class Backtest:
    origins: int
    mase: np.ndarray  # per horizon 1..H; NaN where nothing was compared
    coverage_80: np.ndarray
    naive_coverage_80: np.ndarray
    n: np.ndarray
    harmonics: int = 0  # of the period, chosen on the weeks before the first origin
    final_scale: float = 1.0  # the model's sd factor for the forecast shown (`calibration`)

    @property
    def mase_mean(self) -> float | None:
        known = self.mase[~np.isnan(self.mase)]
        return float(known.mean()) if len(known) else None

    @property
    def beats_naive(self) -> bool:
        """The rule for showing the model: its MASE averaged over the horizons is below 1."""
        mean = self.mase_mean
        return mean is not None and mean < 1.0

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "horizon": h + 1,
                "mase": _num(self.mase[h]),
                "coverage_80": _num(self.coverage_80[h]),
                "naive_coverage_80": _num(self.naive_coverage_80[h]),
                "n": int(self.n[h]),
            }
            for h in range(len(self.mase))
        ]


def _num(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def empty(horizons: int = HORIZONS) -> Backtest:
    nan = np.full(horizons, np.nan)
    return Backtest(0, nan, nan, nan, np.zeros(horizons, np.int64))


def first_origin(n: int, origins: int = ORIGINS) -> int:
    """The first origin of a backtest over a series of n weeks."""
    return max(n - origins, MIN_TRAIN)


def backtest(
    y: np.ndarray,
    demand: np.ndarray | None,
    lag: int,
    period: int | None,
    *,
    origins: int = ORIGINS,
    horizons: int = HORIZONS,
) -> Backtest:
    """The backtest of one series (NaN = no load that week) with its demand regressor;
    `period`, and `lag` when there is a demand regressor, must be found on the weeks
    before `first_origin` only."""
    y = np.asarray(y, np.float64)
    n = len(y)
    first = first_origin(n, origins)
    if first >= n or np.sum(~np.isnan(y[:first])) < fc.MIN_WEEKS:
        return empty(horizons)
    fitted = fc.fit_harmonics(y[:first], period, None if demand is None else demand[:first], lag)
    harmonics = fitted.harmonics
    demand = demand if fitted.demand else None

    def model_ahead(origin: int, steps: int) -> fc.Prediction:
        exog = fc.design(origin + steps, period, harmonics, demand, lag, origin)
        run = fc.refilter(fitted, y[:origin], None if exog is None else exog[:origin])
        return fc.predict(run, steps, None if exog is None else exog[origin:])

    # Standardised errors (error / sd) of the forecasts made so far, by the week they
    # were checked: an origin's intervals are calibrated on those checked before it.
    checked = np.full((n - first, horizons), np.nan)
    standardised = np.full((n - first, horizons), np.nan)
    scales = np.ones(n - first)
    errors = np.full((2, n - first, horizons), np.nan)
    inside = np.full((2, n - first, horizons), np.nan)
    for i, origin in enumerate(range(first, n)):
        steps = min(horizons, n - origin)
        actual = y[origin : origin + steps]
        raw = model_ahead(origin, steps)
        scales[i] = calibration(standardised[checked < origin])
        checked[i, :steps] = np.arange(origin, origin + steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            standardised[i, :steps] = (actual - raw.mean) / raw.sd
        ahead = fc.Prediction(raw.mean, raw.sd * scales[i])
        naive = fc.seasonal_naive(y[:origin], steps, period)
        for k, guess in enumerate((ahead, naive)):
            low, high = guess.interval(fc.Z80)
            errors[k, i, :steps] = np.abs(actual - guess.mean)
            inside[k, i, :steps] = np.where(
                np.isnan(actual), np.nan, (actual >= low) & (actual <= high)
            )
    both = ~np.isnan(errors[0]) & ~np.isnan(errors[1])
    count = both.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        model_mae = np.where(both, errors[0], 0).sum(axis=0) / count
        naive_mae = np.where(both, errors[1], 0).sum(axis=0) / count
        mase = np.where(naive_mae > 0, model_mae / naive_mae, np.nan)
        cover = np.where(both, inside[0], 0).sum(axis=0) / count
        naive_cover = np.where(both, inside[1], 0).sum(axis=0) / count
    final = calibration(standardised.ravel())
    return Backtest(n - first, mase, cover, naive_cover, count, harmonics, final)


def calibration(standardised: np.ndarray) -> float:
    """The factor on the model's sd that puts 80% of these standardised errors (error / sd)
    inside the 80% interval: their absolute values' 80th percentile over Z80. 1 with
    fewer than `MIN_ERRORS` errors."""
    values = np.abs(standardised[np.isfinite(standardised)])
    if len(values) < MIN_ERRORS:
        return 1.0
    return float(np.quantile(values, 0.8) / fc.Z80)
