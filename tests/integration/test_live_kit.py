"""The kit's README example, run as written against a local API: a third source in a page.

The source is the ```python block of ingest/live/README.md, executed as it stands, so the
README cannot drift from what works.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.live import AuthError, ExtractError, MalformedPageError, RetryPolicy, UnavailableError
from ingest.pages import ExtractRequest, ExtractResult
from tests.integration.local_server import AnswerHandler, LocalServer

README = Path(__file__).parents[2] / "ingest" / "live" / "README.md"
TOKEN = "example-token-do-not-leak-5521"


class ExampleApi(LocalServer):
    """GET /posts?actor=&cursor=: three pages of posts; faults answered first, in order."""

    name = "example-api"

    def __init__(self) -> None:
        super().__init__()
        self.pages = [
            {"posts": [{"id": "3"}, {"id": "2"}], "cursor": "c1"},
            {"posts": [{"id": "1"}], "cursor": "c2"},
            {"posts": [], "cursor": None},
        ]
        self.faults: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[tuple[int, str | None, str | None]] = []  # status, cursor, auth
        self._lock = threading.Lock()

    def answer(self, query: dict[str, list[str]], auth: str | None):
        cursor = query.get("cursor", [None])[0]
        with self._lock:
            if self.faults:
                status, headers, body = self.faults.pop(0)
            else:
                number = 0 if cursor is None else int(cursor[1:])
                status, headers, body = 200, {}, json.dumps(self.pages[number]).encode()
            self.seen.append((status, cursor, auth))
        return status, headers, body

    def handler_class(self):
        api = self

        class Handler(AnswerHandler):
            def respond(self, method: str) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                status, headers, body = api.answer(query, self.headers.get("Authorization"))
                self.send_answer(status, "application/json", headers, body)

        return Handler


@pytest.fixture(scope="module")
def example_source_class():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert code is not None, "the kit README lost its example"
    namespace: dict = {"__name__": "kit_example"}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    return namespace["ExampleSource"]


@pytest.fixture
def api():
    with ExampleApi() as server:
        yield server


def run(source, account="acme"):
    now = datetime.now(UTC)
    request = ExtractRequest("example", account, now, now - timedelta(days=1))
    result = ExtractResult()
    pages = []
    try:
        for page in source.pages(request, result):
            pages.append(page)
    except ExtractError as failure:
        return pages, result, failure
    return pages, result, None


def make(example_source_class, api, max_retries=2):
    policy = RetryPolicy(max_retries, backoff_seconds=0.001, max_rate_limit_wait_seconds=0.05)
    return example_source_class(TOKEN, api.base_url, policy, timeout=5)


def test_pages_every_page_with_the_token(example_source_class, api):
    pages, result, failure = run(make(example_source_class, api))

    assert failure is None
    assert [json.loads(p.body)["cursor"] for p in pages] == ["c1", "c2", None]
    assert [cursor for _, cursor, _ in api.seen] == [None, "c1", "c2"]
    assert {auth for _, _, auth in api.seen} == {f"Bearer {TOKEN}"}
    assert result.requests == 3 and result.endpoints["posts"].pages == 3


def test_429_and_5xx_are_waited_out_and_the_same_page_asked_again(
    example_source_class, api, caplog
):
    api.faults = [(200, {}, json.dumps(api.pages[0]).encode())]  # first page as usual
    api.faults += [(429, {"Retry-After": "0"}, b"{}"), (503, {}, b"{}")]

    pages, result, failure = run(make(example_source_class, api))

    assert failure is None
    assert [(status, cursor) for status, cursor, _ in api.seen] == [
        (200, None),
        (429, "c1"),
        (503, "c1"),
        (200, "c1"),
        (200, "c2"),
    ]
    assert len(pages) == 3
    assert result.requests == 5 and result.endpoints["posts"].rate_limited == 1
    waits = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert waits[0].startswith("Example posts for acme: HTTP 429, waiting retry-after 0; retry 1")
    assert waits[1].startswith("Example posts for acme: HTTP 503; retry 2 of 2")


def test_an_outage_that_outlasts_the_retries_says_how_many_attempts(example_source_class, api):
    api.faults = [(502, {}, b"{}")] * 3

    pages, result, failure = run(make(example_source_class, api))

    assert isinstance(failure, UnavailableError) and failure.retryable
    assert str(failure) == "Example posts (GET /posts) for acme: HTTP 502 after 3 attempts"
    assert pages == [] and result.requests == 3


def test_a_refused_token_fails_at_once_and_is_not_retryable(example_source_class, api, caplog):
    caplog.set_level(logging.DEBUG)
    api.faults = [(401, {}, json.dumps({"error": f"bad token {TOKEN}"}).encode())]

    pages, result, failure = run(make(example_source_class, api))

    assert isinstance(failure, AuthError) and not failure.retryable
    assert failure.status == 401 and result.requests == 1
    assert str(failure) == "Example posts (GET /posts) for acme: the token was refused (HTTP 401)"
    said = caplog.text + "".join(traceback.format_exception(failure))
    assert TOKEN not in said


def test_a_page_that_is_not_json_is_yielded_then_the_account_stops(example_source_class, api):
    api.faults = [(200, {}, b"<html>proxy error</html>")]

    pages, result, failure = run(make(example_source_class, api))

    assert isinstance(failure, MalformedPageError) and failure.body == b"<html>proxy error</html>"
    assert [page.body for page in pages] == [b"<html>proxy error</html>"]
    assert "page 1 is not a JSON object" in str(failure)
