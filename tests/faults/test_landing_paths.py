"""Fault 1: account names that collide or escape the landing zone."""

from pathlib import Path

import pytest

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from siloscope.config import ConfigError, load_config
from tests.faults.pages import Pages, count, page, post, request

TRICKY_ACCOUNTS = ["Acme Brand", "Acme_Brand", "acme_brand", ".", "..", "a/b", "a%2Fb", "é"]


def test_every_account_lands_in_a_folder_of_its_own_inside_its_platform(con, landing):
    for number, account in enumerate(TRICKY_ACCOUNTS, start=1):
        source = Pages(page(post(str(100 + number))))
        extract_to_landing(source, request(account), landing, "run-1", "test")
    platform_folder = Path(landing.root) / "x"
    folders = {p.resolve() for p in platform_folder.glob("*/dt=*/run=*")}
    assert len(folders) == len(TRICKY_ACCOUNTS)
    assert all(folder.is_relative_to(platform_folder.resolve()) for folder in folders)
    assert not [
        p for p in Path(landing.root).rglob("_manifest.json") if platform_folder not in p.parents
    ]
    report = load_landing(con, landing)
    assert report.manifests == len(TRICKY_ACCOUNTS)
    assert count(con, "raw.x_posts") == len(TRICKY_ACCOUNTS)
    accounts = {a for (a,) in con.execute("select account from ops.extract_runs").fetchall()}
    assert accounts == set(TRICKY_ACCOUNTS)


@pytest.mark.parametrize(
    ("platform", "handle", "why"),
    [
        ("x", "Acme Brand", "1 to 15"),
        ("x", "..", "1 to 15"),
        ("x", "AcmeCustomerCare1", "1 to 15"),  # 17 characters
        ("x", "acme-help", "1 to 15"),
        ("reddit", "ab", "3 to 20"),
        ("reddit", "u/../x", "3 to 20"),
        ("reddit", "Acme.Brand", "3 to 20"),
    ],
)
def test_a_handle_the_platform_would_not_allow_is_refused_at_config_load(
    tmp_path, platform, handle, why
):
    config = tmp_path / "org.yaml"
    config.write_text(
        "organization: Acme\n"
        "departments:\n"
        "  - name: Care\n"
        f"    accounts: {{x: [AcmeHelp], {platform}: ['{handle}']}}\n"
        if platform == "reddit"
        else "organization: Acme\ndepartments:\n  - name: Care\n"
        f"    accounts: {{x: ['{handle}']}}\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    message = str(refused.value)
    assert f"{config}: departments.0.accounts.{platform}" in message
    assert why in message and repr(handle.removeprefix("u/")) in message


def test_handles_with_their_usual_prefixes_are_accepted(tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text(
        "organization: Acme\ndepartments:\n  - name: Care\n"
        "    accounts: {x: ['@Acme_Help'], reddit: [u/Acme-Support, /u/acme_brand]}\n"
        "ignore_accounts: {x: ['@SomeBot']}\n"
    )
    assert load_config(config).org_accounts()[0] == ("x", "acme_help", "Care")


def test_an_ignored_handle_is_checked_too(tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text(
        "organization: Acme\ndepartments:\n  - name: Care\n    accounts: {x: [AcmeHelp]}\n"
        "ignore_accounts: {x: ['Some Bot']}\n"
    )
    with pytest.raises(ConfigError, match=r"ignore_accounts\.x"):
        load_config(config)
