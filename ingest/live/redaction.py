"""Keeping credentials out of messages and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# The Authorization header's "Bearer <token>", as HTTP libraries log it. Case matters: not
# prose such as "X bearer token".
_BEARER_IN_TEXT = re.compile(r"(Bearer\s+)[^\s'\",}]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret and any bearer credential replaced by ***."""
    # Longest first: a secret that contains another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _BEARER_IN_TEXT.sub(r"\1***", text)


class _RedactBearerTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _BEARER_IN_TEXT.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_bearer_tokens_in(*logger_names: str) -> None:
    """Make a client library's DEBUG request log safe to turn on (idempotent).

    A logger's filters see only records logged on that very logger, so the filter goes on
    each logger the library writes to.
    """
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _RedactBearerTokens) for existing in logger.filters):
            logger.addFilter(_RedactBearerTokens())
