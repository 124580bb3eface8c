"""Data quality: Great Expectations suites on staging and the marts, run after each build.

The suites live in suites.py, reviewed like any other code; run.py validates the tables
of a DuckDB file against them, records every expectation's outcome in ops.validations and
writes Great Expectations Data Docs (HTML) beside the database. A failed critical
expectation raises ValidationFailed, which stops the run before anything is published.

Great Expectations logs every decorator it registers at INFO while it imports; that is
noise in a terminal or a task log, so its loggers start at WARNING here, before any
module of this package imports it. Warnings and errors still show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

logging.getLogger("great_expectations").setLevel(logging.WARNING)


def quality_dir_for(db_path: Path) -> Path:
    """Where the Data Docs (index.html) and GX's validation results go: beside the database."""
    return db_path.parent / "quality"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation of one suite, as validated: a row of ops.validations."""

    suite: str
    expectation: str  # readable: expect_column_values_to_not_be_null(column=author_id)
    expectation_type: str
    kwargs: dict
    critical: bool
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed_value: str | None = None
    unexpected_sample: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            found = f"could not be evaluated: {self.error}"
        elif self.unexpected_count is not None:
            found = f"{self.unexpected_count} unexpected of {self.element_count} row(s)"
            examples = list(dict.fromkeys(self.unexpected_sample))[:3]
            if examples:
                found += f", e.g. {'; '.join(examples)}"
        else:
            found = f"observed {self.observed_value}"
        return f"{self.suite}: {self.expectation}: {found}"


@dataclass(frozen=True)
class ValidationReport:
    run_id: str
    validated_at: datetime
    outcomes: list[ExpectationOutcome]
    data_docs: str | None  # the index page, a file:// URL

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.critical and not o.success]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.critical and not o.success]

    def describe(self) -> str:
        suites = len({o.suite for o in self.outcomes})
        failed = self.critical_failures
        head = (
            f"validation of run {self.run_id}: {len(self.outcomes)} expectation(s) in "
            f"{suites} suite(s), {len(failed)} critical failure(s), "
            f"{len(self.warnings)} warning(s)"
        )
        lines = [head]
        lines += [f"  critical  {o.describe()}" for o in failed]
        lines += [f"  warning   {o.describe()}" for o in self.warnings]
        if self.data_docs:
            lines.append(f"Data Docs: {self.data_docs}")
        return "\n".join(lines)


class ValidationFailed(RuntimeError):
    """A critical expectation failed: the run stops before anything is published. The same
    data fails the same way, so retrying cannot heal it (`retryable`)."""

    retryable = False

    def __init__(self, report: ValidationReport):
        super().__init__(
            f"{len(report.critical_failures)} critical expectation(s) failed: the run stops "
            f"here, before anything is published\n{report.describe()}"
        )
        self.report = report


class NothingToValidate(RuntimeError):
    """No database, or nothing built in it yet."""
