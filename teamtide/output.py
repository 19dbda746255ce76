"""What commands print: boxed tables on a terminal, whole values in a pipe, or JSON.

Run from cron, CI or a script, a command's output is read by `grep`, `awk` and `cut`:
rich would draw 80 columns there and cut `pull_requests` to `pull_re…`. So off a
terminal a table is tab-separated text (a `# title` line, a header, one line a row),
and every command with a table also takes `--format json`.

Everything a command prints goes through the process's redactor (`config.redaction`):
the consoles write through `Redacting`, and a table's cells are redacted before rich
wraps them to a terminal's width (a wrapped secret would no longer be recognised).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from config.redaction import redact

FORMATS = ("table", "json")


class Redacting(io.TextIOBase):
    """Standard output or error (whichever is current at each write), redacted."""

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr

    @property
    def target(self) -> io.TextIOBase:
        stream = sys.stderr if self.stderr else sys.stdout
        # rich's live display stands in for the stream while it draws: write to the real one
        return getattr(stream, "rich_proxied_file", stream)

    def write(self, text: str) -> int:
        self.target.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"


def console(stderr: bool = False) -> Console:
    """A console that never wraps a line when its output is not a terminal, and redacts."""
    probe = Console(stderr=stderr)
    return Console(file=Redacting(stderr), soft_wrap=not probe.is_terminal)


_AS_SHOWN = object()


@dataclass
class Cell:
    """A value as shown, with an optional rich style (colour on a terminal only) and the
    value JSON gives instead (an ISO timestamp for a local time written for people)."""

    text: Any
    style: str = ""
    value: Any = _AS_SHOWN

    def __str__(self) -> str:
        return "" if self.text is None else str(self.text)

    def data(self) -> Any:
        return self.text if self.value is _AS_SHOWN else self.value


@dataclass
class Rows:
    """One table: its title, columns (right-aligned ones named) and rows of cells."""

    title: str
    columns: Sequence[str]
    right: frozenset[str] = frozenset()
    rows: list[list[Any]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(list(cells))

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON objects keyed by column in snake_case (numbers stay numbers)."""
        keys = [column.replace(" ", "_").replace("-", "") for column in self.columns]
        return [
            {
                key: cell.data() if isinstance(cell, Cell) else cell
                for key, cell in zip(keys, row, strict=True)
            }
            for row in self.rows
        ]


def show(out: Console, table: Rows) -> None:
    """A boxed table on a terminal; elsewhere tab-separated lines with every value whole."""
    if out.is_terminal:
        view = Table(title=table.title)
        for column in table.columns:
            view.add_column(column, justify="right" if column in table.right else "left")
        for row in table.rows:
            view.add_row(*(_rich(cell) for cell in row))
        out.print(view)
        return
    lines = [f"# {table.title}", "\t".join(table.columns)]
    lines += ["\t".join(_plain(cell) for cell in row) for row in table.rows]
    out.file.write("\n".join(lines) + "\n")
    out.file.flush()


def show_json(out: Console, value: Any) -> None:
    out.file.write(json.dumps(value, indent=2, default=str) + "\n")
    out.file.flush()


def _rich(cell: Any) -> Text:
    if isinstance(cell, Cell):
        return Text(redact(str(cell)), style=cell.style)
    return Text(redact("" if cell is None else str(cell)))


def _plain(cell: Any) -> str:
    # a tab or a line break inside a value would shift every column after it
    return " ".join(redact("" if cell is None else str(cell)).split())
