"""The live-source kit on its own: the retry loop, the error trees, redaction, times."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from ingest import reddit, x
from ingest.live import (
    Attempt,
    AuthError,
    ExtractError,
    MalformedPageError,
    RateLimitError,
    RequestError,
    Retrier,
    RetryPolicy,
    UnavailableError,
    Verdict,
    as_utc,
    redact,
    stamp,
)

log = logging.getLogger("tests.kit")


class Calls:
    """Answers (or raises) the scripted outcomes in turn."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.made = 0

    def __call__(self):
        self.made += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def classify(attempt: Attempt[str]) -> Verdict:
    if attempt.error is not None:
        if isinstance(attempt.error, PermissionError):
            return attempt.fail(AuthError, "refused", 401)
        return attempt.transport_failure(UnavailableError)
    if attempt.value == "busy":
        return attempt.rate_limited(RateLimitError, "waiting retry-after 99", 99)
    if attempt.value == "down":
        return attempt.unavailable(UnavailableError, 503)
    return None


def retrier(max_retries=3, backoff=1.0, cap=10.0):
    waits: list[float] = []
    counted: list[str] = []
    limited: list[str] = []
    made = Retrier(
        RetryPolicy(max_retries, backoff, cap),
        log,
        on_attempt=counted.append,
        on_rate_limited=limited.append,
        sleep=waits.append,
    )
    return made, waits, counted, limited


def call(made: Retrier, calls: Calls):
    return made.call(
        calls,
        classify,
        endpoint="posts",
        describe=lambda detail: f"Demo posts for acme: {detail}",
        what="Demo posts for acme",
    )


def test_retries_back_off_exponentially_and_cap_what_the_api_asks_for(caplog):
    made, waits, counted, limited = retrier()
    calls = Calls("down", requests.Timeout("slow"), "busy", "page")

    assert call(made, calls) == "page"

    assert waits == [1.0, 2.0, 10.0]  # backoff, backoff, the 99 s asked for capped at 10
    assert counted == ["posts"] * 4 and limited == ["posts"]
    assert [r.getMessage() for r in caplog.records] == [
        "Demo posts for acme: HTTP 503; retry 1 of 3 in 1 s",
        "Demo posts for acme: timed out; retry 2 of 3 in 2 s",
        "Demo posts for acme: HTTP 429, waiting retry-after 99; retry 3 of 3 in 10 s",
    ]


def test_gives_up_after_the_last_retry_with_the_last_failure():
    made, waits, counted, limited = retrier(max_retries=2)

    with pytest.raises(UnavailableError) as raised:
        call(made, Calls("down", "down", "down", "page"))

    assert str(raised.value) == "Demo posts for acme: HTTP 503 after 3 attempts"
    assert (raised.value.endpoint, raised.value.status) == ("posts", 503)
    assert len(waits) == 2 and len(counted) == 3


def test_a_429_that_never_ends_is_counted_every_time_and_says_why():
    made, waits, counted, limited = retrier(max_retries=1)

    with pytest.raises(RateLimitError) as raised:
        call(made, Calls("busy", "busy"))

    assert limited == ["posts", "posts"]
    assert str(raised.value) == (
        "Demo posts for acme: still rate limited (HTTP 429) after 2 attempts; "
        "last answer: waiting retry-after 99"
    )


def test_a_failure_classify_gives_up_on_is_raised_at_once_without_its_cause():
    made, waits, counted, limited = retrier()
    calls = Calls(PermissionError("Authorization: Bearer s3cret"), "page")

    with pytest.raises(AuthError) as raised:
        call(made, calls)

    assert calls.made == 1 and waits == []
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_exception_classify_does_not_know_goes_up_as_it_is():
    made, waits, counted, limited = retrier()
    with pytest.raises(KeyError):
        call(made, Calls(KeyError("bug")))
    assert waits == []


@pytest.mark.parametrize("settings", [(-1, 1.0, 10.0), (3, -1.0, 10.0), (3, 1.0, -5.0)], ids=str)
def test_negative_retry_settings_are_refused(settings):
    with pytest.raises(ValueError, match="retry settings cannot be negative"):
        RetryPolicy(*settings)


def test_retryable_says_whether_waiting_can_heal_it():
    assert ExtractError("?").retryable
    assert RateLimitError("?").retryable and UnavailableError("?").retryable
    assert MalformedPageError("?", endpoint="e", body=b"").retryable
    assert not AuthError("?").retryable and not RequestError("?").retryable


@pytest.mark.parametrize(
    ("root", "source_kind", "kit_kind"),
    [
        (x.XExtractError, x.XAuthError, AuthError),
        (x.XExtractError, x.XRateLimitError, RateLimitError),
        (x.XExtractError, x.XUnavailableError, UnavailableError),
        (x.XExtractError, x.XRequestError, RequestError),
        (x.XExtractError, x.XMalformedPageError, MalformedPageError),
        (reddit.RedditExtractError, reddit.RedditAuthError, AuthError),
        (reddit.RedditExtractError, reddit.RedditRateLimitError, RateLimitError),
        (reddit.RedditExtractError, reddit.RedditUnavailableError, UnavailableError),
        (reddit.RedditExtractError, reddit.RedditRequestError, RequestError),
        (reddit.RedditExtractError, reddit.RedditMalformedPageError, MalformedPageError),
    ],
    ids=lambda kind: kind.__name__,
)
def test_every_sources_error_is_a_kit_kind_under_its_own_root(root, source_kind, kit_kind):
    assert issubclass(source_kind, root) and issubclass(source_kind, kit_kind)
    assert source_kind.retryable is kit_kind.retryable


def test_redact_hides_every_secret_longest_first_and_any_bearer_token():
    text = "id abc, secret abcdef, header Authorization: Bearer tok.en-123"
    assert (
        redact(text, ["abc", "abcdef", ""])
        == "id ***, secret ***, header Authorization: Bearer ***"
    )
    assert redact("the X bearer token was refused") == "the X bearer token was refused"


def test_times_are_utc_to_the_second():
    naive = datetime(2026, 1, 31, 23, 59, 59)
    assert as_utc(naive) == naive.replace(tzinfo=UTC)
    east = datetime(2026, 2, 1, 1, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    assert stamp(east) == "2026-01-31T23:59:59Z"
    assert stamp(naive.replace(tzinfo=UTC).timestamp()) == "2026-01-31T23:59:59Z"
    assert stamp(None) == "?"
