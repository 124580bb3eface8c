"""A local fake of the X API v2, for driving the real tweepy client in integration tests.

    with FakeXApi(token="t") as api:
        acme = api.user("acme")
        alice = api.user("alice")
        root = api.post(alice, "@acme my parcel is late", at=now - timedelta(hours=3))
        api.post(acme, "@alice sorry, on it", at=now - timedelta(hours=2), reply_to=root)
        api.fail_next(RateLimited(reset_in=0), endpoint="mentions", skip=1)
        api.fail_next(Truncated(), endpoint="tweets", account="acme")  # acme's timeline only
        ...  # XApiSource("t", api.base_url)
        assert api.requests_to("mentions")[0].params["max_results"] == "100"

Billing follows X's pay-per-use reads: every post and user object a complete 200 answer
returns counts once per UTC day (`billed_reads`).

It serves, on 127.0.0.1 and a free port, from in-memory users and posts:
    GET /2/users/by/username/:username     endpoint name "user"
    GET /2/users/:id/mentions              "mentions"  (the 800 newest mentions at most)
    GET /2/users/:id/tweets                "tweets"    (the 3200 newest posts at most)
    GET /2/tweets/search/recent            "search"    (conversation_id:<id> [OR ...], 7 days)
    GET /2/tweets?ids=...                  "lookup"    (posts by id, at most 100)
with since_id, until_id, start_time, end_time, max_results and pagination_token/next_token
honoured, newest first, and only the fields and expansions asked for (the API's defaults
otherwise). Every request is recorded; faults are scripted with `fail_next`.

Shapes follow the X API v2 OpenAPI spec, xdevplatform/docs openapi.json at commit
541ef718dee369f983db8af9e710b22e79951218 (API version 2.166, the last that still names
Tweet, tweet.fields and includes.tweets as tweepy and the live API do; 2.167 renamed them
to Post/posts). Schema of each shape is named where the shape is built.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.faults import FaultSchedule, Slow, Truncated
from tests.integration.local_server import AnswerHandler, LocalServer

SNOWFLAKE_EPOCH_MS = 1288834974657
RECENT_SEARCH_WINDOW = timedelta(days=7)
PROBLEMS = "https://api.twitter.com/2/problems"

# Fields every Tweet carries whatever tweet.fields asks (the API's default fields).
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")

_sequence = itertools.count(1)
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})")
_CONVERSATION_TERM = re.compile(r"^conversation_id:(\d{1,19})$")


# ---------------------------------------------------------------- building test data


def snowflake_id(created_at: datetime) -> str:
    """An id that sorts by time and decodes to `created_at`, like X's own ids."""
    milliseconds = int(created_at.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    return str((milliseconds << 22) | (next(_sequence) & 0x3FFFFF))


def _snowflake_time(post_id: str) -> datetime:
    try:
        milliseconds = (int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS
    except ValueError:
        raise _BadRequest(_invalid_request("since_id", post_id, "not a tweet id")) from None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def make_user(username: str, *, name: str | None = None, user_id: str | None = None) -> dict:
    """A User (schema `User`: id, name, username required)."""
    return {
        "id": user_id or str(10_000_000 + next(_sequence)),
        "name": name or username.title(),
        "username": username,
    }


def make_post(
    author: dict,
    text: str,
    *,
    at: datetime,
    reply_to: dict | None = None,
    quote_of: dict | None = None,
    users: Iterable[dict] = (),
    lang: str = "en",
    post_id: str | None = None,
) -> dict:
    """A Tweet (schema `Tweet`) with every field the fake can serve.

    Mentions are read from the `@handle`s in `text` (schema `MentionEntity`: start
    inclusive, end exclusive, username, id when the user is in `users`). A reply joins its
    parent's conversation, as on X.
    """
    by_username = {user["username"].lower(): user for user in users}
    post_id = post_id or snowflake_id(at)
    post: dict[str, Any] = {
        "id": post_id,
        "text": text,
        "edit_history_tweet_ids": [post_id],
        "author_id": author["id"],
        "created_at": _iso(at),
        "conversation_id": reply_to["conversation_id"] if reply_to else post_id,
        "lang": lang,
    }
    mentions = []
    for match in _MENTION.finditer(text):
        mention: dict[str, Any] = {
            "start": match.start(),
            "end": match.end(),
            "username": match.group(1),
        }
        known = by_username.get(match.group(1).lower())
        if known:
            mention["id"] = known["id"]
        mentions.append(mention)
    if mentions:
        post["entities"] = {"mentions": mentions}
    referenced = []
    if reply_to:
        post["in_reply_to_user_id"] = reply_to["author_id"]
        referenced.append({"type": "replied_to", "id": reply_to["id"]})
    if quote_of:
        referenced.append({"type": "quoted", "id": quote_of["id"]})
    if referenced:
        post["referenced_tweets"] = referenced
    return post


# ---------------------------------------------------------------- problems (schema `Problem`)


def not_found_problem(post_id: str, parameter: str = "referenced_tweets.id") -> dict:
    """A deleted post in a 200 body's `errors` (schema `ResourceNotFoundProblem`)."""
    return {
        "value": post_id,
        "detail": f"Could not find tweet with {parameter}: [{post_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": post_id,
        "type": f"{PROBLEMS}/resource-not-found",
    }


def withheld_problem(post_id: str, parameter: str = "referenced_tweets.id") -> dict:
    """A post the caller may not see (schema `ResourceUnauthorizedProblem`)."""
    return {
        "value": post_id,
        "detail": f"Sorry, you are not authorized to see the Tweet with {parameter}: [{post_id}].",
        "title": "Authorization Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": post_id,
        "section": "includes",
        "type": f"{PROBLEMS}/not-authorized-for-resource",
    }


def _generic_problem(status: int, title: str) -> dict:
    """An error without more to say than its status (schema `GenericProblem`)."""
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


def _invalid_request(parameter: str, value: str, message: str) -> dict:
    """A 400 (schema `InvalidRequestProblem`)."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}/invalid-request",
    }


# ---------------------------------------------------------------- scriptable faults


@dataclass(frozen=True)
class RateLimited:
    """HTTP 429; `reset_in` seconds from now in x-rate-limit-reset, or no such header."""

    reset_in: float | None = None


@dataclass(frozen=True)
class HttpError:
    """Any other error status with a problem body: 500, 503, 403 ..."""

    status: int = 500
    title: str = "Internal Server Error"


@dataclass(frozen=True)
class PartialErrors:
    """HTTP 200, the real body plus these problems in `errors` (default: a deleted post)."""

    errors: tuple[dict, ...] = (not_found_problem("1"),)


Fault = RateLimited | HttpError | Truncated | PartialErrors | Slow


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    endpoint: str | None  # "user", "mentions", "tweets", "search"; None for unknown paths
    status: int
    fault: Fault | None = None


@dataclass
class _Answer:
    status: int
    document: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.document, separators=(",", ":")).encode()


class _BadRequest(Exception):
    def __init__(self, problem: dict):
        self.problem = problem


# ---------------------------------------------------------------- the server


class FakeXApi(LocalServer):
    """An X API v2 on 127.0.0.1 serving `posts` and `users`; a context manager."""

    name = "fake-x-api"

    def __init__(
        self,
        posts: Iterable[dict] = (),
        users: Iterable[dict] = (),
        token: str = "fake-x-bearer-token",
        *,
        mentions_cap: int = 800,
        tweets_cap: int = 3200,
    ):
        super().__init__()
        self.token = token
        self.mentions_cap = mentions_cap
        self.tweets_cap = tweets_cap
        self._lock = threading.Lock()
        self._users: dict[str, dict] = {}
        self._posts: dict[str, dict] = {}
        self._deleted: set[str] = set()
        self._withheld: set[str] = set()
        self._faults = FaultSchedule()
        self._requests: list[RecordedRequest] = []
        self._posts_served = 0
        # X's bill: each post and user returned, once per UTC day, for this app (token)
        self._billed: set[tuple[str, str, str]] = set()
        self.add_users(users)
        self.add_posts(posts)

    # ------------------------------------------------------------ lifecycle

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ------------------------------------------------------------ data

    def add_users(self, users: Iterable[dict]) -> None:
        with self._lock:
            for user in users:
                self._users[str(user["id"])] = dict(user)

    def add_posts(self, posts: Iterable[dict]) -> None:
        with self._lock:
            for post in posts:
                self._posts[str(post["id"])] = dict(post)

    def user(self, username: str, *, name: str | None = None) -> dict:
        """Create and serve a user."""
        user = make_user(username, name=name)
        self.add_users([user])
        return user

    def post(
        self,
        author: dict,
        text: str,
        *,
        at: datetime,
        reply_to: dict | None = None,
        quote_of: dict | None = None,
        lang: str = "en",
    ) -> dict:
        """Create and serve a post; mentions of known users carry their ids."""
        with self._lock:
            users = list(self._users.values())
        post = make_post(
            author, text, at=at, reply_to=reply_to, quote_of=quote_of, users=users, lang=lang
        )
        self.add_posts([post])
        return post

    def delete_posts(self, post_ids: Iterable[str]) -> None:
        """Gone: no longer served; posts referencing them get a not-found problem."""
        with self._lock:
            self._deleted.update(str(post_id) for post_id in post_ids)

    def withhold_posts(self, post_ids: Iterable[str]) -> None:
        """Not served; posts referencing them get a not-authorized problem."""
        with self._lock:
            self._withheld.update(str(post_id) for post_id in post_ids)

    # ------------------------------------------------------------ faults and records

    def fail_next(
        self,
        fault: Fault,
        *,
        endpoint: str | None = None,
        skip: int = 0,
        times: int = 1,
        account: str | None = None,
    ) -> None:
        """Let `skip` requests (to `endpoint`, or any) through, then answer `times` with `fault`.

        `account` (a username) narrows it to requests whose path names that user: its
        lookup, mentions and timeline; never a search, whose path names no one. One fault
        at most per request; scheduled faults take turns in the order given.
        """

        def names_account(route_args: str) -> bool:
            return self._names(route_args, account)

        applies_to = names_account if account is not None else None
        self._faults.add(fault, endpoint=endpoint, skip=skip, times=times, applies_to=applies_to)

    @property
    def pending_faults(self) -> list[Fault]:
        """Scheduled faults not yet answered as often as asked (a test's fault never hit)."""
        return self._faults.pending

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.endpoint == endpoint]

    @property
    def posts_served(self) -> int:
        """Posts sent in `data` of complete 200 answers."""
        with self._lock:
            return self._posts_served

    @property
    def billed_reads(self) -> int:
        """What X would bill so far: posts and users returned, each once per UTC day."""
        with self._lock:
            return len(self._billed)

    def assert_served(self) -> None:
        """Fail a test whose client never got a post from this server."""
        if self.posts_served == 0:
            raise AssertionError(
                f"the fake X API served no posts ({len(self.requests)} requests seen): "
                "the client under test did not talk to it"
            )

    # ------------------------------------------------------------ answering

    def answer(self, method: str, raw_path: str, authorization: str | None) -> _Answer:
        url = urlsplit(raw_path)
        params = {name: values[-1] for name, values in parse_qs(url.query).items()}
        endpoint, route_args = _route(url.path)
        fault: Fault | None = None
        if authorization != f"Bearer {self.token}":
            # GenericProblem, as the API answers a missing or wrong bearer token.
            answer = _Answer(401, _generic_problem(401, "Unauthorized"))
        elif method != "GET" or endpoint is None:
            answer = _Answer(404, _generic_problem(404, "Not Found"))
        else:
            fault = self._faults.take(endpoint, route_args)
            if isinstance(fault, Slow):
                time.sleep(fault.seconds)
            answer = self._fault_answer(fault) or self._serve(endpoint, route_args, params)
            if answer.status == 200 and isinstance(fault, PartialErrors):
                assert answer.document is not None
                answer.document.setdefault("errors", []).extend(fault.errors)
            if answer.status == 200 and isinstance(fault, Truncated):
                full = answer.encoded()
                answer.body = full[: max(1, int(len(full) * fault.keep))]
        with self._lock:
            self._requests.append(
                RecordedRequest(method, url.path, params, endpoint, answer.status, fault)
            )
            if answer.status == 200 and answer.body is None and answer.document is not None:
                data = answer.document.get("data")
                if isinstance(data, list):
                    self._posts_served += len(data)
                self._bill(endpoint, answer.document)
        return answer

    def _bill(self, endpoint: str | None, document: dict) -> None:
        day = datetime.now(UTC).date().isoformat()
        data = document.get("data")
        includes = document.get("includes") or {}
        if endpoint == "user":
            resources = [("user", data)] if isinstance(data, dict) else []
        else:
            resources = [("post", post) for post in data or []]
        resources += [("post", post) for post in includes.get("tweets") or []]
        resources += [("user", user) for user in includes.get("users") or []]
        self._billed.update((day, kind, resource["id"]) for kind, resource in resources)

    def _names(self, route_args: str, username: str) -> bool:
        """Whether a path's argument (a username, or a user id) is this user."""
        if route_args.lower() == username.lower():
            return True
        user = self._users.get(route_args)
        return user is not None and user["username"].lower() == username.lower()

    @staticmethod
    def _fault_answer(fault: Fault | None) -> _Answer | None:
        if isinstance(fault, RateLimited):
            headers = {}
            if fault.reset_in is not None:
                # Epoch seconds, as the live API sends them.
                headers = {
                    "x-rate-limit-limit": "300",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time() + fault.reset_in)),
                }
            return _Answer(429, _generic_problem(429, "Too Many Requests"), headers)
        if isinstance(fault, HttpError):
            return _Answer(fault.status, _generic_problem(fault.status, fault.title))
        return None

    def _serve(self, endpoint: str, route_args: str, params: dict[str, str]) -> _Answer:
        try:
            with self._lock:
                if endpoint == "user":
                    return _Answer(200, self._user_lookup(route_args, params))
                if endpoint == "mentions":
                    return _Answer(200, self._mentions(route_args, params))
                if endpoint == "tweets":
                    return _Answer(200, self._tweets(route_args, params))
                if endpoint == "lookup":
                    return _Answer(200, self._lookup(params))
                return _Answer(200, self._search(params))
        except _BadRequest as bad:
            return _Answer(400, bad.problem)

    def _user_lookup(self, username: str, params: dict[str, str]) -> dict:
        """Schema `Get2UsersByUsernameUsernameResponse`: data, or errors when unknown."""
        for user in self._users.values():
            if user["username"].lower() == username.lower():
                return {"data": self._render_user(user, params)}
        problem = not_found_problem(username, "username")
        problem["detail"] = f"Could not find user with username: [{username}]."
        problem["resource_type"] = "user"
        return {"errors": [problem]}

    def _mentions(self, user_id: str, params: dict[str, str]) -> dict:
        """Schema `Get2UsersIdMentionsResponse`."""
        user = self._users.get(user_id)
        if user is None:
            raise _BadRequest(_invalid_request("id", user_id, f"No user with id {user_id}"))
        handle = user["username"].lower()

        def mentions_user(post: dict) -> bool:
            mentions = (post.get("entities") or {}).get("mentions") or []
            return any(m.get("id") == user_id or m["username"].lower() == handle for m in mentions)

        timeline = self._newest_first(mentions_user)[: self.mentions_cap]
        return self._page(timeline, params, max_results=(5, 100, 10), token_name="pagination_token")

    def _tweets(self, user_id: str, params: dict[str, str]) -> dict:
        """Schema `Get2UsersIdTweetsResponse`."""
        if user_id not in self._users:
            raise _BadRequest(_invalid_request("id", user_id, f"No user with id {user_id}"))
        timeline = self._newest_first(lambda post: post["author_id"] == user_id)
        timeline = timeline[: self.tweets_cap]
        return self._page(timeline, params, max_results=(5, 100, 10), token_name="pagination_token")

    def _search(self, params: dict[str, str]) -> dict:
        """Schema `Get2TweetsSearchRecentResponse`; only conversation_id queries."""
        query = params.get("query", "")
        conversations = set()
        for term in query.replace("(", " ").replace(")", " ").split(" OR "):
            match = _CONVERSATION_TERM.match(term.strip())
            if not match:
                raise _BadRequest(
                    _invalid_request("query", query, "the fake understands conversation_id: only")
                )
            conversations.add(match.group(1))
        if len(query) > 4096:
            raise _BadRequest(_invalid_request("query", query, "query is longer than 4096"))
        if "start_time" in params and "since_id" in params:
            raise _BadRequest(
                _invalid_request(
                    "since_id", params["since_id"], "At most one of start_time, since_id"
                )
            )
        oldest_allowed = datetime.now(UTC) - RECENT_SEARCH_WINDOW
        if "since_id" in params and _snowflake_time(params["since_id"]) < oldest_allowed:
            # recent search refuses a since_id from before its window, like a start_time
            raise _BadRequest(
                _invalid_request(
                    "since_id",
                    params["since_id"],
                    f"Invalid 'since_id':'{params['since_id']}'. 'since_id' must be a tweet id "
                    "created after the start of the recent search window",
                )
            )
        if "start_time" in params and _parse_time(params["start_time"]) < oldest_allowed:
            raise _BadRequest(
                _invalid_request(
                    "start_time",
                    params["start_time"],
                    f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or "
                    f"after {_iso(oldest_allowed)}",
                )
            )
        found = self._newest_first(
            lambda post: (
                post.get("conversation_id") in conversations
                and _parse_time(post["created_at"]) >= oldest_allowed
            )
        )
        return self._page(found, params, max_results=(10, 100, 10), token_name="next_token")

    def _lookup(self, params: dict[str, str]) -> dict:
        """Schema `Get2TweetsResponse`: the posts asked for by id (at most 100), in the order
        asked, and a not-found problem for each one gone; no paging, no meta."""
        ids = _list(params.get("ids"))
        if not 1 <= len(ids) <= 100:
            raise _BadRequest(
                _invalid_request("ids", params.get("ids", ""), "ids takes 1 to 100 tweet ids")
            )
        hidden = self._deleted | self._withheld
        found = [self._posts[i] for i in ids if i in self._posts and i not in hidden]
        document: dict[str, Any] = {}
        errors = [not_found_problem(i, "ids") for i in ids if i not in self._posts or i in hidden]
        if found:
            document["data"] = [self._render_post(post, params) for post in found]
            includes, expansion_errors = self._expand(found, params)
            if includes:
                document["includes"] = includes
            errors += expansion_errors
        if errors:
            document["errors"] = errors
        return document

    def _newest_first(self, keep: Callable[[dict], bool]) -> list[dict]:
        hidden = self._deleted | self._withheld
        chosen = [p for p in self._posts.values() if p["id"] not in hidden and keep(p)]
        return sorted(chosen, key=lambda post: int(post["id"]), reverse=True)

    def _page(
        self,
        candidates: Sequence[dict],
        params: dict[str, str],
        *,
        max_results: tuple[int, int, int],
        token_name: str,
    ) -> dict:
        """data / includes / errors / meta, as every paged Tweet response of the spec."""
        size = _page_size(params, max_results)
        selected = _select(candidates, params, token_name)
        page = selected[:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        document: dict[str, Any] = {}
        if page:
            document["data"] = [self._render_post(post, params) for post in page]
            includes, errors = self._expand(page, params)
            if includes:
                document["includes"] = includes
            if errors:
                document["errors"] = errors
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
            if len(selected) > size:
                meta["next_token"] = _encode_token(int(page[-1]["id"]))
        document["meta"] = meta
        return document

    def _users_named(
        self, post: dict, expansions: set[str], by_username: dict[str, dict]
    ) -> list[dict | None]:
        """The users a post's expansions name: author, mentioned, replied to."""
        named: list[dict | None] = []
        if "author_id" in expansions:
            named.append(self._users.get(post["author_id"]))
        if "entities.mentions.username" in expansions:
            for mention in (post.get("entities") or {}).get("mentions") or []:
                named.append(by_username.get(mention["username"].lower()))
        if "in_reply_to_user_id" in expansions and post.get("in_reply_to_user_id"):
            named.append(self._users.get(post["in_reply_to_user_id"]))
        return named

    def _include_referenced(
        self, post: dict, params: dict[str, str], tweets: dict[str, dict], errors: list[dict]
    ) -> None:
        """includes.tweets gains the posts `post` refers to; errors the ones it cannot."""
        for reference in post.get("referenced_tweets") or []:
            referenced_id = reference["id"]
            if referenced_id in self._withheld:
                errors.append(withheld_problem(referenced_id))
            elif referenced_id in self._deleted or referenced_id not in self._posts:
                errors.append(not_found_problem(referenced_id))
            elif referenced_id not in tweets:
                tweets[referenced_id] = self._render_post(self._posts[referenced_id], params)

    def _render_post(self, post: dict, params: dict[str, str]) -> dict:
        wanted = set(DEFAULT_TWEET_FIELDS) | set(_list(params.get("tweet.fields")))
        return {key: value for key, value in post.items() if key in wanted}

    def _render_user(self, user: dict, params: dict[str, str]) -> dict:
        wanted = set(DEFAULT_USER_FIELDS) | set(_list(params.get("user.fields")))
        return {key: value for key, value in user.items() if key in wanted}

    def _expand(self, page: Sequence[dict], params: dict[str, str]) -> tuple[dict, list[dict]]:
        """Schema `Expansions` (users, tweets) and the partial errors they run into."""
        expansions = set(_list(params.get("expansions")))
        by_username = {user["username"].lower(): user for user in self._users.values()}
        users: dict[str, dict] = {}
        tweets: dict[str, dict] = {}
        errors: list[dict] = []

        for post in page:
            for user in self._users_named(post, expansions, by_username):
                if user is not None and user["id"] not in users:
                    users[user["id"]] = self._render_user(user, params)
            if "referenced_tweets.id" in expansions:
                self._include_referenced(post, params, tweets, errors)
        includes: dict[str, Any] = {}
        if users:
            includes["users"] = list(users.values())
        if tweets:
            includes["tweets"] = list(tweets.values())
        return includes, errors


# ---------------------------------------------------------------- plumbing


_ROUTES = (
    ("user", re.compile(r"^/2/users/by/username/([A-Za-z0-9_]{1,15})$")),
    ("mentions", re.compile(r"^/2/users/(\d{1,19})/mentions$")),
    ("tweets", re.compile(r"^/2/users/(\d{1,19})/tweets$")),
    ("search", re.compile(r"^/2/tweets/search/recent$()")),
    ("lookup", re.compile(r"^/2/tweets$()")),
)


def _route(path: str) -> tuple[str | None, str]:
    for name, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match.group(1)
    return None, ""


def _page_size(params: dict[str, str], max_results: tuple[int, int, int]) -> int:
    """max_results, or a 400 the way the API words it when it is out of bounds."""
    low, high, default = max_results
    try:
        size = int(params.get("max_results", default))
    except ValueError:
        size = -1
    if not low <= size <= high:
        raise _BadRequest(
            _invalid_request(
                "max_results",
                params.get("max_results", ""),
                f"The `max_results` query parameter value [{params.get('max_results')}] "
                f"is not between {low} and {high}",
            )
        )
    return size


def _select(candidates: Sequence[dict], params: dict[str, str], token_name: str) -> list[dict]:
    """The candidates inside since_id / until_id / start_time / end_time and the cursor."""
    selected = list(candidates)
    if "since_id" in params:
        selected = [p for p in selected if int(p["id"]) > int(params["since_id"])]
    if "until_id" in params:
        selected = [p for p in selected if int(p["id"]) < int(params["until_id"])]
    if "start_time" in params:
        start = _parse_time(params["start_time"])
        selected = [p for p in selected if _parse_time(p["created_at"]) >= start]
    if "end_time" in params:
        end = _parse_time(params["end_time"])
        selected = [p for p in selected if _parse_time(p["created_at"]) < end]
    token = params.get(token_name) or params.get("pagination_token")
    if token:
        cursor = _decode_token(token)
        selected = [p for p in selected if int(p["id"]) < cursor]
    return selected


def _list(value: str | None) -> list[str]:
    return [item for item in (value or "").split(",") if item]


def _encode_token(cursor: int) -> str:
    """Opaque to clients, like the API's base36 tokens; here the id to continue below."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    encoded = ""
    while cursor:
        cursor, remainder = divmod(cursor, 36)
        encoded = digits[remainder] + encoded
    return "7140" + encoded


def _decode_token(token: str) -> int:
    try:
        return int(token.removeprefix("7140"), 36)
    except ValueError:
        raise _BadRequest(
            _invalid_request("pagination_token", token, "Invalid pagination token")
        ) from None


def _handler_for(api: FakeXApi) -> type[BaseHTTPRequestHandler]:
    class Handler(AnswerHandler):
        server_version = "fake-x-api"

        def respond(self, method: str) -> None:
            try:
                answer = api.answer(method, self.path, self.headers.get("Authorization"))
            except _BadRequest as bad:
                answer = _Answer(400, bad.problem)
            problem = answer.status >= 400
            content_type = (
                "application/problem+json" if problem else "application/json; charset=utf-8"
            )
            self.send_answer(answer.status, content_type, answer.headers, answer.encoded())

    return Handler
