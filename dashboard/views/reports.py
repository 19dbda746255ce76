"""Reports: every stored weekly report by week, and one of them as it was sent (charts redrawn live)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from db import queries
from report.week_charts import figure_charts

TTL = data.TTL


@st.cache_data(ttl=TTL, show_spinner=False)
def _reports(url: str) -> pd.DataFrame:
    with data.engine(url).connect() as conn:
        rows = queries.report_list(conn)
    return pd.DataFrame(
        [
            {
                "week": r["period"],
                "generated": r["generated_at"],
                "delivered to": len(r["delivered_to"] or []),
            }
            for r in rows
        ],
        columns=["week", "generated", "delivered to"],
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def _report(url: str, period: str, recipients_shown: bool) -> dict[str, Any] | None:
    """The stored report and its delivery ledger; with `recipients_shown` false (anyone but a
    director) the ledger names no recipient: their addresses, and the errors that may quote
    them, are other people's (as the config page shows `report.recipients` to directors only)."""
    with data.engine(url).connect() as conn:
        stored = queries.stored_report(conn, period)
        ledger = queries.report_deliveries(conn, period)
    if stored is None:
        return None
    if not recipients_shown:
        ledger = [
            row
            | {
                "recipient": f"recipient {n}",
                "last_error": HIDDEN if row["last_error"] else None,
            }
            for n, row in enumerate(ledger, start=1)
        ]
    return {"body": stored.body, "html": stored.html, "summary": stored.summary, "ledger": ledger}


HIDDEN = "(shown to directors)"


def render() -> None:
    page = widgets.start_page(
        "Weekly reports",
        "Every weekly report teamtide generated, as it was delivered. "
        "`teamtide report --week YYYY-Www` makes one; `--send` delivers it.",
        needs_data=False,
    )
    ctx = page.ctx
    listing = _reports(ctx.url)
    if listing.empty:
        st.info(
            "No report has been generated yet. Run `teamtide report` (last week), or let "
            "`teamtide schedule` send it every Monday."
        )
        return
    sent = dict(zip(listing["week"], listing["delivered to"], strict=True))
    chosen = st.selectbox(
        "Week",
        list(sent),
        index=0,
        format_func=lambda week: (
            f"{week} · delivered to {sent[week]}" if sent[week] else f"{week} · not sent"
        ),
    )
    recipients_shown = page.viewer.role == "director"
    stored = _report(ctx.url, chosen, recipients_shown)
    if stored is None:
        st.warning(f"The report for {chosen} is no longer stored.")
        return
    figs = stored["summary"] or {}
    ledger = pd.DataFrame(stored["ledger"])
    tab_report, tab_charts, tab_delivery = st.tabs(["Report", "Charts", "Delivery"])
    with tab_report:
        # Markdown without unsafe HTML: every source text in it was escaped when it was
        # made, and Streamlit shows any HTML left in it as text anyway.
        body = stored["body"]
        # the file's own title would repeat the page's: shown a size smaller here
        st.markdown("###" + body[1:] if body.startswith("# ") else body)
    with tab_charts:
        if figs:
            for name, fig in figure_charts(figs).items():
                fig.update_layout(width=None)  # the page is wider than an e-mail
                st.plotly_chart(fig, key=f"report-{chosen}-{name}", width="stretch")
    with tab_delivery:
        _delivery(ledger, chosen, recipients_shown)
    st.download_button(
        "Download Markdown",
        stored["body"].encode(),
        file_name=f"teamtide-report-{chosen}.md",
        mime="text/markdown",
        key=f"md-{chosen}",
    )


def _delivery(ledger: pd.DataFrame, chosen: str, recipients_shown: bool) -> None:
    if ledger.empty:
        st.info(f"Not sent: `teamtide report --week {chosen} --send` delivers it.")
        return
    doubtful = ledger[ledger["status"] == "sending"]
    failed = ledger[ledger["status"] == "failed"]
    if not failed.empty:
        st.error(
            f"{_count(len(failed), 'delivery', 'deliveries')} failed (see last error). Fix the "
            f"cause, then `teamtide report --week {chosen} --send` retries only those."
        )
    if not doubtful.empty:
        st.warning(
            f"{_count(len(doubtful), 'delivery is', 'deliveries are')} in doubt: a sender stopped "
            "while sending. Check whether it arrived; `--send --force` resends to everyone."
        )
    widgets.table(ledger, f"report-deliveries-{chosen}", None)
    if not recipients_shown:
        st.caption("Who the report went to, and why a delivery failed, is shown to directors.")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


render()
