"""Every log record of a DAG run, as it would be written: what the dag.test tests read."""

from __future__ import annotations

import logging


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
