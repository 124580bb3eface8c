"""The real `siloscope` console script, run as a user runs it: its own process, in a
working directory of the test's own, with none of the SILOSCOPE_* variables set."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SILOSCOPE = Path(sys.executable).with_name("siloscope")

# Small enough that a whole run takes a few seconds, big enough for a verdict.
SMALL_CONFIG = """\
organization: Acme
departments:
  - name: Customer Care
    accounts:
      x: [AcmeHelp]
  - name: Marketing
    accounts:
      x: [Acme]
  - name: Sales
    accounts:
      x: [AcmeSales]
rolling_window_days: 7
backfill_days: 7
sources:
  x: simulated
simulation:
  structure: glued
  glue_department: Customer Care
  seed: 7
  conversations_per_day: 12
"""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def one_error_line(self) -> str:
        """The one line a failed command printed; fails the test if it printed more."""
        assert len(self.error_lines) == 1, self.stderr
        return self.error_lines[0]

    @property
    def traceback_printed(self) -> bool:
        return "Traceback (most recent call last)" in self.stdout + self.stderr


def siloscope_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SILOSCOPE_")}
    env.update(overrides)
    return env


def run_siloscope(cwd: Path, *args: str, timeout: float = 300, **env: str) -> Finished:
    done = subprocess.run(
        [str(SILOSCOPE), *args],
        cwd=cwd,
        env=siloscope_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def write_small_config(cwd: Path, relative: str = "config/acme.yaml") -> Path:
    path = cwd / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SMALL_CONFIG)
    return path
