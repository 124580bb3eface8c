"""The organisation config users write (the contract in docs/metrics.md), validated on load.

A wrong file gets one message that names the file and the key, before anything runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ingest.handles import (
    SUBREDDIT_PREFIX,
    SUBREDDIT_RULE,
    bare_handle,
    handle_problem,
    subreddit_problem,
)

if TYPE_CHECKING:
    from ingest.simulated.organization import SimulatedOrganization
    from transforms.organization import Organization

PLATFORMS = ("x", "reddit", "bluesky", "mastodon")
Platform = Literal["x", "reddit", "bluesky", "mastodon"]
SourceKind = Literal["simulated", "api"]
Structure = Literal["siloed", "glued", "networked"]


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key. A person
    has to mend the file, so no retry can help (`retryable`)."""

    retryable = False


def normalize_handle(handle: str) -> str:
    """Handles compare case-insensitively, without a leading `@`, `u/` or `/u/`."""
    return bare_handle(handle).lower()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_bluesky_handle(handle: str) -> str:
    """The handle without `@`, lower case, or ValueError saying which AT Protocol handle
    rule it breaks (ingest/handles.py)."""
    bare = normalize_handle(handle)
    problem = handle_problem("bluesky", bare)
    if problem:
        raise ValueError(f"Bluesky handle {problem}")
    return bare


# A Mastodon address: @user@instance; usernames are letters, digits and underscores (at
# most 30), the instance a domain name (an organisation may span instances).
_MASTODON_ADDRESS = re.compile(
    r"^@?([A-Za-z0-9_]{1,30})@(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]{0,61})$"
)


def check_mastodon_address(address: str) -> str:
    """`user@instance` in lower case, or ValueError saying what a full address looks like."""
    if not _MASTODON_ADDRESS.match(address.strip()):
        raise ValueError(
            f"Mastodon account {address!r} is not a full address: @user@instance, such as "
            "@acme@mastodon.social (the instance is part of the account)"
        )
    return normalize_handle(address)


class PlatformAccounts(_Strict):
    x: list[str] = Field(default_factory=list)
    reddit: list[str] = Field(default_factory=list)
    bluesky: list[str] = Field(default_factory=list)
    mastodon: list[str] = Field(default_factory=list)

    @field_validator("x", "reddit")
    @classmethod
    def _handles_follow_the_platform_rules(
        cls, handles: list[str], info: ValidationInfo
    ) -> list[str]:
        for handle in handles:
            problem = handle_problem(str(info.field_name), bare_handle(handle))
            if problem:
                raise ValueError(problem)
        return handles

    @field_validator("bluesky")
    @classmethod
    def _bluesky_handles(cls, handles: list[str]) -> list[str]:
        return [check_bluesky_handle(handle) for handle in handles]

    @field_validator("mastodon")
    @classmethod
    def _mastodon_addresses(cls, addresses: list[str]) -> list[str]:
        return [check_mastodon_address(address) for address in addresses]

    def on(self, platform: str) -> list[str]:
        return list(getattr(self, platform))


class Department(_Strict):
    name: str = Field(min_length=1)
    accounts: PlatformAccounts = Field(default_factory=PlatformAccounts)


class Thresholds(_Strict):
    glue_threshold: float = Field(default=0.5, ge=0, le=1)
    silo_threshold: float = Field(default=0.05, ge=0, le=1)
    min_conversations: int = Field(default=30, ge=0)


class Simulation(_Strict):
    """Settings of the simulated source: the planted structure and how much history."""

    structure: Structure = "glued"
    glue_department: str | None = None
    seed: int = 7
    conversations_per_day: int = Field(default=12, ge=1, le=100_000)


class Sources(_Strict):
    """Where each platform's pages come from: the live API or the simulator."""

    x: SourceKind = "api"
    reddit: SourceKind = "api"
    bluesky: SourceKind = "api"
    mastodon: SourceKind = "api"


class Costs(_Strict):
    """What API reads cost, for `siloscope report --cost` (estimates, in US dollars)."""

    # X's pay-per-use price of one post or user read (since February 2026)
    x_price_per_read: float = Field(default=0.005, ge=0)


class Reddit(_Strict):
    """Reddit extraction: an optional keyword search, and how far threads are expanded."""

    # searched for `keywords` (any of them); each subreddit is one extract of its own
    subreddits: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    # "load more comments" requests per thread; each is one API request
    replace_more_limit: int = Field(default=32, ge=0, le=1000)

    @field_validator("subreddits")
    @classmethod
    def _subreddit_names(cls, names: list[str]) -> list[str]:
        cleaned = []
        for name in names:
            bare = SUBREDDIT_PREFIX.sub("", name.strip())
            if subreddit_problem(bare):
                raise ValueError(f"subreddit {name!r} is not a subreddit name ({SUBREDDIT_RULE})")
            cleaned.append(bare)
        return cleaned

    @field_validator("keywords")
    @classmethod
    def _keywords_are_plain(cls, keywords: list[str]) -> list[str]:
        for keyword in keywords:
            if not keyword.strip():
                raise ValueError("a keyword is empty")
            if '"' in keyword:
                raise ValueError(
                    f"keyword {keyword!r}: no double quotes (each is searched as a phrase)"
                )
        return [keyword.strip() for keyword in keywords]

    @model_validator(mode="after")
    def _search_needs_both(self) -> Reddit:
        if self.subreddits and not self.keywords:
            raise ValueError("subreddits are searched for keywords: add reddit.keywords")
        if self.keywords and not self.subreddits:
            raise ValueError("keywords are searched in subreddits: add reddit.subreddits")
        return self

    def search_targets(self) -> list[str]:
        """The extract target of each subreddit search: `r/<name>`."""
        return [f"r/{name}" for name in dict.fromkeys(self.subreddits)]


class OrgConfig(_Strict):
    organization: str = Field(min_length=1)
    departments: list[Department] = Field(min_length=1)
    ignore_accounts: PlatformAccounts = Field(default_factory=PlatformAccounts)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    sources: Sources = Field(default_factory=Sources)
    simulation: Simulation = Field(default_factory=Simulation)
    reddit: Reddit = Field(default_factory=Reddit)
    costs: Costs = Field(default_factory=Costs)
    rolling_window_days: int = Field(default=28, ge=1, le=3650)
    # How far back a first run (no watermark yet) fetches; the API may allow less.
    backfill_days: int = Field(default=28, ge=1, le=3650)

    @model_validator(mode="after")
    def _names_and_handles_are_unique(self) -> OrgConfig:
        names = [d.name for d in self.departments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"department names must be unique; repeated: {duplicates}")
        for platform in PLATFORMS:
            owner: dict[str, str] = {}
            for department in self.departments:
                for handle in department.accounts.on(platform):
                    key = normalize_handle(handle)
                    if key in owner and owner[key] != department.name:
                        raise ValueError(
                            f"{platform} account {handle!r} is listed under both "
                            f"{owner[key]!r} and {department.name!r}"
                        )
                    owner[key] = department.name
        glue = self.simulation.glue_department
        if glue is not None and glue not in names:
            raise ValueError(
                f"simulation.glue_department {glue!r} is not a configured department ({names})"
            )
        return self

    def org_accounts(self) -> list[tuple[str, str, str]]:
        """(platform, normalized handle, department) for every configured account."""
        return [
            (platform, normalize_handle(handle), department.name)
            for department in self.departments
            for platform in PLATFORMS
            for handle in department.accounts.on(platform)
        ]

    def ignored_accounts(self) -> list[tuple[str, str]]:
        return [
            (platform, normalize_handle(handle))
            for platform in PLATFORMS
            for handle in self.ignore_accounts.on(platform)
        ]

    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def for_models(self) -> Organization:
        """What the SQL models and the quality suites know of the organisation."""
        from transforms.organization import Organization

        return Organization(
            departments=tuple(self.department_names()),
            accounts=tuple(self.org_accounts()),
            ignored_accounts=tuple(self.ignored_accounts()),
            glue_threshold=self.thresholds.glue_threshold,
            silo_threshold=self.thresholds.silo_threshold,
            min_conversations=self.thresholds.min_conversations,
        )

    def for_simulation(self, platform: str = "x") -> SimulatedOrganization:
        """What a simulated source plants, and for whom: the accounts on `platform`."""
        from ingest.simulated.organization import SimulatedOrganization

        return SimulatedOrganization(
            name=self.organization,
            departments=tuple((d.name, tuple(d.accounts.on(platform))) for d in self.departments),
            ignored_accounts=tuple(self.ignore_accounts.on(platform)),
            structure=self.simulation.structure,
            glue_department=self.simulation.glue_department,
            seed=self.simulation.seed,
            conversations_per_day=self.simulation.conversations_per_day,
        )


def _describe(error: ValidationError, path: Path) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (misspelt?)"
        problems.append(f"{path}: {key}: {message}")
    return "invalid config\n  " + "\n  ".join(problems)


def load_config(path: str | Path) -> OrgConfig:
    """Read and validate a config file; raise ConfigError naming the file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a text (UTF-8) file: byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}; give the YAML config file"
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with 'organization' and 'departments'")
    try:
        return OrgConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message spans lines with a drawing of the spot; this is one line."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem
