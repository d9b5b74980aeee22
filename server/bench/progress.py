"""A one-line progress bar on standard error."""

from __future__ import annotations

import sys
import time


class Progress:
    """`label [#####     ] done/total` redrawn in place at most ten times a second."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
        self.drawn = 0.0

    def show(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.drawn < 0.1):
            return
        self.drawn = now
        width = 30
        filled = width * min(done, self.total) // self.total
        bar = "#" * filled + " " * (width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        sys.stderr.flush()

    def finish(self, done: int) -> None:
        if self.enabled:
            self.show(done, force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()
