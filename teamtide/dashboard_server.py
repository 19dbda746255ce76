"""The dashboard's server process: Streamlit, and a thread that warms the default view.

`teamtide serve` runs `python -m teamtide.dashboard_server run dashboard/app.py ...` (the
arguments of `streamlit run`). Streamlit computes nothing until a visitor opens a page,
and its caches live in the server process, so a new process (a restart, a deploy, a
second server behind a load balancer) would make its first visitor wait for every
figure, and so would the first visitor after every sync (the figures are keyed by the
data's `as_of`). Here a thread computes the default view's figures
(`data.warm_default_view`) while the server starts and again whenever the rollups were
refreshed; a visitor who arrives first waits for the same computation, not a second one.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

log = logging.getLogger("teamtide.dashboard")
WARM_UP = "teamtide-warm-up"  # the thread's name


POLL_SECONDS = 60.0  # how often the thread looks for a new refresh of the rollups


def warm() -> None:
    """The default view's figures into the process's caches, now and after every refresh
    of the rollups (each sync); a failure is only logged (the pages compute what they
    need, and say what is wrong)."""
    from dashboard import data

    warmed = None
    while True:
        began = time.perf_counter()
        try:
            if warmed is None or data.newest_as_of() != warmed:
                warmed = data.warm_default_view()
                took = time.perf_counter() - began
                print(
                    f"warmed the default view in {took:.1f} s (data as of {warmed})",
                    file=sys.stderr,
                )
        except Exception as exc:  # the server serves on; the pages say what is wrong
            log.warning("the default view was not warmed: %s: %s", type(exc).__name__, exc)
        time.sleep(POLL_SECONDS)


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    # Streamlit warns that this thread runs no page ("missing ScriptRunContext"): that is
    # the point of it. (A filter, since Streamlit sets its loggers' levels as it starts.)
    return record.threadName != WARM_UP


def main() -> None:
    from streamlit.web import cli

    context_log = "streamlit.runtime.scriptrunner_utils.script_run_context"
    logging.getLogger(context_log).addFilter(_not_from_warm_up)
    threading.Thread(target=warm, name=WARM_UP, daemon=True).start()
    sys.argv[0] = "streamlit"
    cli.main()


if __name__ == "__main__":
    main()
