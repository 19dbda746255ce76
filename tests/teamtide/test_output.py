"""Command output off a terminal: every value whole, one row a line, columns split by tabs."""

from __future__ import annotations

import io

from rich.console import Console

from teamtide import output

LONG = "acme/infra-terraform-modules-for-the-data-science-cluster"


def table() -> output.Rows:
    rows = output.Rows("sources", ("source", "stream", "partition", "last error", "rows"))
    rows.add("github", "pull_requests", LONG, output.Cell("HTTP 502\tBad\ngateway", "red"), 1860)
    rows.add("jira", "issues", "", "", 56152)
    return rows


def test_a_piped_table_is_tab_separated_with_every_value_whole() -> None:
    out = io.StringIO()
    output.show(Console(file=out, width=80), table())
    lines = out.getvalue().splitlines()
    assert lines[0] == "# sources"
    assert lines[1].split("\t") == ["source", "stream", "partition", "last error", "rows"]
    # the tab and line break inside the error would have shifted the columns
    assert lines[2].split("\t") == ["github", "pull_requests", LONG, "HTTP 502 Bad gateway", "1860"]
    assert lines[3].split("\t") == ["jira", "issues", "", "", "56152"]
    assert len(lines) == 4


def test_a_table_on_a_terminal_keeps_its_box() -> None:
    out = io.StringIO()
    output.show(Console(file=out, width=200, force_terminal=True), table())
    assert "┏" in out.getvalue() and LONG in out.getvalue()


def test_json_rows_are_keyed_in_snake_case_and_keep_numbers_and_raw_values() -> None:
    rows = table()
    rows.add("cluster", "snapshot", "", output.Cell("2026-12-03 21:43 GMT", value=None), 10)
    records = rows.records()
    assert records[0] == {
        "source": "github",
        "stream": "pull_requests",
        "partition": LONG,
        "last_error": "HTTP 502\tBad\ngateway",
        "rows": 1860,
    }
    assert records[2]["last_error"] is None  # the value JSON gives, not the text shown
