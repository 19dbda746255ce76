"""The report's charts as PNG, drawn by kaleido in one Chromium session for the whole batch."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from report.week_charts import CHART_WIDTH

# the logger this was written to before the report was split into modules: the
# scheduler's log lines (and any filter on them) stay as they were
log = logging.getLogger("report.weekly")


@dataclass(frozen=True)
class Images:
    png: dict[str, bytes]
    seconds: float  # wall time of the whole batch, browser start included
    error: str | None = None  # why there are none, when drawing failed


def render_images(figs: dict[str, go.Figure], scale: float = 2.0) -> Images:
    """Every chart as PNG in one Chromium session (kaleido 1.x): a browser start costs seconds."""
    started = time.perf_counter()
    if not figs:
        return Images({}, 0.0)
    result: dict[str, bytes] = {}

    async def batch() -> None:
        from kaleido import Kaleido

        # mathjax off: the charts have no formulas, and fetching it from a CDN is not allowed here
        async with Kaleido(n=1, mathjax=False) as k:
            for name, fig in figs.items():
                layout = fig.layout
                opts = {
                    "format": "png",
                    "width": layout.width or CHART_WIDTH,
                    "height": layout.height or 300,
                    "scale": scale,
                }
                result[name] = await k.calc_fig(fig, opts=opts)

    try:
        _run_async(batch)
    except Exception as exc:
        # A report without charts beats no report: it says so, and the log says why.
        log.warning("the report's charts could not be drawn: %s: %s", type(exc).__name__, exc)
        return Images({}, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:300])
    return Images(result, time.perf_counter() - started)


def _run_async(coroutine: Callable[[], Any]) -> None:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine())
        return
    failure: list[BaseException] = []

    def worker() -> None:
        try:
            asyncio.run(coroutine())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
