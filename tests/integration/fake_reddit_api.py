"""A local fake of Reddit's OAuth API, for driving the real praw client in integration tests.

    with FakeRedditApi() as api:
        acme = api.account("AcmeSupport", password="pw")
        alice = api.user("alice")
        post = api.submission(alice, "My parcel is late", at=now - timedelta(hours=3))
        api.comment(acme, "Sorry u/alice, on it", parent=post, at=now - timedelta(hours=2))
        api.fail_next(RateLimited(reset_in=0), endpoint="comments", skip=1)
        ...  # praw.Reddit(..., oauth_url=api.base_url, reddit_url=api.base_url)
        assert api.requests_to("comments")[0].params["sort"] == "new"

It serves, on 127.0.0.1 and a free port, from in-memory users, submissions and comments
(endpoint names in quotes):
    POST /api/v1/access_token        "token"     password grant, HTTP basic client auth
    GET  /message/mentions           "mentions"  comments naming u/<login>
    GET  /message/comments           "inbox_replies"  replies to the login's comments
    GET  /message/selfreply          "post_replies"   replies to the login's submissions
    GET  /user/<name>/comments       "comments"
    GET  /user/<name>/submitted      "submissions"
    GET  /r/<sub>/search             "search"    q = "phrase" OR "phrase" ..., sort=new
    GET  /comments/<id>[/_/<cid>]    "thread"    [Listing(t3), Listing(comment tree)]
    POST /api/morechildren           "morechildren"
Listings are newest first, 100 a page at most (25 by default), paged with `after` (a
fullname; an `after` that is no longer in the listing gives an empty page, as on Reddit),
and end after `listing_cap` items. Comment trees show at most `tree_children` replies per
comment (the rest become a "load more comments" stub) and `tree_depth` levels (deeper
replies become a "continue this thread" stub). Every API answer carries
X-Ratelimit-Used / -Remaining / -Reset; a generous default quota, so that prawcore's
pacing adds no waits unless a test scripts them. Every request is recorded; faults are
scripted with `fail_next`.

Shapes follow Reddit's API as documented in Pyprohly/reddit-api-doc-notes (Comment,
Submission, Private Message, Comment Tree, Listings) and as praw 8 reads them.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.faults import FaultSchedule, Slow, Truncated
from tests.integration.local_server import AnswerHandler, LocalServer

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Separate counters, as on Reddit; the starting points keep comment and submission ids
# apart the way today's live ids are (comments start with a letter, posts with 1).
_comment_numbers = itertools.count(int("k000000", 36))
_submission_numbers = itertools.count(int("1a00000", 36))
_user_numbers = itertools.count(int("a0000", 36))
_USER_MENTION = re.compile(r"(?<![A-Za-z0-9_/-])/?u/([A-Za-z0-9_-]{3,20})")
# Reddit's legacy `created` field is created_utc minus eight hours.
_LEGACY_OFFSET = 28800


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 36)
        digits = _BASE36[remainder] + digits
    return digits or "0"


def _epoch(moment: datetime) -> float:
    return float(int(moment.astimezone(UTC).timestamp()))


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50] or "post"


# ---------------------------------------------------------------- scriptable faults


@dataclass(frozen=True)
class RateLimited:
    """HTTP 429 with X-Ratelimit-Remaining 0; `reset_in` seconds in X-Ratelimit-Reset,
    or no reset header at all."""

    reset_in: int | None = None


@dataclass(frozen=True)
class QuotaExhausted:
    """A normal answer whose headers say the quota is spent: Remaining 0, Reset `reset_in`."""

    reset_in: int = 1


@dataclass(frozen=True)
class HttpError:
    """Any other error status with Reddit's error body: 500, 503, 403 ..."""

    status: int = 500


Fault = RateLimited | QuotaExhausted | HttpError | Truncated | Slow


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]  # query string and form fields, last value of each
    endpoint: str | None
    status: int
    fault: Fault | None
    login: str | None  # the username the bearer token belongs to
    at: float  # time.monotonic() when the answer was ready


@dataclass
class _Answer:
    status: int
    document: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.document, separators=(",", ":")).encode()


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = headers or {}


# ---------------------------------------------------------------- the server


class FakeRedditApi(LocalServer):
    """Reddit's OAuth API on 127.0.0.1 for one script app; a context manager."""

    name = "fake-reddit-api"

    def __init__(
        self,
        *,
        client_id: str = "fake-reddit-client-id",
        client_secret: str = "fake-reddit-client-secret",
        listing_cap: int = 1000,
        tree_children: int = 1000,
        tree_depth: int = 10,
        quota: int = 1_000_000,
    ):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.listing_cap = listing_cap
        self.tree_children = tree_children
        self.tree_depth = tree_depth
        self.quota = quota
        self._lock = threading.Lock()
        self._users: dict[str, dict] = {}  # lowercase name -> user
        self._submissions: dict[str, dict] = {}  # id -> data
        self._comments: dict[str, dict] = {}  # id -> data
        self._mentioned: dict[str, set[str]] = {}  # comment id -> lowercase names it named
        self._tokens: dict[str, str] = {}  # access token -> lowercase username
        self._faults = FaultSchedule()
        self._requests: list[RecordedRequest] = []
        self._things_served = 0
        self._window_started = time.monotonic()
        self._window_used = 0

    # ------------------------------------------------------------ lifecycle

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ------------------------------------------------------------ data

    def user(self, name: str, *, password: str | None = None) -> dict:
        """Create a redditor; with a password it can log in through the script app."""
        user = {
            "name": name,
            "id": _base36(next(_user_numbers)),
            "password": password,
        }
        with self._lock:
            self._users[name.lower()] = user
        return user

    def account(self, name: str, *, password: str) -> dict:
        """A redditor the app can log in as (an org account)."""
        return self.user(name, password=password)

    def submission(
        self,
        author: dict,
        title: str,
        *,
        at: datetime,
        subreddit: str = "acme",
        selftext: str = "",
    ) -> dict:
        submission_id = _base36(next(_submission_numbers))
        created = _epoch(at)
        permalink = f"/r/{subreddit}/comments/{submission_id}/{_slug(title)}/"
        data = {
            "id": submission_id,
            "name": f"t3_{submission_id}",
            "author": author["name"],
            "author_fullname": f"t2_{author['id']}",
            "title": title,
            "selftext": selftext,
            "is_self": True,
            "created_utc": created,
            "created": created - _LEGACY_OFFSET,
            "subreddit": subreddit,
            "subreddit_id": "t5_2qh" + _base36(sum(map(ord, subreddit)) % 1296),
            "subreddit_name_prefixed": f"r/{subreddit}",
            "permalink": permalink,
            "url": f"https://www.reddit.com{permalink}",
            "domain": f"self.{subreddit}",
            "score": 1,
            "ups": 1,
            "downs": 0,
            "num_comments": 0,
            "over_18": False,
            "locked": False,
            "stickied": False,
            "edited": False,
            "distinguished": None,
            "link_flair_text": None,
        }
        with self._lock:
            self._submissions[submission_id] = data
        return data

    def comment(self, author: dict, body: str, *, parent: dict, at: datetime) -> dict:
        """A comment replying to a submission or a comment (both as returned here)."""
        comment_id = _base36(next(_comment_numbers))
        created = _epoch(at)
        parent_fullname = parent["name"]
        with self._lock:
            submission = (
                parent
                if parent_fullname.startswith("t3_")
                else self._submissions[parent["link_id"][3:]]
            )
            submission["num_comments"] += 1
        data = {
            "id": comment_id,
            "name": f"t1_{comment_id}",
            "author": author["name"],
            "author_fullname": f"t2_{author['id']}",
            "body": body,
            "created_utc": created,
            "created": created - _LEGACY_OFFSET,
            "link_id": submission["name"],
            "parent_id": parent_fullname,
            "subreddit": submission["subreddit"],
            "subreddit_id": submission["subreddit_id"],
            "subreddit_name_prefixed": submission["subreddit_name_prefixed"],
            "permalink": f"{submission['permalink']}{comment_id}/",
            "score": 1,
            "ups": 1,
            "downs": 0,
            "is_submitter": author["name"] == submission["author"],
            "edited": False,
            "stickied": False,
            "distinguished": None,
            "score_hidden": False,
            "collapsed": False,
            "controversiality": 0,
        }
        # Reddit notifies at posting time; the inbox item stays if the comment is deleted
        mentioned = {name.lower() for name in _USER_MENTION.findall(body)}
        with self._lock:
            self._comments[comment_id] = data
            self._mentioned[comment_id] = mentioned
        return data

    def delete(self, thing: dict) -> None:
        """Deleted by its author: author and text become [deleted]."""
        with self._lock:
            thing["author"] = "[deleted]"
            thing.pop("author_fullname", None)
            thing["body" if thing["name"].startswith("t1_") else "selftext"] = "[deleted]"

    def remove(self, thing: dict) -> None:
        """Removed by a moderator: the author is hidden, the text becomes [removed]."""
        with self._lock:
            thing["author"] = "[deleted]"
            thing.pop("author_fullname", None)
            thing["body" if thing["name"].startswith("t1_") else "selftext"] = "[removed]"

    # ------------------------------------------------------------ faults and records

    def fail_next(
        self, fault: Fault, *, endpoint: str | None = None, skip: int = 0, times: int = 1
    ) -> None:
        """Let `skip` requests (to `endpoint`, or any) through, then answer `times` with `fault`."""
        self._faults.add(fault, endpoint=endpoint, skip=skip, times=times)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.endpoint == endpoint]

    @property
    def access_tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    @property
    def things_served(self) -> int:
        """Comments and submissions sent in complete 200 answers."""
        with self._lock:
            return self._things_served

    def assert_served(self) -> None:
        if self.things_served == 0:
            raise AssertionError(
                f"the fake Reddit API served nothing ({len(self.requests)} requests seen): "
                "the client under test did not talk to it"
            )

    # ------------------------------------------------------------ answering

    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], form: dict[str, str]
    ) -> _Answer:
        url = urlsplit(raw_path)
        params = {name: values[-1] for name, values in parse_qs(url.query).items()}
        params.update(form)
        endpoint, route_args = _route(method, url.path)
        fault: Fault | None = None
        login: str | None = None
        try:
            if endpoint == "token":
                answer = self._token(headers.get("Authorization"), params)
            else:
                login = self._login(headers.get("Authorization"))
                if endpoint is None:
                    raise _Refused(404, "Not Found")
                fault = self._faults.take(endpoint)
                if isinstance(fault, Slow):
                    time.sleep(fault.seconds)
                answer = self._fault_answer(fault) or self._serve(
                    endpoint, route_args, params, login
                )
                if answer.status == 200 and isinstance(fault, Truncated):
                    full = answer.encoded()
                    answer.body = full[: max(1, int(len(full) * fault.keep))]
                answer.headers = {**self._rate_headers(fault), **answer.headers}
        except _Refused as refused:
            answer = _Answer(
                refused.status,
                {"message": refused.message, "error": refused.status},
                refused.headers,
            )
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    method,
                    url.path,
                    params,
                    endpoint,
                    answer.status,
                    fault,
                    login,
                    time.monotonic(),
                )
            )
            if answer.status == 200 and answer.body is None and endpoint != "token":
                self._things_served += _count_things(answer.document)
        return answer

    def _token(self, authorization: str | None, params: dict[str, str]) -> _Answer:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            raise _Refused(401, "Unauthorized")
        if params.get("grant_type") != "password":
            return _Answer(200, {"error": "unsupported_grant_type"})
        user = self._users.get((params.get("username") or "").lower())
        if user is None or user["password"] is None or user["password"] != params.get("password"):
            # Reddit answers a wrong login with 200 and an error field.
            return _Answer(200, {"error": "invalid_grant"})
        token = "fake-access-" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = user["name"].lower()
        return _Answer(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"},
        )

    def _login(self, authorization: str | None) -> str:
        token = (authorization or "").removeprefix("bearer ").removeprefix("Bearer ")
        with self._lock:
            login = self._tokens.get(token)
        if login is None:
            raise _Refused(
                401,
                "Unauthorized",
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        return login

    def _fault_answer(self, fault: Fault | None) -> _Answer | None:
        if isinstance(fault, RateLimited):
            return _Answer(429, {"message": "Too Many Requests", "error": 429})
        if isinstance(fault, HttpError):
            return _Answer(fault.status, {"message": "Error", "error": fault.status})
        return None

    def _rate_headers(self, fault: Fault | None) -> dict[str, str]:
        """X-Ratelimit-*: requests used in the current 600 s window, what is left, and
        whole seconds until the window resets (not a timestamp)."""
        with self._lock:
            elapsed = time.monotonic() - self._window_started
            if elapsed >= 600:
                self._window_started, self._window_used, elapsed = time.monotonic(), 0, 0.0
            self._window_used += 1
            used = self._window_used
        remaining = float(max(0, self.quota - used))
        reset = max(1, int(600 - elapsed))
        if isinstance(fault, QuotaExhausted):
            remaining, reset = 0.0, fault.reset_in
        if isinstance(fault, RateLimited):
            headers = {"x-ratelimit-used": str(used), "x-ratelimit-remaining": "0.0"}
            if fault.reset_in is not None:
                headers["x-ratelimit-reset"] = str(fault.reset_in)
            return headers
        return {
            "x-ratelimit-used": str(used),
            "x-ratelimit-remaining": f"{remaining:.1f}",
            "x-ratelimit-reset": str(reset),
        }

    def _serve(self, endpoint: str, args: list[str], params: dict[str, str], login: str) -> _Answer:
        with self._lock:
            if endpoint == "mentions":
                items = self._mentions(login)
                return _Answer(200, self._listing(items, params, self._inbox_item(login, True)))
            if endpoint in ("inbox_replies", "post_replies"):
                kind = "t1" if endpoint == "inbox_replies" else "t3"
                items = self._replies_to(login, kind)
                return _Answer(200, self._listing(items, params, self._inbox_item(login, False)))
            if endpoint in ("comments", "submissions"):
                user = self._users.get(args[0].lower())
                if user is None:
                    raise _Refused(404, "Not Found")
                pool = self._comments if endpoint == "comments" else self._submissions
                mine = [t for t in pool.values() if t["author"] == user["name"]]
                render = self._user_comment if endpoint == "comments" else self._submission
                return _Answer(200, self._listing(mine, params, render))
            if endpoint == "search":
                return _Answer(
                    200, self._listing(self._search(args[0], params), params, self._submission)
                )
            if endpoint == "thread":
                return _Answer(200, self._comment_tree(args[0], args[1], params))
            return _Answer(200, self._morechildren(params))

    # ------------------------------------------------------------ listings

    def _listing(self, items: Iterable[dict], params: dict[str, str], render) -> dict:
        ordered = sorted(items, key=lambda t: (t["created_utc"], t["name"]), reverse=True)
        ordered = ordered[: self.listing_cap]
        try:
            size = min(100, max(1, int(params.get("limit", 25))))
        except ValueError:
            raise _Refused(400, "Bad Request") from None
        start = 0
        cursor = params.get("after")
        if cursor:
            names = [t["name"] for t in ordered]
            # an anchor no longer in the listing gives an empty page, as on Reddit
            start = names.index(cursor) + 1 if cursor in names else len(ordered)
        page = ordered[start : start + size]
        more = start + size < len(ordered)
        return {
            "kind": "Listing",
            "data": {
                "after": page[-1]["name"] if page and more else None,
                "dist": len(page),
                "modhash": None,
                "geo_filter": "",
                "children": [render(thing) for thing in page],
                "before": None,
            },
        }

    def _mentions(self, login: str) -> list[dict]:
        return [
            c
            for c in self._comments.values()
            if login in self._mentioned[c["id"]] and c["author"].lower() != login
        ]

    def _replies_to(self, login: str, parent_kind: str) -> list[dict]:
        replies = []
        for comment in self._comments.values():
            if not comment["parent_id"].startswith(parent_kind + "_"):
                continue
            parent = self._parent(comment)
            by_someone_else = comment["author"].lower() != login
            if parent is not None and parent["author"].lower() == login and by_someone_else:
                replies.append(comment)
        return replies

    def _parent(self, comment: dict) -> dict | None:
        kind, _, parent_id = comment["parent_id"].partition("_")
        return (self._submissions if kind == "t3" else self._comments).get(parent_id)

    def _search(self, subreddit: str, params: dict[str, str]) -> list[dict]:
        query = params.get("q", "")
        phrases = [term.strip().strip('"').lower() for term in query.split(" OR ")]
        phrases = [phrase for phrase in phrases if phrase]
        if not phrases:
            raise _Refused(400, "Bad Request")
        return [
            s
            for s in self._submissions.values()
            if s["subreddit"].lower() == subreddit.lower()
            and any(p in f"{s['title']} {s['selftext']}".lower() for p in phrases)
        ]

    # ------------------------------------------------------------ rendering

    def _submission(self, data: dict) -> dict:
        return {"kind": "t3", "data": dict(data)}

    def _user_comment(self, data: dict) -> dict:
        """A comment in a user listing: the comment schema plus its submission's title."""
        submission = self._submissions[data["link_id"][3:]]
        rendered = dict(data)
        rendered.update(
            {
                "replies": "",
                "link_title": submission["title"],
                "link_author": submission["author"],
                "link_permalink": submission["url"],
                "num_comments": submission["num_comments"],
            }
        )
        return {"kind": "t1", "data": rendered}

    def _inbox_item(self, login: str, mention: bool):
        """Renders a comment message (Private Message schema, was_comment true) in the
        inbox of `login`: no link_id; the submission is in the context path."""
        dest = self._users[login]["name"]

        def render(data: dict) -> dict:
            submission = self._submissions[data["link_id"][3:]]
            if mention:
                kind = "username_mention"
            elif data["parent_id"].startswith("t3_"):
                kind = "post_reply"
            else:
                kind = "comment_reply"
            return {
                "kind": "t1",
                "data": {
                    "id": data["id"],
                    "name": data["name"],
                    "author": data["author"],
                    "author_fullname": data.get("author_fullname"),
                    "body": data["body"],
                    "created_utc": data["created_utc"],
                    "created": data["created"],
                    "context": f"{data['permalink']}?context=3",
                    "dest": dest,
                    "first_message": None,
                    "first_message_name": None,
                    "link_title": submission["title"],
                    "new": True,
                    "num_comments": submission["num_comments"],
                    "parent_id": data["parent_id"],
                    "score": data["score"],
                    "subject": kind.replace("_", " "),
                    "subreddit": data["subreddit"],
                    "subreddit_name_prefixed": data["subreddit_name_prefixed"],
                    "type": kind,
                    "was_comment": True,
                    "replies": "",
                    "likes": None,
                    "distinguished": None,
                },
            }

        return render

    def _children_of(self, fullname: str) -> list[dict]:
        return sorted(
            (c for c in self._comments.values() if c["parent_id"] == fullname),
            key=lambda c: (c["created_utc"], c["name"]),
        )

    def _subtree_size(self, comment: dict) -> int:
        return 1 + sum(self._subtree_size(child) for child in self._children_of(comment["name"]))

    def _tree_comment(self, comment: dict, depth: int) -> dict:
        rendered = dict(comment)
        rendered["depth"] = depth
        replies = self._children_of(comment["name"])
        if not replies:
            rendered["replies"] = ""
        elif depth + 1 >= self.tree_depth:
            rendered["replies"] = _listing_of(
                [
                    {
                        "kind": "more",
                        "data": {
                            "count": 0,
                            "name": "t1__",
                            "id": "_",
                            "parent_id": comment["name"],
                            "depth": depth + 1,
                            "children": [],
                        },
                    }
                ]
            )
        else:
            rendered["replies"] = _listing_of(self._level(replies, comment["name"], depth + 1))
        return {"kind": "t1", "data": rendered}

    def _level(self, comments: list[dict], parent: str, depth: int) -> list[dict]:
        shown = comments[: self.tree_children]
        hidden = comments[self.tree_children :]
        level = [self._tree_comment(comment, depth) for comment in shown]
        if hidden:
            level.append(
                {
                    "kind": "more",
                    "data": {
                        "count": sum(self._subtree_size(c) for c in hidden),
                        "name": hidden[0]["name"],
                        "id": hidden[0]["id"],
                        "parent_id": parent,
                        "depth": depth,
                        "children": [c["id"] for c in hidden],
                    },
                }
            )
        return level

    def _comment_tree(
        self, submission_id: str, comment_id: str | None, params: dict[str, str]
    ) -> list:
        submission = self._submissions.get(submission_id)
        if submission is None:
            raise _Refused(404, "Not Found")
        if comment_id:
            root = self._comments.get(comment_id)
            if root is None or root["link_id"] != submission["name"]:
                raise _Refused(404, "Not Found")
            tree = [self._tree_comment(root, 0)]
        else:
            tree = self._level(self._children_of(submission["name"]), submission["name"], 0)
        return [_listing_of([self._submission(submission)]), _listing_of(tree)]

    def _morechildren(self, params: dict[str, str]) -> dict:
        link = params.get("link_id", "")
        submission = self._submissions.get(link[3:]) if link.startswith("t3_") else None
        if submission is None:
            raise _Refused(403, "Forbidden")
        things: list[dict] = []

        def flatten(comment: dict, depth: int) -> None:
            rendered = dict(comment)
            rendered.update({"depth": depth, "replies": ""})
            things.append({"kind": "t1", "data": rendered})
            for child in self._children_of(comment["name"]):
                flatten(child, depth + 1)

        for comment_id in (params.get("children") or "").split(","):
            comment = self._comments.get(comment_id.strip())
            if comment is not None and comment["link_id"] == link:
                flatten(comment, 0)
        return {"json": {"errors": [], "data": {"things": things}}}


# ---------------------------------------------------------------- plumbing


def _listing_of(children: list[dict]) -> dict:
    return {
        "kind": "Listing",
        "data": {
            "after": None,
            "dist": None,
            "modhash": None,
            "geo_filter": "",
            "children": children,
            "before": None,
        },
    }


def _count_things(document: Any) -> int:
    if isinstance(document, list):
        return sum(_count_things(item) for item in document)
    if not isinstance(document, dict):
        return 0
    if document.get("kind") in ("t1", "t3"):
        replies = (document.get("data") or {}).get("replies")
        return 1 + (_count_things(replies) if isinstance(replies, dict) else 0)
    if document.get("kind") == "Listing":
        return sum(_count_things(child) for child in document["data"]["children"])
    if "json" in document:
        return sum(
            _count_things(t) for t in ((document["json"].get("data") or {}).get("things") or [])
        )
    return 0


_ROUTES = (
    ("token", "POST", re.compile(r"^/api/v1/access_token/?$")),
    ("mentions", "GET", re.compile(r"^/message/mentions/?$")),
    ("inbox_replies", "GET", re.compile(r"^/message/comments/?$")),
    ("post_replies", "GET", re.compile(r"^/message/selfreply/?$")),
    ("comments", "GET", re.compile(r"^/user/([A-Za-z0-9_-]+)/comments/?$")),
    ("submissions", "GET", re.compile(r"^/user/([A-Za-z0-9_-]+)/submitted/?$")),
    ("search", "GET", re.compile(r"^/r/([A-Za-z0-9_]+)/search/?$")),
    ("thread", "GET", re.compile(r"^/comments/([a-z0-9]+)(?:/_/([a-z0-9]+))?/?$")),
    ("morechildren", "POST", re.compile(r"^/api/morechildren/?$")),
)


def _route(method: str, path: str) -> tuple[str | None, list[Any]]:
    for name, verb, pattern in _ROUTES:
        match = pattern.match(path)
        if match and verb == method:
            return name, list(match.groups())
    return None, []


def _handler_for(api: FakeRedditApi) -> type[BaseHTTPRequestHandler]:
    class Handler(AnswerHandler):
        server_version = "fake-reddit-api"

        def respond(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {name: values[-1] for name, values in parse_qs(raw).items()}
            answer = api.answer(method, self.path, dict(self.headers.items()), form)
            content_type = "application/json; charset=UTF-8"
            self.send_answer(answer.status, content_type, answer.headers, answer.encoded())

    return Handler
