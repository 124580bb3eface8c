"""Paging through X API v2 results with tweepy's own Paginator, keeping raw bodies.

The Paginator is handed a wrapper of the tweepy.Client method (same `__name__`, so it
still picks `next_token` for search and `pagination_token` for timelines). The wrapper
runs each call through the `RequestRunner`, so a 429 or 5xx is retried inside one
Paginator step with the same token, and checks the body before the Paginator parses it,
so a truncated page surfaces as `XMalformedPageError` carrying its bytes, never as a
bare JSONDecodeError with the body lost.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import tweepy

from ingest.x.errors import XMalformedPageError
from ingest.x.http import RequestRunner


def conversation_queries(
    conversation_ids: Iterable[str], max_chars: int, key: Callable[[str], Any] = int
) -> list[str]:
    """Recent-search queries `conversation_id:A OR conversation_id:B ...`, each <= max_chars.

    Highest `key` first: by default the newest conversations, so the freshest threads come
    in the first requests.
    """
    ordered = sorted(set(conversation_ids), key=key, reverse=True)
    queries: list[str] = []
    current = ""
    for conversation_id in ordered:
        term = f"conversation_id:{conversation_id}"
        candidate = f"{current} OR {term}" if current else term
        if current and len(candidate) > max_chars:
            queries.append(current)
            candidate = term
        current = candidate
    if current:
        queries.append(current)
    return queries


@dataclass(frozen=True)
class Page:
    number: int  # 1-based within one pagination
    body: bytes  # exactly as received
    document: dict[str, Any]

    @property
    def posts(self) -> list[dict[str, Any]]:
        return self.document.get("data") or []

    @property
    def newest_id(self) -> str | None:
        return (self.document.get("meta") or {}).get("newest_id")


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object in a response body; ValueError when it is not one."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    return document


def fetch_pages(
    method: Callable[..., Any],
    *args: Any,
    endpoint: str,
    route: str,
    runner: RequestRunner,
    **params: Any,
) -> Iterator[Page]:
    """Every page of `method(*args, **params)`, newest first, as `Page`s.

    Raises `XMalformedPageError` (with the body) when a 200 body is not a JSON object;
    nothing further is requested after that.
    """
    pages_seen = 0
    latest: list[Page] = []

    @functools.wraps(method)
    def fetch_one(*call_args: Any, **call_params: Any) -> requests.Response:
        response = runner.run(endpoint, route, lambda: method(*call_args, **call_params))
        latest[:] = [_checked_page(response, pages_seen + 1, endpoint, route, runner)]
        return response

    for _response in tweepy.Paginator(fetch_one, *args, **params):
        pages_seen += 1
        yield latest.pop()


def fetch_page(
    method: Callable[..., Any],
    *args: Any,
    endpoint: str,
    route: str,
    runner: RequestRunner,
    **params: Any,
) -> Page:
    """The one page of an unpaged lookup (`GET /2/tweets?ids=...`), as a `Page`."""
    response = runner.run(endpoint, route, lambda: method(*args, **params))
    return _checked_page(response, 1, endpoint, route, runner)


def _checked_page(
    response: requests.Response, number: int, endpoint: str, route: str, runner: RequestRunner
) -> Page:
    try:
        document = parse_body(response.content)
    except ValueError as exc:
        raise XMalformedPageError(
            runner.message(
                endpoint,
                route,
                f"page {number} is not valid JSON ({exc}; {len(response.content)} bytes "
                "received); the page is kept for the loader to reject and nothing more is "
                "fetched for this account",
            ),
            endpoint=endpoint,
            page=number,
            body=response.content,
        ) from None
    return Page(number, response.content, document)
