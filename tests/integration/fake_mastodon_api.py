"""A local Mastodon instance answering the REST API as the docs say, for real Mastodon.py.

Routes (docs.joinmastodon.org/methods):
    GET /api/v1/accounts/lookup?acct=            Account; 404 {"error": "Record not found"}
    GET /api/v1/notifications?types[]=mention    the token owner's mention notifications
    GET /api/v1/accounts/:id/statuses            exclude_reblogs, since_id, max_id, limit
    GET /api/v1/statuses/:id/context             {ancestors, descendants}; 404 when unknown
Lists are newest first, `page_size` a page, with a Link header (rel="next" with max_id,
rel="prev" with min_id) as Mastodon sends it. Every answer carries X-RateLimit-Limit,
-Remaining and -Reset (an ISO time). Faults per route: RateLimited (429), ServerError
(5xx), Truncated (a cut 200 body).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.integration.faults import FaultSchedule, Truncated
from tests.integration.local_server import AnswerHandler, LocalServer
from tests.mastodon_shapes import Toot, account, context, number

RATE_LIMIT = 300


@dataclass(frozen=True)
class RateLimited:
    """429; X-RateLimit-Reset `reset_in` seconds ahead (None: no header)."""

    reset_in: float | None = 0.0


@dataclass(frozen=True)
class ServerError:
    status: int = 503


@dataclass
class FakeMastodonApi(LocalServer):
    instance: str = "mastodon.social"
    toots: list[Toot] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> address
    page_size: int = 2
    faults: FaultSchedule = field(default_factory=FaultSchedule)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)
    name = "fake-mastodon"

    def __post_init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(AnswerHandler):
            def respond(self, method: str) -> None:
                api.answer(self)

        return Handler

    @property
    def served(self) -> int:
        return sum(self.answered.values())

    def answer(self, handler: AnswerHandler) -> None:
        url = urlsplit(handler.path)
        params = parse_qs(url.query)
        route = _route_of(url.path)
        with self._lock:
            self.requests.append((route, params))
        fault = self.faults.take(route)
        if isinstance(fault, RateLimited):
            return self._send(handler, 429, {"error": "Too many requests"}, {}, fault)
        if isinstance(fault, ServerError):
            return self._send(handler, fault.status, {"error": "down"}, {})
        token = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
        status, document, links = self._answer(route, url.path, params, self.tokens.get(token))
        if status == 200:
            with self._lock:
                self.answered[route] = self.answered.get(route, 0) + 1
        self._send(handler, status, document, links, truncated=isinstance(fault, Truncated))

    def _send(self, handler, status, document, links, limited=None, truncated=False) -> None:
        reset = datetime.now(UTC) + timedelta(minutes=5)
        headers = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": "0" if limited else str(RATE_LIMIT - len(self.requests)),
            "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
        }
        if limited is not None:
            if limited.reset_in is None:
                del headers["X-RateLimit-Reset"]
            else:
                moment = datetime.now(UTC) + timedelta(seconds=limited.reset_in)
                headers["X-RateLimit-Reset"] = moment.isoformat().replace("+00:00", "Z")
        if links:
            headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
        payload = json.dumps(document).encode()
        if truncated:
            payload = payload[: len(payload) // 2]
        handler.send_answer(status, "application/json; charset=utf-8", headers, payload)

    def _answer(self, route, path, params, owner):
        one = {name: values[0] for name, values in params.items()}
        if route == "accounts/lookup":
            address = f"{one.get('acct', '')}@{self.instance}".lower()
            known = {t.author for t in self.toots} | set(self.tokens.values())
            if address not in known:
                return 404, {"error": "Record not found"}, {}
            return 200, account(address, self.instance), {}
        if route == "notifications":
            if owner is None:
                return 401, {"error": "The access token is invalid"}, {}
            items = [
                t.notification(self.instance)
                for t in self._newest_first()
                if owner in t.mentions and t.author != owner
            ]
            return self._paged(path, items, one, params)
        if route == "accounts/statuses":
            account_id = path.split("/")[4]
            items = [
                t.status(self.instance)
                for t in self._newest_first()
                if number("account", self.instance, t.author) == account_id
            ]
            return self._paged(path, items, one, params)
        if route == "statuses/context":
            status_id = path.split("/")[4]
            toot = next((t for t in self.toots if t.id_on(self.instance) == status_id), None)
            if toot is None:
                return 404, {"error": "Record not found"}, {}
            return 200, context(toot, self.toots, self.instance), {}
        return 404, {"error": "Not found"}, {}

    def _newest_first(self) -> list[Toot]:
        return sorted(self.toots, key=lambda t: t.created_at, reverse=True)

    def _paged(self, path, items, one, params):
        since = int(one.get("since_id") or 0)
        below = int(one["max_id"]) if one.get("max_id") else None
        chosen = [
            i for i in items if int(i["id"]) > since and (below is None or int(i["id"]) < below)
        ]
        limit = min(self.page_size, int(one.get("limit", 20)))
        page = chosen[:limit]
        links = {}
        if page:
            kept = {k: v for k, v in params.items() if k not in ("max_id", "min_id", "since_id")}
            base = f"{self.base_url}{path}?"
            if len(chosen) > limit:
                links["next"] = base + urlencode({**kept, "max_id": page[-1]["id"]}, doseq=True)
            links["prev"] = base + urlencode({**kept, "min_id": page[0]["id"]}, doseq=True)
        return 200, page, links


def _route_of(path: str) -> str:
    parts = path.strip("/").split("/")  # api v1 ...
    if parts[2:4] == ["accounts", "lookup"]:
        return "accounts/lookup"
    if parts[2] == "notifications":
        return "notifications"
    if parts[2] == "accounts" and parts[-1] == "statuses":
        return "accounts/statuses"
    if parts[2] == "statuses" and parts[-1] == "context":
        return "statuses/context"
    return path
