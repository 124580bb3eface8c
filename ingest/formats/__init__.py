"""Landed page formats, one module per platform: how its pages become raw.* rows.

A format module defines PLATFORM, SCHEMA_SQL (its raw.* tables, `create ... if not
exists`), and two statements the loader runs inside its transaction, RECORDS_SQL then
INSERT_SQL, with these temp tables in place:

    _platform_pages (url, page json)   this platform's new pages that parsed as JSON
    _pending_pages  (url, sha256, platform, account, endpoint, run_id)
    _load           (load_id)   this load's number; every raw row inserted carries it

RECORDS_SQL parses the pages and leaves

    _page_checks       (url, reason)                          reason null: page usable
    _records           (url, record_path, record, reason, <MESSAGE_KEY columns>, ...)
                                                              every message record seen

Between the two, the loader writes _new_records: the valid records whose MESSAGE_KEY is not
in MESSAGES_TABLE yet, the first copy of each key in the batch in BATCH_ORDER (one dedupe
for every format, ingest/load.py `_new_records_sql`). INSERT_SQL inserts _new_records into
MESSAGES_TABLE (its `record` stored as received) and leaves

    _auxiliary_rejects (url, record_path, reason, record)     refused non-message records

A later copy of a message whose record differs from the one in MESSAGES_TABLE is kept in
ops.conflicts (the loader compares `record`).

A format should also define FETCHED_RECORDS_SQL: from temp table _landed_pages (url, page
json), one row (url, records) per page with the number of message records on it, counted
without RECORDS_SQL's help. Reconciliation (ingest/reconcile.py) checks it against what the
loader loaded, rejected and skipped; a format without it is recorded as not reconciled.
"""

from types import ModuleType

from ingest.formats import bluesky_xrpc, mastodon_api, reddit_listing, x_api_v2

FORMATS: dict[str, ModuleType] = {
    module.PLATFORM: module for module in (x_api_v2, reddit_listing, bluesky_xrpc, mastodon_api)
}
