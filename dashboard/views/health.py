"""Data health: is every number fresh and complete, and if not, what to do about it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, widgets

STALE_AFTER = dt.timedelta(hours=6)


def render() -> None:
    page = widgets.start_page(
        "Data health",
        "Whether the numbers on the other pages are fresh and complete, and what to do when they are not.",
        needs_data=False,
    )
    ctx = page.ctx
    health = data.health(ctx.url)
    # Source records and unmapped accounts name people: a director's, and only where the
    # org file allows person-level views at all.
    names_people = page.viewer.role == "director" and ctx.config.access.person_level
    streams: pd.DataFrame = health["streams"]
    if streams.empty:
        st.info(
            "No sync has run yet. Run `teamtide sync` (or `teamtide schedule`) to pull the configured sources."
        )
    else:
        now = dt.datetime.now(dt.UTC)
        stale = streams[
            streams["last success"].isna()
            | (now - pd.to_datetime(streams["last success"], utc=True) > STALE_AFTER)
        ]
        failing = streams[streams["last error"].notna()]
        c1, c2, c3 = st.columns(3)
        c1.metric("Streams", len(streams))
        c2.metric("Failing", len(failing))
        c3.metric("Stale (> 6 h)", len(stale))
        if not failing.empty:
            st.error(
                "Some streams failed on their last run: the figures from those sources may be out of date. "
                "Check the error below, fix the credentials or URL in the org file, and run `teamtide sync --source …`."
            )
        widgets.table(streams, "sync-status", "Last sync per stream")
    st.subheader("Records set aside")
    rejects: pd.DataFrame = health["rejects"]
    if rejects.empty:
        st.success("No source record has been set aside.")
    else:
        st.warning(
            f"{len(rejects)} recent source records could not be read and were set aside (nothing else was lost). "
            "Each row says why; fix the record at the source, then `teamtide sync --full --source …` reloads it."
        )
        if names_people:
            widgets.table(rejects, "rejects", None)
        else:
            widgets.empty(
                "The records themselves (they may name people) are shown to directors, when the "
                "org file allows person-level views (`access.person_level`)."
            )
    st.subheader("Unmapped identities")
    unmapped: pd.DataFrame = health["unmapped"]
    if unmapped.empty:
        st.success("Every Jira and GitHub account maps to a person of the org file.")
    else:
        st.warning(
            f"{len(unmapped)} accounts belong to nobody in the org file, so their work counts for no team. "
            "Add each to a person (`jira:`, `github:`, `emails:` or `aliases:`) and run `teamtide init`."
        )
        if names_people:
            widgets.table(unmapped, "unmapped-identities", None)
        else:
            widgets.empty(
                "The accounts themselves (names, e-mail addresses) are shown to directors, when "
                "the org file allows person-level views (`access.person_level`)."
            )
    st.subheader("Uncategorized work")
    if data.span(ctx.url) is None:
        widgets.empty("No work items yet: nothing to categorize.")
        return
    loose = data.uncategorized(*page.window)
    if loose.empty:
        st.success("Every work item of the period matches a category rule of the org file.")
    else:
        st.warning(
            f"{len(loose)} work items of the period match no category rule, so their time shows as "
            "*uncategorized* on the Allocation page. Add a rule under `categories:` in the org file "
            "(by project, issue type, label, component or epic) that covers them and restart "
            "`teamtide serve`; no sync is needed."
        )
        widgets.table(
            loose,
            "uncategorized",
            None,
            column_config={"url": widgets.link_column(), "summary": "title"},
        )


render()
