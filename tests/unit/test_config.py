from pathlib import Path

import pytest

from siloscope.config import ConfigError, load_config, normalize_handle

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text)
    return path


def test_the_example_config_is_valid_and_lists_every_department():
    config = load_config(REPO / "config" / "acme.yaml")
    assert config.department_names() == ["Customer Care", "Marketing", "Sales", "HR", "Innovation"]
    assert ("x", "acmehelp", "Customer Care") in config.org_accounts()


def test_the_metrics_contract_example_loads_with_default_thresholds(tmp_path):
    # the metrics contract's example config, as the contract wrote it
    config = load_config(
        write(
            tmp_path,
            """
organization: Acme
departments:
  - name: Customer Care
    accounts:
      x: [AcmeHelp]
      reddit: [AcmeSupport]
  - name: Marketing
    accounts:
      x: [Acme]
ignore_accounts:
  x: [SomeBot]
""",
        )
    )
    assert config.thresholds.glue_threshold == 0.5
    assert config.thresholds.silo_threshold == 0.05
    assert config.thresholds.min_conversations == 30
    assert config.ignored_accounts() == [("x", "somebot")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@AcmeHelp", "acmehelp"),
        ("u/AcmeSupport", "acmesupport"),
        ("/u/Acme", "acme"),
        ("ACME", "acme"),
    ],
)
def test_handles_compare_without_prefix_and_case(raw, expected):
    assert normalize_handle(raw) == expected


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("organization: A\ndepartments: []\n", "departments", "at least 1"),
        (
            "organization: A\ndepartments:\n  - name: Care\n    acounts: {x: [a]}\n",
            "departments.0.acounts",
            "unknown key",
        ),
        (
            "organization: A\ndepartments:\n  - name: Care\n    accounts: {x: [a]}\n"
            "thresholds: {glue_threshold: 1.5}\n",
            "thresholds.glue_threshold",
            "less than or equal",
        ),
        (
            "organization: A\ndepartments:\n  - name: Care\n    accounts: {x: [a]}\n"
            "sources: {x: magic}\n",
            "sources.x",
            "simulated",
        ),
    ],
)
def test_a_wrong_config_names_the_file_and_the_key(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}: {key}:" in message
    assert words in message


def test_one_account_under_two_departments_is_refused(tmp_path):
    path = write(
        tmp_path,
        """
organization: A
departments:
  - name: Care
    accounts: {x: [AcmeHelp]}
  - name: Sales
    accounts: {x: ["@acmehelp"]}
""",
    )
    with pytest.raises(ConfigError, match="listed under both 'Care' and 'Sales'"):
        load_config(path)


def test_an_unknown_glue_department_is_refused(tmp_path):
    path = write(
        tmp_path,
        """
organization: A
departments:
  - name: Care
    accounts: {x: [AcmeHelp]}
simulation: {structure: glued, glue_department: Legal}
""",
    )
    with pytest.raises(ConfigError, match="'Legal' is not a configured department"):
        load_config(path)


def test_missing_file_and_broken_yaml_get_a_clear_message(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "organization: [unclosed\n"))


@pytest.mark.parametrize(
    "handle", ["acme.bsky.social", "@Acme.BSKY.social", "support.acme-shop.co.uk", "a.b.xn--p1ai"]
)
def test_bluesky_handles_follow_the_at_protocol_rules(tmp_path, handle):
    path = write(
        tmp_path,
        f"organization: Acme\ndepartments:\n  - name: Care\n    accounts:\n"
        f"      bluesky: ['{handle}']\n",
    )
    (account,) = load_config(path).org_accounts()
    assert account == ("bluesky", handle.lstrip("@").lower(), "Care")


@pytest.mark.parametrize(
    ("handle", "words"),
    [
        ("acme", "is not an AT Protocol handle"),  # one label: not a domain name
        ("acme.bsky.social.", "is not an AT Protocol handle"),
        ("-acme.bsky.social", "is not an AT Protocol handle"),
        ("acme_help.bsky.social", "is not an AT Protocol handle"),
        ("acme.bsky.123", "is not an AT Protocol handle"),  # the last label starts with a digit
        ("acme." + "a" * 64 + ".social", "is not an AT Protocol handle"),
        ("acme.local", "top-level domain .local is reserved"),
        ("did:plc:abc", "is not an AT Protocol handle"),
    ],
)
def test_a_wrong_bluesky_handle_is_refused_with_the_rule(tmp_path, handle, words):
    path = write(
        tmp_path,
        f"organization: Acme\ndepartments:\n  - name: Care\n    accounts:\n"
        f"      bluesky: ['{handle}']\n",
    )
    with pytest.raises(ConfigError, match="departments.0.accounts.bluesky") as caught:
        load_config(path)
    assert words in str(caught.value)


def test_mastodon_accounts_are_full_addresses(tmp_path):
    path = write(
        tmp_path,
        "organization: Acme\ndepartments:\n  - name: Care\n    accounts:\n"
        "      mastodon: ['@AcmeHelp@mastodon.social', 'acme@social.acme.com']\n",
    )
    accounts = [account for _, account, _ in load_config(path).org_accounts()]
    assert accounts == ["acmehelp@mastodon.social", "acme@social.acme.com"]


@pytest.mark.parametrize("address", ["@acme", "acme", "@acme@", "@ac-me@mastodon.social"])
def test_a_mastodon_account_without_its_instance_is_refused(tmp_path, address):
    path = write(
        tmp_path,
        f"organization: Acme\ndepartments:\n  - name: Care\n    accounts:\n"
        f"      mastodon: ['{address}']\n",
    )
    with pytest.raises(ConfigError, match="is not a full address: @user@instance"):
        load_config(path)


@pytest.mark.parametrize("accounts", [8, 10, 20])
def test_the_scale_test_and_bench_organisations_are_valid_configs(accounts, tmp_path):
    """make test-scale and bench/celery_workers.py generate their configs; a handle the X
    rule refuses would fail their DAG's plan task, far from the cause."""
    from tests.integration.celery_stack import simulated_organisation

    path = tmp_path / "org.yaml"
    path.write_text(simulated_organisation(accounts))
    config = load_config(path)
    assert sum(len(d.accounts.x) for d in config.departments) == accounts
