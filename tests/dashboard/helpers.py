"""Reading what an AppTest run drew: metric values by label, element texts, everything shown."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from google.protobuf.json_format import MessageToDict
from streamlit.runtime.media_file_manager import MediaFileManager


def metrics(at: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in at.metric:
        found.setdefault(m.label, []).append(m.value)
    return found


def metric(at: Any, label: str) -> str:
    """The value of the one metric card with this label (fails if there are several)."""
    values = metrics(at).get(label, [])
    assert len(values) == 1, f"{label!r}: {values} (labels: {sorted(metrics(at))})"
    return values[0]


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


# --- everything a run shows: for the access tests ----------------------------------------


@dataclass
class Shown:
    """Every piece of text one AppTest run put in front of the viewer, by where it came from.

    `texts` holds (kind, text) pairs: every string field of every element's proto (markdown
    bodies, captions, alerts, metric labels/values/deltas/help, headings, widget labels and
    options, tab and expander labels), every string inside each plotly figure's JSON, each
    table as CSV, and each download's file content.
    """

    texts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[pd.DataFrame] = field(default_factory=list)
    downloads: dict[str, str] = field(default_factory=dict)  # file name -> content
    # (kind, body, allow_html) of each element drawn from Markdown: markdown, captions,
    # headings, alerts (other Markdown, such as metric help, is in `texts` only)
    markdown: list[tuple[str, str, bool]] = field(default_factory=list)
    html: list[str] = field(default_factory=list)  # bodies of st.html elements
    charts: list[dict[str, Any]] = field(default_factory=list)  # plotly figure specs

    def add(self, kind: str, text: str) -> None:
        self.texts.append((kind, text))
        unescaped = html.unescape(text)
        if unescaped != text:  # plotly hover text and the like are HTML-escaped
            self.texts.append((kind, unescaped))

    def where(self, needle: str, *, words: bool = False) -> list[str]:
        """The kinds of text `needle` appears in (case-insensitive; `words`: whole words)."""
        pattern = re.compile(
            (r"(?<![\w.-])" + re.escape(needle) + r"(?![\w-])") if words else re.escape(needle),
            re.IGNORECASE,
        )
        return sorted({kind for kind, text in self.texts if pattern.search(text)})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _download(proto: Any, files: MediaFileManager) -> tuple[str, bytes]:
    """A download button's file: a deferred one's callable runs, as a click in a browser makes it."""
    url = proto.url or files.execute_deferred(proto.deferred_file_id)
    found = files.read_file(url.rsplit("/", 1)[-1])
    assert found is not None, f"no file behind the download {proto.label!r} ({url})"
    return found.filename or url, found.content


def everything_shown(at: Any, files: MediaFileManager) -> Shown:
    """What `at`'s last run showed, downloads included (their data read back from `files`,
    the media file manager of that run: see `recording_media_files`)."""
    shown = Shown()
    nodes = [node for block in (at.main, at.sidebar) for node in block]
    for node in nodes:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "unknown")
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        if kind in ("dataframe", "table"):
            lazy = "lazy_data" in proto.DESCRIPTOR.fields_by_name and proto.HasField("lazy_data")
            assert not lazy, "a lazily loaded table: not all its rows are in the element"
            frame = node.value
            shown.tables.append(frame)
            shown.add(kind, frame.to_csv(index=False))
            shown.add(kind, " ".join(str(c) for c in frame.columns))
            continue
        if kind == "plotly_chart":
            spec = json.loads(proto.spec)
            shown.charts.append(spec)
            for text in _strings(spec):
                shown.add(kind, text)
            continue
        if kind == "download_button":
            name, content = _download(proto, files)
            shown.downloads[name] = content.decode()
            shown.add(f"download {name}", content.decode())
        if proto.DESCRIPTOR.name in ("Markdown", "Heading", "Alert"):
            shown.markdown.append((kind, proto.body, bool(getattr(proto, "allow_html", False))))
        if kind == "html":
            shown.html.append(proto.body)
        fields = MessageToDict(proto, preserving_proto_field_name=True)
        for text in _strings(fields):
            shown.add(kind, text)
    return shown


@contextlib.contextmanager
def recording_media_files() -> Iterator[list[MediaFileManager]]:
    """Keep the media file manager AppTest makes for each run (it drops it when the run ends).

    `st.download_button` puts eager data in that manager (the proto carries its URL) and
    registers a callable for deferred data (the proto carries `deferred_file_id`), which
    `MediaFileManager.execute_deferred` runs just as the server does when a browser clicks.
    """
    from streamlit.testing.v1 import app_test

    made: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    original = app_test.MediaFileManager
    app_test.MediaFileManager = Recording  # type: ignore[misc]
    try:
        yield made
    finally:
        app_test.MediaFileManager = original  # type: ignore[misc]
