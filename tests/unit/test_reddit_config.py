"""The `reddit:` config block, the extract plan it makes, and where credentials come from."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.reddit import RedditApiSource
from siloscope.config import ConfigError, load_config
from siloscope.pipeline import plan_extract
from siloscope.settings import Settings
from siloscope.sources import MissingCredential, env_live_source, env_reddit_credentials

ORG = """
organization: Acme
departments:
  - name: Care
    accounts:
      x: [AcmeHelp]
      reddit: [u/AcmeSupport]
  - name: Marketing
    accounts:
      reddit: [AcmeBrand]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text)
    return path


def test_defaults_search_nothing_and_bound_replace_more_at_32(tmp_path):
    config = load_config(write(tmp_path, ORG))
    assert config.reddit.subreddits == [] and config.reddit.keywords == []
    assert config.reddit.replace_more_limit == 32
    assert config.reddit.search_targets() == []


def test_subreddits_are_searched_one_extract_each(tmp_path):
    config = load_config(
        write(
            tmp_path,
            ORG
            + """
reddit:
  subreddits: [r/acme, /r/BuyItForLife, acme]
  keywords: [Acme blender, " AcmePro "]
  replace_more_limit: 5
""",
        )
    )
    assert config.reddit.subreddits == ["acme", "BuyItForLife", "acme"]
    assert config.reddit.keywords == ["Acme blender", "AcmePro"]
    assert config.reddit.search_targets() == ["r/acme", "r/BuyItForLife"]
    settings = Settings.resolve(tmp_path / "org.yaml", tmp_path / "none.duckdb", str(tmp_path))
    targets = plan_extract(settings, config, datetime(2026, 11, 2, tzinfo=UTC))
    assert [(t.platform, t.account) for t in targets] == [
        ("x", "AcmeHelp"),
        ("reddit", "u/AcmeSupport"),
        ("reddit", "AcmeBrand"),
        ("reddit", "r/acme"),
        ("reddit", "r/BuyItForLife"),
    ]
    x_only = plan_extract(settings, config, datetime(2026, 11, 2, tzinfo=UTC), ("x",))
    assert [t.account for t in x_only] == ["AcmeHelp"]


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        ("  subreddits: [acme]\n", "reddit", "add reddit.keywords"),
        ("  keywords: [acme]\n", "reddit", "add reddit.subreddits"),
        (
            "  subreddits: [a]\n  keywords: [x]\n",
            "reddit.subreddits",
            "subreddit 'a' is not a subreddit name",
        ),
        ("  subreddits: [acme]\n  keywords: ['']\n", "reddit.keywords", "empty"),
        ("  subreddits: [acme]\n  keywords: ['say \"hi\"']\n", "reddit.keywords", "quotes"),
        ("  replace_more_limit: -1\n", "reddit.replace_more_limit", "greater than or equal"),
        ("  replace_more: 3\n", "reddit.replace_more", "unknown key"),
    ],
)
def test_a_wrong_reddit_block_names_the_file_and_the_key(tmp_path, block, key, words):
    path = write(tmp_path, ORG + "reddit:\n" + block)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert f"{path}: {key}" in message and words in message


def test_the_command_line_source_takes_the_config_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SILOSCOPE_REDDIT_BASE_URL", "http://127.0.0.1:9")
    config = load_config(
        write(
            tmp_path,
            ORG + "reddit:\n  subreddits: [acme]\n  keywords: [acme]\n  replace_more_limit: 3\n",
        )
    )
    source = env_live_source("reddit", config)
    assert isinstance(source, RedditApiSource)
    assert source.hosts.oauth_url == source.hosts.reddit_url == "http://127.0.0.1:9"
    assert (source.search_keywords, source.replace_more_limit) == (("acme",), 3)
    monkeypatch.delenv("SILOSCOPE_REDDIT_BASE_URL")
    assert env_live_source("reddit", config).hosts.oauth_url == "https://oauth.reddit.com"


def _set(monkeypatch, suffix: str = "", **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"SILOSCOPE_REDDIT_{name.upper()}{suffix}", value)


def test_an_account_uses_its_own_credentials_when_it_has_them(monkeypatch):
    _set(monkeypatch, client_id="app", client_secret="s", username="AcmeSupport", password="p")
    _set(monkeypatch, "__ACME_BRAND", client_id="app2", client_secret="s2", username="Acme-Brand")
    _set(monkeypatch, "__ACME_BRAND", password="p2")

    assert env_reddit_credentials("AcmeSupport").username == "AcmeSupport"
    own = env_reddit_credentials("Acme-Brand")
    assert (own.client_id, own.username, own.password) == ("app2", "Acme-Brand", "p2")
    assert env_reddit_credentials(None).username == "AcmeSupport"  # a subreddit search


def test_credentials_from_the_environment_say_which_variables_to_fix(monkeypatch):
    _set(monkeypatch, client_id="app", client_secret="s", username="AcmeSupport", password="p")
    _set(monkeypatch, "__ACME_BRAND", client_id="app2", client_secret="s2", username="Acme-Brand")
    _set(monkeypatch, "__ACME_BRAND", password="p2")

    assert env_reddit_credentials("AcmeSupport").check("login", "username", "password") == (
        "check the login in the environment "
        "(SILOSCOPE_REDDIT_USERNAME, SILOSCOPE_REDDIT_PASSWORD; values redacted)"
    )
    assert env_reddit_credentials("Acme-Brand").check("app", "client_id") == (
        "check the app in the environment (SILOSCOPE_REDDIT_CLIENT_ID__ACME_BRAND; values redacted)"
    )


def test_missing_credentials_name_the_variables_not_values(monkeypatch):
    for name in ("CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"SILOSCOPE_REDDIT_{name}", raising=False)
    _set(monkeypatch, client_id="app", password="secret-value-1")
    with pytest.raises(MissingCredential) as raised:
        env_reddit_credentials("AcmeSupport")
    message = str(raised.value)
    assert "SILOSCOPE_REDDIT_CLIENT_SECRET" in message and "SILOSCOPE_REDDIT_USERNAME" in message
    assert "secret-value-1" not in message
    # an account's own set must be complete too
    _set(monkeypatch, "__ACMEBRAND", username="AcmeBrand")
    with pytest.raises(MissingCredential, match="SILOSCOPE_REDDIT_PASSWORD__ACMEBRAND"):
        env_reddit_credentials("AcmeBrand")
