"""A local Bluesky (PDS + AppView) answering XRPC as the lexicons say, for the real SDK.

Methods served under /xrpc/ (lexicons of bluesky-social/atproto):
    com.atproto.server.createSession        POST {identifier, password} -> session + didDoc
    com.atproto.identity.resolveHandle      handle -> {did}; HandleNotFound
    app.bsky.notification.listNotifications  the session account's mention/reply/quote
                                            notifications, newest first; needs the session
    app.bsky.feed.searchPosts               mentions=, since=, until=, sort=latest
    app.bsky.feed.getAuthorFeed             actor (DID or handle), posts and replies
    app.bsky.feed.getPostThread             uri, depth; NotFound for an unknown post
Lists page with an opaque `cursor` (`page_size` items a page). Every answer carries the
AppView's rate-limit headers (ratelimit-limit, -remaining, -reset, -policy). Faults are
scheduled per method: RateLimited (429), ServerError (5xx), Truncated (a cut 200 body).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.bluesky_shapes import Post, did_of, thread_view
from tests.integration.faults import FaultSchedule, Truncated
from tests.integration.local_server import AnswerHandler, LocalServer

RATE_LIMIT = 3000
RATE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class RateLimited:
    """HTTP 429 RateLimitExceeded; `reset_in` seconds to ratelimit-reset (None: no header)."""

    reset_in: float | None = 0.0


@dataclass(frozen=True)
class ServerError:
    status: int = 503


def _b64(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def _jwt(did: str, scope: str) -> str:
    """A token shaped as the PDS's (the SDK reads `exp` to know when to refresh)."""
    now = int(time.time())
    claims = {"scope": scope, "sub": did, "iat": now, "exp": now + 7200, "aud": "did:web:fake"}
    return f"{_b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{_b64(claims)}.c2lnbmF0dXJl"


@dataclass
class FakeBlueskyApi(LocalServer):
    posts: list[Post] = field(default_factory=list)
    app_passwords: dict[str, str] = field(default_factory=dict)  # handle -> app password
    page_size: int = 2
    faults: FaultSchedule = field(default_factory=FaultSchedule)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)  # 200s served per method
    name = "fake-bluesky"

    def __post_init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # access token -> handle

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(AnswerHandler):
            def respond(self, method: str) -> None:
                api.answer(self, method)

        return Handler

    @property
    def served(self) -> int:
        return sum(self.answered.values())

    # --- dispatch -------------------------------------------------------------------------

    def answer(self, handler: AnswerHandler, method: str) -> None:
        url = urlsplit(handler.path)
        nsid = url.path.removeprefix("/xrpc/")
        params = parse_qs(url.query)
        body = b""
        if method == "POST":
            body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        with self._lock:
            self.requests.append((nsid, params))
        fault = self.faults.take(nsid)
        if isinstance(fault, RateLimited):
            return self._send(
                handler, 429, _error("RateLimitExceeded", "Rate Limit Exceeded"), fault
            )
        if isinstance(fault, ServerError):
            return self._send(handler, fault.status, _error("InternalServerError", "down"))
        status, document = self._route(nsid, params, body, handler.headers.get("Authorization"))
        payload = json.dumps(document).encode()
        if status == 200:
            with self._lock:
                self.answered[nsid] = self.answered.get(nsid, 0) + 1
            if isinstance(fault, Truncated):
                payload = payload[: int(len(payload) * fault.keep)]
        self._send(handler, status, payload)

    def _send(
        self,
        handler: AnswerHandler,
        status: int,
        payload: bytes,
        limited: RateLimited | None = None,
    ) -> None:
        now = int(time.time())
        headers = {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": "0" if limited else str(RATE_LIMIT - len(self.requests)),
            "ratelimit-policy": f"{RATE_LIMIT};w={RATE_WINDOW_SECONDS}",
            "ratelimit-reset": str(now + RATE_WINDOW_SECONDS),
        }
        if limited is not None:
            if limited.reset_in is None:
                del headers["ratelimit-reset"]
            else:
                headers["ratelimit-reset"] = str(int(now + limited.reset_in))
        handler.send_answer(status, "application/json; charset=utf-8", headers, payload)

    def _route(
        self, nsid: str, params: dict[str, list[str]], body: bytes, authorization: str | None
    ) -> tuple[int, dict]:
        one = {name: values[0] for name, values in params.items()}
        if nsid == "com.atproto.server.createSession":
            return self._create_session(json.loads(body or b"{}"))
        if nsid == "com.atproto.identity.resolveHandle":
            return self._resolve_handle(one.get("handle", ""))
        if nsid == "app.bsky.notification.listNotifications":
            handle = self._sessions.get((authorization or "").removeprefix("Bearer "))
            if handle is None:
                return 401, {"error": "AuthMissing", "message": "Authentication Required"}
            return 200, self._notifications(handle, params.get("reasons") or [], one)
        if nsid == "app.bsky.feed.searchPosts":
            return 200, self._search(one)
        if nsid == "app.bsky.feed.getAuthorFeed":
            return 200, self._author_feed(one)
        if nsid == "app.bsky.feed.getPostThread":
            return self._post_thread(one)
        return 501, {"error": "MethodNotImplemented", "message": f"{nsid} is not served"}

    # --- methods --------------------------------------------------------------------------

    def _create_session(self, document: dict) -> tuple[int, dict]:
        handle = str(document.get("identifier", "")).lower()
        if self.app_passwords.get(handle) != document.get("password"):
            return 401, {
                "error": "AuthenticationRequired",
                "message": "Invalid identifier or password",
            }
        did = did_of(handle)
        access = _jwt(did, "com.atproto.appPass")
        with self._lock:
            self._sessions[access] = handle
        did_doc = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{handle}"],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": self.base_url,
                }
            ],
        }
        return 200, {
            "accessJwt": access,
            "refreshJwt": _jwt(did, "com.atproto.refresh"),
            "handle": handle,
            "did": did,
            "didDoc": did_doc,
            "active": True,
        }

    def _resolve_handle(self, handle: str) -> tuple[int, dict]:
        known = {p.author for p in self.posts} | set(self.app_passwords)
        if handle.lower() not in known:
            return 400, {"error": "HandleNotFound", "message": "Unable to resolve handle"}
        return 200, {"did": did_of(handle.lower())}

    def _newest_first(self, posts: list[Post]) -> list[Post]:
        return sorted(posts, key=lambda p: p.indexed_at, reverse=True)

    def _notifications(self, handle: str, reasons: list[str], one: dict[str, str]) -> dict:
        items = []
        for post in self._newest_first(self.posts):
            if post.author == handle:
                continue
            if post.parent is not None and post.parent.author == handle:
                reason = "reply"
            elif handle in post.mentions:
                reason = "mention"
            else:
                continue
            if not reasons or reason in reasons:
                items.append(post.notification(reason))
        return self._paged("notifications", items, one)

    def _search(self, one: dict[str, str]) -> dict:
        mentioned = one.get("mentions", "").lower()
        since = _when(one.get("since")) or datetime.min.replace(tzinfo=UTC)
        until = _when(one.get("until")) or datetime.max.replace(tzinfo=UTC)
        hits = [
            post.view()
            for post in self._newest_first(self.posts)
            if mentioned in post.mentions and since <= post.created_at < until
        ]
        return self._paged("posts", hits, one)

    def _author_feed(self, one: dict[str, str]) -> dict:
        actor = one.get("actor", "")
        items = [
            post.feed_item()
            for post in self._newest_first(self.posts)
            if actor in (post.author, did_of(post.author))
        ]
        return self._paged("feed", items, one)

    def _post_thread(self, one: dict[str, str]) -> tuple[int, dict]:
        root = next((p for p in self.posts if p.uri == one.get("uri")), None)
        if root is None:
            return 400, {"error": "NotFound", "message": f"Post not found: {one.get('uri')}"}
        depth = int(one.get("depth", 6))
        return 200, {"thread": thread_view(root, self.posts, depth)}

    def _paged(self, key: str, items: list[dict], one: dict[str, str]) -> dict:
        start = int(one.get("cursor") or 0)
        limit = min(self.page_size, int(one.get("limit", 50)))
        page: dict = {key: items[start : start + limit]}
        if start + limit < len(items):
            page["cursor"] = str(start + limit)
        return page


def _error(name: str, message: str) -> bytes:
    return json.dumps({"error": name, "message": message}).encode()


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
