"""RedditApiSource: one account's inbox, comments and submissions, or one subreddit
search, and the threads around them.

The public face is `ingest.reddit`; HTTP and retries are in `http.py`, praw's exceptions
are translated in `failures.py`, raw answers are read in `listings.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import praw
import requests

from ingest.handles import (
    SUBREDDIT_PREFIX,
    SUBREDDIT_RULE,
    bare_handle,
    handle_problem,
    subreddit_problem,
)
from ingest.live import RetryPolicy, as_utc, check_timeout, stamp
from ingest.pages import EndpointCounts, ExtractRequest, ExtractResult, ResponsePage
from ingest.reddit import listings
from ingest.reddit.errors import (
    RedditMalformedPageError,
    RedditRequestError,
)
from ingest.reddit.failures import Failures
from ingest.reddit.http import CapturingSession, RedditCredentials, RedditHosts

log = logging.getLogger(__name__)

ENDPOINTS = (
    "mentions",
    "inbox_replies",
    "post_replies",
    "comments",
    "submissions",
    "search",
    "threads",
)
ACCOUNT_ENDPOINTS = (
    "mentions",
    "inbox_replies",
    "post_replies",
    "comments",
    "submissions",
    "threads",
)
SEARCH_ENDPOINTS = ("search", "threads")
INBOX_ENDPOINTS = ("mentions", "inbox_replies", "post_replies")
ROUTES = {
    "mentions": "/message/mentions",
    "inbox_replies": "/message/comments",
    "post_replies": "/message/selfreply",
    "comments": "/user/:name/comments",
    "submissions": "/user/:name/submitted",
    "search": "/r/:subreddit/search",
    "threads": "/comments/:id",
}
# Most of Reddit's listings end after about this many items, whatever the cursor says.
LISTING_CAP = 1000
PAGE_SIZE = 100  # the most a listing serves per request
DEFAULT_REPLACE_MORE_LIMIT = 32  # praw's own default


# account name -> its credentials; None for a subreddit search, which any login can run
CredentialsFor = Callable[[str | None], RedditCredentials]


@dataclass(frozen=True)
class _Target:
    """An account (its inbox and its own posts) or a subreddit to search."""

    name: str
    is_subreddit: bool

    def __str__(self) -> str:
        return f"r/{self.name}" if self.is_subreddit else f"u/{self.name}"


@dataclass
class _Walk:
    """Where one listing's paging stands: what it returned, and whether it reached the
    cut-off (the watermark, or the backfill start on a first run)."""

    cutoff: float
    mark: float | None
    until: float
    returned: int = 0
    oldest: float | None = None
    newest_before_until: float | None = None
    reached_cutoff: bool = False

    def is_new(self, created: float) -> bool:
        """Count an item created at `created`; True when it is new (its thread is wanted)."""
        self.returned += 1
        self.oldest = created if self.oldest is None else min(self.oldest, created)
        if created < self.cutoff:
            self.reached_cutoff = True
            return False
        if self.mark is not None and created == self.mark:
            return False  # landed again, but fetched before: its thread was too
        if created < self.until:
            self.newest_before_until = max(self.newest_before_until or created, created)
        return True


class RedditApiSource:
    """A `PageSource` for Reddit: one `pages()` call extracts one account or subreddit.

    `credentials` is a `RedditCredentials`, or a function from the account name to the
    credentials to use for it (read at run time). The inbox endpoints are read only for
    the account the credentials log in as; for any other account they are skipped and
    the skip is recorded as a ceiling.

    Waits are bounded: `max_retries` retries per request (429, 5xx, timeouts, connection
    errors), exponential backoff from `backoff_seconds`, and no single 429 wait longer
    than `max_rate_limit_wait_seconds`. `replace_more_limit` bounds the "load more
    comments" requests per thread.
    """

    platform = "reddit"

    def __init__(
        self,
        credentials: RedditCredentials | CredentialsFor,
        base_url: str | None = None,
        *,
        search_keywords: tuple[str, ...] | list[str] = (),
        replace_more_limit: int = DEFAULT_REPLACE_MORE_LIMIT,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_rate_limit_wait_seconds: float = 600,
        request_timeout_seconds: float = 30,
        listing_cap: int = LISTING_CAP,
        session: requests.Session | None = None,
    ):
        if replace_more_limit < 0:
            raise ValueError("replace_more_limit cannot be negative")
        if any(not keyword.strip() for keyword in search_keywords):
            raise ValueError("search keywords cannot be blank")
        if isinstance(credentials, RedditCredentials):
            fixed = credentials
            self._credentials_for: CredentialsFor = lambda account: fixed
        else:
            self._credentials_for = credentials
        self.hosts = RedditHosts.at(base_url)
        self.search_keywords = tuple(keyword.strip() for keyword in search_keywords)
        self.replace_more_limit = replace_more_limit
        self.retry_policy = RetryPolicy(max_retries, backoff_seconds, max_rate_limit_wait_seconds)
        self.request_timeout_seconds = check_timeout(request_timeout_seconds)
        self.listing_cap = listing_cap
        self._transport = session
        self.stats: dict[str, EndpointCounts] = {}

    def __repr__(self) -> str:
        return f"RedditApiSource(oauth_url={self.hosts.oauth_url!r})"

    # ------------------------------------------------------------------ the run

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Yield the listing pages (newest first within an endpoint), then the threads.

        `result.watermarks` starts at the request's since_ids, and an endpoint's watermark
        moves only once that endpoint has finished, so a run that raises leaves watermarks
        that are safe to reuse. A page whose body is not what the endpoint promises is
        yielded, then `RedditMalformedPageError` is raised and nothing more is fetched.
        """
        target = _target(request.account)
        # Every endpoint of the target gets its row, also one a failure never let run.
        endpoints = SEARCH_ENDPOINTS if target.is_subreddit else ACCOUNT_ENDPOINTS
        for endpoint in ("login", *endpoints):
            result.endpoint(endpoint)
        self.stats = {endpoint: result.endpoints[endpoint] for endpoint in endpoints}
        for endpoint, mark in request.since_ids.items():
            if mark:
                result.watermarks[endpoint] = mark
        if target.is_subreddit and not self.search_keywords:
            raise RedditRequestError(
                f"Reddit search in {target}: no keywords configured (reddit.keywords)",
                endpoint="search",
            )
        credentials = self._credentials_for(None if target.is_subreddit else target.name)

        session = CapturingSession(
            self.retry_policy,
            timeout_seconds=self.request_timeout_seconds,
            secrets=credentials.secrets,
            account=str(target),
            on_attempt=result.count_attempt,
            on_rate_limited=result.count_rate_limited,
            transport=self._transport,
        )
        run = _Run(self, request, result, session, target, credentials)
        try:
            yield from run.extract()
        finally:
            session.close()


class _Run:
    """One `pages()` call: the praw client, the session, and what was found so far."""

    def __init__(
        self,
        source: RedditApiSource,
        request: ExtractRequest,
        result: ExtractResult,
        session: CapturingSession,
        target: _Target,
        credentials: RedditCredentials,
    ):
        self.source = source
        self.request = request
        self.result = result
        self.session = session
        self.target = target
        self.credentials = credentials
        self.until = as_utc(request.until).timestamp()
        self.backfill_start = as_utc(request.backfill_start).timestamp()
        # submission id -> newest activity seen in it, for fetching busy threads first
        self.conversations: dict[str, float] = {}
        self.reddit = praw.Reddit(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            username=credentials.username,
            password=credentials.password,
            user_agent=credentials.agent("0.1"),
            oauth_url=source.hosts.oauth_url,
            reddit_url=source.hosts.reddit_url,
            short_url=source.hosts.short_url,
            requestor_kwargs={"session": session},
            # Only what is passed here counts: no praw.ini, no praw_* environment variable.
            refresh_token=None,
            redirect_uri=None,
            check_for_updates=False,
            check_for_async=False,
            timeout=max(1, round(source.request_timeout_seconds)),
        )

    def extract(self) -> Iterator[ResponsePage]:
        if self.target.is_subreddit:
            query = " OR ".join(f'"{keyword}"' for keyword in self.source.search_keywords)
            subreddit = self.reddit.subreddit(self.target.name)
            yield from self._listing(
                "search",
                lambda: subreddit.search(
                    query, sort="new", syntax="lucene", time_filter="all", **_ALL_PAGES
                ),
            )
        else:
            if self.credentials.username.lower() == self.target.name.lower():
                # mark=false: reading must not mark the department's mentions as read
                inbox = self.reddit.inbox
                unread = {"params": {"mark": "false"}}
                yield from self._listing("mentions", lambda: inbox.mentions(**_ALL_PAGES, **unread))
                yield from self._listing(
                    "inbox_replies", lambda: inbox.comment_replies(**_ALL_PAGES, **unread)
                )
                yield from self._listing(
                    "post_replies", lambda: inbox.submission_replies(**_ALL_PAGES, **unread)
                )
            else:
                for endpoint in INBOX_ENDPOINTS:
                    self.result.ceilings.append(
                        f"{endpoint}: not read: the credentials log in as "
                        f"u/{self.credentials.username}, not {self.target}; give the account "
                        "its own credentials to read its inbox"
                    )
            redditor = self.reddit.redditor(self.target.name)
            yield from self._listing("comments", lambda: redditor.comments.new(**_ALL_PAGES))
            yield from self._listing("submissions", lambda: redditor.submissions.new(**_ALL_PAGES))
        yield from self._threads()

    # ------------------------------------------------------------------ listings

    def _listing(self, endpoint: str, open_listing: Callable[[], Any]) -> Iterator[ResponsePage]:
        """Page through one listing, newest first, down to the endpoint's cut-off.

        Reddit has no since_id. The cut-off is the watermark (the created_utc of the
        newest item fetched before) or, on a first run, the backfill start; paging stops
        after the first page that reaches it. Items created in the watermark's very second
        are on that page and land again, but are not new: their threads were fetched.
        """
        self.session.endpoint = endpoint
        stats = self.source.stats[endpoint]
        mark = self._mark(endpoint)
        walk = _Walk(self.backfill_start if mark is None else mark, mark, self.until)
        finished = False
        with self._failures(endpoint):
            generator = open_listing()
        while not (walk.reached_cutoff or finished):
            try:
                with self._failures(endpoint):
                    next(generator)
            except StopIteration:
                finished = True
            except BaseException:
                yield from self._drain(endpoint, listings.parse_listing)
                raise
            for document, page in self._received(endpoint, listings.parse_listing):
                yield page
                for thing in listings.children(document):
                    created = listings.created_utc(thing)
                    if created is None:
                        continue  # the loader rejects it with a reason
                    stats.posts += 1
                    if walk.is_new(created):
                        self._found(thing, created)
                if listings.after(document) is None:
                    finished = True
        self._listing_done(endpoint, walk, finished)

    def _listing_done(self, endpoint: str, walk: _Walk, finished: bool) -> None:
        """The watermark moves to the newest item before `until`; a listing that ran out
        before its cut-off at the listing cap is a ceiling."""
        if walk.newest_before_until is not None:
            previous = _watermark_value(self.result.watermarks.get(endpoint))
            if previous is None or walk.newest_before_until > previous:
                self.result.watermarks[endpoint] = str(int(walk.newest_before_until))
        if finished and not walk.reached_cutoff and walk.returned >= self.source.listing_cap:
            self.result.ceilings.append(
                f"{endpoint}: Reddit listings end after {self.source.listing_cap} items; "
                f"{walk.returned} returned, items older than {stamp(walk.oldest)} back to "
                f"{stamp(walk.cutoff)} are missing"
            )

    def _mark(self, endpoint: str) -> float | None:
        mark = _watermark_value(self.result.watermarks.get(endpoint))
        if mark is None and self.result.watermarks.get(endpoint):
            log.warning(
                "Reddit %s for %s: watermark %r is not a created_utc; backfilling",
                endpoint,
                self.target,
                self.result.watermarks[endpoint],
            )
        return mark

    def _found(self, thing: Any, created: float) -> None:
        submission = listings.submission_id(thing)
        if submission:
            self.conversations[submission] = max(self.conversations.get(submission, 0), created)

    # ------------------------------------------------------------------ threads

    def _threads(self) -> Iterator[ResponsePage]:
        """Every submission found above, with its comments, "more" stubs expanded within
        `replace_more_limit` requests per thread."""
        endpoint = "threads"
        self.session.endpoint = endpoint
        limit = self.source.replace_more_limit
        unexpanded: dict[str, tuple[int, int]] = {}
        unreadable: dict[str, int] = {}
        newest_first = sorted(self.conversations, key=lambda s: (-self.conversations[s], s))
        skipped: list[Any]  # the MoreComments replace_more did not expand
        for submission_id in newest_first:
            submission = self.reddit.submission(id=submission_id)
            submission.comment_sort = "old"
            try:
                with self._failures(endpoint):
                    skipped = submission.comments.replace_more(limit=limit)
            except RedditRequestError as refused:
                if refused.status not in (403, 404):
                    yield from self._drain(endpoint, listings.parse_thread_page)
                    raise
                unreadable[submission_id] = refused.status or 0
                skipped = []
            except BaseException:
                yield from self._drain(endpoint, listings.parse_thread_page)
                raise
            for _document, page in self._received(endpoint, listings.parse_thread_page):
                yield page
            if skipped:
                unexpanded[submission_id] = (len(skipped), sum(map(_hidden_at_least, skipped)))
        if unexpanded:
            stubs = sum(count for count, _ in unexpanded.values())
            comments = sum(hidden for _, hidden in unexpanded.values())
            self.result.ceilings.append(
                f"threads: replace_more limit {limit} reached in {len(unexpanded)} "
                f"submission(s) ({_some(unexpanded)}); {stubs} 'more comments' stub(s) "
                f"for at least {comments} comment(s) not expanded"
            )
        if unreadable:
            statuses = ", ".join(str(s) for s in sorted(set(unreadable.values())))
            self.result.ceilings.append(
                f"threads: {len(unreadable)} submission(s) could not be read "
                f"(HTTP {statuses}): {_some(unreadable)}"
            )

    # ------------------------------------------------------------------ raw pages

    def _received(
        self, endpoint: str, parse: Callable[[bytes], Any]
    ) -> Iterator[tuple[Any, ResponsePage]]:
        """The pages captured since the last call, parsed. A page that does not parse is
        yielded too (the loader rejects it with a reason), then the account stops."""
        stats = self.source.stats[endpoint]
        for body in self.session.take():
            stats.pages += 1
            # Reddit bills API calls, whatever each answer holds
            stats.billable_reads += 1
            page = ResponsePage(endpoint, body)
            try:
                document = parse(body)
            except listings.NotTheExpectedShape as exc:
                yield None, page
                raise RedditMalformedPageError(
                    f"Reddit {endpoint} for {self.target}: a page is {exc} "
                    f"({len(body)} bytes received); the page is kept for the loader to "
                    "reject and nothing more is fetched for this account",
                    endpoint=endpoint,
                    body=body,
                ) from None
            if endpoint == "threads":
                stats.posts += sum(
                    1 for thing in listings.tree_things(document) if thing.get("kind") != "more"
                )
            yield document, page

    def _drain(self, endpoint: str, parse: Callable[[bytes], Any]) -> Iterator[ResponsePage]:
        """After a failure: land what arrived before it."""
        for _document, page in self._received(endpoint, parse):
            yield page

    def _failures(self, endpoint: str) -> Failures:
        return Failures(
            endpoint,
            ROUTES.get(endpoint, endpoint),
            self.session.secrets,
            self.target,
            self.credentials,
        )


_ALL_PAGES: dict[str, Any] = {"limit": None, "request_limit": PAGE_SIZE}


def _target(account: str) -> _Target:
    text = account.strip()
    if SUBREDDIT_PREFIX.match(text):
        name = SUBREDDIT_PREFIX.sub("", text)
        if subreddit_problem(name):
            raise RedditRequestError(
                f"Reddit search target {account!r} is not a valid subreddit name "
                f"({SUBREDDIT_RULE})",
                endpoint="search",
            )
        return _Target(name, is_subreddit=True)
    name = bare_handle(text)
    if handle_problem("reddit", name):
        raise RedditRequestError(
            f"Reddit account {account!r} is not a valid username (letters, digits, '_' "
            "and '-'; 3 to 20)",
            endpoint="comments",
        )
    return _Target(name, is_subreddit=False)


def _hidden_at_least(more: Any) -> int:
    """How many comments a MoreComments stub hides, at least. A "load more comments" stub
    says so (`count`, the ids in `children`); a "continue this thread" stub says count 0
    and lists no children, but stands for one reply at least."""
    return max(more.count, len(more.children), 1)


def _watermark_value(mark: str | None) -> float | None:
    if not mark:
        return None
    try:
        return float(mark)
    except ValueError:
        return None


def _some(ids: dict[str, Any], shown: int = 5) -> str:
    names = sorted(ids)
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
