"""Small pieces every page uses: tables with a CSV download, definitions one click away."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.definitions import DEFINITIONS


def table(frame: pd.DataFrame, name: str, title: str | None, **kwargs: object) -> None:
    """A table (text shown as text, never HTML) with its CSV download."""
    if title:
        st.markdown(f"**{title}**")
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)  # type: ignore[arg-type]
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode(),
        file_name=f"teamtide-{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
    )


def definition(*keys: str) -> None:
    """The plain-words definitions behind a page's numbers, folded away until asked for."""
    with st.expander("How these numbers are defined"):
        for key in keys:
            st.markdown(DEFINITIONS[key])


def empty(message: str) -> None:
    st.info(message)
