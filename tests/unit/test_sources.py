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
    assert source.token_hint == "SILOSCOPE_X_BEARER_TOKEN"  # what a refusal says to fix


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


BLUESKY_PASSWORD = "unit-app-pass-word-1234"


def test_bluesky_takes_an_accounts_own_app_password_before_the_default(monkeypatch):
    from siloscope.sources import env_bluesky_credentials

    monkeypatch.setenv("SILOSCOPE_BLUESKY_BASE_URL", "http://pds.internal:2583/")
    monkeypatch.setenv("SILOSCOPE_BLUESKY_HANDLE", "acme.com")
    monkeypatch.setenv("SILOSCOPE_BLUESKY_APP_PASSWORD", "default-pass")
    monkeypatch.setenv("SILOSCOPE_BLUESKY_HANDLE__ACMEHELP_BSKY_SOCIAL", "acmehelp.bsky.social")
    monkeypatch.setenv("SILOSCOPE_BLUESKY_APP_PASSWORD__ACMEHELP_BSKY_SOCIAL", BLUESKY_PASSWORD)

    source = env_live_source("bluesky")

    assert source.base_url == "http://pds.internal:2583"
    own = source.credentials_for("acmehelp.bsky.social")
    assert (own.handle, own.app_password) == ("acmehelp.bsky.social", BLUESKY_PASSWORD)
    assert source.credentials_for("sales.acme.com").handle == "acme.com"  # the default
    assert BLUESKY_PASSWORD not in repr(own) and BLUESKY_PASSWORD not in repr(source)
    assert env_bluesky_credentials("acmehelp.bsky.social") == own


def test_bluesky_without_credentials_reads_the_public_appview(monkeypatch):
    for name in ("SILOSCOPE_BLUESKY_HANDLE", "SILOSCOPE_BLUESKY_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SILOSCOPE_BLUESKY_BASE_URL", raising=False)
    source = env_live_source("bluesky")
    assert source.credentials_for("acme.com") is None
    assert source.base_url is None  # the source picks the public AppView without a login


def test_half_a_bluesky_credential_is_named(monkeypatch):
    monkeypatch.delenv("SILOSCOPE_BLUESKY_HANDLE", raising=False)
    monkeypatch.setenv("SILOSCOPE_BLUESKY_APP_PASSWORD", BLUESKY_PASSWORD)
    source = env_live_source("bluesky")
    with pytest.raises(MissingCredential, match="SILOSCOPE_BLUESKY_HANDLE too"):
        source.credentials_for("acme.com")


def test_mastodon_takes_each_accounts_own_token(monkeypatch):
    from siloscope.sources import mastodon_connection_id

    monkeypatch.setenv("SILOSCOPE_MASTODON_TOKEN__ACMEHELP_MASTODON_SOCIAL", "tok-care")
    monkeypatch.setenv("SILOSCOPE_MASTODON_BASE_URL", "http://127.0.0.1:9/")
    source = env_live_source("mastodon")
    assert source.base_url == "http://127.0.0.1:9"
    assert source._tokens("acmehelp@mastodon.social") == "tok-care"
    assert source._tokens("acme@acme.social") is None  # no default: tokens are per account
    assert "tok-care" not in repr(source)
    assert mastodon_connection_id("AcmeHelp@mastodon.social") == "mastodon_acmehelp_mastodon.social"


def test_bluesky_credentials_from_the_environment_say_which_variables_to_fix(monkeypatch):
    from siloscope.sources import env_bluesky_credentials

    monkeypatch.setenv("SILOSCOPE_BLUESKY_HANDLE__ACME_COM", "acme.com")
    monkeypatch.setenv("SILOSCOPE_BLUESKY_APP_PASSWORD__ACME_COM", "abcd-efgh-ijkl-mnop")

    credentials = env_bluesky_credentials("acme.com")

    assert credentials is not None and credentials.handle == "acme.com"
    assert credentials.origin == (
        "SILOSCOPE_BLUESKY_HANDLE__ACME_COM / SILOSCOPE_BLUESKY_APP_PASSWORD__ACME_COM"
    )
