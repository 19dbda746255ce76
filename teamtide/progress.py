"""Progress in the terminal: a bar per stream and partition, with waits said out loud."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class RichProgress:
    """The collectors' `Progress`, drawn with rich (plain lines when not a terminal)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[tuple[str, str], int] = {}

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.bar.stop()

    def start(self, stream: str, partition: str, total: int | None) -> None:
        label = f"{stream} {partition}".strip()
        self.tasks[stream, partition] = self.bar.add_task(label, total=total)

    def advance(self, stream: str, partition: str, items: int) -> None:
        task = self.tasks.get((stream, partition))
        if task is not None:
            self.bar.advance(task, items)

    def note(self, message: str) -> None:
        self.bar.console.print(f"  {message}", highlight=False, markup=False)
