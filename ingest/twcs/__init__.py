"""Import of the public "Customer Support on Twitter" (TWCS) CSV format.

    report = import_twcs(con, "twcs.csv")   # raw.twcs_messages, ops.rejects, ops.imports
    print(report.describe())

The format: tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id, optionally after an index column. README.md lists what real
copies of it get wrong and what the import does about each.
"""

from ingest.twcs.csv_file import TWCS_COLUMNS, TwcsFileError
from ingest.twcs.importer import PLATFORM, TwcsImportReport, import_twcs, org_account_messages
from ingest.twcs.schema import SCHEMA_SQL

__all__ = [
    "PLATFORM",
    "SCHEMA_SQL",
    "TWCS_COLUMNS",
    "TwcsFileError",
    "TwcsImportReport",
    "import_twcs",
    "org_account_messages",
]
