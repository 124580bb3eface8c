"""Landed page formats, one module per platform: how its pages become raw.* rows.

A format module defines PLATFORM, SCHEMA_SQL (its raw.* tables, `create ... if not
exists`) and LOAD_SQL, which the loader runs inside its transaction with these temp
tables in place:

    _platform_pages (url, page json)   this platform's new pages that parsed as JSON
    _pending_pages  (url, sha256, platform, account, endpoint, run_id)
    _load           (load_id)   this load's number; every raw row inserted carries it

LOAD_SQL inserts new rows into its raw.* tables (by id, only ids not loaded before) and
leaves four temp tables the loader turns into ops.rejects and ops.loaded_files:

    _page_checks       (url, reason)                          reason null: page usable
    _records           (url, record_path, record, reason)     every message record seen
    _new_records       (url, ...)                             the records inserted now
    _auxiliary_rejects (url, record_path, reason, record)     refused non-message records

MESSAGES_TABLE and MESSAGE_KEY name the raw table of its messages and their key (a column
of both that table and _records, whose `record` is stored as the table's `record`): a
later copy of a message whose record differs from the one loaded is kept in ops.conflicts.

A format should also define FETCHED_RECORDS_SQL: from temp table _landed_pages (url, page
json), one row (url, records) per page with the number of message records on it, counted
without LOAD_SQL's help. Reconciliation (ingest/reconcile.py) checks it against what the
loader loaded, rejected and skipped; a format without it is recorded as not reconciled.
"""

from types import ModuleType

from ingest.formats import bluesky_xrpc, mastodon_api, reddit_listing, x_api_v2

FORMATS: dict[str, ModuleType] = {
    module.PLATFORM: module for module in (x_api_v2, reddit_listing, bluesky_xrpc, mastodon_api)
}
