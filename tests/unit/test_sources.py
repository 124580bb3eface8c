"""Live sources built from the environment, as the command line builds them."""

import pytest

from siloscope.sources import MissingCredential, env_live_source

TOKEN = "unit-bearer-0c1d-never-show"


def test_the_x_source_takes_token_base_url_and_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SILOSCOPE_X_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("SILOSCOPE_X_BASE_URL", "https://x-gateway.internal/x/")
    monkeypatch.setenv("SILOSCOPE_X_MAX_RETRIES", "7")
    monkeypatch.setenv("SILOSCOPE_X_MAX_RATE_LIMIT_WAIT_SECONDS", "60")
    monkeypatch.setenv("SILOSCOPE_X_SEARCH_QUERY_MAX_CHARS", "4096")

    source = env_live_source("x")

    assert source.base_url == "https://x-gateway.internal/x"
    assert source.retry_policy.max_retries == 7
    assert source.retry_policy.max_rate_limit_wait_seconds == 60
    assert source.retry_policy.backoff_seconds == 1.0  # not set: the default
    assert source.search_query_max_chars == 4096
    assert TOKEN not in repr(source)


def test_defaults_to_the_official_host(monkeypatch):
    monkeypatch.setenv("SILOSCOPE_X_BEARER_TOKEN", TOKEN)
    monkeypatch.delenv("SILOSCOPE_X_BASE_URL", raising=False)
    assert env_live_source("x").base_url == "https://api.twitter.com"


def test_a_missing_token_is_named(monkeypatch):
    monkeypatch.delenv("SILOSCOPE_X_BEARER_TOKEN", raising=False)
    with pytest.raises(MissingCredential, match="SILOSCOPE_X_BEARER_TOKEN"):
        env_live_source("x")


def test_a_setting_that_is_not_a_number_is_named(monkeypatch):
    monkeypatch.setenv("SILOSCOPE_X_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("SILOSCOPE_X_BACKOFF_SECONDS", "soon")
    with pytest.raises(ValueError, match="SILOSCOPE_X_BACKOFF_SECONDS: expected a number"):
        env_live_source("x")


@pytest.mark.parametrize(
    ("host", "schema", "port", "base_url"),
    [
        ("https://x-gateway.internal/x/", None, None, "https://x-gateway.internal/x"),
        ("x-gateway.internal", None, None, "https://x-gateway.internal"),
        ("127.0.0.1", "http", 8080, "http://127.0.0.1:8080"),
        (None, None, None, None),
    ],
)
def test_the_connection_host_gives_the_base_url(host, schema, port, base_url):
    from types import SimpleNamespace

    from siloscope.sources import _base_url

    assert _base_url(SimpleNamespace(host=host, schema=schema, port=port)) == base_url
