"""Progress of a long import on a terminal: one line, rewritten in place.

Silent when given no stream; the CLI gives one only when stderr is a terminal, so logs
and pipes never receive carriage returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import duckdb

_REDRAW_SECONDS = 0.2


class Progress:
    def __init__(self, stream: TextIO | None, label: str):
        self._stream = stream
        self._label = label
        self._stage = ""
        self._drawn_at = 0.0
        self._lock = threading.Lock()

    def stage(self, name: str) -> None:
        self._stage = name
        self._draw(None, force=True)

    def update(self, fraction: float) -> None:
        self._draw(fraction)

    def done(self, summary: str) -> None:
        if self._stream is not None:
            self._stream.write(f"\r\033[K{self._label}: {summary}\n")
            self._stream.flush()

    @contextmanager
    def watching(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Draws DuckDB's own progress of the statement running on `con`."""
        if self._stream is None:
            yield
            return
        con.execute("set enable_progress_bar = true")
        con.execute("set enable_progress_bar_print = false")
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(_REDRAW_SECONDS):
                percent = con.query_progress()
                if percent >= 0:
                    self._draw(percent / 100)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()

    def _draw(self, fraction: float | None, force: bool = False) -> None:
        if self._stream is None:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._drawn_at < _REDRAW_SECONDS:
                return
            self._drawn_at = now
            percent = "" if fraction is None else f" {min(fraction, 1.0):6.1%}"
            self._stream.write(f"\r\033[K{self._label}: {self._stage}{percent}")
            self._stream.flush()
