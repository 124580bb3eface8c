"""`MastodonApiSource`: one account's mentions, own statuses and conversations, pulled with
the real Mastodon.py client (see README.md in this folder)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from mastodon import Mastodon

from ingest.live import RetryPolicy, check_timeout
from ingest.mastodon.errors import MastodonMalformedPageError, MastodonRequestError
from ingest.mastodon.http import ApiCaller, CapturingSession
from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

ENDPOINTS = ("mentions", "statuses", "threads")
ROUTES = {
    "account lookup": "/api/v1/accounts/lookup",
    "mentions": "/api/v1/notifications?types[]=mention",
    "statuses": "/api/v1/accounts/:id/statuses?exclude_reblogs=true",
    "threads": "/api/v1/statuses/:id/context",
}
PAGE_LIMIT = 40  # the most Mastodon serves a page
_ADDRESS = re.compile(r"^@?([A-Za-z0-9_]{1,30})@([A-Za-z0-9.-]+)$")

TokenFor = Callable[[str], "str | None"]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class MastodonApiSource:
    """A `PageSource` for Mastodon: one `pages()` call extracts one account (user@instance).

    `tokens` gives an account's access token (a function of its address, or None: no
    token), needed to read its notifications. `base_url` replaces every instance's URL
    (a gateway, or a fake server in tests); by default it is https://<instance>.
    """

    platform = "mastodon"

    def __init__(
        self,
        tokens: TokenFor | None = None,
        base_url: str | None = None,
        *,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_rate_limit_wait_seconds: float = 900,
        request_timeout_seconds: float = 30,
        session: requests.Session | None = None,
        token_hint: Callable[[str], str] = lambda address: "the token given to the source",
    ):
        self._tokens = tokens
        # address -> where its token is set (the app knows: a Connection, a variable)
        self.token_hint = token_hint
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retry_policy = RetryPolicy(max_retries, backoff_seconds, max_rate_limit_wait_seconds)
        self.request_timeout_seconds = check_timeout(request_timeout_seconds)
        self._transport = session

    def __repr__(self) -> str:
        return f"MastodonApiSource(base_url={self.base_url!r})"

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Yield mentions, then statuses, then threads pages (newest first within each).

        An endpoint's watermark (the newest status id seen before `until`, sent as
        since_id next time) moves only once the endpoint finished.
        """
        match = _ADDRESS.match(request.account.strip())
        if not match:
            raise MastodonRequestError(
                f"Mastodon account {request.account!r} is not a full address (@user@instance)",
                endpoint="account lookup",
            )
        user, instance = match.group(1), match.group(2).lower()
        for endpoint in ("account lookup", *ENDPOINTS):
            result.endpoint(endpoint)
            if request.since_ids.get(endpoint):
                result.watermarks[endpoint] = request.since_ids[endpoint]
        address = f"{user}@{instance}".lower()
        token = self._tokens(address) if self._tokens else None
        run = _Run(self, request, result, user, instance, token)
        yield from run.pages()


class _Run:
    def __init__(
        self,
        source: MastodonApiSource,
        request: ExtractRequest,
        result: ExtractResult,
        user: str,
        instance: str,
        token: str | None,
    ):
        self.request = request
        self.result = result
        self.user = user
        self.address = f"{user}@{instance}"
        self.token = token
        self.session = CapturingSession(source.request_timeout_seconds, source._transport)
        self.api = Mastodon(
            access_token=token,
            api_base_url=source.base_url or f"https://{instance}",
            ratelimit_method="throw",  # waits are the kit's, bounded and logged
            version_check_mode="none",
            session=self.session,
        )
        self.caller = ApiCaller(
            self.session,
            source.retry_policy,
            result,
            self.address,
            token or "",
            source.token_hint(self.address),
        )
        self.conversations: dict[str, str | None] = {}  # status id -> its parent id

    def pages(self) -> Iterator[ResponsePage]:
        account, _ = self.caller.call(
            "account lookup", ROUTES["account lookup"], lambda: self.api.account_lookup(self.user)
        )
        self.result.endpoint("account lookup").users += 1
        if self.token:
            yield from self._listing(
                "mentions",
                lambda since: self.api.notifications(
                    types=["mention"], limit=PAGE_LIMIT, since_id=since
                ),
                lambda item: item.get("status") if isinstance(item, dict) else None,
            )
        else:
            self.result.ceilings.append(
                f"mentions: no access token for @{self.address}: its notifications were not "
                "read; statuses that mention it come only with its own conversations"
            )
        account_id = account["id"]
        yield from self._listing(
            "statuses",
            lambda since: self.api.account_statuses(
                account_id, exclude_reblogs=True, limit=PAGE_LIMIT, since_id=since
            ),
            lambda item: item,
        )
        yield from self._threads()

    def _page(self, endpoint: str, call: Callable[[], Any]) -> tuple[Any, bytes]:
        try:
            value, body = self.caller.call(endpoint, ROUTES[endpoint], call)
        finally:
            self.result.endpoint(endpoint).pages += 1
        return value, body

    def _listing(
        self,
        endpoint: str,
        first_page: Callable[[str | None], Any],
        status_of: Callable[[Any], Any],
    ) -> Iterator[ResponsePage]:
        """Pages via the Link header (Mastodon.py's fetch_next), newest first, until a page
        reaches the watermark (the newest item id seen before: a notification's id for
        mentions, a status's for statuses) or the backfill start. fetch_next drops since_id,
        so the stop is checked here, on every page."""
        since = self.request.since_ids.get(endpoint)
        low_id = int(since) if since and since.isdigit() else 0
        newest = low_id
        call: Callable[[], Any] = functools.partial(first_page, since)
        while True:
            try:
                page, body = self._page(endpoint, call)
            except MastodonMalformedPageError as broken:
                yield ResponsePage(endpoint, broken.body)
                raise
            items = [i for i in _list(json.loads(body)) if isinstance(i, dict)]
            self.result.endpoint(endpoint).posts += len(items)
            for item in items:
                status = status_of(item)
                if isinstance(status, dict):
                    self.conversations.setdefault(
                        str(status.get("id")), status.get("in_reply_to_id")
                    )
            newest = max(newest, self._newest_id(items))
            yield ResponsePage(endpoint, body)
            if self._reached_the_end(items, page, low_id):
                break
            call = functools.partial(self.api.fetch_next, page)
        if newest:
            self.result.watermarks[endpoint] = str(newest)

    def _newest_id(self, items: list[dict]) -> int:
        until = self.request.until.astimezone(UTC)
        ids = [
            int(item["id"])
            for item in items
            if str(item.get("id", "")).isdigit()
            and (_time(item.get("created_at")) or until) < until
        ]
        return max(ids, default=0)

    def _reached_the_end(self, items: list[dict], page: Any, low_id: int) -> bool:
        if not items or getattr(page, "_pagination_next", None) is None:
            return True
        ids = [int(i["id"]) for i in items if str(i.get("id", "")).isdigit()]
        times = [t for t in (_time(i.get("created_at")) for i in items) if t is not None]
        start = self.request.backfill_start.astimezone(UTC)
        return bool(ids and min(ids) <= low_id) or bool(times and min(times) < start)

    def _threads(self) -> Iterator[ResponsePage]:
        """The context of each conversation's root: a reply's context names its root first
        (ancestors[0]); the root's context holds every reply below it."""
        roots: dict[str, None] = {}
        for status_id, parent in self.conversations.items():
            if parent is None:
                roots.setdefault(status_id)
                continue
            context = yield from self._context(status_id)
            ancestors = context.get("ancestors") or []
            if ancestors and isinstance(ancestors[0], dict):
                roots.setdefault(str(ancestors[0].get("id")))
        for root in roots:
            yield from self._context(root)

    def _context(self, status_id: str):
        endpoint = "threads"
        try:
            _, body = self._page(endpoint, lambda: self.api.status_context(status_id))
        except MastodonMalformedPageError as broken:
            yield ResponsePage(endpoint, broken.body)
            raise
        except MastodonRequestError as refused:
            if refused.status != 404:
                raise
            self.result.ceilings.append(f"threads: status {status_id} not found (deleted)")
            return {}
        document = json.loads(body)
        document = document if isinstance(document, dict) else {}
        for key in ("ancestors", "descendants"):
            self.result.endpoint(endpoint).posts += len(document.get(key) or [])
        yield ResponsePage(endpoint, body)
        return document
