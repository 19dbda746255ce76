"""The dashboard's entrypoint: shared filters in the sidebar, one page per question."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from dashboard import data, filters, widgets

VIEWS = Path(__file__).parent / "views"
log = logging.getLogger("teamtide.dashboard")

st.set_page_config(page_title="teamtide", page_icon="🌊", layout="wide")

PAGES = [
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(VIEWS / "allocation.py", title="Allocation", icon=":material/donut_large:"),
    st.Page(VIEWS / "turnaround.py", title="Turnaround", icon=":material/timer:"),
    st.Page(VIEWS / "support.py", title="Support", icon=":material/support:"),
    st.Page(VIEWS / "flood.py", title="Flood & drought", icon=":material/waves:"),
    st.Page(VIEWS / "planning.py", title="Planning", icon=":material/event_upcoming:"),
    st.Page(VIEWS / "cluster.py", title="Cluster", icon=":material/dns:"),
    st.Page(VIEWS / "reorg.py", title="Reorg impact", icon=":material/call_split:"),
    st.Page(VIEWS / "whatif.py", title="What if", icon=":material/science:"),
    st.Page(VIEWS / "health.py", title="Data health", icon=":material/monitor_heart:"),
]
# The weekly report's page is written separately; the app works before it exists.
if (VIEWS / "reports.py").exists():
    PAGES.append(st.Page(VIEWS / "reports.py", title="Reports", icon=":material/newspaper:"))

page = st.navigation(PAGES)
try:
    ctx = data.context()
except Exception as exc:  # a broken org file: say what to do, never a traceback
    # Nothing of the file reaches the page: a visitor who has not signed in would read the
    # people's names and addresses the problems quote. The server's log has them.
    log.error("the org file %s can't be used:\n%s", data.config_path(), exc)
    st.error(
        "teamtide cannot read its org file. Whoever runs this server can see every problem "
        "with its line in the server's log, or with `teamtide check-config`."
    )
    st.stop()
viewer = data.viewer(ctx.config)  # may stop the run with a message for an unknown user
chosen = filters.sidebar(ctx.teams, ctx.today, widgets.span_or_stop(ctx))
st.sidebar.caption(widgets.scope(viewer))
st.session_state[widgets.SHELL] = (chosen, viewer)
try:
    page.run()
finally:
    # A page run on its own (tests, benchmarks) draws its own filters.
    st.session_state.pop(widgets.SHELL, None)
