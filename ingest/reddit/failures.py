"""praw's and prawcore's exceptions, translated into RedditExtractErrors without secrets."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException

from ingest.live import redact
from ingest.reddit.errors import (
    RedditAuthError,
    RedditExtractError,
    RedditRequestError,
    RedditUnavailableError,
)
from ingest.reddit.http import RedditCredentials


class Failures:
    """Turns praw's and prawcore's exceptions into RedditExtractErrors without secrets.

    Raised `from None`: a prawcore RequestException keeps the request's headers (the
    bearer token) and a chained traceback would print it.
    """

    def __init__(
        self,
        endpoint: str,
        route: str,
        secrets: Iterable[str],
        target: object,
        credentials: RedditCredentials,
    ):
        self.endpoint = endpoint
        self.route = route
        self.secrets = secrets
        self.target = target
        self.credentials = credentials

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, traceback) -> None:
        if exc is None or isinstance(exc, RedditExtractError | StopIteration | GeneratorExit):
            return
        failure = self._translate(exc)
        if failure is not None:
            raise failure from None

    def _message(self, detail: str) -> str:
        return redact(
            f"Reddit {self.endpoint} ({self.route}) for {self.target}: {detail}", self.secrets
        )

    def _translate(self, exc: BaseException) -> RedditExtractError | None:
        endpoint = self.endpoint
        if isinstance(exc, prawcore.RequestException):
            original = exc.original_exception
            if isinstance(original, RedditExtractError):
                return original
            return RedditUnavailableError(
                self._message(f"request failed: {type(original).__name__}: {original}"),
                endpoint=endpoint,
            )
        if isinstance(exc, prawcore.OAuthException):
            return RedditAuthError(
                self._message(
                    f"Reddit refused the login of u/{self.credentials.username} ({exc.error}); "
                    + self.credentials.check("username and password", "username", "password")
                ),
                endpoint=endpoint,
            )
        if isinstance(exc, prawcore.ResponseException):
            return self._refused(exc)
        if isinstance(exc, RedditAPIException):
            return RedditRequestError(self._message(f"API error: {exc}"), endpoint=endpoint)
        if isinstance(exc, PRAWException):
            return RedditRequestError(
                self._message(f"{type(exc).__name__}: {exc}"), endpoint=endpoint
            )
        return None

    def _refused(self, exc: prawcore.ResponseException) -> RedditExtractError | None:
        """An answer prawcore would not take: a refused login or token, or a request."""
        endpoint, response = self.endpoint, exc.response
        status = response.status_code
        path = _path_of(response)
        if path.endswith("/api/v1/access_token"):
            return RedditAuthError(
                self._message(
                    f"the app's client id and secret were refused (HTTP {status} from the "
                    "token endpoint); "
                    + self.credentials.check(
                        "app's client id and secret", "client_id", "client_secret"
                    )
                ),
                endpoint=endpoint,
                status=status,
            )
        if status == 401:
            return RedditAuthError(
                self._message(f"the access token was refused (HTTP 401, {path})"),
                endpoint=endpoint,
                status=status,
            )
        if isinstance(exc, prawcore.BadJSON):
            return None  # _received lands the body and raises RedditMalformedPageError
        if status == 404 and endpoint in ("comments", "submissions"):
            detail = f"no such user (HTTP 404, {path})"
        else:
            detail = f"refused with HTTP {status} ({path})"
        return RedditRequestError(self._message(detail), endpoint=endpoint, status=status)


def _path_of(response: requests.Response) -> str:
    return urlsplit(response.url or "").path
