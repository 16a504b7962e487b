"""Show grading's progress on the terminal: a bar, what is under way, and the time left."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.start, self.stream = total, 0, time.perf_counter(), stream
        self.tty = stream.isatty()

    def stage(self, note: str) -> None:
        """Say what is under way before the first submission ends (sandboxes starting,
        the references importing): the bar is never silent for the first seconds."""
        self._show(note, "   ?")

    def update(self, note: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        self._show(note, f"{elapsed / self.done * (self.total - self.done):4.0f}")

    def _show(self, note: str, eta: str) -> None:
        elapsed = time.perf_counter() - self.start
        width = 24
        bar = "#" * round(width * self.done / max(1, self.total))
        line = (f"[{bar:<{width}}] {self.done}/{self.total}  {elapsed:5.0f}s elapsed  "
                f"eta {eta}s  {note}")
        self.stream.write(("\r" + line[:120].ljust(120)) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
