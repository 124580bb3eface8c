"""HTTP for the Reddit source: credentials, hosts, retries, and the raw bodies praw parses.

praw turns every answer into objects, but the landing zone wants the bytes Reddit sent.
`CapturingSession` is the `requests.Session` under prawcore's `Requestor`: every
successful API answer passes through it, and it keeps a copy of the body for the source
to land. Retries live here too, below prawcore: prawcore raises at once on a 429 and
retries 5xx with its own fixed schedule, while this session retries 429, 5xx, timeouts
and connection errors under one bounded policy and then raises an error that prawcore
passes up without retrying again. Pacing by X-Ratelimit-Remaining / X-Ratelimit-Reset
is prawcore's own `RateLimiter`, which runs before each request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from ingest.live import Attempt, Retrier, RetryPolicy, Verdict, redact, wait_from_headers
from ingest.reddit.errors import RedditRateLimitError, RedditUnavailableError

log = logging.getLogger(__name__)

OFFICIAL_OAUTH_URL = "https://oauth.reddit.com"
OFFICIAL_REDDIT_URL = "https://www.reddit.com"
OFFICIAL_SHORT_URL = "https://redd.it"
ACCESS_TOKEN_PATH = "/api/v1/access_token"
REVOKE_TOKEN_PATH = "/api/v1/revoke_token"

# prawcore's own retry statuses; answered by this session's policy instead.
RETRY_STATUSES = frozenset({500, 502, 503, 504, 520, 522, 408})


@dataclass(frozen=True)
class RedditCredentials:
    """A Reddit "script" app and the account it logs in as, read at run time.

    The repr names the account only: the app's id and secret and the password are kept
    out of every message.
    """

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    user_agent: str | None = None
    # Where the values were set, so a refusal says what to fix; the app fills these in:
    # `origin` names the place (a Connection, the environment), `set_in` each field's spot.
    origin: str = "the credentials given to the Reddit source"
    set_in: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        missing = [
            name
            for name in ("client_id", "client_secret", "username", "password")
            if not getattr(self, name)
        ]
        if missing:
            raise ValueError(f"Reddit credentials without {', '.join(missing)}")

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be shown. The username is public (it is the account's name)."""
        return (self.client_id, self.client_secret, self.password)

    def check(self, what: str, *fields: str) -> str:
        """What to fix after a refusal, naming where the values are set, never a value."""
        places = ", ".join(self.set_in[name] for name in fields if name in self.set_in)
        return (
            f"check the {what} in {self.origin} ({places + '; ' if places else ''}values redacted)"
        )

    def agent(self, version: str) -> str:
        # Reddit asks for "<platform>:<app id>:<version> (by u/<username>)".
        return self.user_agent or f"python:siloscope:{version} (by u/{self.username})"


@dataclass(frozen=True)
class RedditHosts:
    """Where praw sends requests: the API, the token endpoint, and short links."""

    oauth_url: str = OFFICIAL_OAUTH_URL
    reddit_url: str = OFFICIAL_REDDIT_URL
    short_url: str = OFFICIAL_SHORT_URL

    @classmethod
    def at(cls, base_url: str | None) -> RedditHosts:
        """One base URL for everything (a proxy or a local fake server), or the official hosts."""
        if not base_url:
            return cls()
        base = base_url.rstrip("/")
        return cls(base, base, base)


class CapturingSession(requests.Session):
    """The session prawcore sends through: keeps API bodies, retries, never shows secrets.

    `endpoint` is set by the source to the endpoint being extracted, so counts and
    messages name it. `transport`, when given, is the session that actually sends (its
    proxies, certificates and adapters are kept as they are).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        timeout_seconds: float,
        secrets: Iterable[str],
        account: str,
        on_attempt: Callable[[str], None] = lambda endpoint: None,
        on_rate_limited: Callable[[str], None] = lambda endpoint: None,
        transport: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__()
        self.retrier = Retrier(
            policy, log, on_attempt=on_attempt, on_rate_limited=on_rate_limited, sleep=sleep
        )
        self.timeout_seconds = timeout_seconds
        self.secrets = [s for s in secrets if s]
        self.account = account
        self.transport = transport
        self.endpoint = "login"
        self._captured: list[bytes] = []

    def take(self) -> list[bytes]:
        """The API bodies received since the last call, oldest first."""
        bodies, self._captured = self._captured, []
        return bodies

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        # prawcore passes praw's whole-second timeout; this one may be finer.
        kwargs["timeout"] = self.timeout_seconds
        path = urlsplit(url).path
        is_token_request = path.endswith((ACCESS_TOKEN_PATH, REVOKE_TOKEN_PATH))
        request = f"{method.upper()} {path}"
        # the token is fetched lazily, inside whichever endpoint asks first
        endpoint = "login" if is_token_request else self.endpoint
        response = self.retrier.call(
            lambda: self._send(method, url, *args, **kwargs),
            classify,
            endpoint=endpoint,
            describe=lambda detail: self._message(endpoint, request, detail),
            what=f"Reddit {endpoint} for {self.account}",
        )
        if is_token_request:
            self._remember_access_token(response)
        elif response.status_code == 200:
            self._captured.append(response.content)
        return response

    def _send(self, method, url, *args, **kwargs) -> requests.Response:
        if self.transport is not None:
            return self.transport.request(method, url, *args, **kwargs)
        return super().request(method, url, *args, **kwargs)

    def _remember_access_token(self, response: requests.Response) -> None:
        """The bearer token is a secret too: it is redacted from every message after this."""
        try:
            token = json.loads(response.content).get("access_token")
        except (ValueError, AttributeError):
            return
        if isinstance(token, str) and token:
            self.secrets.append(token)

    def _message(self, endpoint: str, what: str, detail: str) -> str:
        return redact(f"Reddit {endpoint} ({what}) for {self.account}: {detail}", self.secrets)


def classify(attempt: Attempt[requests.Response]) -> Verdict:
    """429, prawcore's retry statuses, timeouts and connection errors are retried here;
    every other answer goes up to prawcore, whose exceptions `failures.py` translates."""
    response = attempt.value
    if response is None:
        return attempt.transport_failure(RedditUnavailableError)
    if response.status_code == 429:
        # Reddit's X-Ratelimit-Reset is seconds until the window resets, not a timestamp.
        wait, why = wait_from_headers(response, "retry-after", "x-ratelimit-reset")
        return attempt.rate_limited(RedditRateLimitError, why, wait)
    if response.status_code in RETRY_STATUSES:
        return attempt.unavailable(RedditUnavailableError, response.status_code)
    return None
