"""The expectation suites: what the messages and every mart must satisfy before anyone
reads them.

One suite per table, named for the table. A suite is a function of SuiteInputs (the
configured departments and accounts, the window the marts were built for, the time of
validation), so every bound is written out plainly in the Data Docs: "created_at is before
2026-11-01", not a parameter name.

Severity says what a failure does:

- CRITICAL: the run stops before anything is published. The numbers would be wrong (a
  duplicated message is counted twice, a message without an author has no kind).
- WARNING: recorded in ops.validations and shown in the Data Docs; the run goes on. Worth
  a look, but a legitimate night can produce it.

intermediate.int_messages_unioned holds every message ever loaded, of every platform in
one shape (a view over staging); its suite checks the messages from the window's start on
(so a night validates the night, not the history, and a message dated in the future is
still seen). The marts hold the build window (except the *_history and
org_verdict tables, one set of rows per window built).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import TYPE_CHECKING

import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from transforms.organization import Organization

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

CRITICAL = FailureSeverity.CRITICAL
WARNING = FailureSeverity.WARNING

# Every platform a message can come from: the live sources and TWCS imports.
MESSAGE_PLATFORMS = ("x", "reddit", "twcs", "bluesky", "mastodon")
AUTHOR_KINDS = ("org", "other", "customer", "unknown")
VERDICTS = ("insufficient_data", "siloed", "glued", "networked")


@dataclass(frozen=True)
class SuiteInputs:
    departments: tuple[str, ...]
    brokerage_accounts: int  # distinct (department, handle) pairs: brokerage's rows
    window_start: datetime | None  # the build window, from config.build_window
    window_end: datetime | None
    validated_at: datetime  # "the future" starts here

    @classmethod
    def of(
        cls,
        organization: Organization,
        window_start: datetime | None,
        window_end: datetime | None,
        validated_at: datetime,
    ) -> SuiteInputs:
        accounts = {(department, handle) for _, handle, department in organization.accounts}
        return cls(
            organization.departments,
            len(accounts),
            window_start,
            window_end,
            validated_at,
        )


@dataclass(frozen=True)
class TableSuite:
    table: str  # schema.table; also the suite's name
    expectations: list[Expectation]
    where: str | None = None  # the rows validated, when not all of them

    @property
    def query(self) -> str:
        where = f" where {self.where}" if self.where else ""
        return f"select * from {self.table}{where}"


def _unique(*columns: str) -> Expectation:
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0], severity=CRITICAL)
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns), severity=CRITICAL)


def _not_null(*columns: str) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, severity=CRITICAL) for c in columns]


def _in_set(column: str, values: tuple[str, ...]) -> Expectation:
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), severity=CRITICAL)


def _between(column: str, low: float | None, high: float | None) -> Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=low, max_value=high, severity=CRITICAL
    )


def _counts(*columns: str) -> list[Expectation]:
    return [_between(c, 0, None) for c in columns]


def _not_in_future(column: str, inputs: SuiteInputs) -> Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, max_value=inputs.validated_at, severity=CRITICAL
    )


def _inside_window(column: str, inputs: SuiteInputs) -> list[Expectation]:
    """[window_start, window_end); nothing to check for the unbounded window `all`."""
    if inputs.window_start is None and inputs.window_end is None:
        return []
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=column,
            min_value=inputs.window_start,
            max_value=inputs.window_end,
            strict_max=True,
            severity=CRITICAL,
        )
    ]


def _from_window_start(column: str, inputs: SuiteInputs) -> str | None:
    if inputs.window_start is None:
        return None
    start = inputs.window_start.isoformat()
    return f"{column} >= '{start}'::timestamptz or {column} is null"


def int_messages_unioned(inputs: SuiteInputs) -> TableSuite:
    return TableSuite(
        "intermediate.int_messages_unioned",
        [
            _unique("platform", "message_id"),
            *_not_null("platform", "message_id", "created_at", "text"),
            # Reddit keeps what a deleted account wrote, without its author; X and TWCS
            # records always name one (their loaders refuse a record without)
            gxe.ExpectColumnValuesToNotBeNull(
                column="author_id", row_condition=Column("platform") != "reddit", severity=CRITICAL
            ),
            _in_set("platform", MESSAGE_PLATFORMS),
            _not_in_future("created_at", inputs),
            # a deleted account has no handle and counts as neither customer nor org;
            # some are normal, many mean the users of the pages went missing
            gxe.ExpectColumnValuesToNotBeNull(column="author_handle", mostly=0.9, severity=WARNING),
            # X and Reddit name the conversation; only TWCS imports resolve it from replies
            gxe.ExpectColumnValuesToNotBeNull(
                column="conversation_id",
                row_condition=Column("platform") != "twcs",
                severity=WARNING,
            ),
        ],
        where=_from_window_start("created_at", inputs),
    )


def int_conversation_messages(inputs: SuiteInputs) -> TableSuite:
    return TableSuite(
        "intermediate.int_conversation_messages",
        [
            # a handle configured twice must not fan a message out into two
            _unique("platform", "message_id"),
            *_not_null("author_kind", "conversation_id"),
            _in_set("author_kind", AUTHOR_KINDS),
            gxe.ExpectColumnValuesToNotBeNull(
                column="department", row_condition=Column("author_kind") == "org", severity=CRITICAL
            ),
            _in_set("department", inputs.departments),
        ],
    )


def conversations(inputs: SuiteInputs) -> TableSuite:
    return TableSuite(
        "marts.conversations",
        [
            _unique("platform", "conversation_id"),
            *_not_null("platform", "conversation_id", "first_customer_at"),
            _in_set("platform", MESSAGE_PLATFORMS),
            *_inside_window("first_customer_at", inputs),
            *_inside_window("first_response_at", inputs),
            _not_in_future("first_customer_at", inputs),
            _not_in_future("first_response_at", inputs),
            _between("first_response_seconds", 0, None),
            _in_set("first_department", inputs.departments),
            _between("n_departments", 0, len(inputs.departments)),
            *_counts("handoffs", "org_messages"),
            # customer conversations: at least one customer message each
            _between("customer_messages", 1, None),
            _between("messages", 1, None),
        ],
    )


def department_scorecard(inputs: SuiteInputs) -> TableSuite:
    # row count, uniqueness and the set together: exactly one row per configured department
    return TableSuite(
        "marts.department_scorecard",
        [
            gxe.ExpectTableRowCountToEqual(value=len(inputs.departments), severity=CRITICAL),
            _unique("department"),
            *_not_null("department"),
            _in_set("department", inputs.departments),
            _between("ei_index", -1, 1),
            _between("bridging_share", 0, 1),
            _between("glue_score", 0, 1),
            _between("betweenness", 0, 1),
            _between("partners", 0, max(len(inputs.departments) - 1, 0)),
            _between("median_first_response_seconds", 0, None),
            *_counts(
                "conversations",
                "solo_conversations",
                "shared_conversations",
                "customers",
                "first_responses",
            ),
        ],
    )


def department_pairs(inputs: SuiteInputs) -> TableSuite:
    pairs = len(list(combinations(inputs.departments, 2)))
    return TableSuite(
        "marts.department_pairs",
        [
            gxe.ExpectTableRowCountToEqual(value=pairs, severity=CRITICAL),
            _unique("department_a", "department_b"),
            *_not_null("department_a", "department_b"),
            _in_set("department_a", inputs.departments),
            _in_set("department_b", inputs.departments),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="department_b", column_B="department_a", severity=CRITICAL
            ),
            _between("audience_jaccard", 0, 1),
            *_counts(
                "shared_customers",
                "co_handled_conversations",
                "disjoint_shared_customers",
                "handoffs_a_to_b",
                "handoffs_b_to_a",
                "referrals_a_to_b",
                "referrals_b_to_a",
            ),
        ],
    )


def brokerage(inputs: SuiteInputs) -> TableSuite:
    return TableSuite(
        "marts.brokerage",
        [
            gxe.ExpectTableRowCountToEqual(value=inputs.brokerage_accounts, severity=CRITICAL),
            _unique("department", "account"),
            *_not_null("department", "account"),
            _in_set("department", inputs.departments),
            *_counts("coordinator", "gatekeeper", "representative", "itinerant", "liaison"),
        ],
    )


def org_verdict(inputs: SuiteInputs) -> TableSuite:
    return TableSuite(
        "marts.org_verdict",
        [
            _unique("window_start", "window_end"),
            *_not_null("verdict"),
            _in_set("verdict", VERDICTS),
            _between("cross_department_share", 0, 1),
            _between("fragmented_share", 0, 1),
            _between("org_ei_index", -1, 1),
            *_counts(
                "customer_conversations",
                "engaged_conversations",
                "handled_conversations",
                "cross_department_conversations",
                "multi_department_customers",
                "fragmented_customers",
            ),
        ],
    )


def department_scorecard_history(inputs: SuiteInputs) -> TableSuite:
    # earlier windows may have had other departments: no set check over history
    return TableSuite(
        "marts.department_scorecard_history",
        [
            _unique("window_start", "window_end", "department"),
            *_not_null("department"),
            _between("ei_index", -1, 1),
            _between("bridging_share", 0, 1),
            _between("glue_score", 0, 1),
            _between("betweenness", 0, 1),
        ],
    )


SUITES = (
    int_messages_unioned,
    int_conversation_messages,
    conversations,
    department_scorecard,
    department_pairs,
    brokerage,
    org_verdict,
    department_scorecard_history,
)


def table_suites(inputs: SuiteInputs) -> list[TableSuite]:
    return [suite(inputs) for suite in SUITES]
