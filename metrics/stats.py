"""Percentile summaries and conversion of results to plain JSON-ready Python values."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

PERCENTILES = (50, 85, 95)


def describe(values: np.ndarray | pd.Series | list[float], mean: bool = False) -> dict[str, Any]:
    """{"n", "p50", "p85", "p95"} of the non-null values (numpy linear interpolation);
    percentiles are None when n is 0. With `mean`, also "mean"."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    out: dict[str, Any] = {"n": len(x)}
    points = np.percentile(x, PERCENTILES) if len(x) else [None] * len(PERCENTILES)
    for p, value in zip(PERCENTILES, points, strict=True):
        out[f"p{p}"] = None if value is None else float(value)
    if mean:
        out["mean"] = float(x.mean()) if len(x) else None
    return out


def plain(value: Any) -> Any:
    """A JSON-serialisable copy: numpy scalars to Python, NaN/NaT to None, dates to ISO."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
