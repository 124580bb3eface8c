"""HTTP for the X source: where requests go, how failures are retried, what is redacted.

tweepy hard-codes https://api.twitter.com, so `RoutedSession` (handed to tweepy.Client as
its session) rewrites that prefix to the configured base URL: a proxy, or a local fake
server in tests. Retries live here and not in tweepy: with `wait_on_rate_limit` tweepy
retries a 429 that has no x-rate-limit-reset header at once and forever.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import requests
import tweepy

from ingest.retry_policy import RetryPolicy
from ingest.x.errors import (
    XAuthError,
    XExtractError,
    XRateLimitError,
    XRequestError,
    XUnavailableError,
)

OFFICIAL_BASE_URL = "https://api.twitter.com"

log = logging.getLogger(__name__)

# tweepy logs every request's headers, bearer token included, at DEBUG. Case matters: it
# is the Authorization header's "Bearer <token>", not prose such as "X bearer token".
_BEARER_IN_TEXT = re.compile(r"(Bearer\s+)[^\s'\",}]+")
_TWEEPY_LOGGERS = ("tweepy.client",)


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


def redact(text: str, secret: str) -> str:
    """`text` with the secret and any bearer credential replaced by ***."""
    if secret:
        text = text.replace(secret, "***")
    return _BEARER_IN_TEXT.sub(r"\1***", text)


class _RedactBearerTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _BEARER_IN_TEXT.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_tweepy_log_redaction() -> None:
    """Make tweepy's DEBUG request log safe to turn on (idempotent).

    A logger's filters see only records logged on that very logger, so the filter goes
    on the logger tweepy.Client writes to.
    """
    for name in _TWEEPY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _RedactBearerTokens) for existing in logger.filters):
            logger.addFilter(_RedactBearerTokens())


class RequestRunner:
    """Runs one API call at a time with retries, counting every HTTP attempt.

    A retry repeats exactly the same call (same pagination token), so a page is neither
    lost nor fetched twice. 401/403 and other 4xx fail at once; 429, 5xx, timeouts and
    connection errors are retried up to `policy.max_retries` times, then raise.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        secret: str,
        account: str,
        on_attempt: Callable[[str], None],
        on_rate_limited: Callable[[str], None] = lambda endpoint: None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy
        self.secret = secret
        self.account = account
        self.on_attempt = on_attempt
        self.on_rate_limited = on_rate_limited
        self.sleep = sleep

    def run(self, endpoint: str, route: str, call: Callable[[], requests.Response]):
        retry = 0
        while True:
            self.on_attempt(endpoint)
            try:
                return call()
            except tweepy.TooManyRequests as exc:
                self.on_rate_limited(endpoint)
                wait, why = self._rate_limit_wait(exc.response, retry)
                failure: XExtractError = XRateLimitError(
                    self._message(
                        endpoint,
                        route,
                        f"still rate limited (HTTP 429) after "
                        f"{retry + 1} attempts; last answer: {why}",
                    ),
                    endpoint=endpoint,
                    status=429,
                )
                reason = f"HTTP 429, {why}"
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                status = exc.response.status_code
                detail = self._api_detail(exc)
                raise XAuthError(
                    self._message(
                        endpoint,
                        route,
                        f"the X bearer token was refused (HTTP {status}{detail}); check the "
                        "token in Airflow Connection x_default or SILOSCOPE_X_BEARER_TOKEN "
                        "(value redacted)",
                    ),
                    endpoint=endpoint,
                    status=status,
                ) from None
            except tweepy.TwitterServerError as exc:
                status = exc.response.status_code
                failure = XUnavailableError(
                    self._message(endpoint, route, f"HTTP {status} after {retry + 1} attempts"),
                    endpoint=endpoint,
                    status=status,
                )
                wait, reason = self.policy.backoff(retry), f"HTTP {status}"
            except tweepy.HTTPException as exc:
                status = exc.response.status_code
                raise XRequestError(
                    self._message(
                        endpoint, route, f"rejected with HTTP {status}{self._api_detail(exc)}"
                    ),
                    endpoint=endpoint,
                    status=status,
                ) from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                failure = XUnavailableError(
                    self._message(
                        endpoint,
                        route,
                        f"{kind} after {retry + 1} attempts: {redact(str(exc), self.secret)}",
                    ),
                    endpoint=endpoint,
                )
                wait, reason = self.policy.backoff(retry), kind
            what = f"X {endpoint} for @{self.account}: {reason}"
            self.policy.wait_or_give_up(retry, wait, failure, what, log, self.sleep)
            retry += 1

    def _rate_limit_wait(self, response: requests.Response, retry: int) -> tuple[float, str]:
        reset = response.headers.get("x-rate-limit-reset")
        if reset is not None:
            try:
                reset_at = float(reset)
            except ValueError:
                reset_at = None
            if reset_at is not None:
                # One second past the reset: the header has one-second granularity.
                wait = max(0.0, reset_at - time.time() + 1)
                capped = min(wait, self.policy.max_rate_limit_wait_seconds)
                return capped, f"waiting for x-rate-limit-reset {reset}"
        return self.policy.backoff(retry), "no x-rate-limit-reset header, backing off"

    def _message(self, endpoint: str, route: str, what: str) -> str:
        return redact(f"X {endpoint} (GET {route}) for @{self.account}: {what}", self.secret)

    @staticmethod
    def _api_detail(exc: tweepy.HTTPException) -> str:
        messages = [message for message in exc.api_messages if message]
        if not messages:
            try:
                document = exc.response.json()
            except ValueError:
                return ""
            if isinstance(document, dict):
                messages = [str(document[k]) for k in ("title", "detail") if document.get(k)]
        return f": {'; '.join(messages)[:300]}" if messages else ""
