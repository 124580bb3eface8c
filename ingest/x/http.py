"""HTTP for the X source: where requests go, how failures are retried, what is redacted.

tweepy hard-codes https://api.twitter.com, so `RoutedSession` (handed to tweepy.Client as
its session) rewrites that prefix to the configured base URL: a proxy, or a local fake
server in tests. Retries live here and not in tweepy: with `wait_on_rate_limit` tweepy
retries a 429 that has no x-rate-limit-reset header at once and forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests

from ingest.live import Retrier, RetryPolicy, redact, redact_bearer_tokens_in
from ingest.x import failures

OFFICIAL_BASE_URL = "https://api.twitter.com"

log = logging.getLogger(__name__)

# tweepy logs every request's headers, bearer token included, at DEBUG, on this logger.
_TWEEPY_LOGGER = "tweepy.client"


class RoutedSession(requests.Session):
    """Sends tweepy's requests to `base_url` instead of the official host, with a timeout.

    `transport`, when given, is the session that actually sends (its proxies, TLS
    settings and adapters are kept as they are); otherwise this session sends itself.
    """

    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        transport: requests.Session | None = None,
    ):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.transport = transport

    def route(self, url: str) -> str:
        if url.startswith(OFFICIAL_BASE_URL + "/"):
            return self.base_url + url[len(OFFICIAL_BASE_URL) :]
        return url

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout_seconds)
        url = self.route(url)
        if self.transport is not None:
            return self.transport.request(method, url, *args, **kwargs)
        return super().request(method, url, *args, **kwargs)


def install_tweepy_log_redaction() -> None:
    """Make tweepy's DEBUG request log safe to turn on (idempotent)."""
    redact_bearer_tokens_in(_TWEEPY_LOGGER)


class RequestRunner:
    """Runs one API call at a time with the kit's retries, counting every HTTP attempt.

    A retry repeats exactly the same call (same pagination token), so a page is neither
    lost nor fetched twice. 401/403 and other 4xx fail at once; 429, 5xx, timeouts and
    connection errors are retried up to `policy.max_retries` times, then raise
    (`failures.classify` decides which is which).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        secret: str,
        account: str,
        token_hint: str,
        on_attempt: Callable[[str], None],
        on_rate_limited: Callable[[str], None] = lambda endpoint: None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.secret = secret
        self.account = account
        self.token_hint = token_hint
        self.retrier = Retrier(
            policy, log, on_attempt=on_attempt, on_rate_limited=on_rate_limited, sleep=sleep
        )

    def run(
        self, endpoint: str, route: str, call: Callable[[], requests.Response]
    ) -> requests.Response:
        return self.retrier.call(
            call,
            lambda attempt: failures.classify(attempt, self.token_hint),
            endpoint=endpoint,
            describe=lambda detail: self.message(endpoint, route, detail),
            what=f"X {endpoint} for @{self.account}",
        )

    def message(self, endpoint: str, route: str, detail: str) -> str:
        """A failure's message: endpoint, route and account first, the token redacted."""
        return redact(f"X {endpoint} (GET {route}) for @{self.account}: {detail}", [self.secret])
