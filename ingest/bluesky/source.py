"""`BlueskyApiSource`: one account's identity, mentions, own posts and threads, pulled with
the real atproto SDK `Client` (see README.md in this folder)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from atproto import Client
from atproto_client.request import Request

from ingest.bluesky.errors import BlueskyMalformedPageError, BlueskyRequestError
from ingest.bluesky.http import CapturingTransport, XrpcCaller
from ingest.live import RetryPolicy, check_timeout
from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

# With an app password, requests go to the entryway (which proxies app.bsky.* to the
# AppView); without one, to the public AppView, which serves the same reads unauthenticated.
ENTRYWAY_URL = "https://bsky.social"
PUBLIC_APPVIEW_URL = "https://public.api.bsky.app"
ENDPOINTS = ("identity", "mentions", "posts", "threads")
MENTION_REASONS = ["mention", "reply", "quote"]
PAGE_LIMIT = 100
# getPostThread serves at most 1000 levels of replies
MAX_THREAD_DEPTH = 1000
_HANDLE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class BlueskyCredentials:
    """A handle and one of its app passwords; repr shows the handle only."""

    handle: str
    app_password: str = field(repr=False)
    # where the app read them (a Connection, variables): what a refusal tells a person to fix
    origin: str = "the credentials given to the Bluesky source"


CredentialsFor = Callable[[str], "BlueskyCredentials | None"]


def _time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sort_time(post: dict[str, Any]) -> datetime | None:
    """Bluesky's sort time of a post: the earlier of its createdAt and indexedAt."""
    record = _object(post.get("record"))
    times = [t for t in (_time(record.get("createdAt")), _time(post.get("indexedAt"))) if t]
    return min(times) if times else None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BlueskyApiSource:
    """A `PageSource` for Bluesky: one `pages()` call extracts one account (a handle).

    `credentials` is the app password of the accounts that have one: fixed credentials, or
    a function of the account's handle returning its own (None: none). Notifications are
    read only with the account's own credentials; otherwise its mentions are searched.
    """

    platform = "bluesky"

    def __init__(
        self,
        credentials: BlueskyCredentials | CredentialsFor | None = None,
        base_url: str | None = None,
        *,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_rate_limit_wait_seconds: float = 900,
        request_timeout_seconds: float = 30,
        thread_depth: int = MAX_THREAD_DEPTH,
        transport: httpx.BaseTransport | None = None,
    ):
        if not 1 <= thread_depth <= MAX_THREAD_DEPTH:
            raise ValueError(f"thread_depth must be 1 to {MAX_THREAD_DEPTH}")
        self._credentials = credentials
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retry_policy = RetryPolicy(max_retries, backoff_seconds, max_rate_limit_wait_seconds)
        self.request_timeout_seconds = check_timeout(request_timeout_seconds)
        self.thread_depth = thread_depth
        self._transport = transport

    def __repr__(self) -> str:
        return f"BlueskyApiSource(base_url={self.base_url!r})"

    def credentials_for(self, handle: str) -> BlueskyCredentials | None:
        if callable(self._credentials):
            return self._credentials(handle)
        return self._credentials

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Yield identity, mentions, posts, then threads pages (newest first within each).

        An endpoint's watermark (the newest post time seen before `until`) moves only once
        the endpoint finished, so a run that raises leaves watermarks safe to reuse.
        """
        handle = request.account.strip().lstrip("@").lower()
        if not _HANDLE.match(handle):
            raise BlueskyRequestError(
                f"Bluesky account {request.account!r} is not an AT Protocol handle",
                endpoint="identity",
                status=400,
            )
        for endpoint in ENDPOINTS:
            result.endpoint(endpoint)
            if request.since_ids.get(endpoint):
                result.watermarks[endpoint] = request.since_ids[endpoint]
        credentials = self.credentials_for(handle)
        run = _Run(self, request, result, handle, credentials)
        try:
            yield from run.pages()
        finally:
            run.close()


class _Run:
    """One account's extract: the SDK client, its captured answers and what was found."""

    def __init__(
        self,
        source: BlueskyApiSource,
        request: ExtractRequest,
        result: ExtractResult,
        handle: str,
        credentials: BlueskyCredentials | None,
    ):
        self.request = request
        self.result = result
        self.handle = handle
        self.credentials = credentials
        self.depth = source.thread_depth
        self.transport = CapturingTransport(source._transport)
        default_url = ENTRYWAY_URL if credentials else PUBLIC_APPVIEW_URL
        self.client = Client(
            base_url=source.base_url or default_url,
            request=Request(transport=self.transport, timeout=source.request_timeout_seconds),
        )
        origin = credentials.origin if credentials else "no credentials (none were given)"
        self.caller = XrpcCaller(
            self.transport, source.retry_policy, result, handle, self._secrets, origin
        )
        self.roots: dict[str, None] = {}  # thread roots in the order met

    def _secrets(self) -> list[str]:
        secrets = [self.credentials.app_password] if self.credentials else []
        session = getattr(self.client, "_session", None)
        if session is not None:
            secrets += [session.access_jwt, session.refresh_jwt]
        return secrets

    def close(self) -> None:
        self.client.request.close()

    def pages(self) -> Iterator[ResponsePage]:
        if self.credentials is not None:
            self._login()
        did = yield from self._identity()
        own = self.credentials is not None and self.credentials.handle.lower() == self.handle
        if own:
            yield from self._notifications()
        else:
            yield from self._searched_mentions()
        yield from self._author_feed(did)
        yield from self._threads()

    def _login(self) -> None:
        assert self.credentials is not None
        credentials = self.credentials
        self.caller.call(
            "login",
            "com.atproto.server.createSession",
            lambda: self.client.login(
                credentials.handle, credentials.app_password, fetch_bsky_profile=False
            ),
        )

    def _page(self, endpoint: str, nsid: str, call: Callable[[], object]) -> tuple[bytes, dict]:
        try:
            body = self.caller.call(endpoint, nsid, call)
        except BlueskyMalformedPageError:
            self.result.endpoint(endpoint).pages += 1
            raise
        self.result.endpoint(endpoint).pages += 1
        document = json.loads(body)
        return body, document if isinstance(document, dict) else {}

    def _identity(self) -> Generator[ResponsePage, None, str]:
        nsid = "com.atproto.identity.resolveHandle"
        resolve_handle = self.client.com.atproto.identity.resolve_handle
        try:
            body, document = self._page(
                "identity", nsid, lambda: resolve_handle({"handle": self.handle})
            )
        except BlueskyMalformedPageError as broken:
            yield ResponsePage("identity", broken.body)
            raise
        yield ResponsePage("identity", body)
        did = document.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise BlueskyRequestError(
                f"Bluesky {nsid} for {self.handle}: the answer holds no DID",
                endpoint="identity",
                status=200,
            )
        return did

    def _low_water(self, endpoint: str) -> datetime:
        """Posts at or before this are not asked for: the watermark, else backfill start."""
        marks = [_time(self.request.since_ids.get(endpoint)), self.request.backfill_start]
        return max(m.astimezone(UTC) for m in marks if m is not None)

    def _paged(
        self,
        endpoint: str,
        nsid: str,
        call: Callable[[str | None], object],
        items_of: Callable[[dict], list[dict]],
        time_of: Callable[[dict], datetime | None],
    ) -> Iterator[ResponsePage]:
        """Follow cursors newest first until a page reaches the low water mark or the end."""
        low = self._low_water(endpoint)
        until = self.request.until.astimezone(UTC)
        newest: datetime | None = _time(self.request.since_ids.get(endpoint))
        cursor: str | None = None
        while True:
            try:
                body, document = self._page(endpoint, nsid, functools.partial(call, cursor))
            except BlueskyMalformedPageError as broken:
                yield ResponsePage(endpoint, broken.body)
                raise
            items = [item for item in items_of(document) if isinstance(item, dict)]
            self.result.endpoint(endpoint).posts += len(items)
            times = [t for t in (time_of(item) for item in items) if t is not None]
            before_until = [t for t in times if t < until]
            if before_until and (newest is None or max(before_until) > newest):
                newest = max(before_until)
            for item in items:
                self._note_root(item.get("post", item))
            yield ResponsePage(endpoint, body)
            cursor = document.get("cursor")
            if not cursor or not items or (times and min(times) <= low):
                break
        if newest is not None:
            self.result.watermarks[endpoint] = _stamp(newest)

    def _note_root(self, post: dict) -> None:
        record = _object(post.get("record"))
        root = _object(_object(record.get("reply")).get("root")).get("uri")
        uri = root or post.get("uri")
        if isinstance(uri, str) and uri.startswith("at://"):
            self.roots.setdefault(uri)

    def _notifications(self) -> Iterator[ResponsePage]:
        list_notifications = self.client.app.bsky.notification.list_notifications
        yield from self._paged(
            "mentions",
            "app.bsky.notification.listNotifications",
            lambda cursor: list_notifications(
                _params(limit=PAGE_LIMIT, reasons=MENTION_REASONS, cursor=cursor)
            ),
            lambda document: document.get("notifications") or [],
            lambda item: _time(item.get("indexedAt")),
        )

    def _searched_mentions(self) -> Iterator[ResponsePage]:
        self.result.ceilings.append(
            f"mentions: no app password for {self.handle}: its notifications were not read; "
            "posts that mention it were searched (searchPosts), replies that do not mention "
            "it come only with the threads of its own posts"
        )
        search_posts = self.client.app.bsky.feed.search_posts
        since = _stamp(self._low_water("mentions"))
        until = _stamp(self.request.until)
        yield from self._paged(
            "mentions",
            "app.bsky.feed.searchPosts",
            lambda cursor: search_posts(
                _params(
                    q=self.handle,  # a mention shows the handle in the text; q is required
                    mentions=self.handle,
                    sort="latest",
                    since=since,
                    until=until,
                    limit=PAGE_LIMIT,
                    cursor=cursor,
                )
            ),
            lambda document: document.get("posts") or [],
            sort_time,
        )

    def _author_feed(self, did: str) -> Iterator[ResponsePage]:
        get_author_feed = self.client.app.bsky.feed.get_author_feed
        yield from self._paged(
            "posts",
            "app.bsky.feed.getAuthorFeed",
            lambda cursor: get_author_feed(
                _params(actor=did, filter="posts_with_replies", limit=PAGE_LIMIT, cursor=cursor)
            ),
            lambda document: document.get("feed") or [],
            lambda item: sort_time(item.get("post") or {}),
        )

    def _threads(self) -> Iterator[ResponsePage]:
        endpoint, nsid = "threads", "app.bsky.feed.getPostThread"
        get_post_thread = self.client.app.bsky.feed.get_post_thread
        cut = _ThreadCuts(self.depth)
        missing: list[str] = []
        for root in self.roots:
            try:
                body, document = self._page(
                    endpoint,
                    nsid,
                    functools.partial(
                        get_post_thread, _params(uri=root, depth=self.depth, parent_height=0)
                    ),
                )
            except BlueskyMalformedPageError as broken:
                yield ResponsePage(endpoint, broken.body)
                raise
            except BlueskyRequestError as refused:
                if refused.error != "NotFound":
                    raise
                missing.append(root)
                continue
            self.result.endpoint(endpoint).posts += cut.walk(document.get("thread"))
            yield ResponsePage(endpoint, body)
        self.result.ceilings.extend(cut.ceilings(missing))


class _ThreadCuts:
    """Counts the posts of thread answers and what the depth limit left out."""

    def __init__(self, depth: int):
        self.depth = depth
        self.cut_threads = 0
        self.hidden_replies = 0

    def walk(self, root: object) -> int:
        posts, cut = 0, 0
        stack = [(root, 0)]
        while stack:
            node, level = stack.pop()
            if not isinstance(node, dict) or not isinstance(node.get("post"), dict):
                continue
            posts += 1
            found = node.get("replies")
            replies: list[Any] = found if isinstance(found, list) else []
            stack.extend((reply, level + 1) for reply in replies)
            if level >= self.depth and not replies:
                cut += int(node["post"].get("replyCount") or 0)
        if cut:
            self.cut_threads += 1
            self.hidden_replies += cut
        return posts

    def ceilings(self, missing: list[str]) -> list[str]:
        found = []
        if self.cut_threads:
            found.append(
                f"threads: {self.cut_threads} thread(s) deeper than {self.depth} levels; "
                f"{self.hidden_replies} repl(ies) below that depth were not served"
            )
        if missing:
            found.append(
                f"threads: {len(missing)} root post(s) not found (deleted): "
                + ", ".join(missing[:3])
                + (" ..." if len(missing) > 3 else "")
            )
        return found


def _object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (answers are read defensively)."""
    return value if isinstance(value, dict) else {}


def _params(**values: Any) -> dict[str, Any]:
    """XRPC parameters without the unset ones (the SDK sends what it is given)."""
    return {name: value for name, value in values.items() if value is not None}
