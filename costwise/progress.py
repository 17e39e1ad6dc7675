"""A progress bar for long CloudWatch reads: on stderr, only where a person is watching."""

from __future__ import annotations


class Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.task = None

    def plan(self, total_calls: int) -> None:
        if not self.enabled or total_calls <= 1:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress(TextColumn("reading CloudWatch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("calls", total=total_calls)

    def page(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
