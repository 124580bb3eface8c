"""The kit every live source is built from (README.md shows a source in a page of code).

errors      ExtractError (with `retryable`) and its kinds, which each source's tree derives from
retry       RetryPolicy, Retrier: one retry loop driven by the source's classify function
redaction   redact(), redact_bearer_tokens_in(): no credential in a message or a log
moments     as_utc(), stamp(): times as the APIs speak them
"""

from ingest.live.errors import (
    AuthError,
    ExtractError,
    MalformedPageError,
    RateLimitError,
    RequestError,
    UnavailableError,
    require_json,
)
from ingest.live.moments import as_utc, stamp
from ingest.live.redaction import redact, redact_bearer_tokens_in
from ingest.live.retry import (
    Attempt,
    Retrier,
    Retry,
    RetryPolicy,
    Verdict,
    check_timeout,
    wait_from_headers,
)

__all__ = [
    "Attempt",
    "AuthError",
    "ExtractError",
    "MalformedPageError",
    "RateLimitError",
    "RequestError",
    "Retrier",
    "Retry",
    "RetryPolicy",
    "UnavailableError",
    "Verdict",
    "as_utc",
    "check_timeout",
    "redact",
    "redact_bearer_tokens_in",
    "require_json",
    "stamp",
    "wait_from_headers",
]
